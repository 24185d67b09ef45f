"""Audio features of the course: waveform, log-mel spectrogram (LMS), harmonic CQT (HCQT), patches.

Every feature is a ``(C, F, T)`` array (``(1, T)`` for the waveform) plus the time of each frame in
seconds, so that annotations given in seconds can be mapped to frames. The feature cache that stores
them for a whole dataset is in ``course_utils.feature_cache``.

Taught in notebooks/02_features.ipynb.
"""

import functools

import librosa
import numpy as np
import scipy.fft
import scipy.signal

# --- input checks ---------------------------------------------------------------------------------


def _get_param(param, key, default=None):
    """Read ``key`` from a dict or from an attribute-style object; ``default`` if absent (None: required)."""
    if isinstance(param, dict):
        value = param.get(key, default)
    else:
        value = getattr(param, key, default)
    if value is None:
        raise ValueError(f"feature parameter '{key}' is missing; add it to the 'feature' section of the config")
    return value


def _check_audio(audio_v, sr_hz):
    """Raise a ValueError that says how to fix audio that the features cannot take."""
    if not isinstance(audio_v, np.ndarray):
        raise ValueError(f"audio_v must be a numpy array, got {type(audio_v).__name__}")
    if audio_v.ndim != 1:
        raise ValueError(
            f"audio_v must be mono with shape (n_samples,), got shape {audio_v.shape}; "
            "mix it down first with librosa.to_mono(audio_m) (librosa expects (n_channels, n_samples))")
    if not np.issubdtype(audio_v.dtype, np.floating):
        raise ValueError(
            f"audio_v must hold floats in [-1, 1], got dtype {audio_v.dtype}; "
            "for int16 samples use audio_v.astype(np.float32) / 32768")
    if audio_v.size == 0:
        raise ValueError("audio_v is empty (0 samples); check the file it was read from")
    if not np.all(np.isfinite(audio_v)):
        n_bad = int(np.sum(~np.isfinite(audio_v)))
        raise ValueError(f"audio_v holds {n_bad} NaN or inf samples; check the file it was read from")
    if isinstance(sr_hz, bool) or not isinstance(sr_hz, (int, float, np.integer, np.floating)) or sr_hz <= 0:
        raise ValueError(f"sr_hz must be a positive number of samples per second, got {sr_hz!r}")


def _check_hop(hop_n, name):
    if isinstance(hop_n, bool) or not isinstance(hop_n, (int, np.integer)) or hop_n <= 0:
        raise ValueError(f"{name} must be a positive whole number of samples, got {hop_n!r}")
    return int(hop_n)


