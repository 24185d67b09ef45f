"""The two files of a dataset, and reading its audio.

A dataset is a pair of files in one folder, named after its ``base`` as the original course names them:
``<base>_audio.hdf5`` (or ``<base>_feat.hdf5`` for features computed elsewhere) and ``<base>.pyjama``
(``pair_paths``); the pair is complete when both exist and every track of the ``.pyjama`` is in the data file
(``pair_problem``). The course dataset's build, the original course's downloads and the Dataset classes use
these two functions.

In ``<base>_audio.hdf5`` each HDF5 dataset is keyed by the track's file name (the ``filepath`` value of its
``.pyjama`` entry) and holds a mono waveform, float in [-1, 1] or signed integers (int16 scaled by 1/32768,
int32 by 1/2**31), with the attribute ``sr_hz``. Used by ``feature_cache``, ``placement`` and ``dataset``; taught
in notebooks/01_data.ipynb.

A file of your own (WAV, FLAC, OGG, MP3, at any rate, mono or stereo) is read by ``load_audio``, which gives it
the form of the course data: mono, at the rate the model was trained at, at the course's level.
"""

import json
from pathlib import Path

import h5py
import numpy as np

COURSE_PEAK_LEVEL = 0.9  # the peak of every track of the course data (data.recording.room_and_level)

DATA_KIND_L = ("audio", "feat")


def pair_paths(folder, base, kind="audio"):
    """``(<folder>/<base>_<kind>.hdf5, <folder>/<base>.pyjama)``: the two files of a dataset; ``kind`` 'audio' or
    'feat' (features computed elsewhere, e.g. Cover1000's 12-d features)."""
    if kind not in DATA_KIND_L:
        raise ValueError(f"kind must be one of {', '.join(DATA_KIND_L)}, got {kind!r}")
    folder = Path(folder)
    return folder / f"{base}_{kind}.hdf5", folder / f"{base}.pyjama"


def pair_problem(data_path, pyjama_path):
    """Why two files are not a complete dataset (a sentence naming the file and the first missing tracks), or None.

    Complete: both files exist and can be read, and every track of the ``.pyjama`` is in the data file.
    """
    for path in (data_path, pyjama_path):
        if not Path(path).is_file():
            return f"{path} is missing"
    try:
        with open(pyjama_path, encoding="utf-8") as fid:
            key_l = [entry["filepath"][0]["value"] for entry in json.load(fid)["collection"]["entry"]]
        with h5py.File(data_path, "r") as data_fid:
            missing_l = [key for key in key_l if key not in data_fid]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        return f"unreadable: {data_path} or {pyjama_path} ({error})"
    if missing_l:
        return (f"incomplete: {len(missing_l)} of the {len(key_l)} tracks of {Path(pyjama_path).name} are not in "
                f"{Path(data_path).name} (first: {', '.join(map(str, missing_l[:3]))})")
    return None


def stem_key(track_key, voice):
    """Where a voice's stem is in a stems dataset's ``_audio.hdf5``: ``stems/<track key>/<voice>`` (the mixture is
    under the track's key, as in every dataset)."""
    return f"stems/{track_key}/{voice}"


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
    if not isinstance(dataset, h5py.Dataset):
        raise ValueError(f"{hdf5_audio_file}: '{key}' is an HDF5 group (a folder of {len(dataset)} items), not a "
                         "track's audio; each track is one dataset (a '/' in a key makes groups: the .pyjama must name "
                         "the whole path, e.g. 'folder/track.wav')")
    if "sr_hz" not in dataset.attrs:
        raise KeyError(f"{hdf5_audio_file}: track '{key}' has no 'sr_hz' attribute; store its sampling rate")
    sr_hz = dataset.attrs["sr_hz"]
    sr_hz = sr_hz.item() if isinstance(sr_hz, np.generic) else sr_hz  # as written in the message: 0, not np.int64(0)
    try:
        rate = float(sr_hz)
    except (TypeError, ValueError):
        rate = float("nan")
    if not np.isfinite(rate) or rate <= 0 or rate != int(rate):
        raise ValueError(f"{hdf5_audio_file}: track '{key}' has sr_hz = {sr_hz!r}; the sampling rate must be a "
                         "positive whole number of samples per second (e.g. 22050)")
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
    return audio_v, int(rate)


