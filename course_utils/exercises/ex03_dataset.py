"""Exercises of notebooks/03_dataset.ipynb, with their checkers; solutions in solutions/."""

import numpy as np
import torch

from course_utils import annotation, feature
from course_utils.exercises.checking import SAMPLE_ENTRY_L, Wrong, as_array, call, exercise


def _patch_items_data():
    X_d = {"a": torch.arange(2 * 3 * 10, dtype=torch.float32).reshape(2, 3, 10),
           "b": -torch.arange(2 * 3 * 7, dtype=torch.float32).reshape(2, 3, 7)}
    y_d = {"a": torch.tensor([1.0, 0.0, 1.0]), "b": torch.tensor([0.0, 1.0, 0.0])}
    patch_l = [{"audiofile": key, **patch} for key in ("a", "b")
               for patch in feature.f_get_patches(X_d[key].shape[-1], 4, 3)]
    return X_d, y_d, patch_l


@exercise("03.1", "03_dataset", "__getitem__ of a patch dataset", "PatchItems",
          "write PatchItems.__getitem__(idx_patch): {'X': the frames of its patch, 'y': its track's label}.",
          ["The unit of idx is a patch: self.patch_l[idx_patch] says which track and which frames.",
           "The feature of a track is (C, F, T): a patch keeps every channel and every bin, and only the frames "
           "from start_frame up to (not including) end_frame. Which axis is time?",
           "The label is the track's: the same for every patch of it. Return both in a dict with the keys 'X' and "
           "'y'."])
def _check_patch_items(PatchItems):
    X_d, y_d, patch_l = _patch_items_data()
    try:
        items = PatchItems(X_d, y_d, patch_l)
    except TypeError as error:
        raise Wrong(f"PatchItems(X_d, y_d, patch_l) failed: {error}; keep the __init__ of the stub") from None
    if len(items) != len(patch_l):
        raise Wrong(f"len() is {len(items)}, expected {len(patch_l)}, one item per patch")
    for idx_patch, patch in enumerate(patch_l):
        item = items[idx_patch]
        if item is None:
            raise Wrong("__getitem__ returned None: did you forget the `return`?")
        if not isinstance(item, dict) or not {"X", "y"} <= set(item):
            raise Wrong(f"item {idx_patch} should be a dict with keys 'X' and 'y', got {item!r:.80}")
        key, s, e = patch["audiofile"], patch["start_frame"], patch["end_frame"]
        expected_X, X = X_d[key][..., s:e], item["X"]
        where = f"item {idx_patch} (track '{key}', frames {s} to {e - 1})"
        if not torch.is_tensor(X) or tuple(X.shape) != tuple(expected_X.shape):
            shape = tuple(X.shape) if hasattr(X, "shape") else type(X).__name__
            raise Wrong(f"{where}: X has shape {shape}, expected {tuple(expected_X.shape)}: slice the last (time) "
                        "axis, X[..., start:end]")
        if not torch.equal(X, expected_X):
            raise Wrong(f"{where}: X has the right shape but not the frames of the patch (wrong track or frames?)")
        if not torch.is_tensor(item["y"]) or not torch.equal(item["y"], y_d[key]):
            raise Wrong(f"{where}: y is {item['y']!r}, expected the track's label {y_d[key]!r}")
    return f"the {len(patch_l)} items of 2 tracks (tails included) have the right X and y."


@exercise("03.2", "03_dataset", "a multi-label target", "multilabel_target",
          "write multilabel_target(entry, annot_key, labelname_l): a float32 vector (len(labelname_l),) with 1 "
          "for each label the entry carries, 0 elsewhere.",
          ["Start from a vector of zeros, one value per label of labelname_l, in that order.",
           "For each item of the entry's field, find the position of its value in labelname_l and set it to 1 (a "
           "label listed twice is still a 1).",
           "The loss of notebook 05 compares this vector with the model's float32 logits: give the vector the dtype "
           "np.float32."])
