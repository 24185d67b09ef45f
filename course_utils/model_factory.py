"""A whole PyTorch model from a YAML file: ``NetModel(config, current_input_dim)``.

A model file lists blocks of sequentials of layers, each layer written ``[Type, params]``::

    model:
        name: TagCNN
        block_l:
        - sequential_l:
            - layer_l:
                - [BatchNorm2d, {num_features: -1}]
                - [Conv2d, {in_channels: -1, out_channels: 64, kernel_size: [5, 5], padding: same}]
                - [Activation, ReLU]

A parameter ``-1`` is inferred from the incoming tensor: ``NetModel`` passes a real tensor through each
layer as it builds it, so every shape is known without hand-written formulas, and a layer that cannot
take its input is reported with its path (``block_l[0].sequential_l[0].layer_l[1]``) when the model is
built, not in the middle of training. Layer types come from an explicit registry: the course layers of
``course_utils.layers`` plus an allow-list of ``torch.nn`` classes. Config files are read by
``course_utils.config.load_config``; the model's input shape for a feature is ``feature.feature_input_dim``.

Taught in notebooks/04_model_from_yaml.ipynb.
"""

import inspect

import torch
from torch import nn

from course_utils import bottleneck, layers, sequence
from course_utils.config import ConfigError, closest_name, to_plain

# --- the registry ---------------------------------------------------------------------------------

TORCH_LAYER_D = {name: getattr(nn, name) for name in (
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d",
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
    "Linear", "Dropout", "Dropout2d", "Flatten", "Identity", "Upsample", "CircularPad2d")}
COURSE_LAYER_D = {name: getattr(layers, name) for name in (
    "BatchNorm1dT", "Squeeze", "UnSqueeze", "Permute", "Mean", "Max", "AutoPoolWeightSplit", "SoftmaxWeight",
    "LSTMlast", "LSTMall", "SincNet", "Conv1dTCN", "Conv2dRes", "Conv2dNext", "Conv2dDS", "DoubleChannel",
    "AbsLayer", "AutoPoolWeight")} | bottleneck.LAYER_D | sequence.LAYER_D  # + notebooks 10 and 11's layers
ACTIVATION_D = {name: getattr(nn, name) for name in (
    "ReLU", "LeakyReLU", "PReLU", "ELU", "GELU", "SiLU", "Tanh", "Sigmoid", "Softplus", "Softmax",
    "LogSoftmax", "Identity")}
SPECIAL_TYPES = ("Activation", "StoreAs", "CatWith", "FiLM")


def layer_types():
    """Every layer type a YAML model may use, sorted: the torch layers, the course's layers and the special types.
    A new layer is a class in ``layers`` and its name in ``COURSE_LAYER_D`` (docs/extending.md)."""
    return sorted([*TORCH_LAYER_D, *COURSE_LAYER_D, *SPECIAL_TYPES])


# Parameters that may be -1, and how each is read from the incoming tensor X.
INFERABLE_D = {
    "in_channels": lambda X, layer_type: X.shape[1],
    "num_features": lambda X, layer_type: X.shape[-1] if layer_type == "BatchNorm1dT" else X.shape[1],
    "in_features": lambda X, layer_type: X.shape[-1],
    "normalized_shape": lambda X, layer_type: list(X.shape[1:]),
    "input_size": lambda X, layer_type: X.shape[-1],
    "embed_dim": lambda X, layer_type: X.shape[-1],
}
# Layers whose size is inferred (YAML params: empty, or only the options listed here).
_AUTO_PARAM_D = {"AutoPoolWeightSplit": lambda X: {"n_channels": X.shape[1]},
                 "SoftmaxWeight": lambda X: {"n_channels": X.shape[1]}}
_AUTO_OPTION_D = {"AutoPoolWeightSplit": ("sharpness",), "SoftmaxWeight": ()}


class _KeyLayer(nn.Module):
    """A step of the forward pass that refers to a stored tensor by its key (handled by ``_apply_layer``)."""

    def __init__(self, key):
        super().__init__()
        self.key = key

    def extra_repr(self):
        return f"key={self.key!r}"


class StoreAs(_KeyLayer):
    """Keep the current tensor under ``key`` (for a later ``CatWith``: U-Net skip connections)."""


