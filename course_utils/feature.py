"""Audio features of the course: waveform, log-mel spectrogram (LMS), harmonic CQT (HCQT), tempogram, patches, and
the layout of each feature (hop, frames, bins, pitch grid, model input shape), in one place.

Every feature is a ``(C, F, T)`` array (``(1, T)`` for the waveform) plus the time of each frame in
seconds, so that annotations given in seconds can be mapped to frames. ``param_feature`` is the
``feature`` section of a config (a ``Config`` or a dict, see ``course_utils.config``). ``FEATURE_TYPE_D`` is the
one table of feature types (how each is computed, its hop, bins and channels): a new type is one entry plus its
function (docs/extending.md). The feature cache
that stores features for a whole dataset is in ``course_utils.feature_cache``; the HCQT is computed in
``course_utils.hcqt`` (``feature.f_get_hcqt`` is its ``f_get_hcqt``).

Taught in notebooks/02_features.ipynb.
"""

import functools
import math
from dataclasses import dataclass

import librosa
import numpy as np
import scipy.ndimage
import scipy.signal

from course_utils import _hcqt_engine, audio_store, hcqt, spectrogram
from course_utils.config import ConfigError, as_config, closest_name
from course_utils.hcqt import f_get_hcqt  # noqa: F401 (the seed's name: feature.f_get_hcqt)

# --- waveform and log-mel -------------------------------------------------------------------------


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


# --- tempogram: rhythm, whatever plays it ------------------------------------------------------------


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


# --- patches --------------------------------------------------------------------------------------


def f_get_patches(total_len, patch_len, patch_hopsize):
    """Frame analysis over the time axis of a feature: the list of patches (segments) to cut.

    Patches start at 0, ``patch_hopsize``, 2 * ``patch_hopsize``, ... and are ``patch_len`` frames long.
    **The tail**: when the last regular patch stops before the end, one more patch is added that ends
    exactly at ``total_len`` (it overlaps its neighbour more), so every frame is in at least one patch
    and all patches have the same length. **A feature shorter than one patch** raises a ValueError:
    pad the audio, or choose a shorter ``patch_L_frame``.

    Parameters
    ----------
    total_len : int, number of frames of the feature (its last axis)
    patch_len : int, frames per patch (the config's ``patch_L_frame``, e.g. 64)
    patch_hopsize : int, frames between the starts of two patches (``patch_STEP_frame``, e.g. 32)

    Returns
    -------
    patch_l : list of dict ``{'start_frame': int, 'end_frame': int}``, end excluded
        (``X[..., start_frame:end_frame]``)

    Taught in notebooks/02_features.ipynb.
    """
    total_len = audio_store.check_sample_count(total_len, "total_len") if total_len != 0 else 0
    patch_len = audio_store.check_sample_count(patch_len, "patch_len (patch_L_frame)")
    patch_hopsize = audio_store.check_sample_count(patch_hopsize, "patch_hopsize (patch_STEP_frame)")
    if total_len < patch_len:
        raise ValueError(
            f"the feature has {total_len} frames, fewer than one patch of {patch_len} frames; "
            "use longer audio (or pad it) or a smaller patch_L_frame")
    start_v = list(range(0, total_len - patch_len + 1, patch_hopsize))
    if start_v[-1] + patch_len < total_len:
        start_v.append(total_len - patch_len)
    return [{"start_frame": start, "end_frame": start + patch_len} for start in start_v]


# --- the table of feature types: how each is computed and laid out ----------------------------------


@dataclass(frozen=True)
class FeatureType:
    """What the rest of the course needs to know about one feature type, each a function of its config section.

    compute : ``compute(audio_v, sr_hz, param) -> (data, time_sec_v)``; None for features that are read from a
        file (``precomputed``: a source of features, see ``placement.Precomputed``)
    hop_n : ``hop_n(param)`` -> samples between two frames (None: no audio, ``param.hop_sec`` gives the hop)
    n_bins : ``n_bins(param)`` -> size of the frequency axis (None: the feature has none)
    n_channels : ``n_channels(param)`` -> size of the channel axis
    context_frames : ``context_frames(param, sr_hz)`` -> frames of audio needed on each side of a patch to compute
        its feature exactly (features on the fly)
    n_frames : ``n_frames(n_samples, param)`` -> frames of the feature of ``n_samples`` of audio (None: centred
        frames, ``1 + n_samples // hop_n``)
    """

    compute: object
    hop_n: object
    n_bins: object
    n_channels: object
    context_frames: object = lambda param, sr_hz: 0
    n_frames: object = None


