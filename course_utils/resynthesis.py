"""Sound back from a magnitude spectrogram, a classical codec to compare with, and a distance between two sounds.

- ``to_audio``: the waveform of a log-magnitude STFT (``features.stft``): with a given phase (the original's: what
  an auto-encoder of magnitudes cannot know, stated when used) or, without one, by **Griffin-Lim** (``griffin_lim``:
  the phase found again from the magnitude alone, Griffin and Lim, 1984; the fast variant of Perraudin et al.,
  2013), as a codec that sends no phase must;
- ``opus_round_trip``: the same audio through Opus (Valin et al., 2012) at a bit rate set by ``soundfile``'s
  compression level (libsndfile; 24 kHz inside Opus), and the bit rate measured from the bytes it wrote (headers
  left out);
- ``multi_resolution_stft_distance``: spectral convergence + mean absolute log-magnitude difference, averaged over
  three STFT resolutions (as the losses of neural codecs and vocoders: Yamamoto et al., 2020), the magnitudes
  floored at -80 dB below the reference's peak so that inaudible differences count for nothing.

Taught in notebooks/10_autoencoders.ipynb.
"""

import io

import numpy as np
import soundfile
import soxr
import torch

from course_utils.features import stft

RESOLUTION_L = ((512, 128), (1024, 256), (2048, 512))  # (n_fft, hop) of the multi-resolution distance
OPUS_RATE_HZ = 24000  # Opus codes 8, 12, 16, 24 or 48 kHz audio: the course's 22,050 Hz is converted to this and back


def griffin_lim(magnitude_m, n_fft, hop_length, n_samples, n_iter=32, momentum=0.99, seed=0):
    """A waveform whose STFT magnitude is close to ``magnitude_m`` (n_fft // 2, T), the course's framing
    (``features.stft``): Griffin-Lim with momentum (Perraudin et al., 2013) from a random phase, ``n_iter``
    iterations. Returns a float32 tensor (n_samples,) (the T frames span (T - 1) x hop samples: a length that does
    not give T frames is reached by padding or cutting)."""
    magnitude_m = torch.as_tensor(magnitude_m, dtype=torch.float32)
    n_frame = magnitude_m.shape[-1]
    length = n_samples if stft.n_frames(n_samples, hop_length) == n_frame else (n_frame - 1) * hop_length
    generator = torch.Generator().manual_seed(seed)
    angle_m = torch.exp(2j * torch.pi * torch.rand(magnitude_m.shape, generator=generator))
    previous_m = torch.zeros_like(angle_m)
    for _ in range(n_iter):
        rebuilt_m = stft.stft(stft.istft(magnitude_m * angle_m, n_fft, hop_length, length), n_fft, hop_length)
        accelerated_m = rebuilt_m - momentum / (1 + momentum) * previous_m
        angle_m = accelerated_m / (accelerated_m.abs() + 1e-16)
        previous_m = rebuilt_m
    audio_v = stft.istft(magnitude_m * angle_m, n_fft, hop_length, length)
    return torch.nn.functional.pad(audio_v, (0, max(0, n_samples - length)))[:n_samples]


def to_audio(X, param_feature, n_samples, phase_m=None, n_iter=32):
    """The waveform (n_samples,) float32 numpy of a log-magnitude X (1, n_fft // 2, T) of the ``stft`` feature
    (``param_feature``: its ``n_fft``, ``hop_length``, ``log_gain``): with the phase of ``phase_m`` (a complex STFT of
    the same shape, e.g. the original's) or, when None, by ``griffin_lim``."""
    n_fft, hop = int(param_feature["n_fft"]), int(param_feature["hop_length"])
    magnitude_m = stft.magnitude_of_log(torch.as_tensor(X, dtype=torch.float32)[0].clamp(min=0),
                                        float(param_feature["log_gain"]))
    if phase_m is None:
        return griffin_lim(magnitude_m, n_fft, hop, n_samples, n_iter).numpy()
    phase_m = torch.as_tensor(phase_m)
    if phase_m.shape != magnitude_m.shape:
        raise ValueError(f"the phase's STFT has shape {tuple(phase_m.shape)}, the magnitude {tuple(magnitude_m.shape)}")
    return stft.istft(magnitude_m * torch.exp(1j * phase_m.angle()), n_fft, hop, n_samples).numpy()


