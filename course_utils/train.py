"""The training loop of the course, packaged once it has been written out in notebooks/05.

- ``train_settings`` reads the ``train`` section of a config (fast-mode overrides included);
- ``make_loaders`` makes the DataLoaders of the splits with the config's batch size;
- ``fit`` runs epochs of training and validation with tqdm progress, keeps the best model (lowest
  validation loss, or highest validation score when ``valid_score_fn`` is given), stops early after
  ``patience`` epochs without improvement, and saves the best weights with the YAML config used;
- checkpoints (the best model as two files, ``.pt`` and ``.yaml``) are written by ``course_utils.checkpoint``.
Taught in notebooks/05_training_tagging.ipynb.
"""

import copy
import math
import warnings

import torch
from torch.utils.data import DataLoader, DistributedSampler
from tqdm.auto import tqdm

from course_utils import augment, checkpoint, runtime
from course_utils.config import ConfigError, as_config, closest_name

# Settings of the ``train`` section that ``fit`` and ``make_loaders`` read, with their defaults (None: required).
# channels_last: 4-D inputs and convolutions in channels-last memory format (1.4x faster training steps of the
# course's conv2d models on a CPU, benchmarks/bench_training.py); compile: torch.compile the training steps (faster
# after a one-off compilation of 7-25 s; needs a C++ compiler; off by default). mixed_precision: autocast on CUDA
# (bfloat16 where the GPU has it, else float16 with gradient scaling); no effect on a CPU or MPS. seed: the
# shuffle of the training batches across the processes of a distributed run (DistributedSampler).
TRAIN_DEFAULT_D = {"batch_size": None, "learning_rate": None, "max_epoch": None, "patience": None,
                   "valid_batch_size": 64, "channels_last": True, "compile": False, "mixed_precision": True,
                   "seed": 0}


def _whole(minimum):
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _number(minimum, strict=False):
    return lambda value: (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
                          and (value > minimum if strict else value >= minimum))


# The vocabulary of the train section: key -> (check, what the value must be). The same keys may be overridden
# under ``fast:`` (the fast mode of the test run). A key that is not here is a typo until it is added here.
TRAIN_KEY_D = {
    "batch_size": (_whole(1), "a whole number >= 1"),
    "valid_batch_size": (_whole(1), "a whole number >= 1"),
    "learning_rate": (_number(0, strict=True), "a number > 0, e.g. 0.001"),
    "max_epoch": (_whole(1), "a whole number >= 1"),
    "patience": (_whole(1), "a whole number >= 1 (epochs without improvement before stopping)"),
    "channels_last": (lambda value: isinstance(value, bool), "true or false"),
    "compile": (lambda value: isinstance(value, bool), "true or false"),
    "mixed_precision": (lambda value: isinstance(value, bool), "true or false"),
    "seed": (_whole(0), "a whole number >= 0"),
    "augment": (lambda value: isinstance(value, dict), "a mapping, e.g. {random_eq: 3.0}"),
    "margin": (_number(0), "a number >= 0 (the triplet loss's margin)"),
    "mining": (lambda value: value in ("random", "semihard"), "random or semihard"),
    "pos_weight": (lambda value: value is False or _number(1)(value), "false or the largest weight of the positives"),
}


def check_train_section(section_d, where="train"):
    """Every key of a ``train`` section (or of its ``fast:`` overrides) known and of the right type and range; a
    ConfigError names the key, its value, what it must be, and the closest known key for a typo."""
    for key, value in section_d.items():
        if key == "fast" and where == "train":
            if not isinstance(value, dict):
                raise ConfigError(f"train.fast must be a mapping of overrides, e.g. fast: {{max_epoch: 8}}; got "
                                  f"{value!r}")
            check_train_section(value, "train.fast")
            continue
        if key not in TRAIN_KEY_D:
            raise ConfigError(f"{where}.{key} is not a training setting.{closest_name(key, TRAIN_KEY_D)} The settings: "
                              f"{', '.join(TRAIN_KEY_D)}")
        check, what = TRAIN_KEY_D[key]
        if not check(value):
            quoted = " (a string: write numbers without quotes)" if isinstance(value, str) else ""
            raise ConfigError(f"{where}.{key} must be {what}; got {value!r}{quoted}")


