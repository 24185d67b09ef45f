"""Exercises of notebooks/02_features.ipynb, with their checkers; solutions in solutions/."""

import numpy as np

from course_utils import feature
from course_utils.exercises.checking import Wrong, as_array, as_float, call, exercise


@exercise("02.1", "02_features", "frame analysis by hand", "frame_signal",
          "write frame_signal(audio_v, L_n, STEP_n): the frames of a signal as an array (n_frames, L_n), frame i "
          "= audio_v[i * STEP_n : i * STEP_n + L_n], only whole frames, no padding.",
          ["Frame i starts at sample i * STEP_n. Before writing any loop, count on paper how many whole frames fit "
           "in 12 samples with L_n = 4 and STEP_n = 2.",
           "The last frame must end at or before the last sample, so its start is at most len(audio_v) - L_n.",
           "Make a list of the frames (slices of audio_v), then stack it into one array, one frame per row."])
def _check_frame_signal(frame_signal):
    import librosa

    rng = np.random.default_rng(0)
    case_l = [(np.arange(12.0), 4, 2), (np.arange(11.0), 4, 3), (rng.standard_normal(1000), 256, 100)]
    for audio_v, L_n, STEP_n in case_l:
        answer = as_array(call(frame_signal, audio_v, L_n, STEP_n), "the frames")
        expected = librosa.util.frame(audio_v, frame_length=L_n, hop_length=STEP_n, axis=0)
        where = f"for {len(audio_v)} samples, L_n = {L_n}, STEP_n = {STEP_n}"
        if answer.shape == expected.shape[::-1] and answer.shape != expected.shape:
            raise Wrong(f"{where} the shape is {answer.shape}, expected {expected.shape}: one row per frame")
        if answer.shape != expected.shape:
            raise Wrong(f"{where} the shape is {answer.shape}, expected {expected.shape} (n_frames, L_n)")
        bad_v = np.flatnonzero(~np.all(np.isclose(answer, expected), axis=1))
        if bad_v.size:
            raise Wrong(f"{where} frame {bad_v[0]} should start at sample {bad_v[0] * STEP_n} "
                        f"({expected[bad_v[0], :3]}...), yours is {answer[bad_v[0], :3]}...")
    return "the same frames as librosa.util.frame on 3 signals (a last partial frame is dropped)."


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
        where = f"for {n_frames} frames of {L_n} samples"
        if answer.shape != expected.shape:
            raise Wrong(f"{where} the shape is {answer.shape}, expected {expected.shape} (n_frames, L_n // 2 + 1)")
        if np.allclose(answer, np.abs(np.fft.rfft(frame_m, axis=1)) ** 2):
            raise Wrong(f"{where} the frames were not multiplied by the window before the FFT")
        if np.allclose(answer, np.sqrt(expected)):
            raise Wrong(f"{where} you gave the magnitude; the power is the magnitude squared")
        if not np.allclose(answer, expected, rtol=1e-5, atol=1e-8):
            raise Wrong(f"{where} frame 0 gives {answer[0, :3]}..., expected {expected[0, :3]}...")
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
                                              (2.97, 22050, 1024, 64)):
        answer = as_float(call(patch_frames, patch_sec, sr_hz, hop_n), "the number of frames")
        where = f"for {patch_sec} s at {sr_hz} Hz with a hop of {hop_n} samples"
        if answer != int(answer):
            raise Wrong(f"{where} you gave {answer}: a patch holds a whole number of frames")
        if int(answer) == int(patch_sec * sr_hz / hop_n) != expected:
            raise Wrong(f"{where} you gave {answer:.0f}: rounded down; the nearest whole number is {expected}")
        if int(answer) != expected:
            raise Wrong(f"{where} you gave {answer:.0f}, expected {expected} (one frame every {hop_n / sr_hz:.4f} s)")
    return "right for 4 patches, at two rates and three hops."


@exercise("02.4", "02_features", "the patches of a track", "patches_by_hand",
          "write patches_by_hand(total_len, patch_len, patch_hopsize): the list of (start_frame, end_frame) "
          "patches of feature.f_get_patches, end excluded, including its last patch for the tail.",
          ["The regular patches start at 0, patch_hopsize, 2 * patch_hopsize, ... as long as a whole patch fits.",
           "Look at the figure above: when the last regular patch ends before total_len, frames at the end are in no "
           "patch. One more patch of the same length covers them.",
           "That extra patch ends exactly at total_len, so it starts at total_len - patch_len."])
def _check_patches_by_hand(patches_by_hand):
    for total_len, patch_len, patch_hopsize in ((10, 4, 2), (11, 4, 2), (64, 64, 32), (100, 64, 32), (300, 64, 64)):
        answer = call(patches_by_hand, total_len, patch_len, patch_hopsize)
        try:
            answer_l = [(int(p["start_frame"]), int(p["end_frame"])) if isinstance(p, dict) else (int(p[0]), int(p[1]))
                        for p in answer]
        except (TypeError, KeyError, IndexError, ValueError):
            raise Wrong(f"expected a list of (start_frame, end_frame) pairs, got {answer!r}") from None
        expected_l = [(p["start_frame"], p["end_frame"]) for p in feature.f_get_patches(total_len, patch_len,
                                                                                        patch_hopsize)]
        where = f"for total_len = {total_len}, patch_len = {patch_len}, patch_hopsize = {patch_hopsize}"
        if answer_l == expected_l:
            continue
        if answer_l == expected_l[:-1]:
            raise Wrong(f"{where} frames {answer_l[-1][1]} to {total_len - 1} are in no patch")
        if any(end - start != patch_len for start, end in answer_l):
            raise Wrong(f"{where} every patch must be {patch_len} frames long; you gave {answer_l}")
        raise Wrong(f"{where} you gave {answer_l}, expected {expected_l}")
    return "the same patches as feature.f_get_patches on 5 cases, tails included."
