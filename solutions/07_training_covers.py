"""Solutions of the exercises of notebooks/07_training_covers.ipynb."""

import numpy as np
import torch


def triplet_loss(d_ap_v, d_an_v, margin):
    """Mean over triplets of max(0, d(a, p) - d(a, n) + margin)."""
    return torch.relu(d_ap_v - d_an_v + margin).mean()


def semi_hard_negative(d_ap, d_an_v):
    """Index of the closest negative farther than the positive; the farthest negative when none is."""
    farther_v = np.flatnonzero(d_an_v > d_ap)
    if farther_v.size == 0:
        return int(np.argmax(d_an_v))
    return int(farther_v[np.argmin(d_an_v[farther_v])])


def mean_average_precision(distance_m, work_v):
    """MAP: each item queries the others, ranked by increasing distance; relevant = the same work."""
    ap_l = []
    for query in range(len(work_v)):
        other_v = np.flatnonzero(np.arange(len(work_v)) != query)
        order_v = other_v[np.argsort(distance_m[query, other_v])]
        rank_v = np.flatnonzero(work_v[order_v] == work_v[query]) + 1
        if rank_v.size:
            ap_l.append(np.mean(np.arange(1, rank_v.size + 1) / rank_v))
    return float(np.mean(ap_l))
