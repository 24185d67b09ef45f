"""Solutions of the exercises of notebooks/08_source_separation.ipynb."""

import numpy as np
import torch


def ideal_ratio_mask(stem_magnitude_m):
    """Each voice's share of every bin: its magnitude over the sum of the voices' (V, F, T); 1/V where all are 0."""
    stem_magnitude_m = np.asarray(stem_magnitude_m, dtype=np.float64)
    total_m = stem_magnitude_m.sum(axis=0, keepdims=True)
    share_m = stem_magnitude_m / np.where(total_m > 0, total_m, 1.0)
    return np.where(total_m > 0, share_m, 1.0 / len(stem_magnitude_m))


def si_sdr(estimate_v, reference_v):
    """Scale-invariant SDR in dB: the reference scaled to the estimate is the target, the rest is the error."""
    target_v = np.dot(estimate_v, reference_v) / np.dot(reference_v, reference_v) * reference_v
    error_v = estimate_v - target_v
    return 10 * np.log10(np.sum(target_v**2) / np.sum(error_v**2))


def masked_mse_loss(mask_logits, y):
    """Mean (mask * mixture magnitude - voice magnitude)^2; the masks a softmax over the voices (axis 1); y holds the
    mixture first, then the voices."""
    masks = torch.softmax(mask_logits, dim=1)  # (B, V, F, L), adding up to 1 over the voices
    estimate = masks * y[:, :1]  # the mixture (B, 1, F, L) broadcast over the voices
    return ((estimate - y[:, 1:]) ** 2).mean()
