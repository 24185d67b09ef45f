"""A trained model as two files: ``<name>.pt`` (the weights and the input shape) and ``<name>.yaml`` (the config it
was built from), enough to rebuild it in another program (``load_checkpoint``).

``save_checkpoint`` is safe with other processes and with interruptions (``safe_files``): it holds the
checkpoint's lock, removes the temporary files of earlier saves that were killed, checks that the disk has room
for the weights, writes both files under names of its own and moves them into place together (Ctrl-C and SIGTERM
deferred): an interrupted or failed save keeps the previous checkpoint whole. The ``.pt`` holds a hash of its
``.yaml``, so that a pair from two different saves is refused when loading.

Taught in notebooks/05_training_tagging.ipynb.
"""

import hashlib
from pathlib import Path

import torch
import yaml

from course_utils import safe_files
from course_utils.config import ConfigError, as_config, to_plain
from course_utils.model_factory import NetModel


def _checkpoint_paths(checkpoint_path):
    checkpoint_path = Path(checkpoint_path)
    if checkpoint_path.suffix != ".pt":
        raise ValueError(f"{checkpoint_path}: a checkpoint path ends in .pt (its config is written beside it, "
                         f"as {checkpoint_path.with_suffix('.yaml').name}); got '{checkpoint_path.suffix}'")
    return checkpoint_path, checkpoint_path.with_suffix(".yaml")


def _config_text(checkpoint_path, config):
    """The YAML text of the config saved with a checkpoint; it must describe the model (``model.block_l``)."""
    if config is None:
        raise ConfigError("save_checkpoint needs the config the model was built from (to rebuild it when loading)")
    config_d = to_plain(config)
    if not isinstance(config_d, dict) or not isinstance((config_d.get("model") or {}).get("block_l"), list):
        raise ConfigError(f"{checkpoint_path}: the config saved with a checkpoint must hold model.block_l (the whole "
                          "config the model was built from)")
    try:
        return yaml.safe_dump(config_d, sort_keys=False)
    except yaml.representer.RepresenterError as error:
        raise ConfigError(f"{checkpoint_path}: a config value cannot be written to YAML ({error.args[-1]!r}); use "
                          "numbers, strings, lists and mappings") from None


def save_checkpoint(checkpoint_path, model, config):
    """Save ``model`` (weights + input shape) to ``checkpoint_path`` (``.pt``) and its config beside it (``.yaml``).

    A full disk is one ``safe_files.DiskFullError`` naming the file, with the space free and needed; the
    previous checkpoint stays.
    """
    checkpoint_path, config_path = _checkpoint_paths(checkpoint_path)
    config_text = _config_text(checkpoint_path, config)
    checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
    state_dict = model.state_dict()
    needed_bytes = sum(tensor.numel() * tensor.element_size() for tensor in state_dict.values()) + len(config_text)
    with safe_files.file_lock(checkpoint_path), safe_files.terminate_as_interrupt():
        for path in (checkpoint_path, config_path):
            safe_files.remove_stale_partials(path)
        safe_files.ensure_free_space(checkpoint_path, needed_bytes)
        partial_pt, partial_yaml = safe_files.partial_path(checkpoint_path), safe_files.partial_path(config_path)
        try:
            with safe_files.disk_full_reported(checkpoint_path, needed_bytes):
                torch.save({"state_dict": state_dict, "input_dim": model.input_dim,
                            "config_sha256": hashlib.sha256(config_text.encode("utf-8")).hexdigest()}, partial_pt)
                partial_yaml.write_text(config_text, encoding="utf-8")
            safe_files.replace_all([(partial_yaml, config_path), (partial_pt, checkpoint_path)])
        finally:
            partial_pt.unlink(missing_ok=True)
            partial_yaml.unlink(missing_ok=True)


def _checked_device(device):
    """A torch.device that this machine has; an error naming the device otherwise (not a damaged file)."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device {device!r} is not a torch device ({error}); use 'cpu', 'cuda', 'mps' or "
                         "runtime.get_device()") from None
    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()}
    if not available.get(device.type, True):
        raise ValueError(f"device '{device}' is not available on this machine; load the model with device='cpu' or "
                         "device=runtime.get_device() (the best device this machine has)")
    return device


def load_checkpoint(checkpoint_path, device="cpu"):
    """Rebuild a saved model from its ``.pt`` and ``.yaml``: returns (model in eval mode on ``device``, Config)."""
    checkpoint_path, config_path = _checkpoint_paths(checkpoint_path)
    device = _checked_device(device)
    for path in (checkpoint_path, config_path):
        if not path.exists():
            raise FileNotFoundError(f"{path}: not found; a checkpoint is a .pt file with its .yaml config beside it")
    config_text = config_path.read_text(encoding="utf-8")
    try:
        config = as_config(yaml.safe_load(config_text))
    except (yaml.YAMLError, ConfigError) as error:
        raise ConfigError(f"{config_path}: not a readable config ({error}); save the checkpoint again") from None
    try:
        saved = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        state_dict, input_dim = saved["state_dict"], saved["input_dim"]
    except Exception as error:  # torch raises many types for a truncated or foreign file
        raise ValueError(f"{checkpoint_path}: not a readable checkpoint ({type(error).__name__}: {error}); it may be "
                         "truncated by an interrupted copy: train the model again or restore the file") from None
    expected_sha256 = saved.get("config_sha256")
    if expected_sha256 is not None and expected_sha256 != hashlib.sha256(config_text.encode("utf-8")).hexdigest():
        raise ValueError(f"{config_path} is not the config saved with {checkpoint_path.name} (the two files come "
                         "from different saves, e.g. an interrupted one or a copy): train the model again or "
                         "restore both files together")
    model = NetModel(config, input_dim)
    model.load_state_dict(state_dict)
    return model.to(device).eval(), config
