"""Exercises of notebooks/04_model_from_yaml.ipynb, with their checkers; solutions in solutions/."""

import torch
import yaml
from torch import nn

from course_utils.exercises.checking import NotDone, Wrong, as_float, call, exercise


@exercise("04.1", "04_model_from_yaml", "count the parameters of a convolution", "conv2d_n_params",
          "write conv2d_n_params(in_channels, out_channels, kernel_size, bias=True): the number of trainable "
          "parameters of torch.nn.Conv2d with these arguments (kernel_size an int or a pair).",
          ["Each output channel is computed by its own kernel. How many numbers does one kernel hold, when it looks "
           "at every input channel over kh x kw cells?",
           "Multiply by the number of output channels, then add what bias=True adds: one number per output channel.",
           "An int kernel_size k means a k x k kernel."])
def _check_conv2d_n_params(conv2d_n_params):
    for in_channels, out_channels, kernel_size, bias in ((6, 16, (5, 5), True), (16, 8, (25, 3), True),
                                                         (1, 4, 3, True), (8, 1, (1, 1), False)):
        layer = nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias)
        expected = sum(p.numel() for p in layer.parameters())
        answer = as_float(call(conv2d_n_params, in_channels, out_channels, kernel_size, bias=bias),
                          "the number of parameters")
        where = f"Conv2d({in_channels}, {out_channels}, kernel_size={kernel_size}, bias={bias})"
        if answer == expected:
            continue
        if bias and answer == expected - out_channels:
            raise Wrong(f"{where} has {expected} parameters, you gave {answer:.0f}: the {out_channels} biases are "
                        "missing")
        if not bias and answer == expected + out_channels:
            raise Wrong(f"{where} has {expected} parameters, you gave {answer:.0f}: bias=False has no bias")
        raise Wrong(f"{where} has {expected} parameters, you gave {answer:.0f}")
    return "right for 4 convolutions, with and without bias, square and tall kernels."


def _receptive_field_reference(layer_l):
    field, jump = 1, 1
    for kernel_size, stride, dilation in layer_l:
        field += (kernel_size - 1) * dilation * jump
        jump *= stride
    return field


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
        if answer != expected:
            raise Wrong(f"for layers (kernel, stride, dilation) {layer_l} you gave {answer:.0f} frames, expected "
                        f"{expected}")
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
    reference = _PlainCNN()
    if list(model.output_dim) != [2, 9]:
        raise Wrong(f"the output is {model.output_dim}, expected [2, 9]: one logit per instrument")
    size_l = sorted(p.numel() for p in model.parameters())
    expected_l = sorted(p.numel() for p in reference.parameters())
    if size_l != expected_l:
        raise Wrong(f"{sum(size_l):,} parameters in {len(size_l)} tensors, the plain CNN has {sum(expected_l):,} in "
                    f"{len(expected_l)} (sizes {expected_l}); compare your layers with the diagram")
    model.eval()
    with torch.no_grad():
        X = torch.randn(2, 1, 128, 64)
        model(X)
    return f"input [2, 1, 128, 64] -> output {model.output_dim}, {sum(size_l):,} parameters: the plain CNN."
