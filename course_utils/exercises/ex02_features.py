"""Exercises of notebooks/02_features.ipynb, with their checkers; solutions in solutions/."""

import librosa
import numpy as np

from course_utils import feature
from course_utils.exercises.checking import Wrong, as_array, as_float, call, exercise


def _frames(audio_v, L_n, STEP_n):
    """[frame 0, frame 1, ...], frame i = audio_v[i * STEP_n : i * STEP_n + L_n], whole frames only."""
    return [audio_v[start:start + L_n] for start in range(0, len(audio_v) - L_n + 1, STEP_n)]


def _frame_mistake(answer, audio_v, L_n, STEP_n):
    """The sentence that names what is wrong with frames of the right dimension but the wrong content or shape."""
    expected = np.stack(_frames(audio_v, L_n, STEP_n))
    n_frames, where = len(expected), f"for {len(audio_v)} samples, L_n = {L_n}, STEP_n = {STEP_n}"
    if answer.shape == expected.shape[::-1] and answer.shape != expected.shape:
        return f"{where} the shape is {answer.shape}, expected {expected.shape}: one row per frame"
    if answer.ndim != 2:
        return f"{where} the shape is {answer.shape}, expected {expected.shape}: a 2-D array (n_frames, L_n)"
    if answer.shape[1] != L_n:
        return f"{where} your frames hold {answer.shape[1]} samples: each frame holds L_n = {L_n} samples"
    for hop in range(1, L_n + 1):  # frames of the right length, but another hop?
        hop_frame_l = _frames(audio_v, L_n, hop)
        if hop != STEP_n and len(answer) == len(hop_frame_l) and np.allclose(answer, np.stack(hop_frame_l)):
            return (f"{where} your frames start every {hop} sample{'s' * (hop > 1)}: one frame starts every "
                    f"STEP_n = {STEP_n} samples")
    if len(answer) == n_frames - 1:
        return (f"{where} you gave {len(answer)} frames, one frame short: the last whole frame starts at sample "
                f"{(n_frames - 1) * STEP_n} (it ends at {(n_frames - 1) * STEP_n + L_n} <= {len(audio_v)})")
    if len(answer) > n_frames:
        return (f"{where} you gave {len(answer)} frames, expected {n_frames}: only whole frames, no padding (a frame "
                f"starting after sample {len(audio_v) - L_n} would run past the end)")
    if answer.shape != expected.shape:
        return f"{where} the shape is {answer.shape}, expected {expected.shape} (n_frames, L_n)"
    bad = int(np.flatnonzero(~np.all(np.isclose(answer, expected), axis=1))[0])
    return (f"{where} frame {bad} should start at sample {bad * STEP_n} ({expected[bad, :3]}...), yours is "
            f"{answer[bad, :3]}...")


@exercise("02.1", "02_features", "frame analysis by hand", "frame_signal",
          "write frame_signal(audio_v, L_n, STEP_n): the frames of a signal as an array (n_frames, L_n), frame i "
          "= audio_v[i * STEP_n : i * STEP_n + L_n], only whole frames, no padding.",
          ["Frame i starts at sample i * STEP_n. Before writing any loop, count on paper how many whole frames fit "
           "in 12 samples with L_n = 4 and STEP_n = 2.",
           "The last frame must end at or before the last sample, so its start is at most len(audio_v) - L_n.",
           "Make a list of the frames (slices of audio_v), then stack it into one array, one frame per row."],
          forbidden_l=[librosa.util.frame])
def _check_frame_signal(frame_signal):
    rng = np.random.default_rng(0)
    case_l = [(np.arange(12.0), 4, 2), (np.arange(11.0), 4, 3), (rng.standard_normal(1000), 256, 100)]
    for audio_v, L_n, STEP_n in case_l:
        answer = as_array(call(frame_signal, audio_v, L_n, STEP_n), "the frames")
        expected = librosa.util.frame(audio_v, frame_length=L_n, hop_length=STEP_n, axis=0)
        if answer.shape != expected.shape or not np.allclose(answer, expected):
            raise Wrong(_frame_mistake(answer, audio_v, L_n, STEP_n))
    return "the same frames as librosa.util.frame on 3 signals (a last partial frame is dropped)."


