"""Chroma: the energy of the audio in each of the 12 pitch classes (C, C#, ..., B), every octave folded onto one.

``chroma_sequence`` is the (12, T) chroma that the non-learned cover baselines compare (``covers``: chroma profile
and chroma DTW, notebook 07); ``f_get_chroma`` is the same chroma as a feature type of the table (``feature.type:
chroma``, a (1, 12, T) feature), so that a model can read the audio's chroma as it reads a log-mel: with
``hop_length: 2048`` its frames are those of notebook 07's melody chroma (93 ms at 22050 Hz). Both are
``librosa.feature.chroma_cqt`` (a CQT of 7 octaves from C1, 3 bins per semitone, folded to 12 pitch classes, each
frame divided by its maximum). Its tuning (the offset of the pitch grid, in fractions of a bin) is estimated from
the audio it is given unless the config states it: on the fly, a patch's chroma is then computed from its excerpt's
tuning and may differ slightly from the whole track's (0.3 % on a tone that changes pitch); ``tuning: 0`` makes
them equal. Taught in notebooks/07_training_covers.ipynb.
"""

import math

import librosa
import numpy as np

from course_utils import audio_store
from course_utils.config import as_config
from course_utils.features import _hcqt_engine

PITCH_CLASS_L = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
CHROMA_FMIN_HZ = librosa.note_to_hz("C1")  # librosa.feature.chroma_cqt's lowest CQT bin
CHROMA_BINS_PER_OCTAVE = 36  # its CQT's resolution


def chroma_sequence(audio_v, sr_hz, hop_length=2048, tuning=None):
    """(12, T) chroma of a track (``librosa.feature.chroma_cqt``), one frame every ``hop_length`` samples; the tuning
    (fractions of a bin) estimated from the audio when None."""
    return librosa.feature.chroma_cqt(y=np.asarray(audio_v, dtype=np.float32), sr=sr_hz, hop_length=hop_length,
                                      tuning=tuning)


def f_get_chroma(audio_v, sr_hz, param_chroma):
    """Chroma of a mono signal as a one-channel feature: ``chroma_sequence`` with the config's hop.

    Parameters
    ----------
    audio_v : np.ndarray, shape (n_samples,), float in [-1, 1]
    sr_hz : int or float (the course uses 22050)
    param_chroma : config section with ``hop_length`` (samples between frames, e.g. 2048: 93 ms) and optionally
        ``tuning`` (the pitch grid's offset in fractions of a bin, in [-0.5, 0.5); absent: estimated from the audio)

    Returns
    -------
    data_3m : np.ndarray, shape (1, 12, n_frames), float32 in [0, 1], pitch classes C to B (``PITCH_CLASS_L``),
        each frame's largest value 1
    time_sec_v : np.ndarray, shape (n_frames,), centre time of each frame in seconds (``1 + n_samples // hop``)
    """
    audio_store.check_audio(audio_v, sr_hz)
    param_chroma = as_config(param_chroma, "feature")
    audio_store.check_rate(param_chroma, sr_hz)
    hop_n = audio_store.check_sample_count(param_chroma.require("hop_length"), "hop_length")
    tuning = param_chroma.get("tuning", None)
    data_3m = chroma_sequence(audio_v, sr_hz, hop_n, None if tuning is None else float(tuning))
    data_3m = data_3m.astype(np.float32)[np.newaxis]
    time_sec_v = librosa.frames_to_time(np.arange(data_3m.shape[-1]), sr=sr_hz, hop_length=hop_n)
    return data_3m, time_sec_v


def chroma_context_frames(param, sr_hz):
    """Half the longest CQT filter of the chroma (its lowest bin, C1), in frames, plus two."""
    longest_n = _hcqt_engine.longest_filter_n(sr_hz, CHROMA_FMIN_HZ, CHROMA_BINS_PER_OCTAVE)
    return math.ceil(longest_n / 2 / int(param.require("hop_length"))) + 2
