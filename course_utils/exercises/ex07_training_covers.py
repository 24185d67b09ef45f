"""Exercises of notebooks/07_training_covers.ipynb, with their checkers; solutions in solutions/."""

import numpy as np
import torch

from course_utils import covers, metrics
from course_utils.exercises.checking import NotDone, Wrong, _raised_message, as_float, call, exercise


def _triplet_variants(d_ap_v, d_an_v, margin):
    """The loss of the exercise, and what a wrong answer may give instead: name -> value."""
    return {"right": float(torch.relu(d_ap_v - d_an_v + margin).mean()),
            "no hinge": float((d_ap_v - d_an_v + margin).mean()),
            "sum": float(torch.relu(d_ap_v - d_an_v + margin).sum()),
            "hinge on the mean": float(torch.relu((d_ap_v - d_an_v + margin).mean())),
            "swapped": float(torch.relu(d_an_v - d_ap_v + margin).mean()),
            "margin subtracted": float(torch.relu(d_ap_v - d_an_v - margin).mean())}


_TRIPLET_MISTAKE_D = {
    "no hinge": "the triplets already satisfied (negative far enough) must count 0, not a negative loss: keep the "
                "positive part, max(0, ...)",
    "sum": "the sum over the triplets: the loss is their mean",
    "hinge on the mean": "max(0, ...) of the mean: the positive part is taken for each triplet, before the mean (a "
                         "satisfied triplet must not cancel another's loss)",
    "swapped": "d(a, p) and d(a, n) swapped: the loss grows when the positive is far and the negative is close",
    "margin subtracted": "the margin is added, not subtracted: the negative must be farther than the positive by at "
                         "least the margin",
}


@exercise("07.1", "07_training_covers", "the triplet loss by hand", "triplet_loss",
          "write triplet_loss(d_ap_v, d_an_v, margin) with torch operations: the mean over triplets of max(0, d(a, p) "
          "- d(a, n) + margin), from the anchor-positive distances d_ap_v and the anchor-negative distances d_an_v "
          "(1-D tensors, one value per triplet); a 0-d tensor.",
          ["One triplet's loss is zero when its negative is farther than its positive by at least the margin, and "
           "grows linearly when it is not.",
           "Compute the term inside the max for every triplet at once (the tensors line up triplet by triplet), "
           "then keep its positive part.",
           "torch.relu (or clamp(min=0)) keeps the positive part; end with the mean over the triplets."],
          forbidden_l=[metrics.TripletLoss.forward, torch.nn.functional.margin_ranking_loss,
                       torch.nn.functional.triplet_margin_loss])
def _check_triplet_loss(triplet_loss):
    generator = torch.Generator().manual_seed(4)
    for n_triplet, margin in ((5, 0.3), (12, 0.1), (3, 1.0)):
        d_ap_v, d_an_v = 2 * torch.rand(n_triplet, generator=generator), 2 * torch.rand(n_triplet, generator=generator)
        answer = call(triplet_loss, d_ap_v, d_an_v, margin)
        where = f"for {n_triplet} triplets and margin {margin}"
        if torch.is_tensor(answer) and answer.numel() != 1:
            raise Wrong(f"{where} you returned a tensor of shape {tuple(answer.shape)}: the loss is one number, the "
                        "mean over the triplets")
        value, value_d = as_float(answer, "the loss"), _triplet_variants(d_ap_v, d_an_v, margin)
        if not np.isclose(value, value_d["right"], atol=1e-6):
            for mistake, explanation in _TRIPLET_MISTAKE_D.items():
                if np.isclose(value, value_d[mistake], atol=1e-6):
                    raise Wrong(f"{where} you gave {value:.4f}: {explanation} (expected {value_d['right']:.4f})")
            raise Wrong(f"{where} you gave {value:.4f}, expected {value_d['right']:.4f}")
        if not torch.is_tensor(answer):
            raise Wrong(f"{where} the value is right, but only a tensor can be back-propagated: return a tensor, not "
                        f"{type(answer).__name__}")
    return "the same losses as max(0, d(a, p) - d(a, n) + margin) averaged, on 3 sets of triplets."


