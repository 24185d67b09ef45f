"""Exercises of notebooks/06_training_multipitch.ipynb, with their checkers; solutions in solutions/."""

import numpy as np

from course_utils import annotation
from course_utils.exercises.checking import Wrong, as_float, call, exercise


def _roll_pair(seed=0, shape=(12, 40)):
    rng = np.random.default_rng(seed)
    reference_m = rng.random(shape) < 0.15
    estimated_m = reference_m.copy()
    estimated_m[rng.random(shape) < 0.1] ^= True  # some misses and some false alarms
    return reference_m.astype(np.float32), estimated_m.astype(np.float32)


@exercise("06.1", "06_training_multipitch", "frame-level accuracy by hand", "accuracy_by_hand",
           "write accuracy_by_hand(reference_roll_m, estimated_roll_m): mir_eval's multi-pitch Accuracy of two 0/1 "
           "piano rolls (pitch, frame) on the same grid: TP / (TP + FP + FN), counted over every frame.",
           "TP: active in both; FP: active in the estimate only; FN: active in the reference only. Sum each "
           "over the whole roll before dividing.")
def _check_accuracy_by_hand(accuracy_by_hand):
    for seed in (0, 1):
        reference_m, estimated_m = _roll_pair(seed)
        answer = as_float(call(accuracy_by_hand, reference_m.copy(), estimated_m.copy()), "the accuracy")
        reference_b, estimated_b = reference_m > 0, estimated_m > 0
        tp, fp, fn = (np.sum(reference_b & estimated_b), np.sum(~reference_b & estimated_b),
                      np.sum(reference_b & ~estimated_b))
        expected = tp / (tp + fp + fn)
        if np.isclose(answer, expected):
            continue
        for name, value in (("precision", tp / (tp + fp)), ("recall", tp / (tp + fn)),
                            ("F-measure", 2 * tp / (2 * tp + fp + fn))):
            if np.isclose(answer, value):
                raise Wrong(f"you gave {answer:.4f}, the {name}; the accuracy is TP / (TP + FP + FN) = {expected:.4f}")
        raise Wrong(f"you gave {answer:.4f}, expected {expected:.4f} (TP {tp}, FP {fp}, FN {fn})")
    return "the same value as mir_eval's multi-pitch Accuracy on two rolls."


@exercise("06.2", "06_training_multipitch", "from a piano roll to notes", "roll_to_notes",
           "write roll_to_notes(roll_m, time_sec_v, midi_v): the notes of a 0/1 piano roll (pitch, frame): one "
           "(onset_sec, offset_sec, midi) per run of consecutive active frames of a pitch, sorted by onset then "
           "pitch. A run from frame s to frame e (included) lasts from time_sec_v[s] to time_sec_v[e] + hop.",
           "hop = time_sec_v[1] - time_sec_v[0]; in each row, a run starts where a frame is on and the previous "
           "is off (or it is the first frame); np.diff of the row padded with a 0 at both ends finds the edges.")
def _check_roll_to_notes(roll_to_notes):
    roll_m = np.zeros((4, 10), dtype=np.float32)
    roll_m[0, 0:3] = 1
    roll_m[0, 5:6] = 1
    roll_m[2, 2:10] = 1
    roll_m[3, 9] = 1
    time_sec_v, midi_v = np.arange(10) * 0.1, np.array([60, 61, 62, 63])
    _, random_m = _roll_pair(2, (5, 30))
    for roll, times, midis in ((roll_m, time_sec_v, midi_v), (random_m, np.arange(30) * 0.05, np.arange(48, 53))):
        answer = call(roll_to_notes, roll.copy(), times.copy(), midis.copy())
        expected_l = annotation.pianoroll_to_notes(roll, times, midis)
        try:
            answer_l = [(float(onset), float(offset), int(midi)) for onset, offset, midi in answer]
        except (TypeError, ValueError):
            raise Wrong(f"expected a list of (onset_sec, offset_sec, midi), got {answer!r:.80}") from None
        if len(answer_l) != len(expected_l):
            raise Wrong(f"you found {len(answer_l)} notes, expected {len(expected_l)}: {expected_l[:6]}...")
        for mine, right in zip(answer_l, expected_l, strict=True):
            if mine[2] != right[2] or not np.allclose(mine[:2], right[:2]):
                raise Wrong(f"you gave the note {mine}, expected {right} (notes sorted by onset, then pitch)")
    return "the right notes of 2 rolls: runs at the first and the last frame, one-frame notes, sorted."
