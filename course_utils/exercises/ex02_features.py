"""Exercises of notebooks/02_features.ipynb, with their checkers; solutions in solutions/."""

import numpy as np

from course_utils import feature
from course_utils.exercises.checking import Wrong, as_array, call, exercise


@exercise("02.1", "02_features", "frame analysis by hand", "frame_signal",
           "write frame_signal(audio_v, L_n, STEP_n): the frames of a signal as an array (n_frames, L_n), frame i "
           "= audio_v[i * STEP_n : i * STEP_n + L_n], only whole frames, no padding.",
           "n_frames = 1 + (len(audio_v) - L_n) // STEP_n; build the rows with a loop or a list comprehension, "
           "then np.stack.")
def _check_frame_signal(frame_signal):
    import librosa

    rng = np.random.default_rng(0)
    case_l = [(np.arange(12.0), 4, 2), (np.arange(11.0), 4, 3), (rng.standard_normal(1000), 256, 100)]
    for audio_v, L_n, STEP_n in case_l:
        answer = as_array(call(frame_signal, audio_v.copy(), L_n, STEP_n), "the frames")
        expected = librosa.util.frame(audio_v, frame_length=L_n, hop_length=STEP_n, axis=0)
        where = f"for {len(audio_v)} samples, L_n = {L_n}, STEP_n = {STEP_n}"
        if answer.shape == expected.shape[::-1] and answer.shape != expected.shape:
            raise Wrong(f"{where} the shape is {answer.shape}, expected {expected.shape}: one row per frame "
                        "(transpose)")
        if answer.shape != expected.shape:
            raise Wrong(f"{where} the shape is {answer.shape}, expected {expected.shape} (n_frames, L_n)")
        bad_v = np.flatnonzero(~np.all(np.isclose(answer, expected), axis=1))
        if bad_v.size:
            raise Wrong(f"{where} frame {bad_v[0]} should start at sample {bad_v[0] * STEP_n} "
                        f"({expected[bad_v[0], :3]}...), yours is {answer[bad_v[0], :3]}...")
    return "the same frames as librosa.util.frame on 3 signals (a last partial frame is dropped)."


@exercise("02.2", "02_features", "the patches of a track", "patches_by_hand",
           "write patches_by_hand(total_len, patch_len, patch_hopsize): the list of (start_frame, end_frame) "
           "patches of feature.f_get_patches, end excluded, including its last patch for the tail.",
           "starts at 0, patch_hopsize, ... while a whole patch fits; if the last patch ends before total_len, "
           "add one more patch that ends exactly at total_len.")
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
            raise Wrong(f"{where} frames {answer_l[-1][1]} to {total_len - 1} are in no patch: add the last patch "
                        f"{expected_l[-1]}")
        if any(end - start != patch_len for start, end in answer_l):
            raise Wrong(f"{where} every patch must be {patch_len} frames long; you gave {answer_l}")
        raise Wrong(f"{where} you gave {answer_l}, expected {expected_l}")
    return "the same patches as feature.f_get_patches on 5 cases, tails included."
