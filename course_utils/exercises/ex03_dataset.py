"""Exercises of notebooks/03_dataset.ipynb, with their checkers; solutions in solutions/."""

import copy

import numpy as np
import torch

from course_utils import annotation, feature
from course_utils.dataset import track_collate
from course_utils.exercises.checking import SAMPLE_ENTRY_L, Wrong, as_array, call, exercise


def _patch_items_data():
    X_d = {"a": torch.arange(2 * 12 * 10, dtype=torch.float32).reshape(2, 12, 10),
           "b": -torch.arange(2 * 12 * 7, dtype=torch.float32).reshape(2, 12, 7)}
    y_d = {"a": torch.tensor([1.0, 0.0, 1.0]), "b": torch.tensor([0.0, 1.0, 0.0])}
    patch_l = [{"audiofile": key, **patch} for key in ("a", "b")
               for patch in feature.f_get_patches(X_d[key].shape[-1], 4, 3)]
    return X_d, y_d, patch_l


def _shape_of(value):
    return tuple(value.shape) if hasattr(value, "shape") else type(value).__name__


def _X_mistake(X, X_d, key, s, e):
    """The sentence that names what is wrong with the X of a patch (None when it is right): the frames of the track
    ``key`` from s to e - 1, every channel and bin."""
    expected_X = X_d[key][..., s:e]
    if isinstance(X, np.ndarray):
        return "X is a numpy array: keep it a torch tensor (slicing a tensor gives a tensor)"
    if not torch.is_tensor(X):
        return f"X is a {type(X).__name__}: expected a torch tensor of shape {tuple(expected_X.shape)}"
    if X.shape == X_d[key].shape and torch.equal(X, X_d[key]) and e - s != X_d[key].shape[-1]:
        return f"X is the whole track {tuple(X.shape)}: cut the patch's frames, X[..., start:end]"
    if X.dim() == expected_X.dim() and X.shape[:-1] == expected_X.shape[:-1] and X.shape[-1] == e - s + 1:
        return (f"X has {X.shape[-1]} frames, expected {e - s}: end_frame is excluded, X[..., start:end] holds end - "
                "start frames")
    if tuple(X.shape) != tuple(expected_X.shape):
        return (f"X has shape {tuple(X.shape)}, expected {tuple(expected_X.shape)}: slice the last (time) axis, "
                "X[..., start:end]")
    if not torch.equal(X, expected_X):
        other_l = [other for other in X_d if other != key and X_d[other].shape[-1] >= e
                   and torch.equal(X, X_d[other][..., s:e])]
        if other_l:
            return f"X holds the frames of track '{other_l[0]}', but the patch is of track '{key}'"
        return "X has the right shape but not the frames of the patch"
    return None


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
        where = f"item {idx_patch} (track '{key}', frames {s} to {e - 1})"
        X_mistake = _X_mistake(item["X"], X_d, key, s, e)
        if X_mistake:
            raise Wrong(f"{where}: {X_mistake}")
        y = item["y"]
        if not torch.is_tensor(y) or not torch.equal(y, y_d[key]):
            cut = " (the label is the same for every patch of a track: do not cut it)" \
                if torch.is_tensor(y) and torch.equal(y, y_d[key][..., s:e]) else ""
            raise Wrong(f"{where}: y is {y!r}, expected the track's label {y_d[key]!r}{cut}")
    return f"the {len(patch_l)} items of 2 tracks (tails included) have the right X and y."


def _target_mistake(answer, entry, labelname_l):
    """The sentence that names what is wrong with a multi-label target (None when it is right)."""
    expected = np.zeros(len(labelname_l), dtype=np.float32)
    tag_l = [item["value"] for item in entry["tag"]]
    for tag in tag_l:
        expected[labelname_l.index(tag)] = 1
    where = f"for tags {tag_l} and labels {labelname_l}"
    if answer.shape != expected.shape:
        return f"{where} the shape is {answer.shape}, expected {expected.shape} (one value per label of labelname_l)"
    if answer.dtype == bool or not np.array_equal(answer.astype(float), expected.astype(float)):
        if answer.dtype != bool and np.array_equal(answer > 0, expected > 0):
            return (f"{where} you gave {answer.tolist()}: a label listed twice is still a 1 (the vector says which "
                    "labels the entry carries, not how often)")
        if np.array_equal(answer.astype(float), expected.astype(float)):
            return f"{where} the dtype is bool; the loss compares the vector with float32 logits: use np.float32"
        first = np.zeros_like(expected)
        first[labelname_l.index(tag_l[0])] = 1
        if np.array_equal(answer.astype(float), first):
            return f"{where} you gave {answer.tolist()}: only the first tag is set; set a 1 for every item of the field"
        return f"{where} you gave {answer.tolist()}, expected {expected.tolist()} (position i is labelname_l[i])"
    if answer.dtype != np.float32:
        return f"{where} the values are right but the dtype is {answer.dtype}; the loss needs float32"
    return None


