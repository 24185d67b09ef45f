"""The course's own layers, used by name in the YAML model files (see ``model_factory``).

Tensor shapes use B = batch, C = channels, F = frequency bins, T = time frames (or samples).
Taught in notebooks/04_model_from_yaml.ipynb.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

# --- tensor reshaping ---------------------------------------------------------------------------


class Squeeze(nn.Module):
    """Remove the size-1 axes ``dim`` (a list), e.g. (B, C, 1, 1) -> (B, C) with dim [2, 3]."""

    def __init__(self, dim):
        super().__init__()
        self.dim = tuple(dim) if isinstance(dim, (list, tuple)) else (dim,)

    def forward(self, X):
        for axis in self.dim:
            if X.shape[axis] != 1:
                raise ValueError(f"Squeeze: axis {axis} of a tensor of shape {list(X.shape)} has size "
                                 f"{X.shape[axis]}, not 1")
        return torch.squeeze(X, self.dim)

    def extra_repr(self):
        return f"dim={list(self.dim)}"


class UnSqueeze(nn.Module):
    """Insert a size-1 axis at ``dim``, e.g. (B, F, T) -> (B, 1, F, T) with dim 1."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, X):
        return torch.unsqueeze(X, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Permute(nn.Module):
    """Reorder the axes, e.g. shape [0, 2, 1]: (B, C, T) -> (B, T, C)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, X):
        return X.permute(*self.shape)

    def extra_repr(self):
        return f"shape={list(self.shape)}"


class _Reduce(nn.Module):
    """Reduce the axis ``dim`` with ``reduce_fn`` (kept as size 1 if ``keepdim``)."""

    reduce_fn = None

    def __init__(self, dim, keepdim=False):
        super().__init__()
        self.dim, self.keepdim = dim, keepdim

    def forward(self, X):
        return type(self).reduce_fn(X, dim=self.dim, keepdim=self.keepdim)

    def extra_repr(self):
        return f"dim={self.dim}, keepdim={self.keepdim}"


class Mean(_Reduce):
    """Average over the axis ``dim`` (kept as size 1 if ``keepdim``)."""

    reduce_fn = torch.mean


class Max(_Reduce):
    """Maximum over the axis ``dim`` (values only; kept as size 1 if ``keepdim``)."""

    reduce_fn = torch.amax


class BatchNorm1dT(nn.BatchNorm1d):
    """BatchNorm1d over the last axis of a (B, T, C) tensor (e.g. after an LSTM), ``num_features`` = C."""

    def forward(self, X):
        return super().forward(X.transpose(1, 2)).transpose(1, 2)


class DoubleChannel(nn.Module):
    """No-op, kept only so that configs of the original course still build.

    (In the reference code it adjusted a hand-written channel count after ``CatWith``; shapes are now
    inferred from real tensors, so there is nothing left for it to do.)
    """

    def forward(self, X):
        return X


# --- attention pooling over time ------------------------------------------------------------------


SHARPNESS_L = ("shared", "per_output")


class AutoPoolWeightSplit(nn.Module):
    """Auto-pool over time (McFee et al., 2018) with values and weights from one tensor.

    Input (B, C, 1, T): channels [0, C/2) are the values v, channels [C/2, C) the weights w. For each of
    the C/2 outputs, ``sum_t v_t * softmax_t(alpha * w_t)`` with a learned sharpness ``alpha`` (alpha = 0:
    mean over time, large alpha: max over time). Output (B, C/2, 1, 1).

    ``sharpness``: 'shared' (default, as in the original course: one alpha for all outputs, starting at 0,
    the mean) or 'per_output' (one alpha per output, starting at 1: the course's own models,
    ``[AutoPoolWeightSplit, {sharpness: per_output}]``).
    """

    def __init__(self, n_channels, sharpness="shared"):
        super().__init__()
        if n_channels % 2:
            raise ValueError(f"{type(self).__name__} needs an even number of channels (values + weights), "
                             f"got {n_channels}")
        if sharpness not in SHARPNESS_L:
            raise ValueError(f"sharpness must be one of {', '.join(SHARPNESS_L)}, got {sharpness!r}")
        self.alpha = nn.Parameter(torch.zeros(()) if sharpness == "shared" else torch.ones(1, n_channels // 2, 1, 1))

    def forward(self, X):
        value_4m, weight_4m = torch.chunk(X, 2, dim=1)
        attention_4m = torch.softmax(self.alpha * weight_4m, dim=-1)
        return torch.sum(value_4m * attention_4m, dim=-1, keepdim=True)


class SoftmaxWeight(nn.Module):
    """Like ``AutoPoolWeightSplit`` with a plain softmax over time (no parameter)."""

    def __init__(self, n_channels):
        super().__init__()
        if n_channels % 2:
            raise ValueError(f"SoftmaxWeight needs an even number of channels (values + weights), got {n_channels}")

    def forward(self, X):
        value_4m, weight_4m = torch.chunk(X, 2, dim=1)
        return torch.sum(value_4m * torch.softmax(weight_4m, dim=-1), dim=-1, keepdim=True)


# --- recurrent layers ---------------------------------------------------------------------------


class LSTMall(nn.Module):
    """Bidirectional LSTM, batch first: (B, T, input_size) -> (B, T, hidden_size), every time step.

    Each direction has hidden_size / 2 units, so the two concatenated give hidden_size.
    """

    def __init__(self, input_size, hidden_size, num_layers=1):
        super().__init__()
        if hidden_size % 2:
            raise ValueError(f"LSTMall: hidden_size must be even (two directions), got {hidden_size}")
        self.lstm = nn.LSTM(input_size, hidden_size // 2, num_layers=num_layers, batch_first=True,
                            bidirectional=True)

    def forward(self, X):
        return self.lstm(X)[0]


class LSTMlast(nn.Module):
    """LSTM, batch first: (B, T, input_size) -> (B, hidden_size), the last layer's final hidden state."""

    def __init__(self, input_size, hidden_size, num_layers=1):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True)

    def forward(self, X):
        return self.lstm(X)[1][0][-1]


