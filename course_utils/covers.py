"""Non-learned baselines of cover-song identification and results per kind of version (notebook 07).

A cover model must beat what needs no training:

- ``profile_distances``: each track summarised by its mean chroma (12 numbers), two tracks compared by the best
  correlation over the 12 circular shifts (a version may be in another key) [Serra2008];
- ``alignment_distances``: the pitch-class *sequences* aligned by dynamic time warping (DTW: a version may be
  faster, slower, or ornamented), after transposing one of them by the **optimal transposition index** (the shift
  that best matches the two mean profiles) [Serra2008]. Open-ended: an excerpt of a fast version covers more
  of the tune than one of a slow version, so the alignment may stop at the end of either sequence.

Both take pitch-class sequences (12, T) of any origin: the chroma of the audio (``audio_chroma_sequences``, by
``features.chroma.chroma_sequence``, also the ``chroma`` feature type) for a baseline that learns nothing, or the
melody of notebook 07's extractor. ``fused_distances`` adds two distance matrices on one scale (the learned
embedding's and the melody alignment's: they make different mistakes), with the weight ``choose_fusion_weight``
picks on the validation split. ``scores_by_kind`` splits the ranking metrics by the kind of the query's work
(``folk`` tune families, ``chorale`` harmonisations).
"""

import numba
import numpy as np

from course_utils import metrics
from course_utils.audio_store import open_audio_file, read_audio
from course_utils.features import chroma

PITCH_CLASS_L = chroma.PITCH_CLASS_L  # the names of the 12 pitch classes (notebook 07: covers.PITCH_CLASS_L)


def audio_chroma_sequences(hdf5_audio_file, key_l):
    """[(12, T)] chroma (``features.chroma.chroma_sequence``) of the audio of each track of a dataset's
    ``_audio.hdf5``: what the non-learned baselines compare."""
    with open_audio_file(hdf5_audio_file) as audio_fid:
        return [chroma.chroma_sequence(*read_audio(audio_fid, key, hdf5_audio_file)) for key in key_l]


def _profiles(sequence_l):
    """(N, 12) mean chroma of each sequence, standardised (mean 0, sd 1)."""
    profile_m = np.stack([np.asarray(sequence_m, dtype=float).mean(axis=1) for sequence_m in sequence_l])
    return (profile_m - profile_m.mean(axis=1, keepdims=True)) / (profile_m.std(axis=1, keepdims=True) + 1e-9)


def _shift_correlations(sequence_l):
    """(12, N, N): correlation of the profile of i with the profile of j rolled up by s semitones."""
    profile_m = _profiles(sequence_l)
    shifted_3m = np.stack([np.roll(profile_m, shift, axis=1) for shift in range(12)])  # (12, N, 12)
    return np.einsum("ik,sjk->sij", profile_m, shifted_3m) / 12


def profile_distances(sequence_l):
    """(N, N) distances 1 - best correlation of the mean chroma profiles over the 12 transpositions."""
    return 1 - _shift_correlations(sequence_l).max(axis=0)


@numba.njit(cache=True)
def _open_end_dtw(cost_m):
    """Open-end DTW of a cost matrix (Ta, Tb): the smallest accumulated cost of a path from (0, 0) to the last row
    or the last column, divided by its number of steps (steps (1, 0), (0, 1), (1, 1), each weighing its cost)."""
    n_a, n_b = cost_m.shape
    acc_m = np.empty((n_a, n_b))
    len_m = np.empty((n_a, n_b))
    for i in range(n_a):
        for j in range(n_b):
            if i == 0 and j == 0:
                acc_m[i, j], len_m[i, j] = cost_m[0, 0], 1.0
                continue
            best, best_len = np.inf, 0.0
            for di, dj in ((1, 1), (1, 0), (0, 1)):
                if i - di >= 0 and j - dj >= 0 and acc_m[i - di, j - dj] < best:
                    best, best_len = acc_m[i - di, j - dj], len_m[i - di, j - dj]
            acc_m[i, j], len_m[i, j] = best + cost_m[i, j], best_len + 1.0
    end_v = np.concatenate((acc_m[-1, :] / len_m[-1, :], acc_m[:, -1] / len_m[:, -1]))
    return end_v.min()


def _unit_frames(sequence_m):
    """The frames of a (12, T) sequence with some energy, each scaled to unit norm: (12, T') float64."""
    sequence_m = np.asarray(sequence_m, dtype=np.float64)
    norm_v = np.linalg.norm(sequence_m, axis=0)
    kept_v = norm_v > 1e-9
    if not kept_v.any():
        raise ValueError("a pitch-class sequence has no frame with energy (silence, or no melody found)")
    return sequence_m[:, kept_v] / norm_v[kept_v]


