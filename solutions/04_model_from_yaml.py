"""Solutions of the exercises of notebooks/04_model_from_yaml.ipynb."""

# The HCQT model of configs/pitch_bittner_hcqt.yaml with one change: h_l: [1] (the CQT only). The -1 of the first
# BatchNorm2d and Conv2d adapt them to one input channel; the rest of the model is unchanged.
cqt_only_yaml = """
feature:
  sr_hz: 22050
  type: hcqt
  h_l: [1]
  fmin: 32.7
  n_octaves: 6
  bins_per_semitone: 1
  hop_length: 512
  log_gain: 100.0
  patch_L_frame: 64
  patch_STEP_frame: 64
model:
  name: Salience-CQT-only
  block_l:
  - sequential_l:
    - layer_l:
      - [BatchNorm2d, {num_features: -1}]
      - [Conv2d, {in_channels: -1, out_channels: 24, kernel_size: [5, 5], padding: same}]
      - [BatchNorm2d, {num_features: -1}]
      - [Activation, ReLU]
      - [Conv2d, {in_channels: -1, out_channels: 24, kernel_size: [5, 5], padding: same}]
      - [BatchNorm2d, {num_features: -1}]
      - [Activation, ReLU]
      - [Conv2d, {in_channels: -1, out_channels: 24, kernel_size: [3, 3], padding: same}]
      - [BatchNorm2d, {num_features: -1}]
      - [Activation, ReLU]
    - layer_l:
      - [Conv2d, {in_channels: -1, out_channels: 8, kernel_size: [25, 3], padding: same}]
      - [BatchNorm2d, {num_features: -1}]
      - [Activation, ReLU]
      - [Conv2d, {in_channels: -1, out_channels: 1, kernel_size: [1, 1]}]
"""


def conv2d_n_params(in_channels, out_channels, kernel_size, bias=True):
    """Trainable parameters of torch.nn.Conv2d: out_channels kernels of in_channels x kh x kw, plus the biases."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return out_channels * in_channels * kh * kw + (out_channels if bias else 0)
