"""Solutions of the exercises of notebooks/02_features.ipynb."""

import numpy as np


def frame_signal(audio_v, L_n, STEP_n):
    """Frames of a signal: an array (n_frames, L_n); frame i holds audio_v[i * STEP_n : i * STEP_n + L_n]."""
    n_frames = 1 + (len(audio_v) - L_n) // STEP_n
    return np.stack([audio_v[i * STEP_n: i * STEP_n + L_n] for i in range(n_frames)])


def power_spectrum(frame_m, window_v):
    """|FFT|^2 of each windowed frame, non-negative frequencies: (n_frames, L_n // 2 + 1)."""
    return np.abs(np.fft.rfft(frame_m * window_v, axis=1)) ** 2


def patch_frames(patch_sec, sr_hz, hop_n):
    """Frames of a patch of about patch_sec seconds (one frame every hop_n / sr_hz seconds)."""
    return round(patch_sec * sr_hz / hop_n)


def patches_by_hand(total_len, patch_len, patch_hopsize):
    """[(start_frame, end_frame), ...] as feature.f_get_patches: regular patches, then one ending at total_len."""
    patch_l = [(start, start + patch_len) for start in range(0, total_len - patch_len + 1, patch_hopsize)]
    if patch_l[-1][1] < total_len:
        patch_l.append((total_len - patch_len, total_len))
    return patch_l