def opus_round_trip(audio_v, sr_hz, compression_level=1.0):
    """``audio_v`` (n,) through Opus and back: (decoded audio (n,) float32 at ``sr_hz``, the bit rate in kbps measured
    from the Ogg file's bytes, less its headers: those of a file of 20 ms of silence, about 0.9 kB, which a few
    seconds of audio would otherwise count as kbps). ``compression_level`` in [0, 1]: 1 is libsndfile's lowest bit
    rate (variable: about 7 kbps on 8-second clips of the course's music, headers left out), 0.99 about 9, 0.98
    about 11 (measured in notebook 10)."""
    audio_v = np.asarray(audio_v, dtype=np.float32)
    if audio_v.ndim != 1 or len(audio_v) == 0:
        raise ValueError(f"opus_round_trip takes a mono signal (n,), got shape {audio_v.shape}")
    if not 0.0 <= compression_level <= 1.0:
        raise ValueError(f"compression_level must be in [0, 1], got {compression_level}")
    buffer = io.BytesIO()
    soundfile.write(buffer, soxr.resample(audio_v, sr_hz, OPUS_RATE_HZ), OPUS_RATE_HZ, format="OGG", subtype="OPUS",
                    compression_level=compression_level)
    kbps = (len(buffer.getvalue()) - _opus_header_bytes(compression_level)) * 8 / (len(audio_v) / sr_hz) / 1000
    buffer.seek(0)
    decoded_v, _ = soundfile.read(buffer, dtype="float32")
    decoded_v = soxr.resample(decoded_v, OPUS_RATE_HZ, sr_hz)
    return np.pad(decoded_v, (0, max(0, len(audio_v) - len(decoded_v))))[:len(audio_v)].astype(np.float32), kbps


def _opus_header_bytes(compression_level):
    """Bytes of an Ogg Opus file of 20 ms of silence: the headers, sent once per file, not per second."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(OPUS_RATE_HZ // 50, dtype=np.float32), OPUS_RATE_HZ, format="OGG",
                    subtype="OPUS", compression_level=compression_level)
    return len(buffer.getvalue())


def multi_resolution_stft_distance(reference_v, estimate_v, resolution_l=RESOLUTION_L, floor_db=-80.0):
    """Distance of an estimate from a reference signal (n,): for each (n_fft, hop), the spectral convergence
    ||S - S'|| / ||S|| (Frobenius norms of the magnitudes) plus the mean |log S - log S'| (natural log, magnitudes
    floored at ``floor_db`` below the reference's peak), averaged over the resolutions. 0 for the same signal;
    lower is closer. Signals of different lengths are compared over the shorter."""
    reference_v = torch.as_tensor(np.asarray(reference_v, dtype=np.float32))
    estimate_v = torch.as_tensor(np.asarray(estimate_v, dtype=np.float32))
    n_sample = min(len(reference_v), len(estimate_v))
    if reference_v.dim() != 1 or estimate_v.dim() != 1 or n_sample == 0:
        raise ValueError(f"two mono signals are compared, got shapes {tuple(reference_v.shape)} and "
                         f"{tuple(estimate_v.shape)}")
    distance_l = []
    for n_fft, hop in resolution_l:
        reference_m = stft.stft(reference_v[:n_sample], n_fft, hop).abs()
        estimate_m = stft.stft(estimate_v[:n_sample], n_fft, hop).abs()
        floor = float(reference_m.max()) * 10 ** (floor_db / 20) + 1e-12
        convergence = torch.linalg.norm(reference_m - estimate_m) / (torch.linalg.norm(reference_m) + 1e-12)
        log_distance = (reference_m.clamp(min=floor).log() - estimate_m.clamp(min=floor).log()).abs().mean()
        distance_l.append(float(convergence + log_distance))
    return float(np.mean(distance_l))