class CatWith(_KeyLayer):
    """Concatenate the tensor stored under ``key`` to the current one on the channel axis (dim 1)."""


class FiLM(_KeyLayer):
    """Feature-wise linear modulation (Perez et al., 2018; the C-U-Net's control, Meseguer-Brocal and Peeters,
    2019): each channel of the current tensor is scaled and shifted by values learned from a condition,
    ``X * (1 + gamma) + beta``. The condition is read from the tensor stored under ``key``: its last
    ``condition_channels`` channels averaged over the other axes, (B, condition_channels) (e.g. the voice planes
    of ``separation.with_voice_planes``: a one-hot voice id). gamma and beta start at zero: the layer starts as
    the identity. YAML: ``[FiLM, {key: IN, condition_channels: 4}]``."""

    def __init__(self, key, condition_channels, num_channels):
        super().__init__(key)
        self.condition_channels = condition_channels
        self.gamma_beta = nn.Linear(condition_channels, 2 * num_channels)
        nn.init.zeros_(self.gamma_beta.weight)
        nn.init.zeros_(self.gamma_beta.bias)

    def modulate(self, X, stored):
        """X (B, C, ...) modulated by the condition read from ``stored`` (B, C', ...) -> (B, C, ...)."""
        condition = stored[:, -self.condition_channels:].flatten(2).mean(dim=2)
        gamma, beta = self.gamma_beta(condition).view(X.shape[0], 2, X.shape[1], *[1] * (X.dim() - 2)).unbind(1)
        return X * (1 + gamma) + beta

    def extra_repr(self):
        return f"key={self.key!r}, condition_channels={self.condition_channels}"


# --- building one layer ---------------------------------------------------------------------------


def _parse_layer_spec(spec, path):
    """``[Type, params]`` -> (type name, params dict or string); params 'empty' or absent -> {}."""
    if not isinstance(spec, (list, tuple)) or not 1 <= len(spec) <= 2 or not isinstance(spec[0], str):
        raise ConfigError(f"{path}: a layer is written [Type, params] (e.g. [Conv2d, {{out_channels: 32}}]), "
                          f"got {spec!r}")
    layer_type = spec[0]
    params = spec[1] if len(spec) == 2 else None
    if params is None or params == "empty" or params == {}:
        params = {}
    if layer_type not in layer_types():
        raise ConfigError(f"{path}: unknown layer type '{layer_type}'.{closest_name(layer_type, layer_types())} "
                          f"Valid types: {', '.join(layer_types())}")
    return layer_type, params


# Parameters that are sizes, axes or counts: whole numbers (or lists of them), never strings or floats.
INTEGER_PARAM_L = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                   "num_features", "in_features", "out_features", "input_size", "hidden_size", "num_layers",
                   "dim", "start_dim", "end_dim", "shape", "output_size", "normalized_shape", "num_channels",
                   "condition_channels")
_WORD_VALUE_D = {"padding": ("same", "valid")}  # the words torch accepts for these parameters


def _check_integer_params(params, layer_type, path):
    """A ConfigError naming the layer and the parameter when a size or an axis is not a whole number."""
    for name, value in params.items():
        if name not in INTEGER_PARAM_L or value in _WORD_VALUE_D.get(name, ()):
            continue
        item_l = value if isinstance(value, (list, tuple)) else [value]
        if not item_l or not all(isinstance(item, int) and not isinstance(item, bool) for item in item_l):
            words = f" or one of {', '.join(_WORD_VALUE_D[name])}" if name in _WORD_VALUE_D else ""
            raise ConfigError(f"{path}: {layer_type} parameter '{name}' must be a whole number or a list of whole "
                              f"numbers{words}, got {value!r}; write it as e.g. {name}: 1 (no quotes, no decimals)")


def _check_param_names(layer_class, params, layer_type, path):
    accepted_l = [name for name in inspect.signature(layer_class).parameters if name not in ("self", "args", "kwargs")]
    for name in params:
        if name not in accepted_l:
            raise ConfigError(f"{path}: {layer_type} has no parameter '{name}'.{closest_name(name, accepted_l)} "
                              f"Its parameters: {', '.join(accepted_l)}")