def _check_multilabel_target(multilabel_target):
    labelname_l = ["cello", "clarinet", "flute", "piano", "violin"]
    for entry in SAMPLE_ENTRY_L[:3]:
        answer = as_array(call(multilabel_target, dict(entry), "tag", list(labelname_l)), "the target")
        expected = annotation.f_get_multilabel_target(entry, "tag", labelname_l)
        tags = [item["value"] for item in entry["tag"]]
        if answer.shape != expected.shape:
            raise Wrong(f"for tags {tags} the shape is {answer.shape}, expected {expected.shape} (one value per label)")
        if not np.array_equal(answer.astype(float), expected.astype(float)):
            raise Wrong(f"for tags {tags} and labels {labelname_l} you gave {answer.tolist()}, expected "
                        f"{expected.tolist()}")
        if answer.dtype != np.float32:
            raise Wrong(f"the values are right but the dtype is {answer.dtype}; the loss needs float32")
    return "the same vectors as annotation.f_get_multilabel_target, float32, a repeated tag counted once."


def _note_case():
    note_l = [{"value": 60, "time": 0.0, "duration": 0.5}, {"value": 64, "time": 0.25, "duration": 0.5},
              {"value": 62, "time": 0.45, "duration": 0.06}, {"value": 90, "time": 0.1, "duration": 0.2},
              {"value": 61, "time": 1.5, "duration": 0.5}]
    return note_l, np.arange(20) * 0.05


@exercise("03.3", "03_dataset", "notes on the frame grid: a piano roll", "piano_roll",
          "write piano_roll(note_l, time_sec_v, lowest_midi, n_pitch): the 0/1 piano roll (n_pitch, T), float32, of "
          "notes {'value': MIDI pitch, 'time': s, 'duration': s}: row r is the pitch lowest_midi + r, column t the "
          "frame at time_sec_v[t]; a cell is 1 while the note sounds. Notes outside the rows are left out.",
          ["Start from zeros of shape (n_pitch, len(time_sec_v)); each note sets one row to 1 over some frames.",
           "A note's row is its pitch minus lowest_midi; a note whose row is below 0 or at n_pitch or above is not "
           "drawn.",
           "A frame belongs to a note when its time is at or after the note's start and before its end (start + "
           "duration): compare the whole array time_sec_v with both at once to get a mask of frames."])
def _check_piano_roll(piano_roll):
    note_l, time_sec_v = _note_case()
    answer = as_array(call(piano_roll, note_l, time_sec_v, 58, 12), "the piano roll")
    expected, _ = annotation.f_get_pianoroll_target({"filepath": [{"value": "x"}], "pitchmidi": note_l}, "pitchmidi",
                                                    time_sec_v, 440.0 * 2 ** ((58 - 69) / 12), 1, 12)
    if answer.shape != expected.shape:
        raise Wrong(f"the shape is {answer.shape}, expected {expected.shape} (n_pitch, len(time_sec_v))")
    if answer.dtype != np.float32:
        raise Wrong(f"the dtype is {answer.dtype}; the loss compares the roll with float32 logits: use np.float32")
    diff_m = np.argwhere(answer != expected)
    if len(diff_m):
        row, frame = diff_m[0]
        raise Wrong(f"cell (pitch {58 + row}, frame {frame} at {time_sec_v[frame]:.2f} s) is {answer[row, frame]:.0f},"
                    f" expected {expected[row, frame]:.0f} (notes: {note_l})")
    return ("the same roll as annotation.f_get_pianoroll_target: a note's end frame excluded, a note shorter than a "
            "frame, a note out of range left out.")


def _pitch_patch_data():
    X_d = {"a": torch.rand(2, 6, 9), "b": torch.rand(2, 6, 5)}
    roll_d = {key: (torch.rand(6, X.shape[-1]) > 0.7).float() for key, X in X_d.items()}
    patch_l = [{"audiofile": key, **patch} for key in ("a", "b")
               for patch in feature.f_get_patches(X_d[key].shape[-1], 4, 2)]
    return X_d, roll_d, patch_l


@exercise("03.4", "03_dataset", "the Dataset of the pitch task", "PitchPatches",
          "write PitchPatches.__len__ and __getitem__(idx_patch): an item is {'X': the patch's frames of its track's "
          "HCQT (C, F, L), 'y': the same frames of its track's piano roll, shaped (1, F, L) like the model's output}.",
          ["One item per patch: the length is the number of patches.",
           "X is cut as in exercise 03.1. The target is no longer one label per track: it has a time axis too, cut "
           "to the same frames.",
           "The model's output for a patch is (1, F, L): give the piano roll of the patch a channel axis of size 1 "
           "(unsqueeze, or indexing with None)."])
