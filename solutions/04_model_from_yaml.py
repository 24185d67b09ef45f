"""Solutions of the exercises of notebooks/04_model_from_yaml.ipynb."""


def conv2d_n_params(in_channels, out_channels, kernel_size, bias=True):
    """Trainable parameters of torch.nn.Conv2d: out_channels kernels of in_channels x kh x kw, plus the biases."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return out_channels * in_channels * kh * kw + (out_channels if bias else 0)


def receptive_field(layer_l):
    """Input frames seen by one output value of a stack of (kernel_size, stride, dilation) layers."""
    field, step = 1, 1
    for kernel_size, stride, dilation in layer_l:
        field += (kernel_size - 1) * dilation * step
        step *= stride
    return field


plain_cnn_yaml = """
model:
  name: PlainCNN
  block_l:
  - sequential_l:
    - layer_l:
      - [Conv2d, {in_channels: -1, out_channels: 16, kernel_size: 3, padding: 1}]
      - [BatchNorm2d, {num_features: -1}]
      - [Activation, ReLU]
      - [MaxPool2d, {kernel_size: 2}]
      - [Conv2d, {in_channels: -1, out_channels: 32, kernel_size: 3, padding: 1}]
      - [BatchNorm2d, {num_features: -1}]
      - [Activation, ReLU]
      - [MaxPool2d, {kernel_size: 2}]
      - [Conv2d, {in_channels: -1, out_channels: 64, kernel_size: 3, padding: 1}]
      - [BatchNorm2d, {num_features: -1}]
      - [Activation, ReLU]
      - [AdaptiveMaxPool2d, {output_size: 1}]
      - [Flatten, {start_dim: 1}]
      - [Linear, {in_features: -1, out_features: 9}]
"""
