"""Features of rhythm, whatever plays it: the onset strength (spectral flux of the log-mel) and the autocorrelation
tempogram (``f_get_tempogram``), with the context the tempogram needs on the fly. A new rhythm feature (a Fourier
tempogram, a beat spectrum) belongs here. Taught in notebooks/05_training_tagging.ipynb.
"""

import math

import librosa
import numpy as np
import scipy.ndimage

from course_utils import audio_store
from course_utils.config import as_config
from course_utils.features.spectral import f_get_lms


def f_get_onset_strength(audio_v, sr_hz, param_tempogram):
    """Onset strength (spectral flux) of a mono signal: how much louder each mel band got since the last frame.

    The log-mel spectrogram (``f_get_lms`` with window ``L_n``, hop ``onset_hop_n``, ``nb_band`` bands), its
    increase from one frame to the next (decreases set to 0), averaged over the bands: high where notes start.

    Returns
    -------
    onset_v : np.ndarray, shape (n_onset_frames,), float32, >= 0 (``1 + n_samples // onset_hop_n`` frames)
    """
    param_tempogram = as_config(param_tempogram, "feature")
    lms_m = f_get_lms(audio_v, sr_hz, {"nb_band": param_tempogram.require("nb_band"),
                                       "L_n": param_tempogram.require("L_n"),
                                       "STEP_n": param_tempogram.require("onset_hop_n")})[0][0]
    flux_m = np.maximum(0.0, np.diff(lms_m, axis=1, prepend=lms_m[:, :1]))
    return flux_m.mean(axis=0).astype(np.float32)


def f_get_tempogram(audio_v, sr_hz, param_tempogram):
    """Autocorrelation tempogram: the rhythm of the music, with what plays it (timbre, pitch) left out.

    Each frame is the autocorrelation of the onset strength (``f_get_onset_strength``) over a window of
    ``nb_lag`` onset frames around it, at lags 0 to ``nb_lag - 1`` onset frames, divided by its value at lag 0
    (librosa.feature.tempogram): a peak at lag k means "an onset now, another k frames later", the beat, the
    bar and the metre of the music. The onset strength's mean over the same window is subtracted first: the
    level between onsets (the release and reverberation of the instrument) would otherwise add the same
    constant at every lag and flatten the peaks differently for each instrument (measured with
    benchmarks/transfer.py, two seeds: the dance type's mean accuracy on the library left out, 0.87 without,
    0.91 with). Frames are kept every ``STEP_n`` samples (a multiple of ``onset_hop_n``).

    Parameters
    ----------
    audio_v : np.ndarray, shape (n_samples,), float in [-1, 1]
    sr_hz : int or float (the course uses 22050)
    param_tempogram : config section with ``nb_band``, ``L_n`` (the log-mel of the onset strength),
        ``onset_hop_n`` (samples between onset frames, e.g. 512: 23 ms), ``nb_lag`` (lags, e.g. 256: 5.9 s)
        and ``STEP_n`` (samples between tempogram frames, a multiple of ``onset_hop_n``, e.g. 2048)

    Returns
    -------
    data_3m : np.ndarray, shape (1, nb_lag, n_frames), float32 in [-1, 1], 1 at lag 0
    time_sec_v : np.ndarray, shape (n_frames,), centre time of each frame in seconds (``1 + n_samples // STEP_n``)

    Taught in notebooks/05_training_tagging.ipynb.
    """
    audio_store.check_audio(audio_v, sr_hz)
    param_tempogram = as_config(param_tempogram, "feature")
    audio_store.check_rate(param_tempogram, sr_hz)
    onset_hop_n, hop_n, nb_lag = (audio_store.check_sample_count(param_tempogram.require(key), key)
                                  for key in ("onset_hop_n", "STEP_n", "nb_lag"))
    if hop_n % onset_hop_n:
        raise ValueError(f"STEP_n ({hop_n}) must be a multiple of onset_hop_n ({onset_hop_n}): the tempogram keeps "
                         "one onset frame in STEP_n / onset_hop_n")
    onset_v = f_get_onset_strength(audio_v, sr_hz, param_tempogram)
    onset_v = onset_v - scipy.ndimage.uniform_filter1d(onset_v, nb_lag, mode="nearest")  # see the docstring
    tempogram_m = librosa.feature.tempogram(onset_envelope=onset_v, sr=sr_hz, hop_length=onset_hop_n,
                                            win_length=nb_lag)
    data_3m = tempogram_m[:, :: hop_n // onset_hop_n].astype(np.float32)[np.newaxis]
    time_sec_v = librosa.frames_to_time(np.arange(data_3m.shape[-1]), sr=sr_hz, hop_length=hop_n)
    return data_3m, time_sec_v


def tempogram_context_frames(param, sr_hz):
    """Half the autocorrelation window, half the window of the mean subtracted from the onset strength and half
    the analysis window, in frames, plus one."""
    reach_n = int(param.require("nb_lag")) * int(param.require("onset_hop_n")) + int(param.require("L_n")) // 2
    return math.ceil(reach_n / int(param.require("STEP_n"))) + 1
