"""The short-time Fourier transform of the course, both ways: the complex spectrogram of a whole track or of
some of its frames, and the waveform back from a spectrogram (with the mixture's phase, in source separation).

One framing everywhere: frame ``t`` is centred on sample ``t * hop_length`` (the signal padded with zeros by
``n_fft // 2`` on each side), a periodic Hann window; the Nyquist bin is dropped so that the frequency axis has
``n_fft // 2`` bins (a power of two: a U-Net can halve it again and again). ``frames_of`` computes frames
``[start, end)`` from the audio alone, equal to ``stft(...)[:, start:end]``: a patch's spectrogram without the
whole track's. Taught in notebooks/08_source_separation.ipynb (as ``course_utils.spectrogram``, its name there); the
``stft`` feature type of the table (``features.table``) is ``log_magnitude`` of it (``f_get_stft``).
"""

import numpy as np
import torch

from course_utils import audio_store


def n_frames(n_samples, hop_length):
    """Frames of the spectrogram of ``n_samples`` (centred frames)."""
    return 1 + int(n_samples) // int(hop_length)


def _window(n_fft, device=None):
    return torch.hann_window(n_fft, periodic=True, device=device)


def stft(audio_v, n_fft, hop_length):
    """Complex spectrogram of a whole signal.

    audio_v : (n_samples,) float array or tensor; returns a complex64 tensor (n_fft // 2, n_frames).
    """
    audio_v = torch.as_tensor(np.asarray(audio_v, dtype=np.float32) if not torch.is_tensor(audio_v) else audio_v)
    spec_m = torch.stft(audio_v.float(), n_fft, hop_length, window=_window(n_fft, audio_v.device), center=True,
                        pad_mode="constant", return_complex=True)
    return spec_m[: n_fft // 2]


def frames_of(audio_v, start_frame, end_frame, n_fft, hop_length):
    """Frames ``[start_frame, end_frame)`` of ``stft(audio_v, ...)``, computed from the samples they cover only.

    Returns a complex64 tensor (n_fft // 2, end_frame - start_frame)."""
    first = start_frame * hop_length - n_fft // 2
    last = (end_frame - 1) * hop_length + n_fft - n_fft // 2  # excluded
    piece_v = np.zeros(last - first, dtype=np.float32)
    lo, hi = max(first, 0), min(last, len(audio_v))
    if lo < hi:
        piece_v[lo - first: hi - first] = np.asarray(audio_v[lo:hi], dtype=np.float32)
    spec_m = torch.stft(torch.from_numpy(piece_v), n_fft, hop_length, window=_window(n_fft), center=False,
                        return_complex=True)
    return spec_m[: n_fft // 2]


def istft(spec_m, n_fft, hop_length, n_samples):
    """The waveform of a complex spectrogram (n_fft // 2, T) or (..., n_fft // 2, T) made by ``stft`` (the dropped
    Nyquist bin taken as 0): a float32 tensor (..., n_samples)."""
    spec_m = torch.as_tensor(spec_m)
    full_m = torch.cat([spec_m, torch.zeros_like(spec_m[..., :1, :])], dim=-2)
    return torch.istft(full_m, n_fft, hop_length, window=_window(n_fft, spec_m.device), center=True,
                       length=int(n_samples))


def log_magnitude(spec_m, log_gain):
    """What a model reads: log(1 + log_gain * |S|), same shape, float32."""
    return torch.log1p(log_gain * spec_m.abs())


def magnitude_of_log(X, log_gain):
    """The magnitude |S| back from ``log_magnitude``."""
    return torch.expm1(X) / log_gain


def f_get_stft(audio_v, sr_hz, param):
    """The ``stft`` feature: (log-magnitude (1, n_fft // 2, n_frames) float32, frame times in s (n_frames,)).
    ``param``: the feature section (``n_fft``, ``hop_length``, ``log_gain``, and ``sr_hz`` if stated)."""
    audio_store.check_rate(param, sr_hz)
    spec_m = stft(audio_v, int(param.require("n_fft")), int(param.require("hop_length")))
    data_m = log_magnitude(spec_m, float(param.require("log_gain"))).numpy()[np.newaxis]
    return data_m, np.arange(data_m.shape[-1]) * int(param.require("hop_length")) / sr_hz


def stft_context_frames(param, sr_hz):
    """Frames of audio needed on each side of a patch to compute its ``stft`` feature exactly: a whole window
    (``n_fft // hop_length`` frames), plus one."""
    return int(param.require("n_fft")) // int(param.require("hop_length")) + 1
