"""Features on a pitch grid: the harmonic CQT (HCQT; a CQT is the HCQT with ``h_l: [1]``), ``f_get_hcqt`` (also
``feature.f_get_hcqt``), and its grid of pitches in Hz and MIDI (``f_get_pitch_grid_hz``, ``f_get_pitch_grid_midi``),
on which the piano rolls and the outputs of multi-pitch models live; with what the table of feature types
(``features.table``) needs of it: its bins and its context on the fly. The fast multirate engine behind it is
``features._hcqt_engine`` (private). Taught in notebooks/02_features.ipynb; the pitch grid in
notebooks/06_training_multipitch.ipynb.
"""

import math

import librosa
import numpy as np

from course_utils import audio_store
from course_utils.config import as_config
from course_utils.features import _hcqt_engine


def f_get_hcqt(audio_v, sr_hz, param_hcqt):
    """Harmonic constant-Q transform (HCQT) of a mono signal (Bittner et al., 2017).

    Channel ``c`` is the magnitude CQT with lowest frequency ``h_l[c] * fmin``, so that the same bin
    index of every channel looks at the harmonics of the same fundamental frequency. By definition::

        np.stack([np.abs(librosa.cqt(audio_v, sr=sr_hz, fmin=h * fmin, hop_length=hop_length,
                                     bins_per_octave=12 * bins_per_semitone,
                                     n_bins=12 * bins_per_semitone * n_octaves)) for h in h_l])

    which is what this function returns (relative L2 error below 1e-2, tested), computed in one shared
    multirate pass (``features._hcqt_engine``) many times faster.

    Parameters
    ----------
    audio_v : np.ndarray, shape (n_samples,), float in [-1, 1]
    sr_hz : int or float (the course uses 22050)
    param_hcqt : config section with ``h_l`` (harmonics, e.g. [0.5, 1, 2, 3, 4, 5]), ``fmin`` (Hz, e.g.
        32.7 = C1), ``n_octaves`` (e.g. 6), ``bins_per_semitone`` (3 or 5), ``hop_length`` (samples, e.g.
        256 or 512; divisible by 2 many times for speed), and optionally ``log_gain``: if given, the
        magnitude is compressed as ``log(1 + log_gain * magnitude)``.

    Returns
    -------
    data_3m : np.ndarray, shape (len(h_l), n_octaves * 12 * bins_per_semitone, n_frames), float32,
        CQT magnitude (librosa's scaling, linear unless ``log_gain`` is set)
    time_sec_v : np.ndarray, shape (n_frames,), centre time of each frame in seconds
    frequency_hz_v : np.ndarray, shape (n_bins,), centre frequency of each bin of the h = 1 channel
        (channel c is at ``h_l[c] * frequency_hz_v``)

    Taught in notebooks/02_features.ipynb.
    """
    audio_store.check_audio(audio_v, sr_hz)
    param_hcqt = as_config(param_hcqt, "feature")
    audio_store.check_rate(param_hcqt, sr_hz)
    h_l = [float(h) for h in param_hcqt.require("h_l")]
    if len(h_l) == 0 or min(h_l) <= 0:
        raise ValueError(f"h_l must be a non-empty list of positive harmonics, got {h_l}")
    fmin_hz = float(param_hcqt.require("fmin"))
    if fmin_hz <= 0:
        raise ValueError(f"fmin must be a positive frequency in Hz, got {fmin_hz}")
    bins_per_octave = 12 * int(param_hcqt.require("bins_per_semitone"))
    n_bins = bins_per_octave * int(param_hcqt.require("n_octaves"))
    if n_bins <= 0:
        raise ValueError("bins_per_semitone and n_octaves must be positive")
    hop_n = audio_store.check_sample_count(param_hcqt.require("hop_length"), "hop_length")
    _check_below_nyquist(max(h_l) * fmin_hz * 2.0 ** ((n_bins - 1) / bins_per_octave), bins_per_octave, sr_hz)

    data_3m = _hcqt_engine.hcqt_magnitude(audio_v, sr_hz, h_l, fmin_hz, bins_per_octave, n_bins, hop_n)
    if param_hcqt.get("log_gain") is not None:
        data_3m = np.log1p(float(param_hcqt.log_gain) * data_3m)
    time_sec_v = librosa.frames_to_time(np.arange(data_3m.shape[-1]), sr=sr_hz, hop_length=hop_n)
    return data_3m, time_sec_v, pitch_grid_hz(fmin_hz, bins_per_octave, n_bins)


def pitch_grid_hz(fmin_hz, bins_per_octave, n_bins):
    """Centre frequency (Hz) of each bin: ``fmin_hz * 2 ** (k / bins_per_octave)``, shape (n_bins,)."""
    return fmin_hz * 2.0 ** (np.arange(n_bins) / bins_per_octave)


def _check_below_nyquist(top_hz, bins_per_octave, sr_hz):
    cutoff_hz = _hcqt_engine.top_cutoff_hz(top_hz, bins_per_octave)
    if cutoff_hz > sr_hz / 2:
        raise ValueError(
            f"the top HCQT bin ({top_hz:.0f} Hz = max(h_l) x fmin x 2^((n_bins - 1) / bins_per_octave), filter "
            f"cut-off {cutoff_hz:.0f} Hz) is above the Nyquist frequency {sr_hz / 2:.0f} Hz of sr_hz={sr_hz}; use "
            "fewer octaves, a lower fmin, smaller harmonics or a higher sampling rate")


def without_pitch_grid(audio_v, sr_hz, param_hcqt):
    """``f_get_hcqt`` as the table of feature types computes it: (data_3m, time_sec_v)."""
    data_3m, time_sec_v, _ = f_get_hcqt(audio_v, sr_hz, param_hcqt)
    return data_3m, time_sec_v


def hcqt_n_bins(param):
    """Size of the HCQT's frequency axis: ``12 * bins_per_semitone * n_octaves``."""
    return 12 * int(param.require("bins_per_semitone")) * int(param.require("n_octaves"))


def hcqt_context_frames(param, sr_hz):
    """Half the longest CQT filter (the lowest harmonic's lowest bin), in frames, plus two."""
    longest_n = _hcqt_engine.longest_filter_n(sr_hz, param.require("fmin") * min(param.require("h_l")),
                                              12 * param.require("bins_per_semitone"))
    return math.ceil(longest_n / 2 / int(param.require("hop_length"))) + 2


def f_get_pitch_grid_hz(param_feature):
    """Centre frequency (Hz) of each bin of the HCQT's h = 1 channel: ``fmin * 2 ** (k / bins_per_octave)``,
    shape (n_bins,). Piano-roll targets and model outputs of multi-pitch estimation live on this grid."""
    param_feature = as_config(param_feature, "feature")
    if param_feature.get("type") != "hcqt":
        raise ValueError(f"a pitch grid needs the HCQT (feature.type: hcqt), got '{param_feature.get('type')}'")
    return pitch_grid_hz(float(param_feature.require("fmin")), 12 * int(param_feature.require("bins_per_semitone")),
                         hcqt_n_bins(param_feature))


def f_get_pitch_grid_midi(param_feature):
    """The same grid as ``f_get_pitch_grid_hz`` in MIDI pitch (fractional between semitones), shape (n_bins,)."""
    return librosa.hz_to_midi(f_get_pitch_grid_hz(param_feature))
