"""Exercises of notebooks/05_training_tagging.ipynb, with their checkers; solutions in solutions/."""

import numpy as np
import torch
from torch import nn

from course_utils.exercises.checking import Wrong, as_float, call, exercise


def _toy_problem(seed=0):
    """A linear model and one batch of a two-class problem (the first input decides the class)."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(16, 3, generator=generator)
    torch.manual_seed(seed)
    return nn.Linear(3, 2), {"X": X, "y": (X[:, 0] > 0).long()}


@exercise("05.1", "05_training_tagging", "one training step", "training_step",
          "write training_step(model, batch, loss_fn, optimizer): one step of gradient descent on one batch (the "
          "model's output for batch['X'], its loss against batch['y'], the gradients, one update of the weights); "
          "return the loss as a Python number.",
          ["Four things happen in a step: the forward pass, the loss, the backward pass (gradients), the update. "
           "The optimizer holds the model's weights and knows how to update them.",
           "PyTorch adds new gradients to the ones already stored in each weight: clear them at the start of every "
           "step, or each step would also use the gradients of all the steps before it.",
           "The loss is a tensor attached to the whole computation; the optimizer's step uses the gradients that "
           "loss.backward() stores. Return loss.item(), a float, so that the caller keeps no graph in memory."])
def _check_training_step(training_step):
    model, batch = _toy_problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    start_weight = model.weight.detach().clone()
    loss_l = [as_float(call(training_step, model, batch, nn.CrossEntropyLoss(), optimizer, copy_arguments=False),
                       "the loss") for _ in range(30)]
    if torch.equal(model.weight.detach(), start_weight):
        raise Wrong("the weights did not change: the step must end with an update of the weights by the optimizer")
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
    return f"the loss fell from {loss_l[0]:.3f} to {loss_l[-1]:.3f} in 30 steps, and each step used its own gradients."


class _Recorder(nn.Module):
    """A linear model that remembers, for each forward pass, whether it was in training mode and computing gradients."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.seen_l = []

    def forward(self, X):
        self.seen_l.append((self.training, torch.is_grad_enabled()))
        return self.linear(X)


@exercise("05.2", "05_training_tagging", "the validation pass", "validation_loss",
          "write validation_loss(model, loader, loss_fn): the mean loss over every item of the loader, with the model "
          "in evaluation mode and without computing gradients; return a Python number.",
          ["Two switches: model.eval() (dropout off, batch normalisation with its learned statistics) and a block "
           "in which PyTorch computes no gradients (nothing will be updated, and it is faster).",
           "Batches may have different sizes (the last one is often smaller): a mean of the batch means would count "
           "the items of a small batch more. Sum loss x batch size, and count the items.",
           "The loss of the course's losses is a mean over the batch: loss.item() * len(batch['X']) is the batch's "
           "total; divide the sum of totals by the number of items at the end."])
def _check_validation_loss(validation_loss):
    torch.manual_seed(0)
    model = _Recorder()
    generator = torch.Generator().manual_seed(2)
    X, y = torch.randn(10, 3, generator=generator), torch.randint(0, 2, (10,), generator=generator)
    loader = torch.utils.data.DataLoader([{"X": X[i], "y": y[i]} for i in range(10)], batch_size=4)
    answer = as_float(call(validation_loss, model, loader, nn.CrossEntropyLoss()), "the validation loss")
    with torch.no_grad():
        expected = float(nn.CrossEntropyLoss(reduction="sum")(model.linear(X), y)) / 10
        batch_mean = float(np.mean([float(nn.CrossEntropyLoss()(model.linear(X[i:i + 4]), y[i:i + 4]))
                                    for i in range(0, 10, 4)]))
    if abs(answer - batch_mean) < 1e-5 and abs(answer - expected) > 1e-5:
        raise Wrong(f"you gave {answer:.4f}, the mean of the 3 batch means; the last batch has 2 items, not 4: weigh "
                    f"each batch by its size (expected {expected:.4f})")
    if abs(answer - expected) > 1e-5:
        raise Wrong(f"for 10 items in batches of 4, 4 and 2 you gave {answer:.4f}, expected {expected:.4f}")
    return _validation_mode_verdict(validation_loss)


def _validation_mode_verdict(validation_loss):
    """Run the answer on a recording model (not a copy: the recording is read after) to see the mode it ran in."""
    torch.manual_seed(0)
    model = _Recorder()
    model.train()
    loader = torch.utils.data.DataLoader([{"X": torch.randn(3), "y": torch.tensor(0)} for _ in range(4)], batch_size=2)
    validation_loss(model, loader, nn.CrossEntropyLoss())
    if not model.seen_l:
        raise Wrong("the model was never called on the batches")
    if any(training for training, _ in model.seen_l):
        raise Wrong("the model was in training mode during the validation pass: call model.eval() first")
    if any(grad for _, grad in model.seen_l):
        raise Wrong("gradients were computed during the validation pass: run it inside a torch.no_grad() block")
    if any(parameter.grad is not None for parameter in model.parameters()):
        raise Wrong("the validation pass left gradients in the weights: nothing must be back-propagated there")
    return "the item-weighted mean loss, in evaluation mode, without gradients, the weights untouched."


@exercise("05.3", "05_training_tagging", "early stopping by hand", "early_stopping",
          "write early_stopping(valid_loss_l, patience): (best_epoch, stop_epoch), the epoch (0-based) of the "
          "lowest validation loss, and the epoch after which training stops because `patience` epochs in a row "
          "did not improve on the best (None if it never stops).",
          ["Walk through the losses once, remembering the best loss so far and its epoch.",
           "Count the epochs since the best improved; an epoch equal to the best is not an improvement.",
           "Training stops at the epoch where that count reaches patience; if the list ends first, it never stops."])