@exercise("03.2", "03_dataset", "a multi-label target", "multilabel_target",
          "write multilabel_target(entry, annot_key, labelname_l): a float32 vector (len(labelname_l),) with 1 "
          "for each label the entry carries, 0 elsewhere.",
          ["Start from a vector of zeros, one value per label of labelname_l, in that order.",
           "For each item of the entry's field, find the position of its value in labelname_l and set it to 1 (a "
           "label listed twice is still a 1).",
           "The loss of notebook 05 compares this vector with the model's float32 logits: give the vector the dtype "
           "np.float32."],
          forbidden_l=[annotation.f_get_multilabel_target])
def _check_multilabel_target(multilabel_target):
    for labelname_l in (["cello", "clarinet", "flute", "piano", "violin"], ["violin", "piano", "cello", "flute"]):
        for entry in SAMPLE_ENTRY_L[:3]:
            entry_copy, label_copy_l = copy.deepcopy(entry), list(labelname_l)
            answer = as_array(call(multilabel_target, entry_copy, "tag", label_copy_l, copy_arguments=False),
                              "the target")
            if label_copy_l != labelname_l:
                raise Wrong(f"your function changed labelname_l from {labelname_l} to {label_copy_l} (sorted it?): "
                            "the caller's list must stay as it is, its order is the order of the model's outputs")
            if entry_copy != entry:
                raise Wrong("your function changed the entry it was given: read it, do not modify it")
            mistake = _target_mistake(answer, entry, labelname_l)
            if mistake:
                raise Wrong(mistake)
    return ("the same vectors as annotation.f_get_multilabel_target, float32, a repeated tag counted once, labels in "
            "the order of labelname_l.")


def _note_case():
    note_l = [{"value": 60, "time": 0.0, "duration": 0.5}, {"value": 64, "time": 0.25, "duration": 0.5},
              {"value": 62, "time": 0.45, "duration": 0.06}, {"value": 90, "time": 0.1, "duration": 0.2},
              {"value": 50, "time": 0.6, "duration": 0.2}, {"value": 61, "time": 1.5, "duration": 0.5}]
    return note_l, np.arange(20) * 0.05


_ROLL_MISTAKE_D = {  # a usual mistake -> the sentence that names it
    "end included": "the frame at a note's end is 1; a note is over at its end (end excluded: time <= t < time + "
                    "duration)",
    "start excluded": "the frame at a note's start is 0; a note sounds from its start (start included)",
    "no lower bound": "the note of pitch 50 is below lowest_midi: its row is negative, and a negative index counts "
                      "from the end (it wrapped around to another row); leave it out",
    "clip": "the notes of pitch 50 and 90 are outside the rows: you drew them on the edge rows; leave it out",
    "row + 1": "the notes are one row too high: row r is the pitch lowest_midi + r",
    "row - 1": "the notes are one row too low: row r is the pitch lowest_midi + r",
}


def _roll(note_l, time_sec_v, lowest_midi, n_pitch, mistake=None):
    """The piano roll of exercise 03.3, right (mistake None) or with one of the mistakes of _ROLL_MISTAKE_D."""
    roll_m = np.zeros((n_pitch, len(time_sec_v)), dtype=np.float32)
    for note in note_l:
        row = note["value"] - lowest_midi + {"row + 1": 1, "row - 1": -1}.get(mistake, 0)
        row = min(max(row, 0), n_pitch - 1) if mistake == "clip" else row
        if row >= n_pitch or (row < 0 and mistake != "no lower bound"):
            continue
        start, end = note["time"], note["time"] + note["duration"]
        after_start = time_sec_v > start if mistake == "start excluded" else time_sec_v >= start
        before_end = time_sec_v <= end if mistake == "end included" else time_sec_v < end
        roll_m[row, after_start & before_end] = 1.0
    return roll_m


