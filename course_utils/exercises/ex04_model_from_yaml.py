"""Exercises of notebooks/04_model_from_yaml.ipynb, with their checkers; solutions in solutions/."""

import torch
import yaml
from torch import nn

from course_utils import model_inspect
from course_utils.exercises.checking import NotDone, Wrong, as_float, call, exercise


def _conv_mistake(answer, in_channels, out_channels, kernel_size, bias):
    """The sentence that names the mistake of a wrong count of Conv2d parameters."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    n_bias = out_channels if bias else 0
    where = f"Conv2d({in_channels}, {out_channels}, kernel_size={kernel_size}, bias={bias})"
    expected = out_channels * in_channels * kh * kw + n_bias
    if bias and answer == expected - out_channels:
        return f"{where} has {expected} parameters, you gave {answer:.0f}: the {out_channels} biases are missing"
    if not bias and answer == expected + out_channels:
        return f"{where} has {expected} parameters, you gave {answer:.0f}: bias=False has no bias"
    if answer == out_channels * kh * kw + n_bias and in_channels > 1:
        return (f"{where} has {expected} parameters, you gave {answer:.0f}: each kernel looks at every input channel "
                f"over kh x kw cells: in_channels * kh * kw weights per output channel")
    if isinstance(kernel_size, int) and answer == out_channels * in_channels * kernel_size + n_bias:
        return (f"{where} has {expected} parameters, you gave {answer:.0f}: an int kernel_size k means a k x k "
                "kernel, k * k cells")
    if answer == out_channels * in_channels * (kh + kw) + n_bias:
        return (f"{where} has {expected} parameters, you gave {answer:.0f}: a kernel of kh x kw cells holds kh * kw "
                "weights per input channel, not kh + kw")
    return f"{where} has {expected} parameters, you gave {answer:.0f}"


@exercise("04.1", "04_model_from_yaml", "count the parameters of a convolution", "conv2d_n_params",
          "write conv2d_n_params(in_channels, out_channels, kernel_size, bias=True): the number of trainable "
          "parameters of torch.nn.Conv2d with these arguments (kernel_size an int or a pair).",
          ["Each output channel is computed by its own kernel. How many numbers does one kernel hold, when it looks "
           "at every input channel over kh x kw cells?",
           "Multiply by the number of output channels, then add what bias=True adds: one number per output channel.",
           "An int kernel_size k means a k x k kernel."],
          forbidden_l=[model_inspect.count_parameters])
def _check_conv2d_n_params(conv2d_n_params):
    for in_channels, out_channels, kernel_size, bias in ((6, 16, (5, 5), True), (16, 8, (25, 3), True),
                                                         (2, 4, 3, True), (8, 1, (1, 1), False), (3, 4, (2, 4), True)):
        layer = nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias)
        expected = sum(p.numel() for p in layer.parameters())
        answer = as_float(call(conv2d_n_params, in_channels, out_channels, kernel_size, bias=bias),
                          "the number of parameters")
        if answer != expected:
            raise Wrong(_conv_mistake(answer, in_channels, out_channels, kernel_size, bias))
    return "right for 5 convolutions, with and without bias, square, tall and wide kernels."


def _receptive_field_reference(layer_l, mistake=None):
    """Input frames seen by one output value of (kernel_size, stride, dilation) layers, right (mistake None) or with
    one of the mistakes of _FIELD_MISTAKE_D."""
    field, jump = (0 if mistake == "from 0" else 1), 1
    for kernel_size, stride, dilation in layer_l:
        dilation = 1 if mistake == "no dilation" else dilation
        jump = jump * stride if mistake == "own stride" else jump
        span = kernel_size * dilation - 1 if mistake == "k * d" else (kernel_size - 1) * dilation
        field += span * (1 if mistake == "no stride" else jump)
        jump = jump if mistake == "own stride" else jump * stride
    return field


_FIELD_MISTAKE_D = {  # a usual mistake -> the sentence that names it
    "no stride": "the strides are missing: after a layer of stride s, one step of every later layer is worth s "
                 "times more input frames",
    "no dilation": "the dilation is missing: a kernel of k taps d frames apart spans (k - 1) * d + 1 frames",
    "own stride": "a layer's stride spaces the steps of the layers after it, not its own kernel: you applied its "
                  "own stride to its own kernel",
    "from 0": "you are one frame short: a stack of no layer sees 1 frame, and each layer adds to that",
    "k * d": "a kernel of k taps d frames apart spans (k - 1) * d + 1 frames, not k * d",
}


@exercise("04.2", "04_model_from_yaml", "the receptive field of a stack of layers", "receptive_field",
          "write receptive_field(layer_l): the number of input frames that one output value of a stack of 1-D "
          "convolutions and poolings depends on; layer_l lists (kernel_size, stride, dilation) from the input to the "
          "output (a pooling of 2 is (2, 2, 1)).",
          ["One output value of a single layer with kernel k (stride 1, dilation 1) sees k input frames. Draw two such "
           "layers on paper: how many frames does one value of the second see?",
           "A dilation d spreads the kernel: k taps, d frames apart, cover (k - 1) * d + 1 frames. A stride s makes "
           "every next layer's step worth s frames of the layer below.",
           "Go from the input to the output keeping two numbers: the field so far, and how many input frames one "
           "step of the current layer is worth (the product of the strides below it). Each layer widens the field "
           "by the span of its kernel minus one, counted in such steps."])
def _check_receptive_field(receptive_field):
    for layer_l in ([(3, 1, 1)], [(3, 1, 1), (3, 1, 1)], [(5, 1, 1), (2, 2, 1), (5, 1, 1)],
                    [(5, 1, 1), (5, 1, 2), (5, 1, 4), (5, 1, 8)], [(3, 2, 1), (3, 2, 1), (3, 1, 2)]):
        answer = as_float(call(receptive_field, layer_l), "the receptive field")
        expected = _receptive_field_reference(layer_l)
        if answer == expected:
            continue
        where = f"for layers (kernel, stride, dilation) {layer_l} you gave {answer:.0f} frames, expected {expected}"
        if answer == sum(kernel_size for kernel_size, _, _ in layer_l) and len(layer_l) > 1:
            raise Wrong(f"{where}: you added the kernel sizes; each layer adds kernel_size - 1 frames (its span minus "
                        "the one frame already counted), in steps of the layer below")
        for mistake, sentence in _FIELD_MISTAKE_D.items():
            if answer == _receptive_field_reference(layer_l, mistake):
                raise Wrong(f"{where}: {sentence}")
        raise Wrong(where)
    return "right for 5 stacks: plain, pooled (strides) and dilated convolutions."


class _PlainCNN(nn.Module):
    """The reference of exercise 04.3 (the notebook writes the same model by hand)."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(64, 9))

    def forward(self, X):
        return self.layers(X)