def _semi_hard_reference(d_ap, d_an_v):
    """The rule of metrics.TripletLoss: the closest negative farther than the positive, else the farthest."""
    farther_v = np.flatnonzero(d_an_v > d_ap)
    return int(np.argmax(d_an_v)) if farther_v.size == 0 else int(farther_v[np.argmin(d_an_v[farther_v])])


def _picked_index(semi_hard_negative, d_ap, d_an_v, where, fallback):
    """The index the answer picks, as an int; a fallback case (no negative farther) that fails is said as such."""
    try:
        answer = call(semi_hard_negative, d_ap, np.array(d_an_v))
    except (NotDone, NotImplementedError):
        raise
    except Exception as error:
        if not fallback:
            raise
        reason = str(error) if isinstance(error, Wrong) else _raised_message(error)
        raise Wrong(f"{where} no negative is farther than the positive, and {reason}: in that case the rule takes the "
                    "farthest negative") from None
    value = as_float(answer, "the index")
    if value in d_an_v and not float(value).is_integer():
        raise Wrong(f"{where} you returned {value}, a distance, not an index: return the position of the negative in "
                    "d_an_v")
    if not float(value).is_integer() or not 0 <= value < len(d_an_v):
        raise Wrong(f"{where} you returned {answer!r}: an index into d_an_v is an integer from 0 to {len(d_an_v) - 1}")
    return int(value)


SEMI_HARD_RULE = ("the closest negative still farther from the anchor than the positive (d(a, n) > d(a, p)); when no "
                  "negative is farther, the farthest negative")


def _semi_hard_mistake(picked, expected, d_ap, d_an_v):
    """What a wrong pick says about the rule used, in words."""
    farther_v = np.flatnonzero(d_an_v > d_ap)
    if farther_v.size == 0:
        return ("no negative is farther than the positive here: the rule then takes the farthest negative "
                f"({expected}), not {picked}")
    if d_an_v[picked] == d_ap:
        return "a negative at the same distance as the positive is not farther: the rule wants d(a, n) > d(a, p)"
    if d_an_v[picked] < d_ap and picked == int(np.argmin(d_an_v)):
        return ("the hardest negative (closer than the positive, often a labelling error or noise); semi-hard picks "
                f"{expected}, the closest of those farther than the positive")
    if picked == int(np.argmin(d_an_v[farther_v])):
        return (f"an index among the negatives farther than the positive, not an index into d_an_v: that negative is "
                f"at index {expected} of d_an_v")
    if picked == int(np.argmax(d_an_v)):
        return (f"the farthest negative: the rule takes the closest of those farther than the positive ({expected}); "
                "the farthest is only for when no negative is farther")
    return f"the rule: {SEMI_HARD_RULE}; it picks {expected}"


@exercise("07.2", "07_training_covers", "semi-hard mining", "semi_hard_negative",
          "write semi_hard_negative(d_ap, d_an_v): the index in d_an_v of the negative that semi-hard mining picks, "
          "given the anchor-positive distance d_ap and the anchor's distances to the negatives d_an_v: "
          f"{SEMI_HARD_RULE} (the rule of metrics.TripletLoss).",
          ["Semi-hard: not the closest negative of all (often a labelling error or noise), but one that is still "
           "farther than the positive.",
           "Among the negatives farther than the positive, pick the closest; keep track of indices into d_an_v.",
           "When no negative is farther than the positive, the rule takes the farthest negative: test that case "
           "first."],
          forbidden_l=[metrics.TripletLoss.forward])
def _check_semi_hard_negative(semi_hard_negative):
    for d_ap, d_an_v in ((0.5, [0.3, 0.9, 0.6, 1.2]), (1.0, [0.3, 0.9]), (0.2, [0.5, 0.4, 0.1]),
                         (0.6, [0.6, 0.7, 0.65])):
        d_an_v, expected = np.array(d_an_v), _semi_hard_reference(d_ap, np.array(d_an_v))
        where = f"for d_ap = {d_ap} and d_an_v = {d_an_v.tolist()}"
        picked = _picked_index(semi_hard_negative, d_ap, d_an_v, where, fallback=not np.any(d_an_v > d_ap))
        if picked != expected:
            raise Wrong(f"{where} you picked {picked}: {_semi_hard_mistake(picked, expected, d_ap, d_an_v)}")
    return ("the same negatives as metrics.TripletLoss on 4 cases (no negative farther than the positive, a tie with "
            "d_ap).")