def _resolve_inferred(params, X, layer_type, path):
    """Replace every -1 by the value read from the incoming tensor X."""
    resolved_d = {}
    for name, value in params.items():
        if value == -1 or value == [-1]:
            if name not in INFERABLE_D:
                raise ConfigError(f"{path}: {layer_type} parameter '{name}: -1' cannot be inferred; only "
                                  f"{', '.join(INFERABLE_D)} can be -1. Give '{name}' a value.")
            value = INFERABLE_D[name](X, layer_type)
        resolved_d[name] = value
    return resolved_d


def build_layer(spec, X, path="layer"):
    """Build the module of one ``[Type, params]`` spec for the incoming tensor X (used for -1 values).

    Returns
    -------
    module : nn.Module
    type_label : str, e.g. 'Conv2d' or 'Activation(ReLU)', for printed tables
    """
    layer_type, params = _parse_layer_spec(spec, path)
    if layer_type == "Activation":
        name = params if isinstance(params, str) else (params.get("name") if isinstance(params, dict) else None)
        if name not in ACTIVATION_D:
            raise ConfigError(f"{path}: unknown activation {name!r}.{closest_name(name, list(ACTIVATION_D))} "
                              f"Valid activations: {', '.join(ACTIVATION_D)}")
        kwargs = {k: v for k, v in params.items() if k != "name"} if isinstance(params, dict) else {}
        if name in ("Softmax", "LogSoftmax"):
            kwargs.setdefault("dim", 1)
        _check_param_names(ACTIVATION_D[name], kwargs, f"Activation {name}", path)
        return ACTIVATION_D[name](**kwargs), f"Activation({name})"
    if layer_type in ("StoreAs", "CatWith"):
        key = params.get("key") if isinstance(params, dict) else params
        if not isinstance(key, str) or not key:
            raise ConfigError(f"{path}: {layer_type} takes a key name, e.g. [{layer_type}, E64]; got {params!r}")
        return (StoreAs if layer_type == "StoreAs" else CatWith)(key), f"{layer_type}({key})"
    if layer_type == "FiLM":
        return _build_film(params, X, path), f"FiLM({params.get('key') if isinstance(params, dict) else ''})"
    if not isinstance(params, dict):
        raise ConfigError(f"{path}: the parameters of {layer_type} must be a mapping such as "
                          f"{{name: value}}, got {params!r}")
    layer_class = TORCH_LAYER_D.get(layer_type) or COURSE_LAYER_D[layer_type]
    params = dict(params)
    if layer_type in _AUTO_PARAM_D:
        extra_l = sorted(set(params) - set(_AUTO_OPTION_D[layer_type]))
        if extra_l:
            option_l = _AUTO_OPTION_D[layer_type]
            raise ConfigError(f"{path}: {layer_type} infers its size: use [{layer_type}, empty]"
                              + (f" or give only {', '.join(option_l)}" if option_l else "") + f"; got {extra_l}")
        params = {**_AUTO_PARAM_D[layer_type](X), **params}
    _check_param_names(layer_class, params, layer_type, path)
    _check_integer_params(params, layer_type, path)
    params = _resolve_inferred(params, X, layer_type, path)
    try:
        return layer_class(**params), layer_type
    except (TypeError, ValueError, RuntimeError) as error:
        raise ConfigError(f"{path}: cannot build {layer_type} with {params}: {error}") from None


def _build_film(params, X, path):
    """A ``FiLM`` layer for the incoming tensor X (its channel count is read from X)."""
    if not isinstance(params, dict) or set(params) != {"key", "condition_channels"}:
        raise ConfigError(f"{path}: FiLM is written [FiLM, {{key: IN, condition_channels: 4}}] (the stored tensor "
                          f"whose last condition_channels channels are the condition), got {params!r}")
    if not isinstance(params["key"], str) or not params["key"]:
        raise ConfigError(f"{path}: FiLM takes a key name (a tensor stored by [StoreAs, key]), got {params['key']!r}")
    _check_integer_params(params, "FiLM", path)
    if params["condition_channels"] < 1 or X.dim() < 2:
        raise ConfigError(f"{path}: FiLM needs condition_channels >= 1 and a tensor with a channel axis; got "
                          f"condition_channels {params['condition_channels']}, input shape {list(X.shape)}")
    return FiLM(params["key"], params["condition_channels"], X.shape[1])