def _centred_stft(audio_v, n_fft, hop_n, window_v=None):
    """Short-time Fourier transform with centred frames (zero padding), as librosa.stft computes it.

    Returns a C-ordered complex64 array of shape (1 + n_fft // 2, n_frames): the FFT runs along the
    frame axis of a strided view, which avoids librosa's copies and makes the sparse filter-bank
    products of the CQT several times faster.
    """
    padded_v = np.pad(audio_v.astype(np.float32, copy=False), n_fft // 2)
    if padded_v.size < n_fft:
        padded_v = np.pad(padded_v, (0, n_fft - padded_v.size))
    frame_m = librosa.util.frame(padded_v, frame_length=n_fft, hop_length=hop_n)
    if window_v is not None:
        frame_m = frame_m * window_v[:, np.newaxis]
    return scipy.fft.rfft(frame_m, axis=0).astype(np.complex64, copy=False)


# --- waveform and log-mel -------------------------------------------------------------------------


def f_get_waveform(audio_v, sr_hz):
    """The waveform itself as a one-channel feature.

    Parameters
    ----------
    audio_v : np.ndarray, shape (n_samples,), float in [-1, 1]
    sr_hz : int or float, sampling rate

    Returns
    -------
    data_m : np.ndarray, shape (1, n_samples), float32 (a frame is one sample)
    time_sec_v : np.ndarray, shape (n_samples,), time of each sample in seconds

    Taught in notebooks/02_features.ipynb.
    """
    _check_audio(audio_v, sr_hz)
    data_m = audio_v.astype(np.float32)[np.newaxis, :]
    time_sec_v = np.arange(audio_v.size) / float(sr_hz)
    return data_m, time_sec_v


@functools.lru_cache(maxsize=16)
def _mel_basis(sr_hz, n_fft, nb_band):
    """Mel filter bank, shape (nb_band, 1 + n_fft // 2), computed once per parameter set."""
    return librosa.filters.mel(sr=sr_hz, n_fft=n_fft, n_mels=nb_band).astype(np.float32)


@functools.lru_cache(maxsize=16)
def _hann_window(window_n):
    """Periodic Hann window of window_n samples (librosa.stft's default window)."""
    return scipy.signal.get_window("hann", window_n, fftbins=True).astype(np.float32)


def f_get_lms(audio_v, sr_hz, param_lms):
    """Log-mel spectrogram (LMS) of a mono signal.

    Power spectrogram (Hann window of ``L_n`` samples, hop ``STEP_n`` samples, frames centred),
    mel filter bank of ``nb_band`` bands (librosa's Slaney mel), then the log compression
    ``log(1 + 10000 * mel_power)`` of the reference course (a log that stays finite at silence).

    Parameters
    ----------
    audio_v : np.ndarray, shape (n_samples,), float in [-1, 1]
    sr_hz : int or float (the course uses 22050)
    param_lms : dict or attribute object with ``nb_band`` (e.g. 128), ``L_n`` (window, samples,
        e.g. 2048) and ``STEP_n`` (hop, samples, e.g. 1024)

    Returns
    -------
    data_3m : np.ndarray, shape (1, nb_band, n_frames), float32, log(1 + 10000 * mel power)
    time_sec_v : np.ndarray, shape (n_frames,), centre time of each frame in seconds

    Taught in notebooks/02_features.ipynb.
    """
    _check_audio(audio_v, sr_hz)
    nb_band = int(_get_param(param_lms, "nb_band"))
    window_n = _check_hop(_get_param(param_lms, "L_n"), "L_n (window length)")
    hop_n = _check_hop(_get_param(param_lms, "STEP_n"), "STEP_n (hop size)")
    stft_m = _centred_stft(audio_v, window_n, hop_n, _hann_window(window_n))
    power_m = stft_m.real**2 + stft_m.imag**2
    mel_m = _mel_basis(float(sr_hz), window_n, nb_band) @ power_m
    data_3m = np.log1p(10000.0 * mel_m).astype(np.float32)[np.newaxis]
    time_sec_v = librosa.frames_to_time(np.arange(data_3m.shape[-1]), sr=sr_hz, hop_length=hop_n)
    return data_3m, time_sec_v


# --- harmonic CQT ---------------------------------------------------------------------------------
#
# The straightforward HCQT computes one librosa CQT per harmonic h (fmin = h * fmin), i.e. len(h_l)
# multirate CQTs, each building its own filter banks and resampling the signal again. Here the work
# is shared: the signal is halved once per octave level, every distinct filter centre frequency of all
# harmonics is computed once at the level librosa would use for it, the filter banks are cached per
# parameter set, and each level needs one STFT. The values match librosa.cqt (tested to 1e-2).

_RES_TYPE = "soxr_hq"


def _hcqt_frequencies(h_l, fmin_hz, bins_per_octave, n_bins):
    """Centre frequencies of every HCQT bin, shape (len(h_l), n_bins), in Hz."""
    return np.array([h * fmin_hz * 2.0 ** (np.arange(n_bins) / bins_per_octave) for h in h_l])


@functools.lru_cache(maxsize=8)
def _hcqt_plan(sr_hz, hop_n, h_t, fmin_hz, bins_per_octave, n_bins):
    """Filter banks of a fast HCQT, computed once per parameter set.

    Returns a dict with, per octave level j (signal at sr_hz / 2**j, hop hop_n / 2**j): the sparse FFT
    filter bank, its n_fft and the index of each of its filters in the list of unique frequencies;
    plus the map from (harmonic, bin) to unique frequency and the length of every filter at sr_hz.
    """
    freq_2m = _hcqt_frequencies(h_t, fmin_hz, bins_per_octave, n_bins)
    alpha = (2.0 ** (2 / bins_per_octave) - 1) / (2.0 ** (2 / bins_per_octave) + 1)
    # --- level of each (harmonic, bin): the level librosa.cqt uses for it. (Computing a bin at a higher
    # rate would be more exact, but librosa's resampler attenuates bins near its Nyquist frequency by
    # about 1%: we follow librosa so that the values match the reference definition.)
    level_2m = _librosa_levels(freq_2m, sr_hz, hop_n, bins_per_octave, alpha)

    # --- one filter per distinct (frequency, level): harmonics 0.5, 1, 2, 4 share many of theirs
    key_2m = np.round(np.log2(freq_2m) * 1e6).astype(np.int64) * 100 + level_2m
    unique_key_v, first_v, unique_idx_v = np.unique(key_2m.ravel(), return_index=True, return_inverse=True)
    unique_idx_2m = unique_idx_v.reshape(freq_2m.shape)
    unique_freq_v = freq_2m.ravel()[first_v]
    level_v = level_2m.ravel()[first_v]
    lengths_v = sr_hz / (alpha * unique_freq_v)  # librosa.filters.wavelet_lengths, filter_scale=1, gamma=0

    level_l = []
    for level in range(int(level_v.max()) + 1):
        idx_v = np.flatnonzero(level_v == level)
        if idx_v.size == 0:
            level_l.append(None)
            continue
        level_sr_hz = sr_hz / 2**level
        basis_m, basis_len_v = librosa.filters.wavelet(freqs=unique_freq_v[idx_v], sr=level_sr_hz,
                                                       window="hann", filter_scale=1, norm=1,
                                                       pad_fft=True, alpha=alpha, dtype=np.complex64)
        n_fft = basis_m.shape[1]
        level_hop_n = hop_n // 2**level
        n_fft = max(n_fft, int(2.0 ** (1 + np.ceil(np.log2(level_hop_n)))))
        basis_m = basis_m * (basis_len_v[:, np.newaxis] / float(n_fft))
        fft_basis_m = np.fft.fft(basis_m, n=n_fft, axis=1)[:, : n_fft // 2 + 1]
        fft_basis_m = librosa.util.sparsify_rows(fft_basis_m, quantile=0.01, dtype=np.complex64)
        fft_basis_m = fft_basis_m * np.sqrt(2.0**level)  # compensate the downsampling (as librosa)
        level_l.append({"idx_v": idx_v, "fft_basis_m": fft_basis_m.tocsr().astype(np.complex64), "n_fft": n_fft})
    return {"level_l": level_l, "unique_idx_2m": unique_idx_2m, "lengths_v": lengths_v,
            "n_unique": unique_freq_v.size}


def _librosa_levels(freq_2m, sr_hz, hop_n, bins_per_octave, alpha):
    """Octave level at which librosa.cqt computes each bin, shape (n_harmonics, n_bins), int.

    Level j means the signal downsampled to sr_hz / 2**j. As in librosa, each harmonic's top octave is
    computed at the lowest rate that keeps its cut-off below half the Nyquist frequency ("early
    downsampling"), each lower octave one level further down, until the hop is no longer even.
    Following the same levels keeps our values equal to librosa's, down to its resampling.
    """
    n_two_factors = _number_of_two_factors(hop_n)
    n_bins = freq_2m.shape[1]
    n_octaves = int(np.ceil(n_bins / bins_per_octave))
    cutoff_factor = 1 + 0.5 * librosa.filters.window_bandwidth("hann") * alpha
    level_2m = np.zeros(freq_2m.shape, dtype=np.int64)
    for row, freq_v in enumerate(freq_2m):
        top_cutoff_hz = freq_v[-1] * cutoff_factor
        early_by_frequency = max(0, int(np.ceil(np.log2(sr_hz / 2 / top_cutoff_hz))) - 2)
        early_by_hop = max(0, n_two_factors - n_octaves + 1)
        early = min(early_by_frequency, early_by_hop)
        octave_from_top_v = (n_bins - 1 - np.arange(n_bins)) // bins_per_octave
        level_2m[row] = early + np.minimum(octave_from_top_v, n_two_factors - early)
    return level_2m


def _number_of_two_factors(n):
    count = 0
    while n > 0 and n % 2 == 0:
        n //= 2
        count += 1
    return count


def f_get_hcqt(audio_v, sr_hz, param_hcqt):
    """Harmonic constant-Q transform (HCQT) of a mono signal (Bittner et al., 2017).

    Channel ``c`` is the magnitude CQT with lowest frequency ``h_l[c] * fmin``, so that the same bin
    index of every channel looks at the harmonics of the same fundamental frequency. The values equal
    ``abs(librosa.cqt(audio_v, sr=sr_hz, fmin=h * fmin, hop_length=hop_length,
    bins_per_octave=12 * bins_per_semitone, n_bins=12 * bins_per_semitone * n_octaves))`` for each h
    (relative L2 error below 1e-2, tested), computed in one shared multirate pass.

    Parameters
    ----------
    audio_v : np.ndarray, shape (n_samples,), float in [-1, 1]
    sr_hz : int or float (the course uses 22050)
    param_hcqt : dict or attribute object with ``h_l`` (harmonics, e.g. [0.5, 1, 2, 3, 4, 5]),
        ``fmin`` (Hz, e.g. 32.7 = C1), ``n_octaves`` (e.g. 6), ``bins_per_semitone`` (3 or 5),
        ``hop_length`` (samples, e.g. 256 or 512; divisible by 2 many times for speed), and optionally
        ``log_gain``: if given, the magnitude is compressed as ``log(1 + log_gain * magnitude)``.

    Returns
    -------
    data_3m : np.ndarray, shape (len(h_l), n_octaves * 12 * bins_per_semitone, n_frames), float32,
        CQT magnitude (librosa's scaling, linear unless ``log_gain`` is set)
    time_sec_v : np.ndarray, shape (n_frames,), centre time of each frame in seconds
    frequency_hz_v : np.ndarray, shape (n_bins,), centre frequency of each bin of the h = 1 channel
        (channel c is at ``h_l[c] * frequency_hz_v``)

    Taught in notebooks/02_features.ipynb.
    """
    _check_audio(audio_v, sr_hz)
    h_l = [float(h) for h in _get_param(param_hcqt, "h_l")]
    if len(h_l) == 0 or min(h_l) <= 0:
        raise ValueError(f"h_l must be a non-empty list of positive harmonics, got {h_l}")
    fmin_hz = float(_get_param(param_hcqt, "fmin"))
    if fmin_hz <= 0:
        raise ValueError(f"fmin must be a positive frequency in Hz, got {fmin_hz}")
    bins_per_octave = 12 * int(_get_param(param_hcqt, "bins_per_semitone"))
    n_bins = bins_per_octave * int(_get_param(param_hcqt, "n_octaves"))
    if n_bins <= 0:
        raise ValueError("bins_per_semitone and n_octaves must be positive")
    hop_n = _check_hop(_get_param(param_hcqt, "hop_length"), "hop_length")

    top_hz = max(h_l) * fmin_hz * 2.0 ** ((n_bins - 1) / bins_per_octave)
    alpha = (2.0 ** (2 / bins_per_octave) - 1) / (2.0 ** (2 / bins_per_octave) + 1)
    top_cutoff_hz = top_hz * (1 + 0.5 * librosa.filters.window_bandwidth("hann") * alpha)
    if top_cutoff_hz > sr_hz / 2:
        raise ValueError(
            f"the top HCQT bin ({max(h_l)} x {fmin_hz} Hz x 2^{(n_bins - 1) / bins_per_octave:.2f} = "
            f"{top_hz:.0f} Hz, filter cut-off {top_cutoff_hz:.0f} Hz) is above the Nyquist frequency "
            f"{sr_hz / 2:.0f} Hz of sr_hz={sr_hz}; use fewer octaves, a lower fmin, smaller harmonics "
            "or a higher sampling rate")

    plan = _hcqt_plan(float(sr_hz), hop_n, tuple(h_l), fmin_hz, bins_per_octave, n_bins)
    # --- every distinct filter's response, level by level (the signal halved between levels)
    max_frames = 2 + audio_v.size // hop_n
    magnitude_m = np.zeros((plan["n_unique"], max_frames), dtype=np.float32)
    n_frames = max_frames
    level_audio_v = audio_v.astype(np.float32)
    for level, level_plan in enumerate(plan["level_l"]):
        if level > 0:
            level_audio_v = librosa.resample(level_audio_v, orig_sr=2, target_sr=1,
                                             res_type=_RES_TYPE, scale=True)
        if level_plan is None:
            continue
        stft_m = _centred_stft(level_audio_v, level_plan["n_fft"], hop_n // 2**level)
        level_response_m = np.abs(level_plan["fft_basis_m"] @ stft_m)
        n_frames = min(n_frames, level_response_m.shape[1])  # levels may differ by a frame: keep the common part
        magnitude_m[level_plan["idx_v"], : level_response_m.shape[1]] = level_response_m[:, :max_frames]

    magnitude_m = magnitude_m[:, :n_frames] / np.sqrt(plan["lengths_v"]).astype(np.float32)[:, np.newaxis]
    data_3m = magnitude_m[plan["unique_idx_2m"]]
    log_gain = param_hcqt.get("log_gain") if isinstance(param_hcqt, dict) else getattr(
        param_hcqt, "log_gain", None)
    if log_gain is not None:
        data_3m = np.log1p(float(log_gain) * data_3m)
    time_sec_v = librosa.frames_to_time(np.arange(n_frames), sr=sr_hz, hop_length=hop_n)
    frequency_hz_v = fmin_hz * 2.0 ** (np.arange(n_bins) / bins_per_octave)
    return data_3m, time_sec_v, frequency_hz_v


# --- patches --------------------------------------------------------------------------------------


def f_get_patches(total_len, patch_len, patch_hopsize):
    """Frame analysis over the time axis of a feature: the list of patches (segments) to cut.

    Patches start at 0, ``patch_hopsize``, 2 * ``patch_hopsize``, ... and are ``patch_len`` frames long.
    **The tail**: when the last regular patch stops before the end, one more patch is added that ends
    exactly at ``total_len`` (it overlaps its neighbour more), so every frame is in at least one patch
    and all patches have the same length. **A feature shorter than one patch** raises a ValueError:
    pad the audio, or choose a shorter ``patch_L_frame``.

    Parameters
    ----------
    total_len : int, number of frames of the feature (its last axis)
    patch_len : int, frames per patch (the config's ``patch_L_frame``, e.g. 64)
    patch_hopsize : int, frames between the starts of two patches (``patch_STEP_frame``, e.g. 32)

    Returns
    -------
    patch_l : list of dict ``{'start_frame': int, 'end_frame': int}``, end excluded
        (``X[..., start_frame:end_frame]``)

    Taught in notebooks/02_features.ipynb.
    """
    total_len = _check_hop(total_len, "total_len") if total_len != 0 else 0
    patch_len = _check_hop(patch_len, "patch_len (patch_L_frame)")
    patch_hopsize = _check_hop(patch_hopsize, "patch_hopsize (patch_STEP_frame)")
    if total_len < patch_len:
        raise ValueError(
            f"the feature has {total_len} frames, fewer than one patch of {patch_len} frames; "
            "use longer audio (or pad it) or a smaller patch_L_frame")
    start_v = list(range(0, total_len - patch_len + 1, patch_hopsize))
    if start_v[-1] + patch_len < total_len:
        start_v.append(total_len - patch_len)
    return [{"start_frame": start, "end_frame": start + patch_len} for start in start_v]



# --- one entry point for the configs -------------------------------------------------------------

FEATURE_TYPES = ("waveform", "lms", "hcqt")


def f_get_feature(audio_v, sr_hz, param_feature):
    """The feature named by ``param_feature['type']`` (the ``feature`` section of a config).

    Parameters
    ----------
    audio_v : np.ndarray, shape (n_samples,), float in [-1, 1]
    sr_hz : int or float
    param_feature : dict or attribute object with ``type`` in ``FEATURE_TYPES`` and that feature's keys

    Returns
    -------
    data : np.ndarray, shape (1, n_samples) for 'waveform', (C, F, n_frames) otherwise, float32
    time_sec_v : np.ndarray, shape (n_frames,), time of each frame in seconds
    """
    feature_type = _get_param(param_feature, "type")
    if feature_type == "waveform":
        return f_get_waveform(audio_v, sr_hz)
    if feature_type == "lms":
        return f_get_lms(audio_v, sr_hz, param_feature)
    if feature_type == "hcqt":
        data_3m, time_sec_v, _ = f_get_hcqt(audio_v, sr_hz, param_feature)
        return data_3m, time_sec_v
    raise ValueError(f"unknown feature type '{feature_type}'; use one of {', '.join(FEATURE_TYPES)}")
