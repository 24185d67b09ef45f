"""The one table of feature types (``FEATURE_TYPE_D``) and the layout of a feature that the rest of the course reads
from it: hop, frames, bins, channels, the context a patch needs on the fly, and a model's input shape.

Every feature is a ``(C, F, T)`` array (``(1, T)`` for the waveform) plus the time of each frame in seconds, so that
annotations given in seconds can be mapped to frames. ``param_feature`` is the ``feature`` section of a config (a
``Config`` or a dict, see ``course_utils.config``). A feature type is one entry here plus its compute function, in
the module of its kind: ``features.spectral`` (waveform, log-mel), ``features.pitch`` (HCQT), ``features.rhythm``
(tempogram), ``features.chroma`` (pitch classes), ``features.stft`` (the STFT of source separation), or a new module
of ``features/`` for a new kind (docs/extending.md). Taught in notebooks/02_features.ipynb (as
``feature.FEATURE_TYPE_D``, the course's name).
"""

from dataclasses import dataclass

from course_utils import audio_store
from course_utils.config import ConfigError, as_config, closest_name
from course_utils.features import chroma, pitch, rhythm, spectral, stft


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


# --- the table: how each feature type is computed and laid out ------------------------------------------

FEATURE_TYPE_D = {
    "waveform": FeatureType(compute=lambda audio_v, sr_hz, param: spectral.f_get_waveform(audio_v, sr_hz),
                            hop_n=lambda param: 1, n_bins=None, n_channels=lambda param: 1,
                            n_frames=lambda n_samples, param: int(n_samples)),
    "lms": FeatureType(compute=spectral.f_get_lms, hop_n=lambda param: int(param.require("STEP_n")),
                       n_bins=lambda param: int(param.require("nb_band")), n_channels=lambda param: 1,
                       context_frames=spectral.lms_context_frames),
    "hcqt": FeatureType(compute=pitch.without_pitch_grid, hop_n=lambda param: int(param.require("hop_length")),
                        n_bins=pitch.hcqt_n_bins, n_channels=lambda param: len(param.require("h_l")),
                        context_frames=pitch.hcqt_context_frames),
    "tempogram": FeatureType(compute=rhythm.f_get_tempogram, hop_n=lambda param: int(param.require("STEP_n")),
                             n_bins=lambda param: int(param.require("nb_lag")), n_channels=lambda param: 1,
                             context_frames=rhythm.tempogram_context_frames),
    "chroma": FeatureType(compute=chroma.f_get_chroma, hop_n=lambda param: int(param.require("hop_length")),
                          n_bins=lambda param: len(chroma.PITCH_CLASS_L), n_channels=lambda param: 1,
                          context_frames=chroma.chroma_context_frames),
    "stft": FeatureType(compute=stft.f_get_stft, hop_n=lambda param: int(param.require("hop_length")),
                        n_bins=lambda param: int(param.require("n_fft")) // 2,
                        n_channels=lambda param: 1 + len(param.get("condition_voice_l", None) or []),
                        context_frames=stft.stft_context_frames),
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
    """Samples between two frames: 1 (waveform), ``STEP_n`` (lms, tempogram), ``hop_length`` (hcqt, chroma, stft)."""
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
    (tempogram: its axis is the lag), 12 (chroma), ``n_bins`` (precomputed). The waveform has none (ValueError)."""
    param_feature, feature_type = feature_type_of(param_feature)
    if feature_type.n_bins is None:
        raise ValueError(f"the {param_feature.type} has no frequency axis (no bins)")
    return feature_type.n_bins(param_feature)


def feature_input_dim(param_feature, batch_size):
    """Input shape of a model for patches of this feature, batch axis included.

    waveform: [B, 1, patch_L_frame]; lms: [B, 1, nb_band, patch_L_frame];
    hcqt: [B, len(h_l), 12 * bins_per_semitone * n_octaves, patch_L_frame]; tempogram: [B, 1, nb_lag, patch_L_frame];
    chroma: [B, 1, 12, patch_L_frame];
    stft: [B, 1 + len(condition_voice_l), n_fft // 2, patch_L_frame] (a conditioned separation model is also
    told which voice to separate: one plane per voice, ``separation.SeparationDataset``);
    precomputed: [B, n_channels (default 1), n_bins, patch_L_frame] (features read from a file).
    """
    param_feature, feature_type = feature_type_of(param_feature)
    patch_len = int(param_feature.require("patch_L_frame"))
    if feature_type.n_bins is None:
        return [batch_size, feature_type.n_channels(param_feature), patch_len]
    return [batch_size, feature_type.n_channels(param_feature), feature_type.n_bins(param_feature), patch_len]