def _lms_context(param, sr_hz):
    """Half the analysis window, in frames, plus one."""
    return math.ceil(param.require("L_n") / 2 / int(param.require("STEP_n"))) + 1


def _tempogram_context(param, sr_hz):
    """Half the autocorrelation window, half the window of the mean subtracted from the onset strength and half
    the analysis window, in frames, plus one."""
    reach_n = int(param.require("nb_lag")) * int(param.require("onset_hop_n")) + int(param.require("L_n")) // 2
    return math.ceil(reach_n / int(param.require("STEP_n"))) + 1


FEATURE_TYPE_D = {
    "waveform": FeatureType(compute=lambda audio_v, sr_hz, param: f_get_waveform(audio_v, sr_hz),
                            hop_n=lambda param: 1, n_bins=None, n_channels=lambda param: 1,
                            n_frames=lambda n_samples, param: int(n_samples)),
    "lms": FeatureType(compute=f_get_lms, hop_n=lambda param: int(param.require("STEP_n")),
                       n_bins=lambda param: int(param.require("nb_band")), n_channels=lambda param: 1,
                       context_frames=_lms_context),
    "hcqt": FeatureType(compute=hcqt.without_pitch_grid, hop_n=lambda param: int(param.require("hop_length")),
                        n_bins=lambda param: 12 * int(param.require("bins_per_semitone")) * int(
                            param.require("n_octaves")),
                        n_channels=lambda param: len(param.require("h_l")), context_frames=hcqt.context_frames),
    "tempogram": FeatureType(compute=f_get_tempogram, hop_n=lambda param: int(param.require("STEP_n")),
                             n_bins=lambda param: int(param.require("nb_lag")), n_channels=lambda param: 1,
                             context_frames=_tempogram_context),
    "stft": FeatureType(compute=spectrogram.f_get_stft, hop_n=lambda param: int(param.require("hop_length")),
                        n_bins=lambda param: int(param.require("n_fft")) // 2,
                        n_channels=lambda param: 1 + len(param.get("condition_voice_l", None) or []),
                        context_frames=lambda param, sr_hz: int(param.require("n_fft")) // int(
                            param.require("hop_length")) + 1),
    "precomputed": FeatureType(compute=None, hop_n=None, n_bins=lambda param: int(param.require("n_bins")),
                               n_channels=lambda param: int(param.get("n_channels", 1))),
}


def feature_type_of(param_feature):
    """(the feature section as a Config, its ``FeatureType``); a ConfigError names an unknown type."""
    param_feature = as_config(param_feature, "feature")
    name = param_feature.require("type")
    if name not in FEATURE_TYPE_D:
        raise ConfigError(f"feature section: unknown feature type {name!r}.{closest_name(name, FEATURE_TYPE_D)} "
                          f"Use one of {', '.join(FEATURE_TYPE_D)}")
    return param_feature, FEATURE_TYPE_D[name]


def is_computed(param_feature):
    """True when the feature is computed from audio; False when it is read from a file (``precomputed``)."""
    return feature_type_of(param_feature)[1].compute is not None


# --- one entry point for the configs -------------------------------------------------------------


def f_get_feature(audio_v, sr_hz, param_feature):
    """The feature named by ``param_feature.type`` (the ``feature`` section of a config).

    Parameters
    ----------
    audio_v : np.ndarray, shape (n_samples,), float in [-1, 1]
    sr_hz : int or float
    param_feature : config section with ``type`` (a key of ``FEATURE_TYPE_D``) and that feature's keys

    Returns
    -------
    data : np.ndarray, shape (1, n_samples) for 'waveform', (C, F, n_frames) otherwise, float32
    time_sec_v : np.ndarray, shape (n_frames,), time of each frame in seconds
    """
    param_feature, feature_type = feature_type_of(param_feature)
    if feature_type.compute is None:
        raise ConfigError(f"feature type '{param_feature.type}' is read from a file, not computed from audio")
    audio_store.check_rate(param_feature, sr_hz)
    return feature_type.compute(audio_v, sr_hz, param_feature)