def _map_variants(distance_m, work_v):
    """The MAP of the exercise, and what a wrong answer may give instead: name -> value."""
    ap_d = {name: [] for name in ("right", "single as zero", "query included", "descending", "over candidates",
                                  "MRR", "P@1")}
    for query in range(len(work_v)):
        other_v = np.flatnonzero(np.arange(len(work_v)) != query)
        for name, candidate_v, sign in (("right", other_v, 1), ("query included", np.arange(len(work_v)), 1),
                                        ("descending", other_v, -1)):
            order_v = candidate_v[np.argsort(sign * distance_m[query, candidate_v], kind="stable")]
            rank_v = np.flatnonzero(work_v[order_v] == work_v[query]) + 1
            if rank_v.size and name != "right":
                ap_d[name].append(np.mean(np.arange(1, rank_v.size + 1) / rank_v))
            elif rank_v.size:
                precision_v = np.arange(1, rank_v.size + 1) / rank_v
                ap_d["right"].append(precision_v.mean())
                ap_d["single as zero"].append(precision_v.mean())
                ap_d["over candidates"].append(precision_v.sum() / len(other_v))
                ap_d["MRR"].append(1 / rank_v[0])
                ap_d["P@1"].append(float(rank_v[0] == 1))
            elif name == "right":
                ap_d["single as zero"].append(0.0)
    return {name: float(np.mean(ap_l)) for name, ap_l in ap_d.items()}


_MAP_MISTAKE_D = {
    "single as zero": "a query whose work has no other version counted with AP 0: such a query has no relevant item, "
                      "so no AP; it is left out of the mean (it stays a candidate for the other queries)",
    "query included": "the query itself is in its own ranking (at distance 0, first): leave it out",
    "descending": "the ranking is by increasing distance (the closest first), not decreasing",
    "over candidates": "each AP is divided by the number of candidates: it is the mean over the relevant items, "
                       "divided by the number of relevant items",
    "MRR": "the MRR (only the first relevant item counts); the MAP counts every relevant item",
    "P@1": "the P@1 (only the first rank counts); the MAP counts every relevant item",
}


@exercise("07.3", "07_training_covers", "mean average precision by hand", "mean_average_precision",
          "write mean_average_precision(distance_m, work_v) with NumPy: each item queries all the others ranked by "
          "increasing distance; AP = the mean over its relevant items (same work) of the precision at their ranks; "
          "MAP = the mean of AP over the queries. A query whose work has no other version has no relevant item, so "
          "no AP: it is left out of the mean (it stays a candidate for the others).",
          ["Take one query at a time, and leave it out of its own ranking.",
           "Sort the other items by their distance to the query; the precision at rank r is the share of relevant "
           "items among the first r.",
           "For a query whose relevant items are at ranks r1 < r2 < ..., the precisions there are 1/r1, 2/r2, ...; "
           "a query without any relevant item is left out of the mean."],
          forbidden_l=[metrics.ranking_metrics, covers.scores_by_kind])
def _check_mean_average_precision(mean_average_precision):
    rng = np.random.default_rng(3)
    for work_v in (np.array([0, 0, 1, 1, 2, 2]), np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 3]),
                   np.array([0, 0, 1, 1, 1, 2, 3, 3, 4])):
        point_m = rng.standard_normal((len(work_v), 4)) + work_v[:, None] * 0.5
        distance_m = np.linalg.norm(point_m[:, None] - point_m[None], axis=-1)
        answer = as_float(call(mean_average_precision, distance_m, work_v), "the MAP")
        value_d = _map_variants(distance_m, work_v)
        if np.isclose(answer, value_d["right"]):
            continue
        where = f"for works {work_v.tolist()} you gave {answer:.4f}"
        for mistake, explanation in _MAP_MISTAKE_D.items():
            if np.isclose(answer, value_d[mistake]):
                raise Wrong(f"{where}: {explanation} (expected {value_d['right']:.4f})")
        raise Wrong(f"{where}, expected {value_d['right']:.4f}")
    return ("the same MAP as metrics.ranking_metrics on 3 sets of works (with 2 and 3 versions, and works with a "
            "single version, left out of the mean).")
