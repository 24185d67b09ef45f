"""Plausible wrong answers to the exercises of notebooks 05 to 07, each refused with a message that names the mistake.

``WRONG_ANSWER_L``: (exercise id, the mistake, the answer as a student would write it, fragments the checker's message
must hold). The experiments (05.4, 06.4) are checked against the made-up context of their exercise.
"""

import collections

import mir_eval.multipitch
import numpy as np
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score

from course_utils import annotation, exercises, metrics, train

from .helpers import exercise_context

# --- 05.1: one training step ---------------------------------------------------------------------------------


def _step(return_tensor=False, detach=False, zero_grad=True, backward=True, step=True, step_first=False,
          ascent=False, own_loss=False):
    """A training step, right or with one mistake switched on."""
    def training_step(model, batch, loss_fn, optimizer):
        if zero_grad:
            optimizer.zero_grad()
        output = model(batch["X"])
        loss = torch.nn.functional.cross_entropy(output, batch["y"]) if own_loss else loss_fn(output, batch["y"])
        if step_first:
            optimizer.step()
        if backward:
            (-loss if ascent else loss).backward()
        if step and not step_first:
            optimizer.step()
        if return_tensor:
            return loss.detach() if detach else loss
        return loss.item()
    return training_step


def _step_with_the_package(model, batch, loss_fn, optimizer):
    return train.training_step(model, batch, loss_fn, optimizer)


# --- 05.2: the validation pass -------------------------------------------------------------------------------


def _validation(reduce="items", tensor=False):
    """A validation pass in eval mode without gradients, its mean taken right ('items') or wrong."""
    def validation_loss(model, loader, loss_fn):
        model.eval()
        total, n_item, mean_l = 0.0, 0, []
        with torch.no_grad():
            for batch in loader:
                mean_l.append(loss_fn(model(batch["X"]), batch["y"]).item())
                total, n_item = total + mean_l[-1] * len(batch["X"]), n_item + len(batch["X"])
        value = {"items": total / n_item, "sum": total, "batches": total / len(mean_l), "last": mean_l[-1],
                 "batch means": float(np.mean(mean_l))}[reduce]
        return torch.tensor(value) if tensor else value
    return validation_loss


def _validation_with_the_package(model, loader, loss_fn):
    return train.evaluate_loss(model, loader, loss_fn, torch.device("cpu"))


# --- 05.3: early stopping ------------------------------------------------------------------------------------


def _stopping(improves, late=0, one_based=False, best_overall=False):
    """Early stopping with a rule ``improves(loss, best, previous)``, stopping ``late`` epochs after the right one."""
    def early_stopping(valid_loss_l, patience):
        best, best_epoch, n_bad, previous = None, -1, 0, None
        for epoch, loss in enumerate(valid_loss_l):
            if best is None or improves(loss, best, previous):
                best, best_epoch, n_bad = loss, epoch, 0
            else:
                n_bad += 1
                if n_bad >= patience + late:
                    if best_overall:
                        best_epoch = int(np.argmin(valid_loss_l))
                    return best_epoch + one_based, epoch + one_based
            previous = loss
        return best_epoch + one_based, None
    return early_stopping


def _stopping_with_the_package(valid_loss_l, patience):
    stopper = train.EarlyStopping(patience)
    for epoch, loss in enumerate(valid_loss_l):
        stopper.step(loss, epoch)
        if stopper.should_stop:
            return stopper.best_epoch, epoch
    return stopper.best_epoch, None


# --- 05.5: macro recall ----------------------------------------------------------------------------------------


def _recall_over(class_of, precision=False, reduce=np.mean):
    """Mean (or another reduction) over classes of each class's recall (or precision)."""
    def macro_recall(y_true, y_pred):
        value_l = [np.mean(y_true[y_pred == c] == c) if precision else np.mean(y_pred[y_true == c] == c)
                   for c in class_of(y_true, y_pred)]
        return float(reduce(value_l))
    return macro_recall


# --- 06.1: binary cross-entropy with a weight on the positives -------------------------------------------------