# --- the model ------------------------------------------------------------------------------------


def _apply_layer(module, X, store_d, path):
    """One step of the forward pass; StoreAs / CatWith read and write ``store_d``."""
    if isinstance(module, StoreAs):
        store_d[module.key] = X
        return X
    if isinstance(module, CatWith):
        if module.key not in store_d:
            raise ConfigError(f"{path}: CatWith '{module.key}' but nothing was stored under that key before; "
                              f"add [StoreAs, {module.key}] earlier (stored keys: {sorted(store_d) or 'none'})")
        stored = store_d[module.key]
        if stored.dim() != X.dim() or stored.shape[0] != X.shape[0] or stored.shape[2:] != X.shape[2:]:
            raise ConfigError(f"{path}: CatWith '{module.key}' cannot concatenate on the channel axis: stored "
                              f"shape {list(stored.shape)}, current shape {list(X.shape)}; all sizes but "
                              "axis 1 must be equal")
        return torch.cat([X, stored], dim=1)
    if isinstance(module, FiLM):
        if module.key not in store_d:
            raise ConfigError(f"{path}: FiLM reads its condition from '{module.key}' but nothing was stored under that "
                              f"key before; add [StoreAs, {module.key}] earlier (stored keys: "
                              f"{sorted(store_d) or 'none'})")
        stored = store_d[module.key]
        if stored.shape[0] != X.shape[0] or stored.dim() < 2 or stored.shape[1] < module.condition_channels:
            raise ConfigError(f"{path}: FiLM cannot read {module.condition_channels} condition channels from "
                              f"'{module.key}' of shape {list(stored.shape)} for a tensor of shape {list(X.shape)}")
        return module.modulate(X, stored)
    return module(X)


def _list_in(item, key, path, form):
    """``item[key]`` when item is a mapping holding a list there, else a ConfigError with the expected form."""
    value_l = item.get(key) if isinstance(item, dict) else None
    if not isinstance(value_l, list):
        raise ConfigError(f"{path}: {form}, got {item!r}")
    return value_l


