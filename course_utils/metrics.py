"""Losses and metrics that the libraries do not give ready-made, written to be read.

- ``TripletLoss``: triplet loss with online mining inside a batch (random or semi-hard negatives).
- ``ranking_metrics``: MAP, MR1, MRR, P@1, P@10 of a distance matrix (cover-song identification).
- ``pianoroll_to_multipitch`` / ``multipitch_scores``: whole-track multi-pitch evaluation with mir_eval;
  ``frame_accuracy`` (the same Accuracy on a common pitch grid, fast), ``choose_threshold`` (on validation
  tracks) and ``relative_salience`` (a threshold relative to the track: what holds on unheard instruments).

Tagging metrics come from scikit-learn (accuracy, macro recall, ROC-AUC, AP) in the notebooks.
Taught in notebooks/06_training_multipitch.ipynb and notebooks/07_training_covers.ipynb.
"""

import mir_eval
import numpy as np
import torch
import torch.nn.functional as F

# --- cover-song identification --------------------------------------------------------------------


def pairwise_distances(embedding_m):
    """Euclidean distances between the L2-normalised rows of (N, D) embeddings: (N, N), in [0, 2]."""
    unit_m = F.normalize(embedding_m, dim=1)
    return torch.cdist(unit_m, unit_m)


class TripletLoss(torch.nn.Module):
    """Triplet loss ``mean(relu(d(a, p) - d(a, n) + margin))`` with triplets mined in the batch.

    Every (anchor, positive) pair of the batch (same label, two different items) makes one triplet; its
    negative (another label) is chosen by ``mining``:

    - ``'random'``: any negative, drawn at random;
    - ``'semihard'`` (FaceNet, Schroff et al. 2015): the closest negative that is still *farther* than the
      positive (d(a, n) > d(a, p)): hard enough to teach, not so hard that it is noise or a labelling
      error. When no negative is farther than the positive, the farthest negative is used instead.

    Distances are between L2-normalised embeddings (``pairwise_distances``), so ``margin`` is on a
    fixed scale (distances lie in [0, 2]).
    """

    def __init__(self, margin=0.3, mining="semihard"):
        super().__init__()
        if mining not in ("random", "semihard"):
            raise ValueError(f"mining must be 'random' or 'semihard', got {mining!r}")
        self.margin, self.mining = margin, mining

    def forward(self, embedding_m, label_v):
        distance_m = pairwise_distances(embedding_m)
        same_m = label_v[:, None] == label_v[None, :]
        positive_m = same_m & ~torch.eye(len(label_v), dtype=torch.bool, device=label_v.device)
        anchor_v, positive_v = torch.nonzero(positive_m, as_tuple=True)
        if anchor_v.numel() == 0:
            raise ValueError("the batch has no positive pair: each label must appear at least twice")
        d_ap_v = distance_m[anchor_v, positive_v]
        d_an_m = distance_m[anchor_v]  # (n_pair, N): distances from each pair's anchor to every item
        negative_mask_m = ~same_m[anchor_v]
        if self.mining == "random":
            score_m = torch.rand_like(d_an_m).masked_fill(~negative_mask_m, -1.0)
            d_an_v = d_an_m.gather(1, score_m.argmax(dim=1, keepdim=True)).squeeze(1)
        else:
            farther_m = negative_mask_m & (d_an_m > d_ap_v[:, None])
            closest_farther_v = d_an_m.masked_fill(~farther_m, float("inf")).min(dim=1).values
            farthest_v = d_an_m.masked_fill(~negative_mask_m, -float("inf")).max(dim=1).values
            d_an_v = torch.where(farther_m.any(dim=1), closest_farther_v, farthest_v)
        return F.relu(d_ap_v - d_an_v + self.margin).mean()