# --- front-ends ---------------------------------------------------------------------------------


class SincNet(nn.Module):
    """Learnable band-pass filter bank on the waveform (Ravanelli & Bengio, 2018).

    Each of the ``out_channels`` filters is a windowed difference of two sinc low-passes, defined by two
    learned numbers: its low cut-off and its band width (Hz), initialised on the mel scale.
    (B, in_channels=1, n_samples) -> (B, out_channels, n_frames),
    with n_frames = floor((n_samples - kernel_size) / stride) + 1.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, sr_hz=22050, min_low_hz=30.0,
                 min_band_hz=50.0):
        super().__init__()
        if in_channels != 1:
            raise ValueError(f"SincNet filters a mono waveform: in_channels must be 1, got {in_channels}")
        self.kernel_size = int(kernel_size) | 1  # odd, so that filters are symmetric
        self.stride, self.sr_hz = stride, float(sr_hz)
        self.min_low_hz, self.min_band_hz = min_low_hz, min_band_hz
        mel_v = torch.linspace(2595 * math.log10(1 + min_low_hz / 700),
                               2595 * math.log10(1 + (sr_hz / 2 - min_low_hz - min_band_hz) / 700), out_channels + 1)
        edge_hz_v = 700 * (10 ** (mel_v / 2595) - 1)
        self.low_hz = nn.Parameter(edge_hz_v[:-1].unsqueeze(1))
        self.band_hz = nn.Parameter(torch.diff(edge_hz_v).unsqueeze(1))
        half_n = self.kernel_size // 2
        self.register_buffer("time_sec_v", torch.arange(-half_n, half_n + 1).float() / self.sr_hz)
        self.register_buffer("window_v", torch.hamming_window(self.kernel_size, periodic=False))

    def filters(self):
        """The current filters, shape (out_channels, 1, kernel_size)."""
        low_hz = self.min_low_hz + torch.abs(self.low_hz)
        high_hz = torch.clamp(low_hz + self.min_band_hz + torch.abs(self.band_hz), max=self.sr_hz / 2)

        def low_pass(cutoff_hz):
            return 2 * cutoff_hz * torch.sinc(2 * cutoff_hz * self.time_sec_v)

        band_m = (low_pass(high_hz) - low_pass(low_hz)) * self.window_v
        band_m = band_m / band_m.abs().amax(dim=1, keepdim=True)
        return band_m.unsqueeze(1)

    def forward(self, X):
        return F.conv1d(X, self.filters(), stride=self.stride)


def _pair(size, name):
    """An int or a [height, width] pair (YAML list) as a tuple of two ints."""
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if len(pair) != 2 or not all(isinstance(value, int) and value > 0 for value in pair):
        raise ValueError(f"{name} must be a positive int or a list of two, got {size!r}")
    return pair


class _TCNBlock(nn.Module):
    """One residual block of a TCN: two causal dilated convolutions (weight-normalised), ReLU and dropout
    each, plus the input (through a 1x1 convolution when the channels change), then ReLU."""

    def __init__(self, in_channels, out_channels, kernel_size, dilation, dropout):
        super().__init__()
        self.causal_pad = (kernel_size - 1) * dilation  # left padding: the output at t sees only t and before
        self.conv_1 = nn.utils.parametrizations.weight_norm(nn.Conv1d(in_channels, out_channels, kernel_size,
                                                                      dilation=dilation))
        self.conv_2 = nn.utils.parametrizations.weight_norm(nn.Conv1d(out_channels, out_channels, kernel_size,
                                                                      dilation=dilation))
        self.dropout = nn.Dropout(dropout)
        self.shortcut = nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, X):
        Y = self.dropout(F.relu(self.conv_1(F.pad(X, (self.causal_pad, 0)))))
        Y = self.dropout(F.relu(self.conv_2(F.pad(Y, (self.causal_pad, 0)))))
        return F.relu(Y + self.shortcut(X))


class Conv1dTCN(nn.Module):
    """Temporal convolutional network (Bai et al., 2018), as in the original course: one residual block per
    entry of ``num_channels`` (its output channels), causal convolutions of ``kernel_size`` (2) with dilation
    1, 2, 4, ..., weight normalisation, dropout 0.2. (B, in_channels, T) -> (B, num_channels[-1], T).
    """

    def __init__(self, in_channels, num_channels, kernel_size=2, dropout=0.2):
        super().__init__()
        channel_l = [in_channels] + list(num_channels)
        self.block_l = nn.Sequential(*[_TCNBlock(channel_l[i], channel_l[i + 1], kernel_size, 2**i, dropout)
                                       for i in range(len(num_channels))])

    def forward(self, X):
        return self.block_l(X)


class Conv2dRes(nn.Module):
    """Residual block (He et al., 2016), as in the original course: conv-BN-ReLU-conv-BN ('same' padding,
    convolutions with bias), plus the input (through a 1x1 convolution when the channels change), then ReLU.

    ``kernel_size``: an int or [height, width]. ``stride`` and ``padding`` are accepted as the original's
    configs write them, and must be 1 and 'same' (the block keeps the size; the original warns and does the
    same). (B, in, F, T) -> (B, out, F, T).
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding="same"):
        super().__init__()
        if stride not in (1, [1, 1], (1, 1)) or padding != "same":
            raise ValueError(f"Conv2dRes keeps the size: stride must be 1 and padding 'same', got stride {stride!r}, "
                             f"padding {padding!r}")
        kernel = _pair(kernel_size, "Conv2dRes kernel_size")
        self.conv_1 = nn.Conv2d(in_channels, out_channels, kernel, padding="same")
        self.norm_1 = nn.BatchNorm2d(out_channels)
        self.conv_2 = nn.Conv2d(out_channels, out_channels, kernel, padding="same")
        self.norm_2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, X):
        Y = F.relu(self.norm_1(self.conv_1(X)))
        return F.relu(self.norm_2(self.conv_2(Y)) + self.shortcut(X))


