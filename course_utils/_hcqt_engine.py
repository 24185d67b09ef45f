"""Moved to ``course_utils/features/_hcqt_engine.py``, beside the HCQT it computes (``features.pitch``). This name is
kept because the text of notebooks/02_features.ipynb points readers to ``course_utils/_hcqt_engine.py``; the package
imports ``course_utils.features._hcqt_engine``.
"""

from course_utils.features._hcqt_engine import (  # noqa: F401 (the engine's names, for the path notebook 02 names)
    centred_stft,
    cqt_alpha,
    default_n_threads,
    hcqt_magnitude,
    hcqt_plan,
    longest_filter_n,
    top_cutoff_hz,
)
