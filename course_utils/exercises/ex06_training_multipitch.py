"""Exercises of notebooks/06_training_multipitch.ipynb, with their checkers; solutions in solutions/."""

import mir_eval.multipitch
import numpy as np
import torch

from course_utils import annotation, metrics
from course_utils.exercises.checking import Wrong, as_float, call, exercise


def _bce_variants(logit_m, target_m, pos_weight):
    """The loss of the exercise, and what a wrong answer may give instead: name -> value."""
    unweighted_m = torch.nn.functional.binary_cross_entropy_with_logits(logit_m, target_m, reduction="none")
    weighted_m = torch.nn.functional.binary_cross_entropy_with_logits(logit_m, target_m, reduction="none",
                                                                      pos_weight=torch.tensor(pos_weight))
    return {"right": float(weighted_m.mean()), "no weight": float(unweighted_m.mean()),
            "whole loss": pos_weight * float(unweighted_m.mean()), "sum": float(weighted_m.sum()),
            "negatives": float((torch.where(target_m > 0, 1.0, pos_weight) * unweighted_m).mean())}


_BCE_MISTAKE_D = {
    "no weight": "the loss without the weight: multiply the positives' term by pos_weight",
    "whole loss": "the whole loss multiplied by pos_weight: only the positives' term is weighted",
    "negatives": "the negatives' term multiplied by pos_weight: it is the positives' term (target 1) that is weighted",
    "sum": "the sum over the cells: the loss is their mean",
}


@exercise("06.1", "06_training_multipitch", "binary cross-entropy with a weight on the positives",
          "bce_with_pos_weight",
          "write bce_with_pos_weight(logit_m, target_m, pos_weight) with torch operations: the binary cross-entropy of "
          "logits against 0/1 targets (tensors of the same shape), the term of every positive (target 1) multiplied "
          "by pos_weight, averaged over all cells; a 0-d tensor (so that it can be back-propagated).",
          ["Turn the logits into probabilities with the sigmoid first; a cell's loss depends on its target: the "
           "log of the probability given to what is true, with a minus sign.",
           "With y the target and p the probability: y * log(p) + (1 - y) * log(1 - p), negated; the positives' "
           "part is the first term. Multiply that term, not the whole loss, by pos_weight.",
           "log of a sigmoid is more exact as torch.nn.functional.logsigmoid(z); log(1 - sigmoid(z)) is "
           "logsigmoid(-z). End with the mean over every cell."],
          forbidden_l=[torch.nn.functional.binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy])
def _check_bce_with_pos_weight(bce_with_pos_weight):
    generator = torch.Generator().manual_seed(3)
    for shape, pos_weight in (((4, 6), 1.0), ((2, 1, 8, 5), 5.0), ((3, 7), 0.5)):
        logit_m = 3 * torch.randn(shape, generator=generator)
        target_m = (torch.rand(shape, generator=generator) < 0.3).float()
        answer = call(bce_with_pos_weight, logit_m, target_m, pos_weight)
        where = f"for logits of shape {tuple(shape)} and pos_weight {pos_weight}"
        if torch.is_tensor(answer) and answer.numel() != 1:
            raise Wrong(f"{where} you returned a tensor of shape {tuple(answer.shape)}: the loss is one number, the "
                        "mean over every cell")
        value, value_d = as_float(answer, "the loss"), _bce_variants(logit_m, target_m, pos_weight)
        if not np.isfinite(value):
            raise Wrong(f"{where} your loss is {value}: the log of a logit? Logits are any real numbers; the sigmoid "
                        "turns them into probabilities first")
        if not torch.is_tensor(answer):
            raise Wrong(f"{where} the value is right only as a tensor can be back-propagated: return a tensor, not "
                        f"{type(answer).__name__}")
        if np.isclose(value, value_d["right"], rtol=1e-4, atol=1e-6):
            continue
        for mistake, explanation in _BCE_MISTAKE_D.items():
            if np.isclose(value, value_d[mistake], rtol=1e-4):
                raise Wrong(f"{where} you gave {value:.4f}, {explanation} (expected {value_d['right']:.4f})")
        raise Wrong(f"{where} you gave {value:.4f}, expected {value_d['right']:.4f}")
    return "the same losses as BCEWithLogitsLoss(pos_weight=...), for 3 shapes and weights."


def _roll_pair(seed=0, shape=(12, 40)):
    rng = np.random.default_rng(seed)
    reference_m = rng.random(shape) < 0.15
    estimated_m = reference_m.copy()
    estimated_m[rng.random(shape) < 0.1] ^= True  # some misses and some false alarms
    return reference_m.astype(np.float32), estimated_m.astype(np.float32)