def _roll_mistake(answer, expected, note_l, time_sec_v):
    """The sentence that names what is wrong with a piano roll (None when it is right)."""
    if answer.shape != expected.shape:
        rows = " (one row per pitch, one column per frame)" if answer.shape == expected.shape[::-1] else ""
        return f"the shape is {answer.shape}, expected {expected.shape} (n_pitch, len(time_sec_v)){rows}"
    if answer.dtype != np.float32:
        return f"the dtype is {answer.dtype}; the loss compares the roll with float32 logits: use np.float32"
    if not np.array_equal(answer, expected):
        for mistake, sentence in _ROLL_MISTAKE_D.items():
            if np.array_equal(answer, _roll(note_l, time_sec_v, 58, 12, mistake)):
                return sentence
        row, frame = np.argwhere(answer != expected)[0]
        return (f"cell (pitch {58 + row}, frame {frame} at {time_sec_v[frame]:.2f} s) is {answer[row, frame]:.0f}, "
                f"expected {expected[row, frame]:.0f} (notes: {note_l})")
    return None


@exercise("03.3", "03_dataset", "notes on the frame grid: a piano roll", "piano_roll",
          "write piano_roll(note_l, time_sec_v, lowest_midi, n_pitch): the 0/1 piano roll (n_pitch, T), float32, of "
          "notes {'value': MIDI pitch, 'time': s, 'duration': s}: row r is the pitch lowest_midi + r, column t the "
          "frame at time_sec_v[t]; a cell is 1 while the note sounds. Notes outside the rows are left out.",
          ["Start from zeros of shape (n_pitch, len(time_sec_v)); each note sets one row to 1 over some frames.",
           "A note's row is its pitch minus lowest_midi; a note whose row is below 0 or at n_pitch or above is not "
           "drawn.",
           "A frame belongs to a note when its time is at or after the note's start and before its end (start + "
           "duration): compare the whole array time_sec_v with both at once to get a mask of frames."],
          forbidden_l=[annotation.f_get_pianoroll_target])
def _check_piano_roll(piano_roll):
    note_l, time_sec_v = _note_case()
    answer = as_array(call(piano_roll, note_l, time_sec_v, 58, 12), "the piano roll")
    expected, _ = annotation.f_get_pianoroll_target({"filepath": [{"value": "x"}], "pitchmidi": note_l}, "pitchmidi",
                                                    time_sec_v, 440.0 * 2 ** ((58 - 69) / 12), 1, 12)
    mistake = _roll_mistake(answer, expected, note_l, time_sec_v)
    if mistake:
        raise Wrong(mistake)
    return ("the same roll as annotation.f_get_pianoroll_target: a note's end frame excluded, a note shorter than a "
            "frame, notes below and above the rows left out.")


def _pitch_patch_data():
    X_d = {"a": torch.rand(2, 6, 9), "b": torch.rand(2, 6, 5)}  # F = 6 bins, patches of L = 4 frames
    roll_d = {key: (torch.rand(6, X.shape[-1]) > 0.7).float() for key, X in X_d.items()}
    patch_l = [{"audiofile": key, **patch} for key in ("a", "b")
               for patch in feature.f_get_patches(X_d[key].shape[-1], 4, 2)]
    return X_d, roll_d, patch_l


def _y_mistake(y, roll_m, s, e):
    """The sentence that names what is wrong with the y of a pitch patch (None when it is right): the frames s to
    e - 1 of the piano roll (F, T), shaped (1, F, L)."""
    expected_y = roll_m[None, :, s:e]
    if isinstance(y, np.ndarray):
        return "y is a numpy array: keep it a torch tensor (slicing a tensor gives a tensor)"
    if not torch.is_tensor(y):
        return f"y is a {type(y).__name__}: expected a torch tensor of shape {tuple(expected_y.shape)} (1, F, L)"
    if tuple(y.shape) == tuple(expected_y.shape):
        return None if torch.equal(y, expected_y) else "y has the right shape but not the patch's frames of the roll"
    shape, expected = tuple(y.shape), tuple(expected_y.shape)
    if y.dim() == 2 and torch.equal(y, expected_y[0]):
        sentence = "give it a channel axis of size 1 in front (the model's output is (1, F, L))"
    elif y.dim() == 3 and shape[-1] == 1 and torch.equal(y[..., 0], expected_y[0]):
        sentence = "the channel axis first: (1, F, L), as the model's output"
    elif y.dim() == 3 and y.shape[-1] == roll_m.shape[-1] != e - s:
        sentence = "cut it to the patch's frames, as X"
    elif y.dim() == 3 and torch.equal(y.transpose(1, 2), expected_y):
        sentence = "the piano roll is pitch, then time: (1, F, L), not (1, L, F)"
    else:
        sentence = "(1, F, L): the patch's frames of the piano roll, with a channel axis in front"
    return f"y has shape {shape}, expected {expected} (1, F, L): {sentence}"


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
        raise Wrong(f"len() is {n_item}, expected {len(patch_l)}, one item per patch"
                    + (" (not one per track)" if n_item == len(X_d) else ""))
    for idx_patch, patch in enumerate(patch_l):
        item = items[idx_patch]
        if not isinstance(item, dict) or not {"X", "y"} <= set(item):
            raise Wrong(f"item {idx_patch} should be a dict with keys 'X' and 'y', got {item!r:.80}")
        key, s, e = patch["audiofile"], patch["start_frame"], patch["end_frame"]
        where = f"item {idx_patch} (track '{key}', frames {s} to {e - 1})"
        mistake = _X_mistake(item["X"], X_d, key, s, e) or _y_mistake(item["y"], roll_d[key], s, e)
        if mistake:
            raise Wrong(f"{where}: {mistake}")
    return f"the {len(patch_l)} items of 2 tracks: X (C, F, L) and y (1, F, L), the same frames."


