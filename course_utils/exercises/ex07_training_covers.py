"""Exercises of notebooks/07_training_covers.ipynb, with their checkers; solutions in solutions/."""

import numpy as np

from course_utils import metrics
from course_utils.exercises.checking import Wrong, as_float, call, exercise


@exercise("07.1", "07_training_covers", "semi-hard mining", "semi_hard_negative",
           "write semi_hard_negative(d_ap, d_an_v): the index of the negative that semi-hard mining picks, given "
           "the anchor-positive distance d_ap and the anchor's distances to the negatives d_an_v.",
           "the closest negative that is still farther than the positive (d_an > d_ap); when none is, the farthest "
           "negative (as metrics.TripletLoss).")
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


@exercise("07.2", "07_training_covers", "mean average precision by hand", "mean_average_precision",
           "write mean_average_precision(distance_m, work_v): each item queries all the others ranked by increasing "
           "distance; AP = the mean over its relevant items (same work) of the precision at their ranks; MAP = the "
           "mean of AP over the queries.",
           "for a query: order = the other items sorted by distance; relevant = work_v[order] == work_v[query]; "
           "ranks = np.flatnonzero(relevant) + 1; AP = mean(arange(1, len(ranks) + 1) / ranks).")
def _check_mean_average_precision(mean_average_precision):
    rng = np.random.default_rng(3)
    for work_v in (np.array([0, 0, 1, 1, 2, 2]), np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 3])):
        point_m = rng.standard_normal((len(work_v), 4)) + work_v[:, None] * 0.5
        distance_m = np.linalg.norm(point_m[:, None] - point_m[None], axis=-1)
        answer = as_float(call(mean_average_precision, distance_m.copy(), work_v.copy()), "the MAP")
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
