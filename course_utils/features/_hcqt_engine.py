"""The fast engine behind ``features.pitch.f_get_hcqt`` (``feature.f_get_hcqt``): every CQT of an HCQT in one
shared multirate pass.

The straightforward HCQT computes one ``librosa.cqt`` per harmonic h (``fmin = h * fmin``): ``len(h_l)``
multirate CQTs, each building its own filter banks and halving the signal again and again. Here the work
is shared and planned once:

- the signal is halved once per octave level (level j = the signal at ``sr_hz / 2**j``);
- every distinct filter centre frequency of all harmonics is computed once (harmonics 0.5, 1, 2, 4 share
  most of theirs), at the level librosa would use for it, so the values match ``librosa.cqt``;
- the filter banks (sparse, in the FFT domain, already divided by the square root of each filter's
  length) are cached per parameter set;
- each level needs one STFT and one sparse product; the levels are independent and run on threads
  (NumPy's FFT and SciPy's sparse product release the GIL).

Private: the notebooks use ``feature.f_get_hcqt``; the tests compare this engine with ``librosa.cqt``. Its
centred STFT also frames the log-mel (``features.spectral``), and its filter lengths give the context of the
chroma on the fly (``features.chroma``).
"""

import functools
import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor

import librosa
import numpy as np
import scipy.fft

_RES_TYPE = "soxr_hq"  # librosa.cqt's resampler


def cqt_alpha(bins_per_octave):
    """Relative bandwidth of a constant-Q filter with ``bins_per_octave`` bins (librosa's ``alpha``)."""
    ratio = 2.0 ** (2 / bins_per_octave)
    return (ratio - 1) / (ratio + 1)


def top_cutoff_hz(top_frequency_hz, bins_per_octave):
    """Upper edge of the pass band of the filter centred at ``top_frequency_hz``: must stay below Nyquist."""
    return top_frequency_hz * (1 + 0.5 * librosa.filters.window_bandwidth("hann") * cqt_alpha(bins_per_octave))


def longest_filter_n(sr_hz, lowest_frequency_hz, bins_per_octave):
    """Length in samples of the longest (lowest) CQT filter (librosa.filters.wavelet_lengths, filter_scale 1)."""
    return sr_hz / (cqt_alpha(bins_per_octave) * lowest_frequency_hz)