def _collate_X_mistake(X, item_l, expected_X):
    """The sentence that names what is wrong with the padded X of a batch of 3 tracks (None when it is right)."""
    n_l = [item["X"].shape[-1] for item in item_l]
    if not torch.is_tensor(X):
        return f"X is a {type(X).__name__}, expected a tensor of shape {tuple(expected_X.shape)}"
    if tuple(X.shape) != tuple(expected_X.shape):
        short = ": you cut the tracks to the shortest; pad them to the longest instead (no frame is lost)" \
            if X.shape[-1] == min(n_l) else ""
        return (f"for tracks of {', '.join(map(str, n_l))} frames, X has shape {tuple(X.shape)}, expected "
                f"{tuple(expected_X.shape)}{short}")
    if torch.equal(X, expected_X):
        return None
    at_start = torch.stack([torch.nn.functional.pad(item["X"], (X.shape[-1] - n, 0))
                            for item, n in zip(item_l, n_l, strict=True)])
    if torch.equal(X, at_start):
        return "you put the zeros at the start; each track's frames come first, then zeros at the end of time"
    if all(torch.equal(X[i, ..., :n], item["X"]) for i, (item, n) in enumerate(zip(item_l, n_l, strict=True))):
        return "each track's frames are right, but what follows them must be padded with zeros (nothing else)"
    return "X has the right shape but wrong values: each track's frames first, then zeros up to T_max"


@exercise("03.5", "03_dataset", "a collate for whole tracks", "pad_collate",
          "write pad_collate(item_l): a batch of items of different lengths (idx = a track): {'X': (B, ..., "
          "T_max) zero-padded at the end of time, 'n_frames': int64 (B,) the true lengths, 'y': the stacked y}.",
          ["First find T_max, the number of frames of the longest item.",
           "Each X gets T_max - T zeros at the end of its last (time) axis; torch.nn.functional.pad takes the "
           "padding of the last axis first, as (before, after).",
           "Once every X has T_max frames, torch.stack puts them along a new batch axis; keep the true lengths in an "
           "int64 tensor."],
          forbidden_l=[track_collate])
def _check_pad_collate(pad_collate):
    item_l = [{"X": torch.randn(1, 4, n_frames) + 2.0, "y": torch.tensor(label)}
              for n_frames, label in ((5, 0), (9, 2), (7, 1))]
    try:
        answer = call(pad_collate, [dict(item) for item in item_l])
    except RuntimeError as error:
        if "stack expects each tensor to be equal size" not in str(error):
            raise
        raise Wrong(f"torch.stack needs tensors of one shape ({error}): pad only the last (time) axis; "
                    "torch.nn.functional.pad's first pair of numbers pads the last axis") from None
    expected = track_collate(item_l)
    if not isinstance(answer, dict) or not {"X", "n_frames", "y"} <= set(answer):
        raise Wrong(f"expected a dict with keys 'X', 'n_frames' and 'y', got {answer!r:.80}")
    mistake = _collate_X_mistake(answer["X"], item_l, expected["X"])
    if mistake:
        raise Wrong(mistake)
    if [int(n) for n in answer["n_frames"]] != [5, 9, 7]:
        raise Wrong(f"n_frames is {answer['n_frames']!r}, expected the true lengths [5, 9, 7]")
    if not torch.is_tensor(answer["n_frames"]) or answer["n_frames"].dtype != torch.int64:
        raise Wrong(f"n_frames has the right values but is {answer['n_frames']!r}; make it an int64 tensor: "
                    "torch.tensor([...])")
    if not torch.is_tensor(answer["y"]) or not torch.equal(answer["y"], expected["y"]):
        raise Wrong(f"y is {answer['y']!r}, expected {expected['y']!r} (torch.stack of the items' y)")
    return "the same batch as dataset.track_collate for 3 tracks of 5, 9 and 7 frames."
