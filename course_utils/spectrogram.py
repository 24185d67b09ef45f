"""The STFT of the course, both ways, under the name notebook 08 uses (``spectrogram.stft``): the code is
``course_utils.features.stft``, beside the other features. Taught in notebooks/08_source_separation.ipynb.
"""

from course_utils.features.stft import (
    f_get_stft,
    frames_of,
    istft,
    log_magnitude,
    magnitude_of_log,
    n_frames,
    stft,
    stft_context_frames,
)

__all__ = ["f_get_stft", "frames_of", "istft", "log_magnitude", "magnitude_of_log", "n_frames", "stft",
           "stft_context_frames"]