def train_settings(config, fast_mode=False):
    """The ``train`` section of a config, checked (``check_train_section``), with its ``fast`` overrides applied in
    fast mode.

    A config says, e.g., ``train: {batch_size: 32, learning_rate: 0.001, max_epoch: 30, patience: 5,
    fast: {max_epoch: 8}}``: 30 epochs in the default mode, 8 in the fast mode of the test run.

    Returns
    -------
    settings : Config with ``batch_size``, ``learning_rate``, ``max_epoch``, ``patience``,
        ``valid_batch_size`` (default 64) and every other key of the section (e.g. ``margin``)
    """
    config = as_config(config)
    if not isinstance(config.get("train"), dict):
        raise ConfigError("the config has no 'train' section (batch_size, learning_rate, max_epoch, patience)")
    check_train_section(config.train.to_dict())
    settings_d = {key: value for key, value in config.train.to_dict().items() if key != "fast"}
    if fast_mode:
        settings_d.update(config.train.get("fast") or {})
    for key, default in TRAIN_DEFAULT_D.items():
        if settings_d.get(key) is None:
            if default is None:
                raise ConfigError(f"train.{key} is missing; the train section needs "
                                  f"{', '.join(k for k, v in TRAIN_DEFAULT_D.items() if v is None)}")
            settings_d[key] = default
    return as_config(settings_d, "train")


def make_loaders(dataset_d, config, generator=None, collate_fn=None, fast_mode=False):
    """DataLoaders of the splits of ``dataset_d`` (split -> Dataset): 'train' shuffled with the config's
    ``batch_size`` and augmented by its ``train.augment`` (``augment.train_collate``; not with a
    ``collate_fn`` of your own), the others in order with ``valid_batch_size``. Returns split -> DataLoader."""
    settings = train_settings(config, fast_mode)
    train_collate_fn = augment.train_collate(config)
    if train_collate_fn is not None and collate_fn is not None:
        raise ConfigError("train.augment works with the default collate only; augment in your collate_fn instead")
    loader_d = {}
    for split, ds in dataset_d.items():
        if split == "train":
            batch_size, sampler = _train_batching(ds, settings)
            loader_d[split] = DataLoader(ds, batch_size=batch_size, sampler=sampler, shuffle=sampler is None,
                                         generator=generator if sampler is None else None,
                                         collate_fn=train_collate_fn or collate_fn)
        else:  # every process evaluates the whole split: the same numbers, the same early stopping everywhere
            loader_d[split] = DataLoader(ds, batch_size=settings.valid_batch_size, collate_fn=collate_fn)
    return loader_d


class on_device:  # noqa: N801 (used like a function: for batch in train.on_device(loader, device))
    """The batches of ``loader`` with their tensors moved to ``device`` (each epoch iterates it again): code written
    for the CPU, such as a student's training step, then runs on a GPU unchanged."""

    def __init__(self, loader, device):
        self.loader, self.device = loader, torch.device(device)

    def __iter__(self):
        for batch in self.loader:
            yield {key: value.to(self.device) if torch.is_tensor(value) else value for key, value in batch.items()}

    def __len__(self):
        return len(self.loader)


def _train_batching(ds, settings):
    """(batch size per process, sampler) of the training loader: (batch_size, None) in a plain run; in a
    distributed one, each of the N processes takes batch_size / N items of every global batch."""
    if not torch.distributed.is_available() or not torch.distributed.is_initialized():
        return settings.batch_size, None
    world_size = torch.distributed.get_world_size()
    if settings.batch_size % world_size:
        raise ConfigError(f"train.batch_size {settings.batch_size} is the global batch: it must divide among the "
                          f"{world_size} processes")
    return settings.batch_size // world_size, DistributedSampler(ds, num_replicas=world_size,
                                                                 rank=torch.distributed.get_rank(), shuffle=True,
                                                                 seed=int(settings.seed))