def _power_mistake_l(frame_m, window_v):
    """[(what a usual mistake gives, the sentence that names it), ...] for exercise 02.2."""
    spectrum_m = np.fft.rfft(frame_m * window_v, axis=1)
    power_m = np.abs(spectrum_m) ** 2
    return [
        (np.abs(np.fft.rfft(frame_m, axis=1)) ** 2, "the frames were not multiplied by the window before the FFT"),
        (np.abs(spectrum_m), "you gave the magnitude; the power is the magnitude squared"),
        (np.abs(np.fft.fft(frame_m * window_v, axis=1)) ** 2,
         "np.fft.fft gives L_n frequencies, the negative frequencies too (they repeat the positive ones for a real "
         "signal); keep the L_n // 2 + 1 frequencies from 0 to sr_hz / 2 (np.fft.rfft)"),
        (np.abs(np.fft.rfft(frame_m * window_v, axis=0)) ** 2,
         "your FFT runs along the frames (axis 0); it runs along the samples of each frame (axis 1)"),
        (np.abs(np.fft.rfft(frame_m * window_v ** 2, axis=1)) ** 2,
         "you applied the window twice (once per frame is enough)"),
        (np.real(spectrum_m) ** 2, "you squared only the real part; the power is the squared magnitude: real part "
                                   "squared plus imaginary part squared (np.abs(...) ** 2)"),
    ], power_m


def _power_mistake(answer, frame_m, window_v):
    """The sentence that names the mistake of a power spectrum that differs from the right one."""
    mistake_l, power_m = _power_mistake_l(frame_m, window_v)
    where = f"for {len(frame_m)} frames of {frame_m.shape[1]} samples"
    for value_m, sentence in mistake_l:
        if answer.shape == value_m.shape and np.allclose(answer, value_m, rtol=1e-5, atol=1e-8):
            return f"{where} {sentence}"
    if answer.shape != power_m.shape:
        return f"{where} the shape is {answer.shape}, expected {power_m.shape} (n_frames, L_n // 2 + 1)"
    if np.allclose(answer, 10 * np.log10(power_m + 1e-10), atol=0.5) or np.allclose(answer, np.log(power_m + 1e-10),
                                                                                     atol=0.5):
        return f"{where} you gave the log of the power: the power itself (the log comes later, step 4)"
    ratio = float(np.sum(answer * power_m) / np.sum(power_m ** 2))
    if np.allclose(answer, ratio * power_m, rtol=1e-5, atol=1e-8):
        return (f"{where} your values are a constant times the power (x {ratio:.4g}): no normalisation, the "
                "squared magnitude of the FFT as it is")
    return f"{where} frame 0 gives {answer[0, :3]}..., expected {power_m[0, :3]}..."


@exercise("02.2", "02_features", "the power spectrum of each frame", "power_spectrum",
          "write power_spectrum(frame_m, window_v): for each frame (row) of frame_m (n_frames, L_n), the squared "
          "magnitude of the discrete Fourier transform of the windowed frame, for the frequencies 0 to sr_hz / 2: "
          "an array (n_frames, L_n // 2 + 1).",
          ["Multiply every frame by the window first (broadcasting: the window has one value per sample of a frame).",
           "For a real signal the Fourier transform of the negative frequencies repeats the positive ones: NumPy's "
           "real FFT (np.fft.rfft) gives only the L_n // 2 + 1 non-negative frequencies. Apply it along the samples "
           "of each frame (axis 1).",
           "The power is the squared magnitude of each complex coefficient: np.abs(...) ** 2."])
def _check_power_spectrum(power_spectrum):
    rng = np.random.default_rng(2)
    for n_frames, L_n in ((3, 8), (5, 64)):
        frame_m = rng.standard_normal((n_frames, L_n))
        window_v = np.hanning(L_n)
        answer = as_array(call(power_spectrum, frame_m, window_v), "the power spectrum")
        expected = np.abs(np.fft.rfft(frame_m * window_v, axis=1)) ** 2
        if answer.shape != expected.shape or not np.allclose(answer, expected, rtol=1e-5, atol=1e-8):
            raise Wrong(_power_mistake(answer, frame_m, window_v))
    return "the power spectra of windowed frames, as numpy's real FFT gives them."


@exercise("02.3", "02_features", "a patch length in seconds and in frames", "patch_frames",
          "write patch_frames(patch_sec, sr_hz, hop_n): the number of frames (a whole number) of a patch that lasts "
          "about patch_sec seconds, for a feature with one frame every hop_n samples at sr_hz samples per second.",
          ["How many seconds separate two frames? It depends on the hop (in samples) and on the sampling rate.",
           "The number of frames is the patch's duration divided by the time between two frames; a patch holds a "
           "whole number of frames, so take the nearest whole number.",
           "Python's round gives the nearest whole number (int(...) would always round down)."])
