"""Exercises of notebooks/06_training_multipitch.ipynb, with their checkers; solutions in solutions/."""

import numpy as np
import torch

from course_utils import annotation
from course_utils.exercises.checking import Wrong, as_float, call, exercise


@exercise("06.1", "06_training_multipitch", "binary cross-entropy with a weight on the positives",
          "bce_with_pos_weight",
          "write bce_with_pos_weight(logit_m, target_m, pos_weight): the binary cross-entropy of logits against 0/1 "
          "targets (tensors of the same shape), the term of every positive (target 1) multiplied by pos_weight, "
          "averaged over all cells; a 0-d tensor (so that it can be back-propagated).",
          ["Turn the logits into probabilities with the sigmoid first; a cell's loss depends on its target: the "
           "log of the probability given to what is true, with a minus sign.",
           "With y the target and p the probability: y * log(p) + (1 - y) * log(1 - p), negated; the positives' "
           "part is the first term. Multiply that term, not the whole loss, by pos_weight.",
           "log of a sigmoid is more exact as torch.nn.functional.logsigmoid(z); log(1 - sigmoid(z)) is "
           "logsigmoid(-z). End with the mean over every cell."])
def _check_bce_with_pos_weight(bce_with_pos_weight):
    generator = torch.Generator().manual_seed(3)
    for shape, pos_weight in (((4, 6), 1.0), ((2, 1, 8, 5), 5.0), ((3, 7), 0.5)):
        logit_m = 3 * torch.randn(shape, generator=generator)
        target_m = (torch.rand(shape, generator=generator) < 0.3).float()
        answer = call(bce_with_pos_weight, logit_m, target_m, pos_weight)
        expected = torch.nn.functional.binary_cross_entropy_with_logits(logit_m, target_m,
                                                                       pos_weight=torch.tensor(pos_weight))
        value = as_float(answer, "the loss")
        where = f"for logits of shape {tuple(shape)} and pos_weight {pos_weight}"
        if not torch.is_tensor(answer):
            raise Wrong(f"{where} the value is right only as a tensor can be back-propagated: return a tensor, not "
                        f"{type(answer).__name__}")
        unweighted = float(torch.nn.functional.binary_cross_entropy_with_logits(logit_m, target_m))
        if pos_weight != 1 and np.isclose(value, unweighted, rtol=1e-4):
            raise Wrong(f"{where} you gave {value:.4f}, the loss without the weight: multiply the positives' term by "
                        f"pos_weight (expected {float(expected):.4f})")
        if not np.isclose(value, float(expected), rtol=1e-4, atol=1e-6):
            raise Wrong(f"{where} you gave {value:.4f}, expected {float(expected):.4f}")
    return "the same losses as BCEWithLogitsLoss(pos_weight=...), for 3 shapes and weights."


def _roll_pair(seed=0, shape=(12, 40)):
    rng = np.random.default_rng(seed)
    reference_m = rng.random(shape) < 0.15
    estimated_m = reference_m.copy()
    estimated_m[rng.random(shape) < 0.1] ^= True  # some misses and some false alarms
    return reference_m.astype(np.float32), estimated_m.astype(np.float32)


@exercise("06.2", "06_training_multipitch", "frame-level accuracy by hand", "accuracy_by_hand",
          "write accuracy_by_hand(reference_roll_m, estimated_roll_m): mir_eval's multi-pitch Accuracy of two 0/1 "
          "piano rolls (pitch, frame) on the same grid: TP / (TP + FP + FN), counted over every frame.",
          ["A cell is a true positive when the pitch sounds in both rolls, a false positive when only the estimate "
           "has it, a false negative when only the reference has it.",
           "Turn both rolls into booleans (> 0) and combine them with & and ~: each count is a sum over the whole "
           "roll.",
           "Sum the three counts over every frame and pitch first, then divide once (not a mean of per-frame "
           "accuracies)."])