def _accuracy_variants(reference_m, estimated_m):
    """mir_eval's Accuracy of two rolls, and what a wrong answer may give instead: name -> value."""
    reference_b, estimated_b = reference_m > 0, estimated_m > 0
    tp_m, fp_m, fn_m = reference_b & estimated_b, ~reference_b & estimated_b, reference_b & ~estimated_b
    tp, fp, fn, n_cell = tp_m.sum(), fp_m.sum(), fn_m.sum(), reference_b.size
    union_v = (tp_m | fp_m | fn_m).sum(axis=0)
    frame_v = tp_m.sum(axis=0) / np.maximum(1, union_v)
    return {"right": tp / (tp + fp + fn), "precision": tp / (tp + fp), "recall": tp / (tp + fn),
            "F-measure": 2 * tp / (2 * tp + fp + fn), "true negatives": (n_cell - fp - fn) / n_cell,
            "per frame": frame_v.mean(), "per frame, empty frames left out": frame_v[union_v > 0].mean()}


_ACCURACY_MISTAKE_D = {
    "precision": "the precision; the accuracy also counts the other kind of error (the missed notes)",
    "recall": "the recall; the accuracy also counts the other kind of error (the false alarms)",
    "F-measure": "the F-measure, which counts the true positives twice: the accuracy is TP / (TP + FP + FN)",
    "true negatives": "a share of right cells that counts the silent cells (true negatives): most cells are silent, "
                      "so it is near 1 even for a bad estimate; the accuracy leaves them out",
    "per frame": "a mean of per-frame accuracies: sum TP, FP and FN over every frame first, then divide once",
    "per frame, empty frames left out": "a mean of per-frame accuracies: sum TP, FP and FN over every frame first, "
                                        "then divide once",
}


@exercise("06.2", "06_training_multipitch", "frame-level accuracy by hand", "accuracy_by_hand",
          "write accuracy_by_hand(reference_roll_m, estimated_roll_m) with NumPy: mir_eval's multi-pitch Accuracy of "
          "two 0/1 piano rolls (pitch, frame) on the same grid: TP / (TP + FP + FN), counted over every frame.",
          ["A cell is a true positive when the pitch sounds in both rolls, a false positive when only the estimate "
           "has it, a false negative when only the reference has it.",
           "Turn both rolls into booleans (> 0) and combine them with & and ~: each count is a sum over the whole "
           "roll.",
           "Sum the three counts over every frame and pitch first, then divide once (not a mean of per-frame "
           "accuracies)."],
          forbidden_l=[metrics.frame_accuracy, metrics.multipitch_scores, metrics.mean_multipitch_scores,
                       mir_eval.multipitch.evaluate, mir_eval.multipitch.metrics, mir_eval.multipitch.compute_accuracy])
def _check_accuracy_by_hand(accuracy_by_hand):
    for seed in (0, 1):
        reference_m, estimated_m = _roll_pair(seed)
        answer = as_float(call(accuracy_by_hand, reference_m, estimated_m), "the accuracy")
        value_d = _accuracy_variants(reference_m, estimated_m)
        if np.isclose(answer, value_d["right"]):
            continue
        for mistake, explanation in _ACCURACY_MISTAKE_D.items():
            if np.isclose(answer, value_d[mistake]):
                raise Wrong(f"you gave {answer:.4f}, {explanation} (expected {value_d['right']:.4f})")
        raise Wrong(f"you gave {answer:.4f}, expected {value_d['right']:.4f}")
    return "the same value as mir_eval's multi-pitch Accuracy on two rolls."


def _same_notes(note_l, other_l):
    """Two lists of (onset_sec, offset_sec, midi) are the same, note by note (times to within rounding)."""
    return len(note_l) == len(other_l) and all(mine[2] == right[2] and np.allclose(mine[:2], right[:2])
                                               for mine, right in zip(note_l, other_l, strict=True))


def _by_time(note_l):
    return sorted(note_l, key=lambda note: (round(note[0], 9), note[2], note[1]))


