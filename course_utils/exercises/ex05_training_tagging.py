"""Exercises of notebooks/05_training_tagging.ipynb, with their checkers; solutions in solutions/."""

import numpy as np
import sklearn.metrics
import torch
from torch import nn

from course_utils import train
from course_utils.exercises.checking import Wrong, as_float, call, exercise


def _toy_problem(seed=0):
    """A linear model and one batch of a two-class problem (the first input decides the class)."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(16, 3, generator=generator)
    torch.manual_seed(seed)
    return nn.Linear(3, 2), {"X": X, "y": (X[:, 0] > 0).long()}


def python_number(value, what):
    """A number returned by the answer as a float: a tensor is refused (the notebook averages the losses of an epoch
    with NumPy, which cannot read a tensor that requires grad)."""
    if torch.is_tensor(value):
        raise Wrong(f"{what} is a tensor ({value!r:.60}), not a Python number: the loop averages an epoch's losses "
                    "with NumPy, which cannot read a tensor that requires grad, and each tensor kept would hold its "
                    "whole graph in memory. Return loss.item()")
    if isinstance(value, bool | str):
        raise Wrong(f"{what} should be a number, got {type(value).__name__}: {value!r}")
    return as_float(value, what)


class _CountingLoss(nn.CrossEntropyLoss):
    """The loss given to the answer: it counts its calls (the step must use the loss_fn it is given)."""

    def __init__(self):
        super().__init__()
        self.n_call = 0

    def forward(self, output, target):
        self.n_call += 1
        return super().forward(output, target)


def _first_step_verdict(training_step):
    """Run one step on a fresh toy model and say which of its parts is missing, if one is."""
    model, batch = _toy_problem()
    optimizer, loss_fn = torch.optim.SGD(model.parameters(), lr=0.5), _CountingLoss()
    start_weight = model.weight.detach().clone()
    python_number(call(training_step, model, batch, loss_fn, optimizer, copy_arguments=False), "the loss you returned")
    if loss_fn.n_call == 0:
        raise Wrong("your step never called the loss_fn it is given: the loop passes its own loss (binary "
                    "cross-entropy for the instruments, cross-entropy for the dance type); use loss_fn")
    if torch.equal(model.weight.detach(), start_weight):
        if all(parameter.grad is None or not parameter.grad.any() for parameter in model.parameters()):
            raise Wrong("the weights did not change, and no gradient reached them: loss.backward() computes the "
                        "gradients, then optimizer.step() uses them to update the weights")
        raise Wrong("the weights did not change, although the gradients were computed: optimizer.step() must come "
                    "after loss.backward(), whose gradients it uses to update the weights")
    return model, batch, optimizer, loss_fn


@exercise("05.1", "05_training_tagging", "one training step", "training_step",
          "write training_step(model, batch, loss_fn, optimizer): one step of gradient descent on one batch (the "
          "model's output for batch['X'], its loss_fn against batch['y'], the gradients, one update of the weights); "
          "return the loss as a Python number (a float, not a tensor).",
          ["Four things happen in a step: the forward pass, the loss, the backward pass (gradients), the update. "
           "The optimizer holds the model's weights and knows how to update them.",
           "PyTorch adds new gradients to the ones already stored in each weight: clear them at the start of every "
           "step, or each step would also use the gradients of all the steps before it.",
           "The loss is a tensor attached to the whole computation; the optimizer's step uses the gradients that "
           "loss.backward() stores. Return loss.item(), a float, so that the caller keeps no graph in memory."],
          forbidden_l=[train.training_step])
def _check_training_step(training_step):
    model, batch, optimizer, loss_fn = _first_step_verdict(training_step)
    loss_l = [python_number(call(training_step, model, batch, loss_fn, optimizer, copy_arguments=False), "the loss")
              for _ in range(30)]
    if not loss_l[-1] < 0.7 * loss_l[0]:
        raise Wrong(f"after 30 steps on one batch the loss went from {loss_l[0]:.3f} to {loss_l[-1]:.3f}; it should "
                    "fall: is the update in the direction that lowers the loss?")
    mine, reference = _toy_problem(seed=1)[0], _toy_problem(seed=1)[0]
    batch = _toy_problem(seed=1)[1]
    mine_optimizer = torch.optim.SGD(mine.parameters(), lr=0.1)
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(2):
        call(training_step, mine, batch, nn.CrossEntropyLoss(), mine_optimizer, copy_arguments=False)
        reference_optimizer.zero_grad()
        nn.CrossEntropyLoss()(reference(batch["X"]), batch["y"]).backward()
        reference_optimizer.step()
    if not torch.allclose(mine.weight, reference.weight, atol=1e-6):
        raise Wrong("the first step is right, but the second uses the gradients of both steps: clear the gradients "
                    "before each backward pass")
    return (f"the loss fell from {loss_l[0]:.3f} to {loss_l[-1]:.3f} in 30 steps, each step used its own gradients, "
            "and the loss came back as a float.")


class _Recorder(nn.Module):
    """A linear model that remembers, for each forward pass, whether it was in training mode and computing gradients."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.seen_l = []

    def forward(self, X):
        self.seen_l.append((self.training, torch.is_grad_enabled()))
        return self.linear(X)