def check_sample_count(value, name):
    """``value`` as an int when it is a positive whole number of samples (a hop, a window); else a ValueError
    that names it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive whole number of samples, got {value!r}")
    return int(value)


def check_rate(param_feature, sr_hz):
    """A config that states ``sr_hz`` takes audio at that rate only: at another rate the same hop and window are
    other durations (a 44.1 kHz file with a 22.05 kHz config has frames and patches half as long as in training)."""
    stated_hz = param_feature.get("sr_hz")
    if stated_hz is not None and float(stated_hz) != float(sr_hz):
        raise ValueError(f"the audio is at {sr_hz} Hz but the config's feature.sr_hz is {stated_hz} Hz: its frames and "
                         f"patches would not last what they lasted in training; read the file with "
                         f"audio_store.load_audio(path, {stated_hz}), which converts it")


def check_audio(audio_v, sr_hz):
    """Raise a ValueError that says how to fix audio that the features cannot take: ``audio_v`` must be a mono
    float array (n_samples,) of finite samples, ``sr_hz`` a positive rate."""
    if not isinstance(audio_v, np.ndarray):
        raise ValueError(f"audio_v must be a numpy array, got {type(audio_v).__name__}")
    if audio_v.ndim != 1:
        raise ValueError(
            f"audio_v must be mono with shape (n_samples,), got shape {audio_v.shape}; "
            "mix it down first with librosa.to_mono(audio_m) (librosa expects (n_channels, n_samples))")
    if not np.issubdtype(audio_v.dtype, np.floating):
        raise ValueError(
            f"audio_v must hold floats in [-1, 1], got dtype {audio_v.dtype}; "
            "for int16 samples use audio_v.astype(np.float32) / 32768")
    if audio_v.size == 0:
        raise ValueError("audio_v is empty (0 samples); check the file it was read from")
    if not np.all(np.isfinite(audio_v)):
        n_bad = int(np.sum(~np.isfinite(audio_v)))
        raise ValueError(f"audio_v holds {n_bad} NaN or inf samples; check the file it was read from")
    if isinstance(sr_hz, bool) or not isinstance(sr_hz, (int, float, np.integer, np.floating)) or sr_hz <= 0:
        raise ValueError(f"sr_hz must be a positive number of samples per second, got {sr_hz!r}")


def load_audio(path, sr_hz, peak_level=COURSE_PEAK_LEVEL):
    """A sound file of your own as the course's models expect it: mono, at ``sr_hz``, at the course's level.

    Parameters
    ----------
    path : str or Path of an audio file (WAV, FLAC, OGG; MP3 where the system's libsndfile reads it)
    sr_hz : int, the rate to convert to: the config's ``feature.sr_hz`` (the rate the model was trained at)
    peak_level : float, the file is scaled so that its peak is this (the course data's tracks peak at 0.9: the
        log-mel and HCQT depend on the level)

    Returns
    -------
    audio_v : np.ndarray, shape (n_samples,), float32 in [-1, 1], at ``sr_hz``
    info : dict with what was done: ``file_sr_hz``, ``n_channels``, ``resampled`` and ``gain_db``

    Stereo is mixed down (the mean of the channels); another rate is converted with soxr (librosa's
    high-quality resampler). A file that cannot be read, is empty or silent is an error that names it.
    """
    import librosa
    import soundfile

    path = Path(path).expanduser()  # "~/Music/song.mp3" works too
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such audio file")
    try:
        data_m, file_sr_hz = soundfile.read(path, dtype="float32", always_2d=True)  # (n_samples, n_channels)
    except (RuntimeError, soundfile.LibsndfileError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: not an audio file this machine can read ({error}); convert it to WAV or FLAC "
                         "(e.g. with Audacity, or ffmpeg -i your_file.m4a your_file.wav)") from None
    if data_m.size == 0:
        raise ValueError(f"{path}: the file holds no samples")
    audio_v = data_m.mean(axis=1)
    resampled = int(file_sr_hz) != int(sr_hz)
    if resampled:
        audio_v = librosa.resample(audio_v, orig_sr=int(file_sr_hz), target_sr=int(sr_hz), res_type="soxr_hq")
    peak = float(np.abs(audio_v).max())
    if peak < 1e-5:
        raise ValueError(f"{path}: the sound is silent (peak {peak:.1e}); record again, nearer the sound")
    audio_v = (audio_v * (peak_level / peak)).astype(np.float32)
    return audio_v, {"file_sr_hz": int(file_sr_hz), "n_channels": int(data_m.shape[1]), "resampled": resampled,
                     "gain_db": float(20 * np.log10(peak_level / peak))}