def training_step(model, batch, loss_fn, optimizer, epoch=0, idx_batch=0):
    """One step of gradient descent on one batch: the model's output for ``batch['X']``, its loss against
    ``batch['y']``, the gradients, one update of the weights. Returns the loss (float).

    A loss that is not a finite number raises ``FloatingPointError`` (naming ``epoch`` and ``idx_batch``) before the
    update that would spread it to the weights. Taught in notebooks/05_training_tagging.ipynb (exercise 05.1).
    """
    device = next(model.parameters()).device
    return _step(model, batch, supervised_batch_loss(loss_fn, device), optimizer, device, epoch=epoch,
                 idx_batch=idx_batch)


def supervised_batch_loss(loss_fn, device, memory_format=torch.contiguous_format):
    """The batch loss of a supervised task: ``loss_fn(model(X), y)`` of the batch's ``'X'`` and ``'y'`` moved to
    ``device`` (4-D inputs in ``memory_format``). A function ``(model, batch) -> loss``, what ``fit`` calls on
    each batch unless given another (e.g. ``contrastive.views_batch_loss``: two views, no label)."""

    def batch_loss(model, batch):
        X, y = batch["X"].to(device), batch["y"].to(device)
        if X.dim() == 4:
            X = X.contiguous(memory_format=memory_format)
        return loss_fn(model(X), y)

    return batch_loss


def _batch_size(batch):
    """Items in a batch: the length of its ``'X'`` (or of its first tensor)."""
    if "X" in batch:
        return len(batch["X"])
    return len(next(value for value in batch.values() if torch.is_tensor(value)))


