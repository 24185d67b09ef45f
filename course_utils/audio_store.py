"""Reading the audio of a course dataset: ``<name>_audio.hdf5``, one HDF5 dataset per track.

Each dataset is keyed by the track's file name (the ``filepath`` value of its ``.pyjama`` entry) and
holds a mono waveform, float in [-1, 1] or signed integers (int16 scaled by 1/32768, int32 by 1/2**31),
with the attribute ``sr_hz``. Used by ``feature_cache`` and ``dataset``; taught in notebooks/01_data.ipynb.
"""

import h5py
import numpy as np


def open_audio_file(hdf5_audio_file):
    """Open ``hdf5_audio_file`` for reading, with an error that names the file when it cannot be read."""
    try:
        return h5py.File(hdf5_audio_file, "r")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{hdf5_audio_file}: audio file not found; build the course dataset with "
            "`python -m course_utils.data build --preset small --out data`") from None
    except OSError as error:
        raise OSError(
            f"{hdf5_audio_file}: not a readable HDF5 file ({error}); it may be truncated by an "
            "interrupted copy or build: delete it and build it again") from None


def read_audio(audio_fid, key, hdf5_audio_file="<audio file>"):
    """The waveform and sampling rate of one track.

    Parameters
    ----------
    audio_fid : h5py.File opened by ``open_audio_file``
    key : str, the track's key (``entry['filepath'][0]['value']``)
    hdf5_audio_file : str or Path, only used in error messages

    Returns
    -------
    audio_v : np.ndarray, shape (n_samples,), float32 in [-1, 1]
    sr_hz : int
    """
    if key not in audio_fid:
        raise KeyError(
            f"{hdf5_audio_file}: no audio for track '{key}' (named in the .pyjama file); "
            "the .pyjama and the _audio.hdf5 do not belong together: rebuild or re-download both")
    dataset = audio_fid[key]
    if "sr_hz" not in dataset.attrs:
        raise KeyError(f"{hdf5_audio_file}: track '{key}' has no 'sr_hz' attribute; store its sampling rate")
    try:
        audio_v = dataset[()]
    except OSError as error:  # a damaged compressed chunk, a truncated file
        raise OSError(f"{hdf5_audio_file}: the audio of track '{key}' cannot be read ({error}); the file is damaged: "
                      "rebuild or re-download it") from None
    if audio_v.ndim != 1:
        raise ValueError(
            f"{hdf5_audio_file}: track '{key}' has shape {audio_v.shape}; tracks must be mono (n_samples,)")
    if np.issubdtype(audio_v.dtype, np.signedinteger):  # full scale of the type -> [-1, 1)
        audio_v = audio_v.astype(np.float32) / float(2 ** (8 * audio_v.dtype.itemsize - 1))
    elif not np.issubdtype(audio_v.dtype, np.floating):
        raise ValueError(f"{hdf5_audio_file}: track '{key}' holds {audio_v.dtype} samples; store them as float in "
                         "[-1, 1] or as signed integers (int16, int32)")
    audio_v = audio_v.astype(np.float32, copy=False)
    if not np.all(np.isfinite(audio_v)):
        raise ValueError(f"{hdf5_audio_file}: track '{key}' holds NaN or inf samples; rebuild or re-download it")
    return audio_v, int(dataset.attrs["sr_hz"])