def _pair(value):
    return tuple(value) if isinstance(value, tuple | list) else (value, value)


def _layer_description(module):
    """(kind, {size: value}) of one layer, to compare two models layer by layer: the kind is the torch class name
    ('a global maximum' for a Max over both axes of a map), the sizes those that change what the layer computes."""
    kind = type(module).__name__
    if kind == "Conv2d":
        return kind, {"in_channels": module.in_channels, "out_channels": module.out_channels,
                      "kernel_size": _pair(module.kernel_size), "stride": _pair(module.stride),
                      "padding": _pair(module.padding), "dilation": _pair(module.dilation)}
    if kind == "BatchNorm2d":
        return kind, {"num_features": module.num_features}
    if kind in ("MaxPool2d", "AvgPool2d"):
        return kind, {"kernel_size": _pair(module.kernel_size), "stride": _pair(module.stride or module.kernel_size)}
    if kind in ("AdaptiveMaxPool2d", "AdaptiveAvgPool2d"):
        return kind, {"output_size": _pair(module.output_size)}
    if kind == "Max" and sorted(d % 4 for d in (module.dim if isinstance(module.dim, tuple | list) else [module.dim])) \
            == [2, 3]:
        return "AdaptiveMaxPool2d", {"output_size": (1, 1)}
    if kind == "Linear":
        return kind, {"in_features": module.in_features, "out_features": module.out_features}
    return kind, {}


def _said(kind, size_d):
    return kind + (f"({', '.join(f'{name}={value}' for name, value in size_d.items())})" if size_d else "")


_RESHAPE_KIND_S = {"Flatten", "Squeeze"}  # they only reshape (B, C, 1, 1) to (B, C): left out of the comparison