def _bce(weight_on="positives", reduce="mean", as_float=False, probabilities=False):
    def bce_with_pos_weight(logit_m, target_m, pos_weight):
        log_p = torch.log(logit_m) if probabilities else torch.nn.functional.logsigmoid(logit_m)
        log_not_p = torch.log(1 - logit_m) if probabilities else torch.nn.functional.logsigmoid(-logit_m)
        positive_m, negative_m = target_m * log_p, (1 - target_m) * log_not_p
        if weight_on == "positives":
            cell_m = pos_weight * positive_m + negative_m
        elif weight_on == "negatives":
            cell_m = positive_m + pos_weight * negative_m
        elif weight_on == "whole loss":
            cell_m = pos_weight * (positive_m + negative_m)
        else:
            cell_m = positive_m + negative_m
        loss = -(cell_m.mean() if reduce == "mean" else cell_m.sum())
        return loss.item() if as_float else loss
    return bce_with_pos_weight


def _bce_with_torch(logit_m, target_m, pos_weight):
    return torch.nn.functional.binary_cross_entropy_with_logits(logit_m, target_m, pos_weight=torch.tensor(pos_weight))


# --- 06.2: frame-level accuracy ------------------------------------------------------------------------------


def _counts(reference_roll_m, estimated_roll_m):
    reference_b, estimated_b = reference_roll_m > 0, estimated_roll_m > 0
    return (reference_b & estimated_b, ~reference_b & estimated_b, reference_b & ~estimated_b,
            ~reference_b & ~estimated_b)


def _accuracy(kind):
    def accuracy_by_hand(reference_roll_m, estimated_roll_m):
        tp_m, fp_m, fn_m, tn_m = _counts(reference_roll_m, estimated_roll_m)
        tp, fp, fn, tn = tp_m.sum(), fp_m.sum(), fn_m.sum(), tn_m.sum()
        if kind == "recall":
            return tp / (tp + fn)
        if kind == "F-measure":
            return 2 * tp / (2 * tp + fp + fn)
        if kind == "true negatives":
            return (tp + tn) / (tp + fp + fn + tn)
        per_frame_v = tp_m.sum(axis=0) / np.maximum(1, (tp_m | fp_m | fn_m).sum(axis=0))  # kind == "per frame"
        return float(np.mean(per_frame_v))
    return accuracy_by_hand


def _accuracy_with_the_package(reference_roll_m, estimated_roll_m):
    return metrics.frame_accuracy(estimated_roll_m, reference_roll_m, 0.5)


def _accuracy_with_mir_eval(reference_roll_m, estimated_roll_m):
    frequency_hz_v = 440.0 * 2 ** ((np.arange(reference_roll_m.shape[0]) + 48 - 69) / 12)
    time_sec_v = np.arange(reference_roll_m.shape[1]) * 0.01
    return metrics.multipitch_scores(reference_roll_m, estimated_roll_m, time_sec_v, frequency_hz_v)["Accuracy"]


def _accuracy_of_mir_eval(reference_roll_m, estimated_roll_m):
    frequency_hz_v = 440.0 * 2 ** ((np.arange(reference_roll_m.shape[0]) + 48 - 69) / 12)
    time_sec_v = np.arange(reference_roll_m.shape[1]) * 0.01
    reference_l = [frequency_hz_v[reference_roll_m[:, t] > 0] for t in range(len(time_sec_v))]
    estimated_l = [frequency_hz_v[estimated_roll_m[:, t] > 0] for t in range(len(time_sec_v))]
    return mir_eval.multipitch.evaluate(time_sec_v, reference_l, time_sec_v, estimated_l)["Accuracy"]


# --- 06.3: from a piano roll to notes --------------------------------------------------------------------------


