"""Solutions of the exercises of notebooks/05_training_tagging.ipynb."""

import numpy as np
import torch


def training_step(model, batch, loss_fn, optimizer):
    """One step of gradient descent on one batch; returns the loss (float)."""
    optimizer.zero_grad()
    loss = loss_fn(model(batch["X"]), batch["y"])
    loss.backward()
    optimizer.step()
    return loss.item()


def validation_loss(model, loader, loss_fn):
    """Mean loss over every item of the loader, in eval mode, without gradients (float)."""
    model.eval()
    total, n_item = 0.0, 0
    with torch.no_grad():
        for batch in loader:
            total += loss_fn(model(batch["X"]), batch["y"]).item() * len(batch["X"])
            n_item += len(batch["X"])
    return total / n_item


def early_stopping(valid_loss_l, patience):
    """(best_epoch, stop_epoch): the epoch of the lowest loss, and the epoch where `patience` epochs in a row have
    not improved on it (None if training never stops)."""
    best_loss, best_epoch, n_bad_epoch = None, -1, 0
    for epoch, loss in enumerate(valid_loss_l):
        if best_loss is None or loss < best_loss:
            best_loss, best_epoch, n_bad_epoch = loss, epoch, 0
        else:
            n_bad_epoch += 1
            if n_bad_epoch >= patience:
                return best_epoch, epoch
    return best_epoch, None


# ten times the faster of the two runs: within the run, the model learns its 16 tracks by heart. It is also the
# rate of the main training, whose validation loss goes well below chance: it has every training track, augmented.
# What overfits is the 16 tracks; the rate only decides how soon.
my_learning_rate = 1e-3


def macro_recall(y_true, y_pred):
    """Mean over the classes of y_true of each class's recall (every class counts once, whatever its size)."""
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]))