def _check_patch_frames(patch_frames):
    for patch_sec, sr_hz, hop_n, expected in ((3.0, 22050, 1024, 65), (1.0, 22050, 512, 43), (10.0, 16000, 160, 1000),
                                              (2.97, 22050, 1024, 64), (0.5, 16000, 256, 31)):
        value = call(patch_frames, patch_sec, sr_hz, hop_n)
        answer = as_float(value, "the number of frames")
        where = f"for {patch_sec} s at {sr_hz} Hz with a hop of {hop_n} samples"
        exact = patch_sec * sr_hz / hop_n
        if answer != int(answer):
            sentence = " (you multiplied by the hop: there are sr_hz / hop_n frames per second)" \
                if np.isclose(answer, patch_sec * hop_n / sr_hz) else ""
            raise Wrong(f"{where} you gave {answer:.4g}: a patch holds a whole number of frames{sentence}")
        if answer == expected and not isinstance(value, int | np.integer):
            raise Wrong(f"{where} you gave {value!r}, a float: a number of frames is an int (np.round keeps a float, "
                        "Python's round gives an int), to slice with or to pass to range")
        if answer == expected:
            continue
        if answer == round(patch_sec * hop_n / sr_hz):
            raise Wrong(f"{where} you gave {answer:.0f}, expected {expected}: you multiplied by the hop; there are "
                        "sr_hz / hop_n frames per second")
        if answer == round(patch_sec * 22050 / hop_n) != expected:
            raise Wrong(f"{where} you gave {answer:.0f}, expected {expected}: you used 22050 Hz; use sr_hz")
        if answer == int(exact) != expected:
            raise Wrong(f"{where} you gave {answer:.0f}: rounded down ({exact:.2f}); the nearest whole number is "
                        f"{expected}")
        if answer == np.ceil(exact) != expected:
            raise Wrong(f"{where} you gave {answer:.0f}: rounded up ({exact:.2f}); the nearest whole number is "
                        f"{expected}")
        if answer == expected + 1:
            raise Wrong(f"{where} you gave {answer:.0f}, one frame too many: {patch_sec} s hold {exact:.2f} hops, "
                        "rounded (the + 1 of centred frames counts the frames of a whole signal, not of a patch)")
        raise Wrong(f"{where} you gave {answer:.0f}, expected {expected} (one frame every {hop_n / sr_hz:.4f} s)")
    return "right for 5 patches, at two rates and four hops."


def _patch_mistake(answer_l, expected_l, total_len, patch_len, patch_hopsize):
    """The sentence that names what is wrong with a list of (start, end) patches."""
    where = f"for total_len = {total_len}, patch_len = {patch_len}, patch_hopsize = {patch_hopsize}"
    if answer_l == expected_l[:-1]:
        return (f"{where} the last frames {list(range(answer_l[-1][1], total_len))} are in no patch: the tail "
                "needs one more patch")
    if len(answer_l) == len(expected_l) + 1 and len(set(answer_l)) < len(answer_l):
        return (f"{where} you gave the patch {answer_l[-1]} twice: the last regular patch ends at total_len already, "
                "so no extra patch is needed")
    if answer_l and all(end - start == patch_len - 1 for start, end in answer_l):
        return (f"{where} your patches hold {patch_len - 1} frames: end_frame is excluded, a patch (start, end) holds "
                f"the frames start to end - 1, and end - start = {patch_len}")
    if any(end - start != patch_len for start, end in answer_l):
        return f"{where} every patch must be {patch_len} frames long; you gave {answer_l}"
    past_l = [(start, end) for start, end in answer_l if end > total_len or start < 0]
    if past_l:
        return (f"{where} the patch {past_l[0]} ends past the last frame: every patch lies within the feature's "
                f"{total_len} frames (the tail gets a patch that ends at total_len)")
    return f"{where} you gave {answer_l}, expected {expected_l}"


@exercise("02.4", "02_features", "the patches of a track", "patches_by_hand",
          "write patches_by_hand(total_len, patch_len, patch_hopsize): the list of (start_frame, end_frame) "
          "patches of feature.f_get_patches, end excluded, including its last patch for the tail.",
          ["The regular patches start at 0, patch_hopsize, 2 * patch_hopsize, ... as long as a whole patch fits.",
           "Look at the figure above: when the last regular patch ends before total_len, frames at the end are in no "
           "patch. One more patch of the same length covers them.",
           "That extra patch ends exactly at total_len, so it starts at total_len - patch_len."],
          forbidden_l=[feature.f_get_patches])
def _check_patches_by_hand(patches_by_hand):
    for total_len, patch_len, patch_hopsize in ((10, 4, 2), (11, 4, 2), (64, 64, 32), (100, 64, 32), (300, 64, 64)):
        answer = call(patches_by_hand, total_len, patch_len, patch_hopsize)
        try:
            answer_l = [(int(p["start_frame"]), int(p["end_frame"])) if isinstance(p, dict) else (int(p[0]), int(p[1]))
                        for p in answer]
        except (TypeError, KeyError, IndexError, ValueError):
            raise Wrong(f"expected a list of (start_frame, end_frame) pairs, got {answer!r:.80}") from None
        expected_l = [(p["start_frame"], p["end_frame"]) for p in feature.f_get_patches(total_len, patch_len,
                                                                                        patch_hopsize)]
        if answer_l != expected_l:
            raise Wrong(_patch_mistake(answer_l, expected_l, total_len, patch_len, patch_hopsize))
    return "the same patches as feature.f_get_patches on 5 cases, tails included."