def _check_early_stopping(early_stopping):
    from course_utils.train import EarlyStopping

    for valid_loss_l, patience in (([1.0, 0.8, 0.9, 0.85, 0.95, 0.7], 3), ([1.0, 0.9, 0.8], 2),
                                   ([0.5, 0.5, 0.5, 0.4], 2), ([0.9, 0.7, 0.8, 0.6, 0.65, 0.66, 0.5], 2)):
        answer = call(early_stopping, list(valid_loss_l), patience)
        try:
            best_epoch, stop_epoch = answer
        except (TypeError, ValueError):
            raise Wrong(f"expected a pair (best_epoch, stop_epoch), got {answer!r}") from None
        stopper, expected = EarlyStopping(patience), None
        for epoch, value in enumerate(valid_loss_l):
            stopper.step(value, epoch)
            if stopper.should_stop:
                expected = (stopper.best_epoch, epoch)
                break
        expected = expected or (stopper.best_epoch, None)
        if (best_epoch, stop_epoch) != expected:
            raise Wrong(f"for losses {valid_loss_l} and patience {patience} you gave ({best_epoch}, {stop_epoch}), "
                        f"expected {expected}")
    return "the same (best, stop) epochs as train.EarlyStopping on 4 curves, ties included."


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
          "set my_learning_rate to a learning rate at which the tiny model overfits: its training loss falls to "
          "half its first value or less (it learns the 16 tracks by heart) while its validation loss, after its "
          "lowest point (below 0.80: about chance or better), rises again by 10 % or more, with at least 2 epochs "
          "after that point. The check cell trains the model with it and reads the curves.",
          ["Compare the two runs above: with the larger rate the losses move faster. What would larger steps do "
           "on only 16 tracks?",
           "Overfitting needs the training loss to fall far within the epochs of the run, further than in either "
           "run above: that takes larger steps.",
           "Multiply the faster rate by ten, run the check cell and read its curves. If the validation loss is "
           "worse than chance from the first epoch on, the steps are too large: go back by a factor of three."],
          time_limit_sec=10, example_context=_example_history_context)
def _check_my_learning_rate(my_learning_rate, history_d=None):
    rate = as_float(my_learning_rate, "my_learning_rate")
    if not rate > 0:
        raise Wrong(f"a learning rate is a number > 0, got {my_learning_rate!r}")
    if not history_d or rate not in history_d:
        raise Wrong(f"no run with the learning rate {rate} yet: the check cell trains it (run it again)")
    run = overfitting_of(history_d[rate])
    if run["lowest_valid"] > 1.15 * CHANCE_LOSS:
        raise Wrong(f"with {rate} the validation loss never came below {run['lowest_valid']:.2f} (answering 50 % for "
                    f"every tag gives {CHANCE_LOSS:.2f}): from the first epoch on, whatever the model learned does not "
                    "hold on other tracks. Overfitting is a validation loss that first falls or holds, then rises: "
                    "try a smaller rate")
    if run["train_ratio"] > 0.5:
        raise Wrong(f"with {rate} the training loss ends at {100 * run['train_ratio']:.0f} % of its first value: "
                    "the model has not learned its 16 tracks by heart yet; try larger steps")
    if run["rise"] < 0.10 or run["best_epoch"] > run["n_epoch"] - 3:
        raise Wrong(f"with {rate} the validation loss is lowest at epoch {run['best_epoch']} of {run['n_epoch']} and "
                    f"ends {100 * run['rise']:.0f} % above it: no clear overfitting yet")
    return (f"with a learning rate of {rate} the training loss falls to {100 * run['train_ratio']:.0f} % of its "
            f"first value, while the validation loss is lowest at epoch {run['best_epoch']}, then rises by "
            f"{100 * run['rise']:.0f} %: the model learns its 16 training tracks by heart. Early stopping would keep "
            "that epoch's weights.")


@exercise("05.5", "05_training_tagging", "macro recall by hand", "macro_recall",
          "write macro_recall(y_true, y_pred): the recall of each class that y_true holds (the fraction of its "
          "items predicted as that class), averaged over those classes.",
          ["The recall of one class: of the items that truly are that class, the share the model gave that class.",
           "Compute it for each class present in y_true, then average those numbers: each class counts once, "
           "however many items it has.",
           "NumPy's boolean masks select the items of one class: y_pred[y_true == c]."])
def _check_macro_recall(macro_recall):
    from sklearn.metrics import balanced_accuracy_score

    rng = np.random.default_rng(1)
    case_l = [(np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 2]), np.array([0, 0, 0, 0, 0, 0, 0, 0, 2, 1])),
              (rng.integers(0, 5, 40), rng.integers(0, 5, 40))]
    for y_true, y_pred in case_l:
        answer = as_float(call(macro_recall, y_true, y_pred), "the macro recall")
        expected, accuracy = balanced_accuracy_score(y_true, y_pred), float(np.mean(y_true == y_pred))
        if np.isclose(answer, expected):
            continue
        if np.isclose(answer, accuracy):
            raise Wrong(f"you gave {answer:.3f}, the accuracy (each item counts once); the macro recall, where each "
                        f"class counts once, is {expected:.3f} for y_true {y_true.tolist()}")
        raise Wrong(f"for y_true {y_true.tolist()} and y_pred {y_pred.tolist()} you gave {answer:.3f}, expected "
                    f"{expected:.3f}")
    return "the same values as sklearn.metrics.balanced_accuracy_score, on an unbalanced case where accuracy differs."