def _check_pitch_patches(PitchPatches):
    X_d, roll_d, patch_l = _pitch_patch_data()
    try:
        items = PitchPatches(X_d, roll_d, patch_l)
        n_item = len(items)
    except (TypeError, NotImplementedError) as error:
        if isinstance(error, NotImplementedError):
            raise
        raise Wrong(f"PitchPatches(X_d, roll_d, patch_l) or len() failed: {error}") from None
    if n_item != len(patch_l):
        raise Wrong(f"len() is {n_item}, expected {len(patch_l)}, one item per patch")
    for idx_patch, patch in enumerate(patch_l):
        item = items[idx_patch]
        if not isinstance(item, dict) or not {"X", "y"} <= set(item):
            raise Wrong(f"item {idx_patch} should be a dict with keys 'X' and 'y', got {item!r:.80}")
        key, s, e = patch["audiofile"], patch["start_frame"], patch["end_frame"]
        where = f"item {idx_patch} (track '{key}', frames {s} to {e - 1})"
        if not torch.is_tensor(item["X"]) or not torch.equal(item["X"], X_d[key][..., s:e]):
            raise Wrong(f"{where}: X is not the patch's frames of the track's feature (C, F, L)")
        y, expected_y = item["y"], roll_d[key][None, :, s:e]
        if not torch.is_tensor(y) or tuple(y.shape) != tuple(expected_y.shape):
            shape = tuple(y.shape) if hasattr(y, "shape") else type(y).__name__
            raise Wrong(f"{where}: y has shape {shape}, expected {tuple(expected_y.shape)} (1, F, L)")
        if not torch.equal(y, expected_y):
            raise Wrong(f"{where}: y has the right shape but not the patch's frames of the piano roll")
    return f"the {len(patch_l)} items of 2 tracks: X (C, F, L) and y (1, F, L), the same frames."


@exercise("03.5", "03_dataset", "a collate for whole tracks", "pad_collate",
          "write pad_collate(item_l): a batch of items of different lengths (idx = a track): {'X': (B, ..., "
          "T_max) zero-padded at the end of time, 'n_frames': int64 (B,) the true lengths, 'y': the stacked y}.",
          ["First find T_max, the number of frames of the longest item.",
           "Each X gets T_max - T zeros at the end of its last (time) axis; torch.nn.functional.pad takes the "
           "padding of the last axis first, as (before, after).",
           "Once every X has T_max frames, torch.stack puts them along a new batch axis; keep the true lengths in an "
           "int64 tensor."])
def _check_pad_collate(pad_collate):
    from course_utils.dataset import track_collate

    item_l = [{"X": torch.randn(1, 4, n_frames), "y": torch.tensor(label)}
              for n_frames, label in ((5, 0), (9, 2), (7, 1))]
    answer, expected = call(pad_collate, [dict(item) for item in item_l]), track_collate(item_l)
    if not isinstance(answer, dict) or not {"X", "n_frames", "y"} <= set(answer):
        raise Wrong(f"expected a dict with keys 'X', 'n_frames' and 'y', got {answer!r:.80}")
    X = answer["X"]
    if not torch.is_tensor(X) or tuple(X.shape) != tuple(expected["X"].shape):
        shape = tuple(X.shape) if hasattr(X, "shape") else type(X).__name__
        raise Wrong(f"for tracks of 5, 9 and 7 frames, X has shape {shape}, expected {tuple(expected['X'].shape)}")
    if not torch.equal(X, expected["X"]):
        raise Wrong("X has the right shape but wrong values: each track's frames first, then zeros up to T_max")
    if [int(n) for n in answer["n_frames"]] != [5, 9, 7]:
        raise Wrong(f"n_frames is {answer['n_frames']!r}, expected the true lengths [5, 9, 7]")
    if not torch.is_tensor(answer["n_frames"]) or answer["n_frames"].dtype != torch.int64:
        raise Wrong("n_frames has the right values; make it an int64 tensor: torch.tensor([...])")
    if not torch.is_tensor(answer["y"]) or not torch.equal(answer["y"], expected["y"]):
        raise Wrong(f"y is {answer['y']!r}, expected {expected['y']!r} (torch.stack of the items' y)")
    return "the same batch as dataset.track_collate for 3 tracks of 5, 9 and 7 frames."