def _notes_mistake(answer_l, expected_l, roll_m, time_sec_v, midi_v):
    """What is wrong with a list of notes, in words (None when it is not one of the usual mistakes)."""
    hop_sec = time_sec_v[1] - time_sec_v[0]
    same, by_time = _same_notes, _by_time

    if not answer_l:
        return None
    if same(by_time(answer_l), by_time(expected_l)):
        return "the right notes in another order: they must be sorted by onset, then pitch"
    if len(answer_l) == int(np.sum(roll_m > 0)) != len(expected_l):
        return "one note per active frame: a note is one run of consecutive active frames, one note per run"
    if same(by_time([(on, off + hop_sec, midi) for on, off, midi in answer_l]), by_time(expected_l)):
        return "each offset is one hop early: a run's last frame lasts one hop, so the note ends at its time + hop"
    if all(0 <= midi < len(midi_v) for _, _, midi in answer_l) and same(
            by_time([(on, off, int(midi_v[midi])) for on, off, midi in answer_l]), by_time(expected_l)):
        return "the pitch of row i is midi_v[i], not i"
    for edge, time_sec, index in (("first", time_sec_v[0], 0), ("last", time_sec_v[-1] + hop_sec, 1)):
        if any(np.isclose(note[index], time_sec) for note in expected_l) and not any(
                np.isclose(note[index], time_sec) for note in answer_l):
            return (f"a run that {'starts at' if edge == 'first' else 'lasts until'} the {edge} frame is a note too: "
                    "padding each row with an off frame at both ends makes every run start and end inside it")
    return None


@exercise("06.3", "06_training_multipitch", "from a piano roll to notes", "roll_to_notes",
          "write roll_to_notes(roll_m, time_sec_v, midi_v): the notes of a 0/1 piano roll (pitch, frame): one "
          "(onset_sec, offset_sec, midi) per run of consecutive active frames of a pitch, sorted by onset then "
          "pitch. A run from frame s to frame e (included) lasts from time_sec_v[s] to time_sec_v[e] + hop.",
          ["Work row by row: each row is one pitch; a note is a run of consecutive active frames in it.",
           "A run starts where a frame is on and the previous one is off (or it is the first frame), and ends where "
           "the next one is off (or it is the last). Padding the row with an off frame at both ends makes both "
           "cases the same.",
           "np.diff of the padded row is +1 where a run starts and -1 just after it ends; the hop is the time "
           "between two frames."],
          forbidden_l=[annotation.pianoroll_to_notes])
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
        if _same_notes(answer_l, expected_l):
            continue
        where = f"for the roll {roll.astype(int).tolist()!s:.200} you found {len(answer_l)} notes"
        mistake = _notes_mistake(answer_l, expected_l, roll, times, midis)
        if mistake:
            raise Wrong(f"{where}: {mistake}. Expected {expected_l[:6]}...")
        raise Wrong(f"{where}, expected {len(expected_l)}: {expected_l[:6]}... (notes sorted by onset, then pitch)")
    return "the right notes of 2 rolls: runs at the first and the last frame, one-frame notes, sorted."


HARMONIC_SEMITONE_L = (12, 19, 24, 28)  # a note's harmonics 2, 3, 4 and 5, in semitones above it (rounded)
ERROR_KIND_L = ("missed notes", "harmonic false alarms", "other false alarms")


def error_kinds(pair_l, threshold, bins_per_semitone=1):
    """The accuracy of a multi-pitch estimate and its errors by kind: what exercise 06.4 decides on.

    Parameters
    ----------
    pair_l : list of (salience_m, roll_m), arrays (pitch, frame) on the same grid, one pair per track
    threshold : float, the salience above which a cell is a note
    bins_per_semitone : int, of the pitch axis

    Returns
    -------
    dict: 'accuracy', the mean over tracks of metrics.frame_accuracy; 'missed notes' (FN), 'harmonic false alarms'
    (FP at a harmonic 2 to 5 of a note that sounds in that frame: an octave, a twelfth, two octaves, two octaves and a
    major third above it) and 'other false alarms' (the other FP), each per 100 cells of the score's notes (the
    tracks together).
    """
    count_d, n_note_cell = dict.fromkeys(ERROR_KIND_L, 0), 0
    for salience_m, roll_m in pair_l:
        estimate_m, reference_m = np.asarray(salience_m) > threshold, np.asarray(roll_m) > 0
        above_note_m = np.zeros_like(reference_m)
        for semitone in HARMONIC_SEMITONE_L:
            shift = semitone * bins_per_semitone
            above_note_m[shift:] |= reference_m[:-shift]
        false_alarm_m = estimate_m & ~reference_m
        count_d["missed notes"] += int(np.sum(reference_m & ~estimate_m))
        count_d["harmonic false alarms"] += int(np.sum(false_alarm_m & above_note_m))
        count_d["other false alarms"] += int(np.sum(false_alarm_m & ~above_note_m))
        n_note_cell += int(np.sum(reference_m))
    accuracy = float(np.mean([metrics.frame_accuracy(s, r, threshold) for s, r in pair_l]))
    return {"accuracy": accuracy, **{kind: 100 * count / max(1, n_note_cell) for kind, count in count_d.items()}}


