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
           "patch = self.patch_l[idx_patch] gives the track (patch['audiofile']) and the frames "
           "[patch['start_frame'], patch['end_frame']): X = self.X_d[track][..., start:end].")
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
           "np.zeros(len(labelname_l), dtype=np.float32), then a 1 at labelname_l.index(item['value']) for each "
           "item of entry[annot_key]; float32 because BCEWithLogitsLoss compares it with the model's logits.")
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


@exercise("03.3", "03_dataset", "a collate for whole tracks", "pad_collate",
           "write pad_collate(item_l): a batch of items of different lengths (idx = a track): {'X': (B, ..., "
           "T_max) zero-padded at the end of time, 'n_frames': int64 (B,) the true lengths, 'y': the stacked y}.",
           "T_max = max(item['X'].shape[-1] ...); torch.nn.functional.pad(X, (0, T_max - T)) pads the last axis "
           "at its end; torch.stack puts the batch axis first.")
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