def _notes(pad_start=True, pad_end=True, add_hop=True, per_frame=False, midi_of_row=True, sort=True):
    def roll_to_notes(roll_m, time_sec_v, midi_v):
        hop_sec = time_sec_v[1] - time_sec_v[0]
        note_l = []
        for row_index, row in enumerate(roll_m > 0):
            midi = int(midi_v[row_index]) if midi_of_row else row_index
            if per_frame:
                note_l += [(time_sec_v[t], time_sec_v[t] + hop_sec, midi) for t in np.flatnonzero(row)]
                continue
            padded_v = np.concatenate([[0] * pad_start, row.astype(int), [0] * pad_end])
            edge_v = np.diff(padded_v)
            shift = int(not pad_start)
            start_v, end_v = np.flatnonzero(edge_v == 1) + shift, np.flatnonzero(edge_v == -1) + shift
            for start, end in zip(start_v, end_v, strict=False):  # an unpadded end loses its run: zip stops short
                note_l.append((time_sec_v[start], time_sec_v[end - 1] + hop_sec * add_hop, midi))
        return sorted(note_l, key=lambda note: (note[0], note[2])) if sort else note_l
    return roll_to_notes


def _notes_with_the_package(roll_m, time_sec_v, midi_v):
    return annotation.pianoroll_to_notes(roll_m, time_sec_v, midi_v)


# --- 07.1: the triplet loss ------------------------------------------------------------------------------------


def _triplet_with_torch(d_ap_v, d_an_v, margin):
    return torch.nn.functional.margin_ranking_loss(d_an_v, d_ap_v, torch.ones_like(d_ap_v), margin=margin)


# --- 07.2: semi-hard mining ------------------------------------------------------------------------------------


def _semi_hard(farther=np.greater, fallback=np.argmax, index_in_subset=False, return_distance=False):
    def semi_hard_negative(d_ap, d_an_v):
        farther_v = np.flatnonzero(farther(d_an_v, d_ap))
        if farther_v.size == 0:
            index = fallback(d_an_v)
        elif index_in_subset:
            index = int(np.argmin(d_an_v[farther_v]))
        else:
            index = int(farther_v[np.argmin(d_an_v[farther_v])])
        return d_an_v[index] if return_distance else index
    return semi_hard_negative


def _semi_hard_without_fallback(d_ap, d_an_v):
    farther_v = np.flatnonzero(d_an_v > d_ap)
    return int(farther_v[np.argmin(d_an_v[farther_v])])  # fails when no negative is farther


# --- 07.3: mean average precision ------------------------------------------------------------------------------


def _map(single_as_zero=False, query_included=False, descending=False, divide_by="relevant", first_only=False):
    def mean_average_precision(distance_m, work_v):
        ap_l = []
        for query in range(len(work_v)):
            other_v = np.arange(len(work_v)) if query_included else np.flatnonzero(np.arange(len(work_v)) != query)
            order_v = other_v[np.argsort(distance_m[query, other_v] * (-1 if descending else 1), kind="stable")]
            rank_v = np.flatnonzero(work_v[order_v] == work_v[query]) + 1
            if rank_v.size == 0:
                if single_as_zero:
                    ap_l.append(0.0)
                continue
            if first_only:
                ap_l.append(1 / rank_v[0])
                continue
            precision_v = np.arange(1, rank_v.size + 1) / rank_v
            ap_l.append(precision_v.sum() / (rank_v.size if divide_by == "relevant" else len(other_v)))
        return float(np.mean(ap_l))
    return mean_average_precision


def _map_with_the_package(distance_m, work_v):
    return metrics.ranking_metrics(distance_m, work_v)["MAP"]