def _example_measured_context():
    return {"measured_d": {
        "hcqt": {"accuracy": 0.70, "missed notes": 17.0, "harmonic false alarms": 7.3, "other false alarms": 8.2},
        "cqt": {"accuracy": 0.63, "missed notes": 23.3, "harmonic false alarms": 13.0, "other false alarms": 5.6}}}


def _decision_of(my_decision):
    """(input, evidence) of the answer, or a Wrong that says what a decision looks like."""
    if isinstance(my_decision, str) or not isinstance(my_decision, tuple | list) or len(my_decision) != 2:
        raise Wrong(f"a decision comes with its evidence: a pair (input, evidence) such as (\"cqt\", \"missed "
                    f"notes\"), got {my_decision!r}")
    choice, evidence = my_decision
    if evidence in ("hcqt", "cqt") and choice in ERROR_KIND_L:
        raise Wrong(f"the pair is (input, evidence): you wrote ({choice!r}, {evidence!r}), the two swapped")
    if choice not in ("hcqt", "cqt"):
        raise Wrong(f"the input is 'hcqt' or 'cqt' (the two inputs the experiment trained), got {choice!r}")
    if evidence == "accuracy":
        raise Wrong("the accuracy says which input is better, not why: which kind of error did the better input "
                    f"make fewer of? One of {list(ERROR_KIND_L)}")
    if evidence not in ERROR_KIND_L:
        raise Wrong(f"{evidence!r} is not one of the measurements: the evidence is one of {list(ERROR_KIND_L)}")
    return choice, evidence


@exercise("06.4", "06_training_multipitch", "a decision: the CQT or the HCQT?", "my_decision",
          "decide which input the long training should use, and on which evidence: set my_decision to a pair "
          "(input, evidence), the input 'hcqt' or 'cqt', the evidence the kind of error ('missed notes', 'harmonic "
          "false alarms' or 'other false alarms') that the experiment measured clearly fewer of (by 1 per 100 notes "
          "or more) with that input. The better accuracy decides the input; the kind of error says why.",
          ["The experiment trained the same network on each input with the same data and epochs, then counted its "
           "errors on the validation tracks: the table gives each input's accuracy and its errors by kind.",
           "First the input: the one with the higher accuracy (when the two are within 0.01, either: no clear "
           "winner). Then read the three kinds of error for that input and for the other.",
           "A kind of error is evidence for an input when that input makes clearly fewer of them; a kind it makes "
           "more of is evidence against it."],
          time_limit_sec=5, example_context=_example_measured_context)
def _check_decision(my_decision, measured_d=None):
    choice, evidence = _decision_of(my_decision)
    if not measured_d:
        raise Wrong("no measurement to decide on: run the experiment's cell first")
    other = "cqt" if choice == "hcqt" else "hcqt"
    mine, theirs = measured_d[choice], measured_d[other]
    gap = mine["accuracy"] - theirs["accuracy"]
    if gap < -0.01:
        raise Wrong(f"{choice} has the lower accuracy ({mine['accuracy']:.3f} against {theirs['accuracy']:.3f} for "
                    f"{other}): decide on what was measured")
    fewer = theirs[evidence] - mine[evidence]
    said = f"{mine[evidence]:.1f} {evidence} per 100 notes with {choice}, {theirs[evidence]:.1f} with {other}"
    if fewer <= -1:
        raise Wrong(f"{said}: {choice} makes more of them, so they are no evidence for it (they count against it)")
    if fewer < 1:
        raise Wrong(f"{said}: a difference of less than 1 per 100 notes, too small to decide on; which kind of error "
                    "differs clearly?")
    verdict = f"{choice} ({mine['accuracy']:.3f} against {theirs['accuracy']:.3f}), because of its {said}"
    if abs(gap) < 0.01:
        return f"{verdict}. The accuracies are within 0.01: no clear winner on this budget; a second seed would tell."
    if choice == "hcqt":
        return (f"{verdict}. With each bin's harmonics on the channel axis, a small convolution checks f, 2f, 3f... "
                "at once and tells a note from the harmonic of a lower one.")
    return f"{verdict}: a surprise worth a second run with more epochs."