def alignment_distances(sequence_l):
    """(N, N) open-end DTW distances between pitch-class sequences under the optimal transposition index.

    ``sequence_l``: N arrays (12, T_i), non-negative (chroma, or a one-hot melody with silent frames at 0: frames
    without energy are dropped first). The cost of aligning two frames is 1 - their cosine similarity; the
    distance is the mean cost along the best path, in [0, 1]; symmetric (the mean of both directions).
    """
    frame_l = [_unit_frames(sequence_m) for sequence_m in sequence_l]
    shift_m = _shift_correlations(sequence_l).argmax(axis=0)  # (N, N): roll j by this to match i
    n_track = len(frame_l)
    distance_m = np.zeros((n_track, n_track))
    for i in range(n_track):
        for j in range(i + 1, n_track):
            cost_m = 1 - frame_l[i].T @ np.roll(frame_l[j], shift_m[i, j], axis=0)
            distance_m[i, j] = distance_m[j, i] = 0.5 * (_open_end_dtw(cost_m) + _open_end_dtw(cost_m.T.copy()))
    return distance_m


def melody_chroma(salience_m, time_pool=2, voicing_threshold=0.3):
    """The melody as one pitch class per frame: what notebook 07's embedding reads.

    Parameters
    ----------
    salience_m : (n_pitch, T) melody salience (probabilities in [0, 1]) over whole octaves (n_pitch = 12 x octaves)
    time_pool : frames of the salience per output frame (their maximum); 2 turns 46-ms frames into 93-ms ones
    voicing_threshold : below it the frame holds no melody

    Returns
    -------
    (12, T // time_pool) one-hot pitch class of the most salient pitch (folded over octaves), 0 where no melody
    """
    chroma_m = salience_m.reshape(-1, 12, salience_m.shape[-1]).max(axis=0)
    n_frame = chroma_m.shape[-1] // time_pool
    chroma_m = chroma_m[:, : n_frame * time_pool].reshape(12, n_frame, time_pool).max(axis=-1)
    decided_m = np.zeros_like(chroma_m)
    decided_m[chroma_m.argmax(axis=0), np.arange(n_frame)] = 1.0
    return decided_m * (chroma_m.max(axis=0) >= voicing_threshold)


def melody_chroma_of(melody_model, cache_path, key_l):
    """{key: (12, T) melody chroma} of tracks whose HCQT is in a feature file (``feature_cache.f_cache_features``),
    by a trained melody extractor (``task.salience``, then ``melody_chroma``)."""
    import h5py

    from course_utils import feature_cache, task  # task loads the Dataset classes: imported when used

    with h5py.File(cache_path, "r") as cache_fid:
        return {key: melody_chroma(task.salience(melody_model,
                                                 feature_cache.f_read_cached_feature(cache_fid, key, cache_path)[0]))
                for key in key_l}


def melody_alignment(cover_ds):
    """(N, N) ``alignment_distances`` between the melody chroma of every track of a ``CoverDataset``."""
    return alignment_distances([cover_ds.get_track(key)[0].numpy().reshape(12, -1) for key in cover_ds.key_l])


def standardised(distance_m):
    """A distance matrix (N, N) on a common scale: minus the mean, over the sd, of its off-diagonal values."""
    distance_m = np.asarray(distance_m, dtype=float)
    off_v = distance_m[~np.eye(len(distance_m), dtype=bool)]
    return (distance_m - off_v.mean()) / (off_v.std() + 1e-12)


def fused_distances(embedding_m, alignment_m, weight):
    """``weight`` x the standardised embedding distances + (1 - weight) x the standardised alignment distances."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"the fusion weight must be in [0, 1] (1: the embedding alone), got {weight}")
    return weight * standardised(embedding_m) + (1 - weight) * standardised(alignment_m)


def choose_fusion_weight(embedding_m, alignment_m, work_v, weight_l=(0.25, 0.5, 0.75)):
    """The weight of ``weight_l`` whose fused distances give the best MAP: call it on the validation split, never
    on the test split. Returns (weight, {weight: MAP})."""
    map_d = {weight: metrics.ranking_metrics(fused_distances(embedding_m, alignment_m, weight), work_v)["MAP"]
             for weight in weight_l}
    return max(map_d, key=map_d.get), map_d


def version_kind(work_id):
    """The kind of versions of a work of the course's cover collection: 'folk' or 'chorale' (its id's prefix)."""
    return str(work_id).split("-", 1)[0]


def scores_by_kind(distance_m, work_v):
    """``metrics.ranking_metrics`` of all queries, then of the queries of each kind (every track stays a
    candidate): ``{'all': {...}, 'folk': {...}, 'chorale': {...}}`` (a kind without a query is left out)."""
    work_v = np.asarray(work_v)
    kind_v = np.array([version_kind(work) for work in work_v])
    score_d = {"all": metrics.ranking_metrics(distance_m, work_v)}
    for kind in sorted(set(kind_v.tolist())):
        try:
            score_d[kind] = metrics.ranking_metrics(distance_m, work_v, query_mask_v=kind_v == kind)
        except ValueError:  # every work of this kind has a single version here
            continue
    return score_d