def _first_layer_that_differs(model, reference):
    """The sentence naming the first layer of a NetModel that differs from the reference's, in kind or in size (None
    when every layer is the same)."""
    layer_l = [(path, *_layer_description(module)) for path, _, module in model._layer_l]
    layer_l = [layer for layer in layer_l if layer[1] not in _RESHAPE_KIND_S]
    expected_l = [_layer_description(module) for module in reference.layers]
    expected_l = [layer for layer in expected_l if layer[0] not in _RESHAPE_KIND_S]
    plan = ", ".join(kind for kind, _ in expected_l)
    for (path, kind, size_d), (expected_kind, expected_d) in zip(layer_l, expected_l, strict=False):
        if kind != expected_kind:
            return (f"{path} is {_said(kind, size_d)}, where the plain CNN has {_said(expected_kind, expected_d)} (the "
                    f"first layer that differs; the plain CNN's layers: {plan}, with Flatten before the Linear)")
        if size_d != expected_d:
            name = next(name for name in expected_d if size_d.get(name) != expected_d[name])
            return (f"{path} is {_said(kind, size_d)}: its {name} is {size_d.get(name)}, the plain CNN's is "
                    f"{expected_d[name]} (the first layer that differs)")
    if len(layer_l) > len(expected_l):
        path, kind, size_d = layer_l[len(expected_l)]
        return f"{path} ({_said(kind, size_d)}) is one layer more than the plain CNN has ({plan})"
    if len(layer_l) < len(expected_l):
        missing_l = [kind for kind, _ in expected_l[len(layer_l):]]
        return f"your model stops before the plain CNN's last layers: {', '.join(missing_l)} (the plain CNN: {plan})"
    return None


@exercise("04.3", "04_model_from_yaml", "the plain CNN as a YAML file", "plain_cnn_yaml",
          "write plain_cnn_yaml, the model section of a YAML config that builds the plain CNN of section 1 (three "
          "convolutions 3 x 3 with 16, 32 and 64 channels, each with BatchNorm2d and ReLU, max-pooling 2 x 2 after "
          "the first two, a global maximum, a Linear to 9 logits) for log-mel patches [B, 1, 128, 64].",
          ["The text starts with 'model:', then 'block_l:'; one block with one sequential is enough: "
           "{sequential_l: [{layer_l: [...]}]}.",
           "Each layer is one line [Type, {param: value}], in the order of the diagram: the types are the torch names "
           "(Conv2d, BatchNorm2d, MaxPool2d, AdaptiveMaxPool2d, Flatten, Linear) and [Activation, ReLU].",
           "Write -1 where a size comes from the incoming tensor (in_channels, num_features, in_features); "
           "padding: 1 keeps the 3 x 3 convolutions from shrinking the patch."], time_limit_sec=30)
def _check_plain_cnn_yaml(plain_cnn_yaml):
    from course_utils.config import ConfigError
    from course_utils.model_factory import NetModel

    if not isinstance(plain_cnn_yaml, str):
        raise Wrong(f"expected the YAML text (a str), got {type(plain_cnn_yaml).__name__}")
    try:
        config = yaml.safe_load(plain_cnn_yaml)
    except yaml.YAMLError as error:
        raise Wrong(f"the text is not valid YAML: {error}") from None
    if config is None:
        raise NotDone
    if not isinstance(config, dict) or "model" not in config:
        raise Wrong(f"the YAML needs a 'model' section, it has {list(config) if isinstance(config, dict) else config}")
    try:
        model = NetModel(config, [2, 1, 128, 64])
    except (ConfigError, ValueError) as error:
        raise Wrong(f"NetModel could not build it: {error}") from None
    if list(model.output_dim) != [2, 9]:
        raise Wrong(f"the output is {model.output_dim}, expected [2, 9]: one logit per instrument")
    mistake = _first_layer_that_differs(model, _PlainCNN())
    if mistake:
        raise Wrong(mistake)
    model.eval()
    with torch.no_grad():
        model(torch.randn(2, 1, 128, 64))
    n_param = sum(p.numel() for p in model.parameters())
    return (f"input [2, 1, 128, 64] -> output {model.output_dim}, {n_param:,} parameters, the plain CNN's layers in "
            "its order with its sizes.")
