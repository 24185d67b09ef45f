"""Exercises of notebooks/07_training_covers.ipynb, with their checkers; solutions in solutions/."""

import numpy as np
import torch

from course_utils import metrics
from course_utils.exercises.checking import Wrong, as_float, call, exercise


@exercise("07.1", "07_training_covers", "the triplet loss by hand", "triplet_loss",
          "write triplet_loss(d_ap_v, d_an_v, margin): the mean over triplets of max(0, d(a, p) - d(a, n) + margin), "
          "from the anchor-positive distances d_ap_v and the anchor-negative distances d_an_v (1-D tensors, one value "
          "per triplet); a 0-d tensor.",
          ["One triplet's loss is zero when its negative is farther than its positive by at least the margin, and "
           "grows linearly when it is not.",
           "Compute the term inside the max for every triplet at once (the tensors line up triplet by triplet), "
           "then keep its positive part.",
           "torch.relu (or clamp(min=0)) keeps the positive part; end with the mean over the triplets."])
def _check_triplet_loss(triplet_loss):
    generator = torch.Generator().manual_seed(4)
    for n_triplet, margin in ((5, 0.3), (12, 0.1), (3, 1.0)):
        d_ap_v, d_an_v = 2 * torch.rand(n_triplet, generator=generator), 2 * torch.rand(n_triplet, generator=generator)
        answer = as_float(call(triplet_loss, d_ap_v, d_an_v, margin), "the loss")
        expected = float(torch.relu(d_ap_v - d_an_v + margin).mean())
        where = f"for {n_triplet} triplets and margin {margin}"
        if np.isclose(answer, float((d_ap_v - d_an_v + margin).mean())) and not np.isclose(answer, expected):
            raise Wrong(f"{where} you gave {answer:.4f}: the triplets already satisfied (negative far enough) must "
                        f"count 0, not a negative loss (expected {expected:.4f})")
        if not np.isclose(answer, expected, atol=1e-6):
            raise Wrong(f"{where} you gave {answer:.4f}, expected {expected:.4f}")
    return "the same losses as max(0, d(a, p) - d(a, n) + margin) averaged, on 3 sets of triplets."


@exercise("07.2", "07_training_covers", "semi-hard mining", "semi_hard_negative",
          "write semi_hard_negative(d_ap, d_an_v): the index of the negative that semi-hard mining picks, given "
          "the anchor-positive distance d_ap and the anchor's distances to the negatives d_an_v.",
          ["Semi-hard: not the closest negative of all (often a labelling error or noise), but one that is still "
           "farther than the positive.",
           "Among the negatives farther than the positive, pick the closest; keep track of indices into d_an_v.",
           "When no negative is farther than the positive, metrics.TripletLoss takes the farthest negative."])
def _check_semi_hard_negative(semi_hard_negative):
    for d_ap, d_an_v, expected in ((0.5, [0.3, 0.9, 0.6, 1.2], 2), (1.0, [0.3, 0.9], 1), (0.2, [0.5, 0.4, 0.1], 1),
                                   (0.6, [0.6, 0.7, 0.65], 2)):
        answer = as_float(call(semi_hard_negative, d_ap, np.array(d_an_v)), "the index")
        if answer == expected:
            continue
        where = f"for d_ap = {d_ap} and d_an_v = {d_an_v}"
        if answer == int(np.argmin(d_an_v)):
            raise Wrong(f"{where} you picked {answer:.0f}, the hardest negative (closer than the positive, often a "
                        f"labelling error or noise); semi-hard picks {expected}")
        raise Wrong(f"{where} you picked {answer:.0f}, expected {expected}")
    return "the same negatives as metrics.TripletLoss on 4 cases (no semi-hard negative, a tie with d_ap)."


@exercise("07.3", "07_training_covers", "mean average precision by hand", "mean_average_precision",
          "write mean_average_precision(distance_m, work_v): each item queries all the others ranked by increasing "
          "distance; AP = the mean over its relevant items (same work) of the precision at their ranks; MAP = the "
          "mean of AP over the queries.",
          ["Take one query at a time, and leave it out of its own ranking.",
           "Sort the other items by their distance to the query; the precision at rank r is the share of relevant "
           "items among the first r.",
           "For a query whose relevant items are at ranks r1 < r2 < ..., the precisions there are 1/r1, 2/r2, ...; "
           "a query without any relevant item is left out of the mean."])
def _check_mean_average_precision(mean_average_precision):
    rng = np.random.default_rng(3)
    for work_v in (np.array([0, 0, 1, 1, 2, 2]), np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 3])):
        point_m = rng.standard_normal((len(work_v), 4)) + work_v[:, None] * 0.5
        distance_m = np.linalg.norm(point_m[:, None] - point_m[None], axis=-1)
        answer = as_float(call(mean_average_precision, distance_m, work_v), "the MAP")
        expected_d = metrics.ranking_metrics(distance_m, work_v)
        if np.isclose(answer, expected_d["MAP"]):
            continue
        for name in ("MRR", "P@1"):
            if np.isclose(answer, expected_d[name]):
                raise Wrong(f"you gave {answer:.4f}, the {name} (only the first relevant item counts); the MAP "
                            f"counts every relevant item: {expected_d['MAP']:.4f}")
        raise Wrong(f"for works {work_v.tolist()} you gave {answer:.4f}, expected {expected_d['MAP']:.4f} (is the "
                    "query itself left out of its ranking?)")
    return "the same MAP as metrics.ranking_metrics on 2 sets of works (with 2 and 3 versions)."
