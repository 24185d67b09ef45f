"""Features of the signal and its short-time spectrum: the waveform itself (``f_get_waveform``) and the log-mel
spectrogram (LMS, ``f_get_lms``) of the original course, with the context each needs on the fly. A new feature
computed from the short-time spectrum (an MFCC, a spectral contrast) belongs here. The STFT both ways, of source
separation, is ``features.stft``. Taught in notebooks/02_features.ipynb.
"""

import functools
import math

import librosa
import numpy as np
import scipy.signal

from course_utils import audio_store
from course_utils.config import as_config
from course_utils.features import _hcqt_engine


def f_get_waveform(audio_v, sr_hz):
    """The waveform itself as a one-channel feature.

    Parameters
    ----------
    audio_v : np.ndarray, shape (n_samples,), float in [-1, 1]
    sr_hz : int or float, sampling rate

    Returns
    -------
    data_m : np.ndarray, shape (1, n_samples), float32 (a frame is one sample)
    time_sec_v : np.ndarray, shape (n_samples,), time of each sample in seconds

    Taught in notebooks/02_features.ipynb.
    """
    audio_store.check_audio(audio_v, sr_hz)
    data_m = audio_v.astype(np.float32)[np.newaxis, :]
    time_sec_v = np.arange(audio_v.size) / float(sr_hz)
    return data_m, time_sec_v


@functools.lru_cache(maxsize=16)
def _mel_basis(sr_hz, n_fft, nb_band):
    """Mel filter bank, shape (nb_band, 1 + n_fft // 2), computed once per parameter set."""
    return librosa.filters.mel(sr=sr_hz, n_fft=n_fft, n_mels=nb_band).astype(np.float32)


@functools.lru_cache(maxsize=16)
def _hann_window(window_n):
    """Periodic Hann window of window_n samples (librosa.stft's default window)."""
    return scipy.signal.get_window("hann", window_n, fftbins=True).astype(np.float32)


def f_get_lms(audio_v, sr_hz, param_lms):
    """Log-mel spectrogram (LMS) of a mono signal.

    Power spectrogram (Hann window of ``L_n`` samples, hop ``STEP_n`` samples, frames centred),
    mel filter bank of ``nb_band`` bands (librosa's Slaney mel), then the log compression
    ``log(1 + 10000 * mel_power)`` of the reference course (a log that stays finite at silence).

    Parameters
    ----------
    audio_v : np.ndarray, shape (n_samples,), float in [-1, 1]
    sr_hz : int or float (the course uses 22050)
    param_lms : config section with ``nb_band`` (e.g. 128), ``L_n`` (window, samples, e.g. 2048) and
        ``STEP_n`` (hop, samples, e.g. 1024); when it states ``sr_hz``, audio at another rate is refused

    Returns
    -------
    data_3m : np.ndarray, shape (1, nb_band, n_frames), float32, log(1 + 10000 * mel power)
    time_sec_v : np.ndarray, shape (n_frames,), centre time of each frame in seconds

    Taught in notebooks/02_features.ipynb.
    """
    audio_store.check_audio(audio_v, sr_hz)
    param_lms = as_config(param_lms, "feature")
    audio_store.check_rate(param_lms, sr_hz)
    nb_band = int(param_lms.require("nb_band"))
    window_n = audio_store.check_sample_count(param_lms.require("L_n"), "L_n (window length)")
    hop_n = audio_store.check_sample_count(param_lms.require("STEP_n"), "STEP_n (hop size)")
    stft_m = _hcqt_engine.centred_stft(audio_v, window_n, hop_n, _hann_window(window_n))
    power_m = stft_m.real**2 + stft_m.imag**2
    mel_m = _mel_basis(float(sr_hz), window_n, nb_band) @ power_m
    data_3m = np.log1p(10000.0 * mel_m).astype(np.float32)[np.newaxis]
    time_sec_v = librosa.frames_to_time(np.arange(data_3m.shape[-1]), sr=sr_hz, hop_length=hop_n)
    return data_3m, time_sec_v


def lms_context_frames(param, sr_hz):
    """Half the analysis window, in frames, plus one."""
    return math.ceil(param.require("L_n") / 2 / int(param.require("STEP_n"))) + 1
