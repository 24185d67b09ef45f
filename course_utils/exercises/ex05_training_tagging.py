"""Exercises of notebooks/05_training_tagging.ipynb, with their checkers; solutions in solutions/."""

import numpy as np

from course_utils.exercises.checking import Wrong, as_float, call, exercise


@exercise("05.1", "05_training_tagging", "macro recall by hand", "macro_recall",
           "write macro_recall(y_true, y_pred): the recall of each class that y_true holds (the fraction of its "
           "items predicted as that class), averaged over those classes.",
           "for each class c in np.unique(y_true): mean(y_pred[y_true == c] == c); then the mean of these.")
def _check_macro_recall(macro_recall):
    from sklearn.metrics import balanced_accuracy_score

    rng = np.random.default_rng(1)
    case_l = [(np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 2]), np.array([0, 0, 0, 0, 0, 0, 0, 0, 2, 1])),
              (rng.integers(0, 5, 40), rng.integers(0, 5, 40))]
    for y_true, y_pred in case_l:
        answer = as_float(call(macro_recall, y_true.copy(), y_pred.copy()), "the macro recall")
        expected, accuracy = balanced_accuracy_score(y_true, y_pred), float(np.mean(y_true == y_pred))
        if np.isclose(answer, expected):
            continue
        if np.isclose(answer, accuracy):
            raise Wrong(f"you gave {answer:.3f}, the accuracy (each item counts once); the macro recall, where each "
                        f"class counts once, is {expected:.3f} for y_true {y_true.tolist()}")
        raise Wrong(f"for y_true {y_true.tolist()} and y_pred {y_pred.tolist()} you gave {answer:.3f}, expected "
                    f"{expected:.3f}")
    return "the same values as sklearn.metrics.balanced_accuracy_score, on an unbalanced case where accuracy differs."


def _early_stopping_reference(valid_loss_l, patience):
    from course_utils.train import EarlyStopping

    stopper = EarlyStopping(patience)
    for epoch, value in enumerate(valid_loss_l):
        stopper.step(value, epoch)
        if stopper.should_stop:
            return stopper.best_epoch, epoch
    return stopper.best_epoch, None


@exercise("05.2", "05_training_tagging", "early stopping by hand", "early_stopping",
           "write early_stopping(valid_loss_l, patience): (best_epoch, stop_epoch), the epoch (0-based) of the "
           "lowest validation loss, and the epoch after which training stops because `patience` epochs in a row "
           "did not improve on the best (None if it never stops).",
           "keep the best loss and count the epochs since it improved; a loss equal to the best is no "
           "improvement; stop at the epoch where that count reaches patience.")
def _check_early_stopping(early_stopping):
    for valid_loss_l, patience in (([1.0, 0.8, 0.9, 0.85, 0.95, 0.7], 3), ([1.0, 0.9, 0.8], 2),
                                   ([0.5, 0.5, 0.5, 0.4], 2), ([0.9, 0.7, 0.8, 0.6, 0.65, 0.66, 0.5], 2)):
        answer = call(early_stopping, list(valid_loss_l), patience)
        try:
            best_epoch, stop_epoch = answer
        except (TypeError, ValueError):
            raise Wrong(f"expected a pair (best_epoch, stop_epoch), got {answer!r}") from None
        expected = _early_stopping_reference(valid_loss_l, patience)
        if (best_epoch, stop_epoch) != expected:
            raise Wrong(f"for losses {valid_loss_l} and patience {patience} you gave ({best_epoch}, {stop_epoch}), "
                        f"expected {expected}")
    return "the same (best, stop) epochs as train.EarlyStopping on 4 curves, ties included."