class Conv2dNext(nn.Module):
    """ConvNeXt block (Liu et al., 2022), as in the original course: a 7x7 depthwise convolution, LayerNorm
    over the channels at each position, a 1x1 expansion to 4x the channels, GELU, a 1x1 projection, plus the
    input. ``kernel_size`` may be left out (7, the original's: it ignores the config's). When
    ``out_channels`` differs from ``in_channels`` the input goes through a 1x1 convolution (the original
    cannot add them and fails). (B, in, F, T) -> (B, out, F, T).
    """

    def __init__(self, in_channels, out_channels, kernel_size=7, stride=1, padding="same"):
        super().__init__()
        if stride not in (1, [1, 1], (1, 1)) or padding != "same":
            raise ValueError(f"Conv2dNext keeps the size: stride must be 1 and padding 'same', got stride {stride!r}, "
                             f"padding {padding!r}")
        kernel = _pair(kernel_size, "Conv2dNext kernel_size")
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel, padding="same", groups=in_channels)
        self.norm = nn.LayerNorm(in_channels, eps=1e-6)
        self.pointwise_up = nn.Linear(in_channels, 4 * in_channels)
        self.pointwise_down = nn.Linear(4 * in_channels, out_channels)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, X):
        Y = self.norm(self.depthwise(X).permute(0, 2, 3, 1))  # (B, F, T, C): per position, over the channels
        Y = self.pointwise_down(F.gelu(self.pointwise_up(Y))).permute(0, 3, 1, 2)
        return Y + self.shortcut(X)


class Conv2dDS(nn.Module):
    """Depthwise-separable convolution, as in the original course: a depthwise convolution of
    ``kernel_size`` (int or [height, width]) then a 1x1 pointwise one, no normalisation or activation (add
    them as layers). ``padding``: as ``nn.Conv2d`` ('valid' when left out, like the original);
    ``stride`` applies to the depthwise convolution. (B, in, F, T) -> (B, out, F', T').
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding="valid"):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride=stride, padding=padding,
                                   groups=in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, X):
        return self.pointwise(self.depthwise(X))


class AbsLayer(nn.Module):
    """The absolute value, element-wise (after a SincNet filter bank: the magnitude of each band)."""

    def forward(self, X):
        return torch.abs(X)


class AutoPoolWeight(nn.Module):
    """Auto-pool over time of every channel (McFee et al., 2018), as the original course's option of its
    cover config: ``sum_t x_t * softmax_t(alpha * x_t)`` with one learned sharpness ``alpha`` (0 at the start:
    the mean). (B, C, 1, T) -> (B, C, 1, 1).
    """

    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(()))

    def forward(self, X):
        return torch.sum(X * torch.softmax(self.alpha * X, dim=-1), dim=-1, keepdim=True)