class NetModel(nn.Module):
    """A model built entirely from the ``model`` section of a config (see the module docstring).

    Parameters
    ----------
    config : Config or dict with ``model.block_l`` (or the ``model`` section itself); never modified
    current_input_dim : list of int, input shape including the batch axis, e.g. [B, 6, 216, 64]
        (``feature.feature_input_dim(config.feature, batch_size)`` gives it for a config's patches)

    Attributes
    ----------
    name : str, the config's model name
    output_dim : list of int, output shape for ``current_input_dim``
    block_l : nn.ModuleList (one item per block) of ModuleList (one per sequential) of ModuleList (one per
        layer), so parameter names in a state_dict read ``block_l.<block>.<sequential>.<layer>.<name>``:
        ``block_l.0.1.3.weight`` is the weight of ``block_l[0].sequential_l[1].layer_l[3]`` of the YAML.

    Taught in notebooks/04_model_from_yaml.ipynb.
    """

    def __init__(self, config, current_input_dim):
        super().__init__()
        model_d = to_plain(config)
        if isinstance(model_d, dict) and "model" in model_d:
            model_d = model_d["model"]
        if not isinstance(model_d, dict) or not isinstance(model_d.get("block_l"), list) or not model_d["block_l"]:
            raise ConfigError("the config has no 'model.block_l' list: a model is written "
                              "model: {name: ..., block_l: [{sequential_l: [{layer_l: [[Type, params], ...]}]}]}")
        self.name = str(model_d.get("name", "NetModel"))
        self.input_dim = [int(size) for size in current_input_dim]
        self.block_l = nn.ModuleList()
        self._layer_l = []  # (path, type label, module) in forward order
        X = torch.zeros([1] + self.input_dim[1:])
        store_d = {}
        with torch.no_grad():
            for idx_block, block in enumerate(model_d["block_l"]):
                sequential_l = _list_in(block, "sequential_l", f"block_l[{idx_block}]", "a block is written "
                                        "{sequential_l: [...]}")
                block_modules = nn.ModuleList()
                for idx_seq, sequential in enumerate(sequential_l):
                    layer_spec_l = _list_in(sequential, "layer_l", f"block_l[{idx_block}].sequential_l[{idx_seq}]",
                                            "a sequential is written {layer_l: [[Type, params], ...]}")
                    seq_modules = nn.ModuleList()
                    for idx_layer, spec in enumerate(layer_spec_l):
                        path = f"block_l[{idx_block}].sequential_l[{idx_seq}].layer_l[{idx_layer}]"
                        module, type_label = build_layer(spec, X, path)
                        X = self._probe(module, X, store_d, path, type_label)
                        seq_modules.append(module)
                        self._layer_l.append((path, type_label, module))
                    block_modules.append(seq_modules)
                self.block_l.append(block_modules)
        self.output_dim = [self.input_dim[0]] + list(X.shape[1:])

    def _check_input(self, X):
        """The input must have the shape the model was built for; only the batch and time (last) axes may differ
        (a fully convolutional model runs on whole tracks)."""
        built_l = self.input_dim
        if X.dim() != len(built_l) or list(X.shape[1:-1]) != built_l[1:-1]:
            raise ValueError(f"{self.name} was built for inputs of shape {built_l} (batch, ..., time) and got "
                             f"{list(X.shape)}; only the batch and the last (time) axis may differ. Build the model "
                             "for this feature (feature.feature_input_dim(config.feature, batch_size)) or check "
                             "the feature's parameters")

    @staticmethod
    def _probe(module, X, store_d, path, type_label):
        """Pass the probe tensor through a new layer (eval mode); a failure names the layer and the shape."""
        module.eval()
        try:
            Y = _apply_layer(module, X, store_d, path)
        except ConfigError:
            raise
        except (RuntimeError, ValueError, IndexError) as error:
            raise ConfigError(f"{path}: {type_label} cannot take the incoming tensor of shape {list(X.shape)} "
                              f"(batch, ...): {error}") from None
        module.train()
        return Y

    def forward(self, X, do_verbose=False):
        """X: tensor of shape ``current_input_dim`` (any batch size) -> hat_y of shape ``output_dim``.

        With ``do_verbose``, print each layer's path, type and input -> output shapes.
        """
        self._check_input(X)
        store_d = {}
        for path, type_label, module in self._layer_l:
            in_shape = list(X.shape)
            try:
                X = _apply_layer(module, X, store_d, path)
            except (RuntimeError, ValueError) as error:  # name the layer: the model is built from a YAML file
                raise RuntimeError(f"{self.name}, {path} ({type_label}), input of shape {in_shape}: {error}") from error
            if do_verbose:
                print(f"{path:<36} {type_label:<24} {str(in_shape):<22} -> {list(X.shape)}")
        return X


def model_summary(model, current_input_dim=None):
    """Print and return a table of the model: layer path, type, output shape, parameter count, and total.

    Runs one forward pass of zeros of shape ``current_input_dim`` (default: the model's own) in eval mode.
    """
    input_dim = list(current_input_dim or model.input_dim)
    X = torch.zeros(input_dim, device=next(model.parameters(), torch.zeros(1)).device)
    row_l = [("input", "", str(input_dim), "")]
    store_d = {}
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for path, type_label, module in model._layer_l:
            X = _apply_layer(module, X, store_d, path)
            n_param = sum(parameter.numel() for parameter in module.parameters())
            row_l.append((path, type_label, str(list(X.shape)), f"{n_param:,}"))
    model.train(was_training)
    total = sum(parameter.numel() for parameter in model.parameters())
    trainable = sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
    width_l = [max(len(row[i]) for row in row_l + [("layer", "type", "output shape", "parameters")])
               for i in range(4)]
    line_l = ["  ".join(text.ljust(width) for text, width in
                        zip(("layer", "type", "output shape", "parameters"), width_l, strict=True))]
    line_l.append("-" * len(line_l[0]))
    line_l += ["  ".join((row[0].ljust(width_l[0]), row[1].ljust(width_l[1]), row[2].ljust(width_l[2]),
                          row[3].rjust(width_l[3]))) for row in row_l]
    line_l.append("-" * len(line_l[0]))
    line_l.append(f"{model.name}: {total:,} parameters ({trainable:,} trainable)")
    table = "\n".join(line_l)
    print(table)
    return table
