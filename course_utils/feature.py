"""The audio features of the course under the original course's names: ``feature.f_get_lms``,
``feature.f_get_hcqt``, ``feature.f_get_patches``, ``feature.FEATURE_TYPE_D``, ... The notebooks import this module
(``from course_utils import feature``); the code lives in the subpackage ``course_utils.features``, one module per
kind of feature, where a new feature type goes (docs/extending.md):

- waveform and log-mel: ``features.spectral``; HCQT and pitch grid: ``features.pitch``; tempogram:
  ``features.rhythm``; chroma: ``features.chroma``; patches: ``features.patches``;
- the one table of feature types and the layout of a feature (hop, frames, bins, channels, context, a model's
  input shape): ``features.table``.

Every feature is a ``(C, F, T)`` array (``(1, T)`` for the waveform) plus the time of each frame in seconds.
The feature cache that stores features for a whole dataset is ``course_utils.feature_cache``. Taught in
notebooks/02_features.ipynb; the tempogram in notebooks/05_training_tagging.ipynb.
"""

from course_utils.features.chroma import f_get_chroma
from course_utils.features.patches import f_get_patches
from course_utils.features.pitch import f_get_hcqt, f_get_pitch_grid_hz, f_get_pitch_grid_midi
from course_utils.features.rhythm import f_get_onset_strength, f_get_tempogram
from course_utils.features.spectral import f_get_lms, f_get_waveform
from course_utils.features.table import (
    FEATURE_TYPE_D,
    FeatureType,
    f_get_context_frames,
    f_get_feature,
    f_get_hop_n,
    f_get_hop_sec,
    f_get_n_bins,
    f_get_n_frames,
    feature_input_dim,
    feature_type_of,
    is_computed,
)

__all__ = ["FEATURE_TYPE_D", "FeatureType", "f_get_chroma", "f_get_context_frames", "f_get_feature", "f_get_hcqt",
           "f_get_hop_n", "f_get_hop_sec", "f_get_lms", "f_get_n_bins", "f_get_n_frames", "f_get_onset_strength",
           "f_get_patches", "f_get_pitch_grid_hz", "f_get_pitch_grid_midi", "f_get_tempogram", "f_get_waveform",
           "feature_input_dim", "feature_type_of", "is_computed"]
