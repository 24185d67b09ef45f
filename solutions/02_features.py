"""Solutions of the exercises of notebooks/02_features.ipynb."""

import numpy as np


def frame_signal(audio_v, L_n, STEP_n):
    """Frames of a signal, (n_frames, L_n): frame i holds samples [i * STEP_n, i * STEP_n + L_n)."""
    n_frames = 1 + (len(audio_v) - L_n) // STEP_n
    return np.stack([audio_v[i * STEP_n: i * STEP_n + L_n] for i in range(n_frames)])


def patches_by_hand(total_len, patch_len, patch_hopsize):
    """(start_frame, end_frame) of each patch, end excluded; a last patch ends exactly at ``total_len``."""
    start_l = list(range(0, total_len - patch_len + 1, patch_hopsize))
    if start_l[-1] + patch_len < total_len:
        start_l.append(total_len - patch_len)
    return [(start, start + patch_len) for start in start_l]
