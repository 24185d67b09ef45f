"""Solutions of the exercises of notebooks/03_dataset.ipynb."""

import numpy as np
import torch
from torch.utils.data import Dataset


class PatchItems(Dataset):
    """Items of tracks already in memory: idx = a patch."""

    def __init__(self, X_d, y_d, patch_l):
        self.X_d = X_d  # track key -> feature tensor (C, F, T)
        self.y_d = y_d  # track key -> label tensor (the same for the whole track)
        self.patch_l = patch_l  # list of {'audiofile', 'start_frame', 'end_frame'}

    def __len__(self):
        return len(self.patch_l)

    def __getitem__(self, idx_patch):
        patch = self.patch_l[idx_patch]
        key, s, e = patch["audiofile"], patch["start_frame"], patch["end_frame"]
        return {"X": self.X_d[key][..., s:e], "y": self.y_d[key]}


def multilabel_target(entry, annot_key, labelname_l):
    """0/1 vector (len(labelname_l),), float32: 1 for each label the entry carries."""
    target_v = np.zeros(len(labelname_l), dtype=np.float32)
    for item in entry[annot_key]:
        target_v[labelname_l.index(item["value"])] = 1.0
    return target_v


def piano_roll(note_l, time_sec_v, lowest_midi, n_pitch):
    """0/1 piano roll (n_pitch, T), float32: row r = pitch lowest_midi + r, 1 while a note sounds."""
    roll_m = np.zeros((n_pitch, len(time_sec_v)), dtype=np.float32)
    for note in note_l:
        row = note["value"] - lowest_midi
        if 0 <= row < n_pitch:
            roll_m[row, (time_sec_v >= note["time"]) & (time_sec_v < note["time"] + note["duration"])] = 1.0
    return roll_m


class PitchPatches(Dataset):
    """Items of the pitch task, features and piano rolls in memory: idx = a patch."""

    def __init__(self, X_d, roll_d, patch_l):
        self.X_d = X_d  # track key -> HCQT tensor (C, F, T)
        self.roll_d = roll_d  # track key -> piano roll tensor (F, T), on the same frames
        self.patch_l = patch_l  # list of {'audiofile', 'start_frame', 'end_frame'}

    def __len__(self):
        return len(self.patch_l)

    def __getitem__(self, idx_patch):
        patch = self.patch_l[idx_patch]
        key, s, e = patch["audiofile"], patch["start_frame"], patch["end_frame"]
        return {"X": self.X_d[key][..., s:e], "y": self.roll_d[key][None, :, s:e]}


def pad_collate(item_l):
    """Batch of whole tracks: X zero-padded to the longest (B, ..., T_max), their lengths, the stacked y."""
    n_frame_l = [item["X"].shape[-1] for item in item_l]
    n_max = max(n_frame_l)
    X = torch.stack([torch.nn.functional.pad(item["X"], (0, n_max - n))
                     for item, n in zip(item_l, n_frame_l, strict=True)])
    return {"X": X, "n_frames": torch.tensor(n_frame_l), "y": torch.stack([item["y"] for item in item_l])}