WRONG_ANSWER_L = [
    # 05.1: one training step
    ("05.1", "a tensor for a float", _step(return_tensor=True), ["a tensor", "loss.item()"]),
    ("05.1", "a detached tensor for a float", _step(return_tensor=True, detach=True), ["a tensor", "loss.item()"]),
    ("05.1", "gradients never cleared", _step(zero_grad=False), ["clear the gradients before each backward pass"]),
    ("05.1", "no backward pass", _step(backward=False), ["the weights did not change", "loss.backward()"]),
    ("05.1", "no update", _step(step=False), ["the weights did not change", "optimizer.step()"]),
    ("05.1", "update before the backward pass", _step(step_first=True),
     ["the weights did not change", "optimizer.step() must come after loss.backward()"]),
    ("05.1", "gradient ascent", _step(ascent=True), ["it should fall"]),
    ("05.1", "its own loss instead of loss_fn", _step(own_loss=True), ["loss_fn"]),
    ("05.1", "the package's training step", _step_with_the_package, ["course_utils.train.training_step"]),
    # 05.2: the validation pass
    ("05.2", "the mean of the batch means", _validation("batch means"), ["the mean of the 3 batch means"]),
    ("05.2", "the sum for the mean", _validation("sum"), ["the sum", "divide"]),
    ("05.2", "divided by the number of batches", _validation("batches"), ["number of batches"]),
    ("05.2", "the last batch only", _validation("last"), ["the last batch"]),
    ("05.2", "a tensor for a float", _validation(tensor=True), ["a tensor", "loss.item()"]),
    ("05.2", "the package's validation pass", _validation_with_the_package, ["course_utils.train.evaluate_loss"]),
    # 05.3: early stopping
    ("05.3", "an equal loss counted as an improvement", _stopping(lambda loss, best, previous: loss <= best),
     ["equal to the best is not an improvement"]),
    ("05.3", "one epoch late", _stopping(lambda loss, best, previous: loss < best, late=1), ["one epoch late"]),
    ("05.3", "one epoch early", _stopping(lambda loss, best, previous: loss < best, late=-1), ["one epoch early"]),
    ("05.3", "compared with the previous epoch, not the best",
     _stopping(lambda loss, best, previous: loss < (best if previous is None else previous)), ["the previous epoch"]),
    ("05.3", "1-based epochs", _stopping(lambda loss, best, previous: loss < best, one_based=True), ["0-based"]),
    ("05.3", "the best epoch over the epochs after the stop too",
     _stopping(lambda loss, best, previous: loss < best, best_overall=True), ["after training stopped"]),
    ("05.3", "never stops", lambda loss_l, patience: (int(np.argmin(loss_l)), None),
     ["never stops", "expected (1, 4)"]),
    ("05.3", "the package's EarlyStopping", _stopping_with_the_package, ["course_utils.train.EarlyStopping.step"]),
    # 05.4: the learning rate (the example context: runs at 1e-5, 1e-4, 1e-3, 0.03)
    ("05.4", "too small to learn the 16 tracks by heart", 1e-4, ["has not learned its 16 tracks by heart"]),
    ("05.4", "far too small", 1e-5, ["has not learned its 16 tracks by heart"]),
    ("05.4", "too large: worse than chance from the start", 0.03, ["too large"]),
    ("05.4", "a negative rate", -1e-3, ["a learning rate is a number > 0"]),
    ("05.4", "a string for a number", "1e-3", ["a number, not a string"]),
    ("05.4", "a rate not trained yet", 0.5, ["no run with the learning rate 0.5"]),
    # 05.5: macro recall
    ("05.5", "the accuracy for the macro recall", lambda t, p: float(np.mean(t == p)),
     ["the accuracy (each item counts once)"]),
    ("05.5", "the classes of y_pred", _recall_over(lambda t, p: np.unique(p)), ["the classes of y_pred"]),
    ("05.5", "every class up to the largest, absent ones too", _recall_over(lambda t, p: range(t.max() + 1)),
     ["a class that y_true does not hold"]),
    ("05.5", "precision for recall", _recall_over(lambda t, p: np.unique(t), precision=True), ["the macro precision"]),
    ("05.5", "the sum for the mean", _recall_over(lambda t, p: np.unique(t), reduce=np.sum),
     ["the sum of the recalls"]),
    ("05.5", "scikit-learn's balanced accuracy", lambda t, p: balanced_accuracy_score(t, p),
     ["balanced_accuracy_score"]),
    # 06.1: binary cross-entropy with a weight on the positives
    ("06.1", "no weight", _bce(weight_on="nothing"), ["the loss without the weight"]),
    ("06.1", "the weight on the whole loss", _bce(weight_on="whole loss"), ["the whole loss"]),
    ("06.1", "the weight on the negatives", _bce(weight_on="negatives"), ["the negatives' term"]),
    ("06.1", "the sum for the mean", _bce(reduce="sum"), ["the sum over the cells"]),
    ("06.1", "a float for a tensor", _bce(as_float=True), ["return a tensor"]),
    ("06.1", "logits taken for probabilities", _bce(probabilities=True), ["the sigmoid"]),
    ("06.1", "torch's own loss", _bce_with_torch, ["binary_cross_entropy_with_logits"]),
    # 06.2: frame-level accuracy
    ("06.2", "precision for accuracy", lambda r, e: np.sum((r > 0) & (e > 0)) / np.sum(e > 0), ["the precision"]),
    ("06.2", "recall for accuracy", _accuracy("recall"), ["the recall"]),
    ("06.2", "F-measure for accuracy", _accuracy("F-measure"), ["the F-measure"]),
    ("06.2", "true negatives counted", _accuracy("true negatives"), ["silent cells"]),
    ("06.2", "a mean of per-frame accuracies", _accuracy("per frame"), ["per-frame"]),
    ("06.2", "the package's frame accuracy", _accuracy_with_the_package, ["course_utils.metrics.frame_accuracy"]),
    ("06.2", "mir_eval through the package", _accuracy_with_mir_eval, ["course_utils.metrics.multipitch_scores"]),
    ("06.2", "mir_eval itself", _accuracy_of_mir_eval, ["mir_eval.multipitch.evaluate"]),
    # 06.3: from a piano roll to notes
    ("06.3", "no notes", lambda roll_m, t_v, midi_v: [], ["you found 0 notes"]),
    ("06.3", "the offset at the start of the last frame", _notes(add_hop=False), ["one hop"]),
    ("06.3", "one note per frame", _notes(per_frame=True), ["one note per run"]),
    ("06.3", "a run up to the last frame lost", _notes(pad_end=False), ["the last frame"]),
    ("06.3", "a run from the first frame lost", _notes(pad_start=False), ["the first frame"]),
    ("06.3", "not sorted", _notes(sort=False), ["sorted by onset, then pitch"]),
    ("06.3", "the row index for the pitch", _notes(midi_of_row=False), ["midi_v"]),
    ("06.3", "the package's pianoroll_to_notes", _notes_with_the_package,
     ["course_utils.annotation.pianoroll_to_notes"]),
    # 06.4: a decision with its evidence (the example context: the HCQT better, fewer harmonic false alarms)
    ("06.4", "a bare input, no evidence", "hcqt", ["a pair (input, evidence)"]),
    ("06.4", "the worse input", ("cqt", "harmonic false alarms"), ["lower accuracy"]),
    ("06.4", "evidence that was not measured", ("hcqt", "timbre"), ["not one of the measurements"]),
    ("06.4", "the accuracy as its own evidence", ("hcqt", "accuracy"), ["says which input is better, not why"]),
    ("06.4", "evidence against the choice", ("hcqt", "other false alarms"), ["no evidence for it"]),
    ("06.4", "input and evidence swapped", ("harmonic false alarms", "hcqt"), ["the two swapped"]),
    ("06.4", "an input that was not tried", ("mel", "harmonic false alarms"), ["'hcqt' or 'cqt'"]),
    # 07.1: the triplet loss
    ("07.1", "no hinge", lambda d_ap_v, d_an_v, margin: (d_ap_v - d_an_v + margin).mean(), ["must count 0"]),
    ("07.1", "the sum for the mean", lambda d_ap_v, d_an_v, margin: torch.relu(d_ap_v - d_an_v + margin).sum(),
     ["the sum over the triplets"]),
    ("07.1", "the hinge on the mean", lambda d_ap_v, d_an_v, margin: torch.relu((d_ap_v - d_an_v + margin).mean()),
     ["for each triplet, before the mean"]),
    ("07.1", "positive and negative swapped",
     lambda d_ap_v, d_an_v, margin: torch.relu(d_an_v - d_ap_v + margin).mean(), ["swapped"]),
    ("07.1", "the margin subtracted", lambda d_ap_v, d_an_v, margin: torch.relu(d_ap_v - d_an_v - margin).mean(),
     ["the margin is added"]),
    ("07.1", "a float for a tensor", lambda d_ap_v, d_an_v, margin: torch.relu(d_ap_v - d_an_v + margin).mean().item(),
     ["return a tensor"]),
    ("07.1", "no mean", lambda d_ap_v, d_an_v, margin: torch.relu(d_ap_v - d_an_v + margin), ["one number"]),
    ("07.1", "torch's margin ranking loss", _triplet_with_torch, ["margin_ranking_loss"]),
    # 07.2: semi-hard mining
    ("07.2", "the hardest negative", lambda d_ap, d_an_v: int(np.argmin(d_an_v)), ["the hardest negative"]),
    ("07.2", "the farthest negative", lambda d_ap, d_an_v: int(np.argmax(d_an_v)), ["the farthest negative"]),
    ("07.2", "a tie with the positive counted as farther", _semi_hard(farther=np.greater_equal),
     ["at the same distance as the positive is not farther"]),
    ("07.2", "an index into the farther negatives", _semi_hard(index_in_subset=True), ["an index into d_an_v"]),
    ("07.2", "the closest negative when none is farther", _semi_hard(fallback=np.argmin),
     ["no negative is farther than the positive", "the farthest"]),
    ("07.2", "no fallback", _semi_hard_without_fallback, ["no negative is farther than the positive"]),
    ("07.2", "a distance for an index", _semi_hard(return_distance=True), ["a distance, not an index"]),
    # 07.3: mean average precision
    ("07.3", "a constant", lambda d, w: 1.0, ["expected"]),
    ("07.3", "a query without another version counted as AP 0", _map(single_as_zero=True),
     ["no other version", "left out of the mean"]),
    ("07.3", "the query in its own ranking", _map(query_included=True), ["the query itself"]),
    ("07.3", "ranked farthest first", _map(descending=True), ["increasing distance"]),
    ("07.3", "divided by the number of candidates", _map(divide_by="candidates"), ["number of relevant items"]),
    ("07.3", "the MRR for the MAP", _map(first_only=True), ["the MRR"]),
    ("07.3", "the package's ranking_metrics", _map_with_the_package, ["course_utils.metrics.ranking_metrics"]),
]