def centred_stft(audio_v, n_fft, hop_n, window_v=None):
    """Short-time Fourier transform with centred frames (zero padding), as librosa.stft computes it.

    Returns a C-ordered complex64 array of shape (1 + n_fft // 2, n_frames): the FFT runs along the
    frame axis of a strided view, which avoids copies and keeps the sparse products fast.
    """
    padded_v = np.pad(audio_v.astype(np.float32, copy=False), n_fft // 2)
    if padded_v.size < n_fft:
        padded_v = np.pad(padded_v, (0, n_fft - padded_v.size))
    frame_m = librosa.util.frame(padded_v, frame_length=n_fft, hop_length=hop_n)
    if window_v is not None:
        frame_m = frame_m * window_v[:, np.newaxis]
    return scipy.fft.rfft(frame_m, axis=0).astype(np.complex64, copy=False)


def _number_of_two_factors(n):
    count = 0
    while n > 0 and n % 2 == 0:
        n //= 2
        count += 1
    return count


def _librosa_levels(freq_2m, sr_hz, hop_n, bins_per_octave):
    """Octave level at which librosa.cqt computes each bin, shape (n_harmonics, n_bins), int.

    As in librosa, each harmonic's top octave is computed at the lowest rate that keeps its cut-off below
    half the Nyquist frequency ("early downsampling"), each lower octave one level further down, until the
    hop is no longer even. (A bin computed at a higher rate would be more exact, but librosa's resampler
    attenuates bins near its Nyquist frequency by about 1 %: we follow librosa, the reference definition.)
    """
    n_two_factors = _number_of_two_factors(hop_n)
    n_bins = freq_2m.shape[1]
    n_octaves = int(np.ceil(n_bins / bins_per_octave))
    level_2m = np.zeros(freq_2m.shape, dtype=np.int64)
    octave_from_top_v = (n_bins - 1 - np.arange(n_bins)) // bins_per_octave
    for row, freq_v in enumerate(freq_2m):
        early_by_frequency = max(0, int(np.ceil(np.log2(sr_hz / 2 / top_cutoff_hz(freq_v[-1], bins_per_octave)))) - 2)
        early = min(early_by_frequency, max(0, n_two_factors - n_octaves + 1))
        level_2m[row] = early + np.minimum(octave_from_top_v, n_two_factors - early)
    return level_2m


@functools.lru_cache(maxsize=8)
def hcqt_plan(sr_hz, hop_n, h_t, fmin_hz, bins_per_octave, n_bins):
    """Filter banks of a fast HCQT, computed once per parameter set.

    Returns a dict: ``level_l`` (per octave level j: None, or the sparse FFT filter bank ``fft_basis_m``,
    its ``n_fft`` and ``idx_v``, the index of each of its filters among the distinct filters),
    ``unique_idx_2m`` (n_harmonics, n_bins) the distinct filter of each (harmonic, bin), and ``n_unique``.
    """
    freq_2m = np.array([h * fmin_hz * 2.0 ** (np.arange(n_bins) / bins_per_octave) for h in h_t])
    level_2m = _librosa_levels(freq_2m, sr_hz, hop_n, bins_per_octave)
    # one filter per distinct (frequency, level)
    key_2m = np.round(np.log2(freq_2m) * 1e6).astype(np.int64) * 100 + level_2m
    _, first_v, unique_idx_v = np.unique(key_2m.ravel(), return_index=True, return_inverse=True)
    unique_freq_v, level_v = freq_2m.ravel()[first_v], level_2m.ravel()[first_v]
    alpha = cqt_alpha(bins_per_octave)
    level_l = []
    for level in range(int(level_v.max()) + 1):
        idx_v = np.flatnonzero(level_v == level)
        if idx_v.size == 0:
            level_l.append(None)
            continue
        basis_m, basis_len_v = librosa.filters.wavelet(freqs=unique_freq_v[idx_v], sr=sr_hz / 2**level,
                                                       window="hann", filter_scale=1, norm=1, pad_fft=True,
                                                       alpha=alpha, dtype=np.complex64)
        n_fft = max(basis_m.shape[1], int(2.0 ** (1 + np.ceil(np.log2(hop_n // 2**level)))))
        basis_m = basis_m * (basis_len_v[:, np.newaxis] / float(n_fft))
        fft_basis_m = np.fft.fft(basis_m, n=n_fft, axis=1)[:, : n_fft // 2 + 1]
        fft_basis_m = librosa.util.sparsify_rows(fft_basis_m, quantile=0.01, dtype=np.complex64)
        # sqrt(2**level): the downsampling's loss of energy (as librosa); 1 / sqrt(length at sr_hz): librosa's
        # scale=True normalisation, folded into the filters so that it costs nothing per call
        row_scale_v = np.sqrt(2.0**level) / np.sqrt(longest_filter_n(sr_hz, unique_freq_v[idx_v], bins_per_octave))
        fft_basis_m = fft_basis_m.multiply(row_scale_v[:, np.newaxis]).tocsr().astype(np.complex64)
        level_l.append({"idx_v": idx_v, "fft_basis_m": fft_basis_m, "n_fft": n_fft})
    return {"level_l": level_l, "unique_idx_2m": unique_idx_v.reshape(freq_2m.shape), "n_unique": unique_freq_v.size}


def default_n_threads():
    """Threads for the levels: the cores this process may use, at most 4; 1 in a child process (DataLoader
    or feature-cache workers already use one process per core)."""
    if multiprocessing.parent_process() is not None:
        return 1
    try:
        n_core = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        n_core = os.cpu_count() or 1
    return max(1, min(4, n_core))


def hcqt_magnitude(audio_v, sr_hz, h_l, fmin_hz, bins_per_octave, n_bins, hop_n, n_threads=None):
    """Magnitude of the CQT of every harmonic: (len(h_l), n_bins, n_frames), float32, librosa's scaling.

    ``n_threads``: threads computing the octave levels (None: ``default_n_threads()``; 1: none).
    """
    plan = hcqt_plan(float(sr_hz), int(hop_n), tuple(h_l), float(fmin_hz), int(bins_per_octave), int(n_bins))
    level_audio_l = [audio_v.astype(np.float32, copy=False)]  # the signal at each level, halved each time
    for _ in range(1, len(plan["level_l"])):
        level_audio_l.append(librosa.resample(level_audio_l[-1], orig_sr=2, target_sr=1, res_type=_RES_TYPE,
                                              scale=True))
    max_frames = 2 + audio_v.size // hop_n
    magnitude_m = np.zeros((plan["n_unique"], max_frames), dtype=np.float32)

    def compute_level(level):  # writes its own rows of magnitude_m: threads never share a row
        level_plan = plan["level_l"][level]
        stft_m = centred_stft(level_audio_l[level], level_plan["n_fft"], hop_n // 2**level)
        response_m = np.abs(level_plan["fft_basis_m"] @ stft_m)[:, :max_frames]
        magnitude_m[level_plan["idx_v"], : response_m.shape[1]] = response_m
        return response_m.shape[1]

    level_l = [level for level, level_plan in enumerate(plan["level_l"]) if level_plan is not None]
    n_threads = default_n_threads() if n_threads is None else int(n_threads)
    if n_threads > 1:
        with ThreadPoolExecutor(max_workers=min(n_threads, len(level_l))) as pool:
            n_frames_l = list(pool.map(compute_level, level_l))
    else:
        n_frames_l = [compute_level(level) for level in level_l]
    n_frames = min(n_frames_l)  # levels may differ by a frame: keep the common part
    return magnitude_m[:, :n_frames][plan["unique_idx_2m"]]