def _check_accuracy_by_hand(accuracy_by_hand):
    for seed in (0, 1):
        reference_m, estimated_m = _roll_pair(seed)
        answer = as_float(call(accuracy_by_hand, reference_m, estimated_m), "the accuracy")
        reference_b, estimated_b = reference_m > 0, estimated_m > 0
        tp, fp, fn = (np.sum(reference_b & estimated_b), np.sum(~reference_b & estimated_b),
                      np.sum(reference_b & ~estimated_b))
        expected = tp / (tp + fp + fn)
        if np.isclose(answer, expected):
            continue
        for name, value in (("precision", tp / (tp + fp)), ("recall", tp / (tp + fn)),
                            ("F-measure", 2 * tp / (2 * tp + fp + fn))):
            if np.isclose(answer, value):
                raise Wrong(f"you gave {answer:.4f}, the {name}; the accuracy also counts the other kind of error")
        raise Wrong(f"you gave {answer:.4f}, expected {expected:.4f} (TP {tp}, FP {fp}, FN {fn})")
    return "the same value as mir_eval's multi-pitch Accuracy on two rolls."


@exercise("06.3", "06_training_multipitch", "from a piano roll to notes", "roll_to_notes",
          "write roll_to_notes(roll_m, time_sec_v, midi_v): the notes of a 0/1 piano roll (pitch, frame): one "
          "(onset_sec, offset_sec, midi) per run of consecutive active frames of a pitch, sorted by onset then "
          "pitch. A run from frame s to frame e (included) lasts from time_sec_v[s] to time_sec_v[e] + hop.",
          ["Work row by row: each row is one pitch; a note is a run of consecutive active frames in it.",
           "A run starts where a frame is on and the previous one is off (or it is the first frame), and ends where "
           "the next one is off (or it is the last). Padding the row with an off frame at both ends makes both "
           "cases the same.",
           "np.diff of the padded row is +1 where a run starts and -1 just after it ends; the hop is the time "
           "between two frames."])
def _check_roll_to_notes(roll_to_notes):
    roll_m = np.zeros((4, 10), dtype=np.float32)
    roll_m[0, 0:3] = 1
    roll_m[0, 5:6] = 1
    roll_m[2, 2:10] = 1
    roll_m[3, 9] = 1
    time_sec_v, midi_v = np.arange(10) * 0.1, np.array([60, 61, 62, 63])
    _, random_m = _roll_pair(2, (5, 30))
    for roll, times, midis in ((roll_m, time_sec_v, midi_v), (random_m, np.arange(30) * 0.05, np.arange(48, 53))):
        answer = call(roll_to_notes, roll, times, midis)
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


def _example_accuracy_context():
    return {"accuracy_d": {"hcqt": 0.61, "cqt": 0.48}}


@exercise("06.4", "06_training_multipitch", "an experiment: the CQT or the HCQT?", "better_input",
          "read the experiment's two scores and set better_input to 'hcqt' or 'cqt', the input of the better model "
          "(the one with the higher validation accuracy).",
          ["The cell above trained the same network twice, once per input, with the same data and epochs; the "
           "printout gives each one's validation accuracy.",
           "A higher accuracy is better; the two values are printed side by side.",
           "Write the name of the input as a string, exactly 'hcqt' or 'cqt'."],
          time_limit_sec=5, example_context=_example_accuracy_context)
def _check_better_input(better_input, accuracy_d=None):
    if better_input not in ("hcqt", "cqt"):
        raise Wrong(f"better_input must be 'hcqt' or 'cqt', got {better_input!r}")
    if not accuracy_d:
        raise Wrong("no measurement to compare with: run the experiment's cell first")
    best = max(accuracy_d, key=accuracy_d.get)
    gap = accuracy_d["hcqt"] - accuracy_d["cqt"]
    if abs(gap) < 0.01:
        return (f"the two are within {abs(gap):.3f} of each other on this budget: no clear winner here; with more "
                "epochs the HCQT's harmonics usually tell a note from the harmonic of a lower one.")
    if better_input != best:
        raise Wrong(f"the measured validation accuracies are HCQT {accuracy_d['hcqt']:.3f} and CQT "
                    f"{accuracy_d['cqt']:.3f}: read them again")
    if best == "cqt":
        return (f"CQT {accuracy_d['cqt']:.3f} against HCQT {accuracy_d['hcqt']:.3f} on this budget: a surprise worth "
                "a second run with more epochs.")
    return (f"HCQT {accuracy_d['hcqt']:.3f} against CQT {accuracy_d['cqt']:.3f}: with its harmonics on the channel "
            "axis, a small convolution checks f, 2f, 3f... at once, and tells a note from the harmonic of a lower one.")
