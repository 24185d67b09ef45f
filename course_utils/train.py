"""The training loop of the course, packaged once it has been written out in notebooks/05.

``fit`` runs epochs of training and validation with tqdm progress, keeps the best model (lowest
validation loss, or highest validation score when ``valid_score_fn`` is given), stops early after
``patience`` epochs without improvement, and saves the best weights with the YAML config used.
``load_checkpoint`` builds the model back from those two files.

Taught in notebooks/05_training_tagging.ipynb.
"""

import copy
import math
from pathlib import Path

import torch
import yaml
from tqdm.auto import tqdm

from course_utils.model_factory import NetModel, to_plain


def train_one_epoch(model, loader, loss_fn, optimizer, device):
    """One pass over ``loader`` updating the model; returns the mean training loss (float)."""
    model.train()
    total, n_item = 0.0, 0
    for batch in loader:
        X, y = batch["X"].to(device), batch["y"].to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(X)
        n_item += len(X)
    return total / n_item


@torch.no_grad()
def evaluate_loss(model, loader, loss_fn, device):
    """Mean loss over ``loader`` in eval mode (no update)."""
    model.eval()
    total, n_item = 0.0, 0
    for batch in loader:
        X, y = batch["X"].to(device), batch["y"].to(device)
        total += loss_fn(model(X), y).item() * len(X)
        n_item += len(X)
    return total / n_item


class EarlyStopping:
    """Remembers the best validation value and says when ``patience`` epochs have passed without progress."""

    def __init__(self, patience, higher_is_better=False):
        self.patience, self.higher_is_better = patience, higher_is_better
        self.best, self.best_epoch, self.n_bad_epoch = None, -1, 0

    def step(self, value, epoch):
        """Record an epoch's value; returns True when it is the best so far."""
        improved = self.best is None or (value > self.best if self.higher_is_better else value < self.best)
        if improved:
            self.best, self.best_epoch, self.n_bad_epoch = value, epoch, 0
        else:
            self.n_bad_epoch += 1
        return improved

    @property
    def should_stop(self):
        return self.n_bad_epoch >= self.patience


def fit(model, train_loader, valid_loader, loss_fn, optimizer, max_epoch, patience, device,
        checkpoint_path=None, config=None, valid_score_fn=None):
    """Train with early stopping on the validation split; the model ends with its best weights.

    Parameters
    ----------
    model, loss_fn, optimizer : torch objects; ``loss_fn(model(batch['X']), batch['y'])``
    train_loader, valid_loader : DataLoaders of dicts with 'X' and 'y'
    max_epoch, patience : int
    device : torch.device
    checkpoint_path : path of the ``.pt`` file for the best model (its YAML config goes beside it)
    config : the config used (saved with the checkpoint)
    valid_score_fn : optional ``f(model) -> float``, higher is better (e.g. validation MAP); when given,
        it chooses the best epoch instead of the validation loss

    Returns
    -------
    history : dict with lists ``train_loss``, ``valid_loss``, ``valid_score`` and ``best_epoch``
    """
    stopper = EarlyStopping(patience, higher_is_better=valid_score_fn is not None)
    history = {"train_loss": [], "valid_loss": [], "valid_score": [], "best_epoch": -1}
    best_state = copy.deepcopy(model.state_dict())
    progress = tqdm(range(max_epoch), desc="epochs", unit="epoch")
    for epoch in progress:
        history["train_loss"].append(train_one_epoch(model, train_loader, loss_fn, optimizer, device))
        history["valid_loss"].append(evaluate_loss(model, valid_loader, loss_fn, device))
        score = valid_score_fn(model) if valid_score_fn is not None else math.nan
        history["valid_score"].append(score)
        if stopper.step(score if valid_score_fn is not None else history["valid_loss"][-1], epoch):
            best_state = copy.deepcopy(model.state_dict())
            if checkpoint_path is not None:
                save_checkpoint(checkpoint_path, model, config)
        progress.set_postfix(train=f"{history['train_loss'][-1]:.3f}", valid=f"{history['valid_loss'][-1]:.3f}",
                             score=f"{score:.3f}", best=stopper.best_epoch)
        if stopper.should_stop:
            break
    model.load_state_dict(best_state)
    history["best_epoch"] = stopper.best_epoch
    return history


def save_checkpoint(checkpoint_path, model, config):
    """Save ``model`` (weights + input shape) to ``checkpoint_path`` and its config beside it (``.yaml``)."""
    checkpoint_path = Path(checkpoint_path)
    checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "input_dim": model.input_dim}, checkpoint_path)
    with open(checkpoint_path.with_suffix(".yaml"), "w", encoding="utf-8") as fid:
        yaml.safe_dump(to_plain(config), fid, sort_keys=False)


def load_checkpoint(checkpoint_path, device="cpu"):
    """Rebuild a saved model from its ``.pt`` and ``.yaml``: returns (model in eval mode, config dict)."""
    checkpoint_path = Path(checkpoint_path)
    config_path = checkpoint_path.with_suffix(".yaml")
    for path in (checkpoint_path, config_path):
        if not path.exists():
            raise FileNotFoundError(f"{path}: not found; a checkpoint is a .pt file with its .yaml config beside it")
    with open(config_path, encoding="utf-8") as fid:
        config = yaml.safe_load(fid)
    saved = torch.load(checkpoint_path, map_location=device, weights_only=True)
    model = NetModel(config, saved["input_dim"])
    model.load_state_dict(saved["state_dict"])
    return model.to(device).eval(), config