def _validation_means(model, X, y, batch_size):
    """The right mean loss over the items, and the wrong ones a validation pass may give instead: name -> value."""
    loss_fn = nn.CrossEntropyLoss()
    batch_l = [(X[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(X), batch_size)]
    with torch.no_grad():
        mean_l = [float(loss_fn(model.linear(X_batch), y_batch)) for X_batch, y_batch in batch_l]
    total = sum(mean * len(y_batch) for mean, (_, y_batch) in zip(mean_l, batch_l, strict=True))
    return {"right": total / len(X), "sum": total, "batches": total / len(mean_l),
            "batch means": float(np.mean(mean_l)), "last": mean_l[-1]}


_VALIDATION_MISTAKE_D = {
    "batch means": "the mean of the 3 batch means; the last batch has 2 items, not 4: weigh each batch by its size",
    "sum": "the sum of the items' losses: divide it by the number of items",
    "batches": "the items' total divided by the number of batches: divide by the number of items",
    "last": "the loss of the last batch only: add up every batch of the loader",
}


@exercise("05.2", "05_training_tagging", "the validation pass", "validation_loss",
          "write validation_loss(model, loader, loss_fn): the mean loss over every item of the loader, with the model "
          "in evaluation mode and without computing gradients; return a Python number (a float, not a tensor).",
          ["Two switches: model.eval() (dropout off, batch normalisation with its learned statistics) and a block "
           "in which PyTorch computes no gradients (nothing will be updated, and it is faster).",
           "Batches may have different sizes (the last one is often smaller): a mean of the batch means would count "
           "the items of a small batch more. Sum loss x batch size, and count the items.",
           "The loss of the course's losses is a mean over the batch: loss.item() * len(batch['X']) is the batch's "
           "total; divide the sum of totals by the number of items at the end."],
          forbidden_l=[train.evaluate_loss])
def _check_validation_loss(validation_loss):
    torch.manual_seed(0)
    model = _Recorder()
    generator = torch.Generator().manual_seed(2)
    X, y = torch.randn(10, 3, generator=generator), torch.randint(0, 2, (10,), generator=generator)
    loader = torch.utils.data.DataLoader([{"X": X[i], "y": y[i]} for i in range(10)], batch_size=4)
    answer = python_number(call(validation_loss, model, loader, nn.CrossEntropyLoss()), "the validation loss")
    mean_d = _validation_means(model, X, y, 4)
    if not np.isclose(answer, mean_d["right"], atol=1e-5):
        for mistake, value in mean_d.items():
            if mistake in _VALIDATION_MISTAKE_D and np.isclose(answer, value, atol=1e-5):
                raise Wrong(f"you gave {answer:.4f}, {_VALIDATION_MISTAKE_D[mistake]} (expected {mean_d['right']:.4f})")
        raise Wrong(f"for 10 items in batches of 4, 4 and 2 you gave {answer:.4f}, expected {mean_d['right']:.4f}")
    return _validation_mode_verdict(validation_loss)


def _validation_mode_verdict(validation_loss):
    """Run the answer on a recording model (not a copy: the recording is read after) to see the mode it ran in."""
    torch.manual_seed(0)
    model = _Recorder()
    model.train()
    loader = torch.utils.data.DataLoader([{"X": torch.randn(3), "y": torch.tensor(0)} for _ in range(4)], batch_size=2)
    call(validation_loss, model, loader, nn.CrossEntropyLoss(), copy_arguments=False)
    if not model.seen_l:
        raise Wrong("the model was never called on the batches")
    if any(training for training, _ in model.seen_l):
        raise Wrong("the model was in training mode during the validation pass: call model.eval() first")
    if any(grad for _, grad in model.seen_l):
        raise Wrong("gradients were computed during the validation pass: run it inside a torch.no_grad() block")
    if any(parameter.grad is not None for parameter in model.parameters()):
        raise Wrong("the validation pass left gradients in the weights: nothing must be back-propagated there")
    return "the item-weighted mean loss, in evaluation mode, without gradients, the weights untouched."


def _stopping_epochs(valid_loss_l, patience, tie_improves=False, late=0, versus_previous=False, one_based=False,
                     best_overall=False):
    """(best_epoch, stop_epoch) by the rule of train.EarlyStopping, or by a rule with one of the usual mistakes."""
    best, best_epoch, n_bad, previous = None, -1, 0, None
    for epoch, loss in enumerate(valid_loss_l):
        reference = previous if versus_previous and previous is not None else best
        if best is None or loss < reference or (tie_improves and loss == reference):
            best, best_epoch, n_bad = loss, epoch, 0
        else:
            n_bad += 1
            if n_bad >= patience + late:
                best_epoch = int(np.argmin(valid_loss_l)) if best_overall else best_epoch
                return best_epoch + one_based, epoch + one_based
        previous = loss
    return best_epoch + one_based, None


_STOPPING_MISTAKE_D = {
    "tie_improves": "an epoch whose loss is equal to the best is not an improvement: it counts as an epoch without "
                    "progress",
    "late": "training stops one epoch late: it stops at the epoch where the count of epochs without progress reaches "
            "patience, not after it",
    "early": "training stops one epoch early: it stops when the count of epochs without progress reaches patience, "
             "not patience - 1",
    "versus_previous": "each epoch is compared with the previous epoch; it must be compared with the best so far",
    "one_based": "epochs are 0-based: the first epoch is epoch 0",
    "best_overall": "the best epoch is the best before training stops: epochs after training stopped are never "
                    "trained",
}


def _stopping_variant(valid_loss_l, patience, mistake):
    option_d = {"late": {"late": 1}, "early": {"late": -1}}.get(mistake, {mistake: True})
    return _stopping_epochs(valid_loss_l, patience, **option_d)


@exercise("05.3", "05_training_tagging", "early stopping by hand", "early_stopping",
          "write early_stopping(valid_loss_l, patience): (best_epoch, stop_epoch), the epoch (0-based) of the "
          "lowest validation loss, and the epoch after which training stops because `patience` epochs in a row "
          "did not improve on the best (None if it never stops).",
          ["Walk through the losses once, remembering the best loss so far and its epoch.",
           "Count the epochs since the best improved; an epoch equal to the best is not an improvement.",
           "Training stops at the epoch where that count reaches patience; if the list ends first, it never stops."],
          forbidden_l=[train.EarlyStopping.step])
def _check_early_stopping(early_stopping):
    case_l = (([1.0, 0.8, 0.9, 0.85, 0.95, 0.7], 3), ([1.0, 0.9, 0.8], 2), ([0.5, 0.5, 0.5, 0.4], 2),
              ([0.9, 0.7, 0.8, 0.6, 0.65, 0.66, 0.5], 2), ([1.0, 0.7, 0.8, 0.75, 0.9, 0.95], 2))
    answer_l = []
    for valid_loss_l, patience in case_l:
        answer = call(early_stopping, list(valid_loss_l), patience)
        try:
            best_epoch, stop_epoch = answer
        except (TypeError, ValueError):
            raise Wrong(f"expected a pair (best_epoch, stop_epoch), got {answer!r}") from None
        answer_l.append((best_epoch, stop_epoch))
    expected_l = [_stopping_epochs(valid_loss_l, patience) for valid_loss_l, patience in case_l]
    if answer_l == expected_l:
        return "the same (best, stop) epochs as train.EarlyStopping on 5 curves, ties included."
    (valid_loss_l, patience), answer, expected = next(
        (case, answer, expected) for case, answer, expected in zip(case_l, answer_l, expected_l, strict=True)
        if answer != expected)
    where = f"for losses {valid_loss_l} and patience {patience} you gave {answer}, expected {expected}"
    for mistake, explanation in _STOPPING_MISTAKE_D.items():
        if answer_l == [_stopping_variant(*case, mistake) for case in case_l]:
            raise Wrong(f"{where}: {explanation}")
    if answer[1] is None and expected[1] is not None:
        raise Wrong(f"{where}: your training never stops, but {patience} epochs in a row after epoch {expected[0]} did "
                    f"not improve on its loss {valid_loss_l[expected[0]]}")
    raise Wrong(where)


CHANCE_LOSS = float(np.log(2))  # binary cross-entropy of answering 50 % for every tag


def overfitting_of(history):
    """What one run's history {'train_loss': [...], 'valid_loss': [...]} (one value per epoch) says: a dict with
    the epoch of the lowest validation loss, that loss, the rise of the last validation loss above it (relative),
    and the last training loss over the first (how far the training loss fell)."""
    valid_v, train_v = np.asarray(history["valid_loss"], float), np.asarray(history["train_loss"], float)
    best = int(np.argmin(valid_v))
    return {"best_epoch": best, "lowest_valid": float(valid_v[best]), "rise": float(valid_v[-1] / valid_v[best] - 1),
            "train_ratio": float(train_v[-1] / train_v[0]), "n_epoch": len(valid_v)}


def _example_history_context():
    epoch_v = np.arange(20)
    history_d = {1e-5: {"train_loss": list(0.70 - 0.0005 * epoch_v), "valid_loss": list(0.70 + 0.002 * epoch_v)},
                 1e-4: {"train_loss": list(0.70 - 0.012 * epoch_v), "valid_loss": list(0.69 + 0.0025 * epoch_v)},
                 1e-3: {"train_loss": list(0.6 * 0.85 ** epoch_v), "valid_loss": list(0.6 + 0.02 * epoch_v)},
                 0.03: {"train_loss": list(0.9 * 0.9 ** epoch_v), "valid_loss": list(9.0 * 0.85 ** epoch_v + 2.0)}}
    return {"history_d": history_d}


@exercise("05.4", "05_training_tagging", "an experiment: the learning rate and overfitting", "my_learning_rate",
          "set my_learning_rate to a learning rate at which the tiny model (16 tracks, no augmentation) overfits "
          "within the epochs of the run: its training loss falls to half its first value or less (it learns its 16 "
          "tracks by heart) while its validation loss, after its lowest point (below 0.80: about chance or better), "
          "rises again by 10 % or more, with at least 2 epochs after that point. The check cell trains the model "
          "with it and reads the curves.",
          ["Compare the two runs above: with the larger rate both losses move faster. On 16 tracks without "
           "augmentation, where does a training loss that keeps falling lead?",
           "Overfitting needs the training loss to fall far within the epochs of the run, further than in either "
           "run above: in the same number of epochs, that takes larger steps.",
           "Multiply the faster rate by ten, run the check cell and read its curves. If the validation loss is "
           "worse than chance from the first epoch on, the steps are too large: go back by a factor of three."],
          time_limit_sec=10, example_context=_example_history_context)
def _check_my_learning_rate(my_learning_rate, history_d=None):
    if isinstance(my_learning_rate, str | bool):
        raise Wrong(f"my_learning_rate should be a number, not a string or a bool: {my_learning_rate!r} (write 1e-3, "
                    "not '1e-3')")
    rate = python_number(my_learning_rate, "my_learning_rate")
    if not rate > 0:
        raise Wrong(f"a learning rate is a number > 0, got {my_learning_rate!r}")
    if not history_d or rate not in history_d:
        raise Wrong(f"no run with the learning rate {rate} yet: the check cell trains it (run it again)")
    run = overfitting_of(history_d[rate])
    if run["lowest_valid"] > 1.15 * CHANCE_LOSS:
        raise Wrong(f"with {rate} the validation loss never came below {run['lowest_valid']:.2f} (answering 50 % for "
                    f"every tag gives {CHANCE_LOSS:.2f}): from the first epoch on, the steps are too large for what "
                    "the model learns to hold on other tracks, a rate too large to learn anything. Overfitting is a "
                    "validation loss that first falls or holds, then rises: try a smaller rate")
    if run["train_ratio"] > 0.5:
        raise Wrong(f"with {rate} the training loss ends at {100 * run['train_ratio']:.0f} % of its first value: in "
                    f"{run['n_epoch']} epochs the model has not learned its 16 tracks by heart yet; larger steps get "
                    "there within the run")
    if run["rise"] < 0.10 or run["best_epoch"] > run["n_epoch"] - 3:
        raise Wrong(f"with {rate} the validation loss is lowest at epoch {run['best_epoch']} of {run['n_epoch']} and "
                    f"ends {100 * run['rise']:.0f} % above it: no clear overfitting yet")
    return (f"with a learning rate of {rate} the training loss falls to {100 * run['train_ratio']:.0f} % of its "
            f"first value, while the validation loss is lowest at epoch {run['best_epoch']}, then rises by "
            f"{100 * run['rise']:.0f} %: the model learns its 16 training tracks by heart. The 16 tracks without "
            "augmentation make it overfit; the larger rate only gets there within the run. Early stopping would "
            "keep that epoch's weights.")


def _recall_variants(y_true, y_pred):
    """The macro recall, and what a wrong answer may give instead: name -> value (NaN where a class has no item)."""
    def class_mean(class_l, score, reduce=np.mean):
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(reduce([np.sum((y_true == c) & (y_pred == c)) / np.sum(score == c) for c in class_l]))

    present_l = np.unique(y_true)
    return {"right": class_mean(present_l, y_true), "accuracy": float(np.mean(y_true == y_pred)),
            "classes of y_pred": class_mean(np.unique(y_pred), y_true),
            "absent classes": class_mean(range(int(y_true.max()) + 1), y_true),
            "macro precision": class_mean(present_l, y_pred), "sum": class_mean(present_l, y_true, reduce=np.sum)}


_RECALL_MISTAKE_D = {
    "accuracy": "the accuracy (each item counts once); the macro recall, where each class counts once, is",
    "classes of y_pred": "averaged over the classes of y_pred: a class that only the predictions hold has no item in "
                         "y_true, so no recall; average over the classes y_true holds. Expected",
    "absent classes": "averaged over every class up to the largest: a class that y_true does not hold has no recall; "
                      "average over the classes y_true holds (np.unique). Expected",
    "macro precision": "the macro precision (of the items predicted as a class, the share that are): the recall "
                       "looks at the items that truly are the class. Expected",
    "sum": "the sum of the recalls; the macro recall is their mean:",
}


@exercise("05.5", "05_training_tagging", "macro recall by hand", "macro_recall",
          "write macro_recall(y_true, y_pred) with NumPy: the recall of each class that y_true holds (the fraction of "
          "its items predicted as that class), averaged over those classes.",
          ["The recall of one class: of the items that truly are that class, the share the model gave that class.",
           "Compute it for each class present in y_true, then average those numbers: each class counts once, "
           "however many items it has.",
           "NumPy's boolean masks select the items of one class: y_pred[y_true == c]."],
          forbidden_l=[getattr(function, "__wrapped__", function) for function in (
              sklearn.metrics.balanced_accuracy_score, sklearn.metrics.recall_score)])
def _check_macro_recall(macro_recall):
    rng = np.random.default_rng(1)
    case_l = [(np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 2]), np.array([0, 0, 0, 0, 0, 0, 0, 0, 2, 1])),
              (np.array([0, 0, 0, 1, 1, 2]), np.array([0, 3, 0, 1, 1, 2])),
              (np.array([0, 0, 2, 2, 2, 3]), np.array([0, 2, 2, 2, 0, 3])),
              (rng.integers(0, 5, 40), rng.integers(0, 5, 40))]
    for y_true, y_pred in case_l:
        answer = python_number(call(macro_recall, y_true, y_pred), "the macro recall")
        value_d = _recall_variants(y_true, y_pred)
        if np.isclose(answer, value_d["right"]):
            continue
        where = f"for y_true {y_true.tolist()} and y_pred {y_pred.tolist()} you gave {answer:.3f}"
        for mistake, explanation in _RECALL_MISTAKE_D.items():
            if np.isclose(answer, value_d[mistake], equal_nan=True):
                raise Wrong(f"{where}, {explanation} {value_d['right']:.3f}")
        raise Wrong(f"{where}, expected {value_d['right']:.3f}")
    return ("the same values as sklearn.metrics.balanced_accuracy_score, on unbalanced cases where accuracy differs, "
            "and with a class that only the predictions hold.")