def ranking_metrics(distance_m, label_v, query_mask_v=None):
    """Retrieval metrics: each item queries all the others, ranked by increasing distance.

    Parameters
    ----------
    distance_m : array (N, N), distance between items (the diagonal is ignored)
    label_v : array (N,), the work of each item; relevant = same work
    query_mask_v : optional bool array (N,): only these items query (e.g. the tracks of one renderer); every
        item is still a candidate

    Returns
    -------
    dict with, averaged over the queries that have at least one relevant item:
    ``MAP`` (mean average precision), ``MR1`` (mean rank of the first relevant item, 1 = best),
    ``MRR`` (mean reciprocal rank of the first relevant item), ``P@1`` and ``P@10`` (precision at 1 and
    10: the fraction of relevant items among the first 1 or 10), and ``n_query``.
    """
    distance_m, label_v = np.asarray(distance_m, dtype=float), np.asarray(label_v)
    ap_l, first_rank_l, p1_l, p10_l = [], [], [], []
    query_l = range(len(label_v)) if query_mask_v is None else np.flatnonzero(np.asarray(query_mask_v, dtype=bool))
    for query in query_l:
        other_v = np.flatnonzero(np.arange(len(label_v)) != query)
        order_v = other_v[np.argsort(distance_m[query, other_v], kind="stable")]
        relevant_v = label_v[order_v] == label_v[query]
        if not relevant_v.any():
            continue
        rank_v = np.flatnonzero(relevant_v) + 1  # ranks (1-based) of the relevant items
        ap_l.append(np.mean(np.arange(1, len(rank_v) + 1) / rank_v))
        first_rank_l.append(rank_v[0])
        p1_l.append(relevant_v[:1].mean())
        p10_l.append(relevant_v[:10].sum() / 10)
    if not ap_l:
        raise ValueError("no query has a relevant item: every work has a single version")
    first_rank_v = np.asarray(first_rank_l, dtype=float)
    return {"MAP": float(np.mean(ap_l)), "MR1": float(first_rank_v.mean()), "MRR": float(np.mean(1 / first_rank_v)),
            "P@1": float(np.mean(p1_l)), "P@10": float(np.mean(p10_l)), "n_query": len(ap_l)}


# --- multi-pitch ----------------------------------------------------------------------------------


def pianoroll_to_multipitch(roll_m, frequency_hz_v):
    """A 0/1 piano roll (F, T) as mir_eval's multipitch format: a list of T arrays of active frequencies (Hz)."""
    roll_m = np.asarray(roll_m) > 0
    return [np.asarray(frequency_hz_v)[roll_m[:, t]] for t in range(roll_m.shape[1])]


def multipitch_scores(reference_roll_m, estimated_roll_m, time_sec_v, frequency_hz_v):
    """mir_eval.multipitch scores of one whole track: Precision, Recall, Accuracy (and the rest).

    Both rolls are 0/1 arrays (F, T) on the same pitch grid ``frequency_hz_v`` and frames ``time_sec_v``.
    """
    reference_l = pianoroll_to_multipitch(reference_roll_m, frequency_hz_v)
    estimated_l = pianoroll_to_multipitch(estimated_roll_m, frequency_hz_v)
    return dict(mir_eval.multipitch.evaluate(np.asarray(time_sec_v), reference_l, np.asarray(time_sec_v),
                                             estimated_l))


def frame_accuracy(salience_m, roll_m, threshold):
    """mir_eval's multi-pitch Accuracy, TP / (TP + FP + FN), of a salience (pitch, frame) thresholded at ``threshold``
    against a 0/1 piano roll on the same grid: the same number as ``multipitch_scores``, computed directly."""
    estimate_m, reference_m = np.asarray(salience_m) > threshold, np.asarray(roll_m) > 0
    return float(np.sum(estimate_m & reference_m) / max(1, np.sum(estimate_m | reference_m)))


def choose_threshold(salience_l, roll_l, threshold_v=None):
    """The threshold with the best mean ``frame_accuracy`` over tracks (validation tracks: never the test split).

    salience_l, roll_l : lists of (pitch, frame) arrays, one per track; threshold_v : candidates (default 0.02 to 0.98)
    """
    threshold_v = np.linspace(0.02, 0.98, 49) if threshold_v is None else np.asarray(threshold_v)
    accuracy_v = [np.mean([frame_accuracy(s, r, t) for s, r in zip(salience_l, roll_l, strict=True)])
                  for t in threshold_v]
    return float(threshold_v[int(np.argmax(accuracy_v))])


def relative_salience(salience_m, percentile=99.0, floor=0.5):
    """A salience (pitch, frame) divided by the level of the track's clearest notes (its ``percentile``-th
    percentile, at least ``floor``) and clipped to 1: a threshold on it is relative to the track.

    On instruments it has never heard a model is less sure of every note; a fixed threshold chosen on the
    sound it knows then misses them (notebook 06, section "a threshold relative to the track").
    """
    salience_m = np.asarray(salience_m)
    return np.minimum(salience_m / max(floor, float(np.percentile(salience_m, percentile))), 1.0)


def mean_multipitch_scores(salience_l, roll_l, threshold, hop_sec, frequency_hz_v):
    """mir_eval's Precision, Recall and Accuracy of whole tracks (salience thresholded), averaged over tracks."""
    score_l = [multipitch_scores(roll_m, salience_m > threshold, np.arange(roll_m.shape[1]) * hop_sec, frequency_hz_v)
               for salience_m, roll_m in zip(salience_l, roll_l, strict=True)]
    return {name: float(np.mean([score_d[name] for score_d in score_l])) for name in ("Precision", "Recall",
                                                                                       "Accuracy")}