# --- the layout of a feature: what the dataset, the targets and the model need to know ---------------


def f_get_hop_n(param_feature):
    """Samples between two frames: 1 (waveform), ``STEP_n`` (lms, tempogram), ``hop_length`` (hcqt, stft)."""
    param_feature, feature_type = feature_type_of(param_feature)
    if feature_type.hop_n is None:
        raise ConfigError(f"feature type '{param_feature.type}' is read from a file: it has a hop in seconds "
                          "(hop_sec), not in samples")
    return feature_type.hop_n(param_feature)


def f_get_hop_sec(param_feature, sr_hz):
    """Seconds between two frames: the hop in samples / sr_hz, or ``hop_sec`` for features read from a file."""
    param_feature, feature_type = feature_type_of(param_feature)
    if feature_type.hop_n is None:
        return float(param_feature.require("hop_sec"))
    return feature_type.hop_n(param_feature) / float(sr_hz)


def f_get_n_frames(n_samples, param_feature):
    """Frames of the feature of ``n_samples`` of audio (centred frames: 1 + n_samples // hop; waveform: n_samples)."""
    param_feature, feature_type = feature_type_of(param_feature)
    if feature_type.n_frames is None:
        return 1 + int(n_samples) // f_get_hop_n(param_feature)
    return feature_type.n_frames(n_samples, param_feature)


def f_get_context_frames(param_feature, sr_hz):
    """Frames of audio needed on each side of a patch to compute its feature exactly (features on the fly):
    half the analysis window (lms) or half the longest CQT filter (hcqt), in frames, plus a margin."""
    param_feature, feature_type = feature_type_of(param_feature)
    return feature_type.context_frames(param_feature, sr_hz)


def f_get_n_bins(param_feature):
    """Size of the frequency axis: ``nb_band`` (lms), ``12 * bins_per_semitone * n_octaves`` (hcqt), ``nb_lag``
    (tempogram: its axis is the lag), ``n_bins`` (precomputed). The waveform has none (ValueError)."""
    param_feature, feature_type = feature_type_of(param_feature)
    if feature_type.n_bins is None:
        raise ValueError(f"the {param_feature.type} has no frequency axis (no bins)")
    return feature_type.n_bins(param_feature)


def f_get_pitch_grid_hz(param_feature):
    """Centre frequency (Hz) of each bin of the HCQT's h = 1 channel: ``fmin * 2 ** (k / bins_per_octave)``,
    shape (n_bins,). Piano-roll targets and model outputs of multi-pitch estimation live on this grid."""
    param_feature = as_config(param_feature, "feature")
    if param_feature.get("type") != "hcqt":
        raise ValueError(f"a pitch grid needs the HCQT (feature.type: hcqt), got '{param_feature.get('type')}'")
    return hcqt.pitch_grid_hz(float(param_feature.require("fmin")),
                              12 * int(param_feature.require("bins_per_semitone")), f_get_n_bins(param_feature))


def f_get_pitch_grid_midi(param_feature):
    """The same grid as ``f_get_pitch_grid_hz`` in MIDI pitch (fractional between semitones), shape (n_bins,)."""
    return librosa.hz_to_midi(f_get_pitch_grid_hz(param_feature))


def feature_input_dim(param_feature, batch_size):
    """Input shape of a model for patches of this feature, batch axis included.

    waveform: [B, 1, patch_L_frame]; lms: [B, 1, nb_band, patch_L_frame];
    hcqt: [B, len(h_l), 12 * bins_per_semitone * n_octaves, patch_L_frame]; tempogram: [B, 1, nb_lag, patch_L_frame];
    stft: [B, 1 + len(condition_voice_l), n_fft // 2, patch_L_frame] (a conditioned separation model is also
    told which voice to separate: one plane per voice, ``separation.SeparationDataset``);
    precomputed: [B, n_channels (default 1), n_bins, patch_L_frame] (features read from a file).
    """
    param_feature, feature_type = feature_type_of(param_feature)
    patch_len = int(param_feature.require("patch_L_frame"))
    if feature_type.n_bins is None:
        return [batch_size, feature_type.n_channels(param_feature), patch_len]
    return [batch_size, feature_type.n_channels(param_feature), feature_type.n_bins(param_feature), patch_len]