_context = exercise_context  # tests/helpers.py: the made-up context of an experiment's check


@pytest.mark.parametrize("exercise_id, mistake, answer, expected_fragment_l", WRONG_ANSWER_L,
                         ids=[f"{row[0]} {row[1]}" for row in WRONG_ANSWER_L])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the wrong answers' 0 / 0 and log of a negative warn
def test_a_wrong_answer_is_refused_naming_the_mistake(exercise_id, mistake, answer, expected_fragment_l):
    result = exercises.evaluate(exercise_id, answer, **_context(exercise_id))
    assert result.status == "not yet", f"{mistake}: {result.message}"
    assert "Traceback" not in result.message
    for fragment in expected_fragment_l:
        assert fragment in result.message, f"{mistake}: '{fragment}' not in: {result.message}"


def test_at_least_four_wrong_answers_per_exercise_of_notebooks_05_to_07():
    count_d = collections.Counter(row[0] for row in WRONG_ANSWER_L)
    for exercise_id in ("05.1", "05.2", "05.3", "05.4", "05.5", "06.1", "06.2", "06.3", "06.4", "07.1", "07.2",
                        "07.3"):
        assert count_d[exercise_id] >= 4, f"{exercise_id}: {count_d[exercise_id]} wrong answers"


def test_error_kinds_counts_missed_notes_and_false_alarms_at_a_harmonic_or_elsewhere():
    """The measurement that exercise 06.4 decides on: a note at row 0 sounds in both frames; the estimate misses it in
    frame 1, adds its octave (row 12) and its twelfth (row 19) in frame 0, and row 5 in frame 1."""
    from course_utils.exercises.ex06_training_multipitch import error_kinds

    roll_m, salience_m = np.zeros((30, 2)), np.zeros((30, 2))
    roll_m[0] = 1
    salience_m[0, 0] = salience_m[12, 0] = salience_m[19, 0] = salience_m[5, 1] = 0.9
    kind_d = error_kinds([(salience_m, roll_m)], threshold=0.5)
    assert kind_d == {"accuracy": 1 / 5, "missed notes": 50.0, "harmonic false alarms": 100.0,
                      "other false alarms": 50.0}