def _step(model, batch, batch_loss, optimizer, device, autocast_dtype=None, scaler=None, epoch=0, idx_batch=0):
    optimizer.zero_grad()
    with torch.autocast(torch.device(device).type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
        loss = batch_loss(model, batch)
    if not math.isfinite(loss.item()):
        raise FloatingPointError(_not_finite_message("training", loss.item(), epoch, idx_batch, batch, optimizer))
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()
    return loss.item()


def train_one_epoch(model, loader, loss_fn, optimizer, device, memory_format=torch.contiguous_format,
                    autocast_dtype=None, scaler=None, epoch=0, batch_loss=None):
    """One pass over ``loader`` updating the model (one step on each batch); returns the mean training loss per item.

    ``memory_format``: torch.channels_last to feed 4-D inputs in the layout of a channels-last model.
    ``autocast_dtype``: run the forward pass in this precision on CUDA (mixed precision), None: float32;
    ``scaler``: a ``torch.amp.GradScaler`` for float16. ``batch_loss``: ``(model, batch) -> loss`` (default
    ``supervised_batch_loss(loss_fn, device, memory_format)``). In a distributed run the mean is over all processes.
    """
    batch_loss = batch_loss or supervised_batch_loss(loss_fn, device, memory_format)
    model.train()
    total, n_item = 0.0, 0
    for idx_batch, batch in enumerate(loader):
        n_batch_item = _batch_size(batch)
        total += _step(model, batch, batch_loss, optimizer, device, autocast_dtype, scaler, epoch,
                       idx_batch) * n_batch_item
        n_item += n_batch_item
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        sum_v = torch.tensor([total, float(n_item)], dtype=torch.float64)
        torch.distributed.all_reduce(sum_v)
        total, n_item = sum_v.tolist()
    if n_item == 0:
        raise ValueError(_empty_loader_message("training", loader))
    return total / n_item


def _not_finite_message(what, value, epoch, idx_batch, batch, optimizer):
    """Why training stopped on a loss that is NaN or infinite, and where to look."""
    input_l = [X for key, X in batch.items() if key != "y" and torch.is_tensor(X) and X.is_floating_point()]
    cause = ("the inputs of this batch hold NaN or inf: check the audio and the features" if not
             all(torch.isfinite(X).all() for X in input_l) else f"the learning rate "
             f"({optimizer.param_groups[0]['lr']}) may be too high, or the targets out of the loss's range")
    return (f"the {what} loss is {value} at epoch {epoch}, batch {idx_batch}: {cause}. Training stopped; no "
            "checkpoint of this epoch was written")


def _empty_loader_message(what, loader):
    n_item = len(loader.dataset) if hasattr(loader, "dataset") else "?"
    return (f"the {what} DataLoader gave no batch (its dataset has {n_item} items); check the split, and a "
            "batch_size larger than the split with drop_last=True")


@torch.no_grad()
def evaluate_loss(model, loader, loss_fn, device, epoch=0, batch_loss=None):
    """Mean loss per item over ``loader`` in eval mode (no update); a loss that is not finite is a
    ``FloatingPointError``. ``batch_loss`` as in ``train_one_epoch``."""
    batch_loss = batch_loss or supervised_batch_loss(loss_fn, device)
    model.eval()
    total, n_item = 0.0, 0
    for batch in loader:
        n_batch_item = _batch_size(batch)
        total += batch_loss(model, batch).item() * n_batch_item
        n_item += n_batch_item
    if n_item == 0:
        raise ValueError(_empty_loader_message("validation", loader))
    if not math.isfinite(total):
        raise FloatingPointError(f"the validation loss is {total / n_item} at epoch {epoch}: check the validation "
                                 "split's features for NaN or inf; no checkpoint of this epoch was written")
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


def fit(model, train_loader, valid_loader, loss_fn, config, device=None, optimizer=None, checkpoint_path=None,
        valid_score_fn=None, fast_mode=False, batch_loss=None, keep_last=False, settings=None):
    """Train with early stopping on the validation split; the model ends with its best weights. The one training
    loop of the course: every task trains with it (a new one gives its Dataset, its batch loss and a YAML model).

    Parameters
    ----------
    model, loss_fn : torch objects; ``loss_fn(model(batch['X']), batch['y'])``
    train_loader, valid_loader : DataLoaders of dicts with 'X' and 'y' (``make_loaders``), or what ``batch_loss`` reads
    config : the whole config, saved with the checkpoint; ``settings`` (default ``train_settings(config, fast_mode)``)
        gives ``max_epoch``, ``patience``, ``learning_rate`` and the speed settings below
    device : torch.device (default: the device of the model's parameters)
    optimizer : default ``Adam(model.parameters(), lr=learning_rate)``
    checkpoint_path : path of the ``.pt`` file for the best model (its YAML config goes beside it)
    valid_score_fn : optional ``f(model) -> float``, higher is better (e.g. validation MAP); when given,
        it chooses the best epoch instead of the validation loss
    fast_mode : bool, apply the config's ``train.fast`` overrides (the notebooks pass ``runtime.is_fast_mode()``)
    batch_loss : ``(model, batch) -> loss`` of a training or validation batch (default ``supervised_batch_loss``;
        e.g. ``contrastive.views_batch_loss``: two views of each item, no label)
    keep_last : train every epoch and keep the last weights (no early stopping; the checkpoint follows each epoch):
        for a loss with nothing to overfit, e.g. contrastive pretraining

    Speed settings: ``channels_last`` (default true), ``compile`` (default false; if torch.compile fails, e.g.
    without a C++ compiler, training goes on without it, with a warning), ``mixed_precision`` (default true; CUDA).
    Several GPUs or machines: ``torchrun``, ``runtime.init_distributed()`` first and ``finish_distributed()``
    last; ``fit`` then trains a ``DistributedDataParallel`` copy (``make_loaders`` shards the training batches),
    every process evaluates the whole validation split, and rank 0 alone writes the checkpoint and the progress.

    Returns
    -------
    history : dict with lists ``train_loss``, ``valid_loss``, ``valid_score`` and ``best_epoch``
    """
    settings = settings if settings is not None else train_settings(config, fast_mode)
    device = device if device is not None else next(model.parameters()).device
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    step_model, memory_format = _fast_training_setup(model, settings, device)
    precision = runtime.mixed_precision(settings.mixed_precision, device)
    run = _Run(model, step_model, optimizer, device, memory_format, precision,
               batch_loss or supervised_batch_loss(loss_fn, device, memory_format))
    stopper = EarlyStopping(settings.max_epoch if keep_last else settings.patience,
                            higher_is_better=valid_score_fn is not None and not keep_last)
    history = {"train_loss": [], "valid_loss": [], "valid_score": [], "best_epoch": -1}
    best_state = copy.deepcopy(model.state_dict())
    progress = tqdm(range(settings.max_epoch), desc="epochs", unit="epoch", disable=not runtime.is_main_process())
    for epoch in progress:
        run.epoch(train_loader, valid_loader, valid_score_fn, epoch, history)
        chosen_l = history["valid_loss"] if valid_score_fn is None else history["valid_score"]
        if stopper.step(-epoch if keep_last else chosen_l[-1], epoch) or keep_last:
            best_state = copy.deepcopy(model.state_dict())
            if checkpoint_path is not None and runtime.is_main_process():
                checkpoint.save_checkpoint(checkpoint_path, model, config)
        progress.set_postfix(train=f"{history['train_loss'][-1]:.3f}", valid=f"{history['valid_loss'][-1]:.3f}",
                             score=f"{history['valid_score'][-1]:.3f}", best=stopper.best_epoch)
        if stopper.should_stop and not keep_last:
            break
    model.load_state_dict(best_state)
    history["best_epoch"] = len(history["train_loss"]) - 1 if keep_last else stopper.best_epoch
    return history


class _Run:
    """What the epochs of one ``fit`` share: the model (and its compiled or distributed wrapper for the steps), the
    optimizer, the device, the inputs' memory format, the precision and the batch loss."""

    def __init__(self, model, step_model, optimizer, device, memory_format, precision, batch_loss):
        self.model, self.step_model, self.optimizer, self.device = model, step_model, optimizer, device
        self.memory_format, self.precision, self.batch_loss = memory_format, precision, batch_loss

    def epoch(self, train_loader, valid_loader, valid_score_fn, epoch, history):
        """Train one epoch, then evaluate: appends the epoch's training loss, validation loss and score."""
        if isinstance(getattr(train_loader, "sampler", None), DistributedSampler):
            train_loader.sampler.set_epoch(epoch)  # a new shuffle each epoch, the same in every process
        self.step_model, train_loss = _train_epoch(self.step_model, self.model, train_loader, self.batch_loss,
                                                   self.optimizer, self.device, self.memory_format, self.precision,
                                                   epoch)
        history["train_loss"].append(train_loss)
        history["valid_loss"].append(evaluate_loss(self.model, valid_loader, None, self.device, epoch,
                                                   self.batch_loss))
        history["valid_score"].append(valid_score_fn(self.model) if valid_score_fn is not None else math.nan)


def _train_epoch(step_model, model, train_loader, batch_loss, optimizer, device, memory_format, precision, epoch):
    """One training epoch with ``step_model`` (the model, or its compiled or distributed wrapper); when
    ``torch.compile`` fails (e.g. no C++ compiler), the epoch runs again without it, with a warning.
    Returns (the module to use from now on, the epoch's mean training loss)."""
    try:
        return step_model, train_one_epoch(step_model, train_loader, None, optimizer, device, memory_format,
                                           *precision, epoch=epoch, batch_loss=batch_loss)
    except Exception as error:
        if step_model is model or not type(error).__module__.startswith(("torch._dynamo", "torch._inductor")):
            raise
        warnings.warn(f"torch.compile failed ({type(error).__name__}); training without it. Set train.compile: "
                      "false in the config to skip the attempt.", stacklevel=3)
        step_model = runtime.distributed_model(model, device)
        return step_model, train_one_epoch(step_model, train_loader, None, optimizer, device, memory_format,
                                           *precision, epoch=epoch, batch_loss=batch_loss)


def _fast_training_setup(model, settings, device):
    """(module for the training steps, memory format of their inputs) from ``channels_last``, ``compile``
    and a distributed run (a ``DistributedDataParallel`` wrapper).

    Channels-last changes the layout of the model's 4-D weights in place (same values, same state_dict);
    the wrapped and compiled modules share the model's parameters, so the model itself is what is saved and
    evaluated.
    """
    memory_format = torch.contiguous_format
    if settings.channels_last and len(getattr(model, "input_dim", [])) == 4:
        model.to(memory_format=torch.channels_last)
        memory_format = torch.channels_last
    step_model = runtime.distributed_model(model, device)
    return (torch.compile(step_model) if settings.compile else step_model), memory_format
