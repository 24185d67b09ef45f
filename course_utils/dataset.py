"""The ``Dataset`` classes of the course: what ``__getitem__`` returns, what ``__init__`` prepares,
and what the unit of ``idx`` is.

- ``TagDataset``: auto-tagging (multiclass genre, multilabel tags, or frame-level segments); idx = a patch.
- ``PitchDataset``: multi-pitch estimation, a piano roll on the HCQT pitch bins; idx = a patch.
- ``CoverDataset``: cover-song identification; idx = a *work*, the item holds patches of several of its
  versions, so that a batch of works contains positives (same work) and negatives (other works).

Each is built as ``Class(hdf5_audio_file, pyjama_annot_file, split, config)``, where ``config`` holds the
``dataset`` and ``feature`` sections of a YAML config (a ``Config`` from ``load_config``, or a dict): no
global configuration is read. Every class gives whole tracks through the same public methods:
``key_l`` (the tracks of the split), ``get_track(key)`` -> (X, y), ``get_target(key)``, ``time_sec_v(key)``,
``track_patches(key)``, ``get_track_patches(key)`` and ``renderer_of_key(key)``. ``dataset.renderer_l``
(optional) keeps the tracks of some renderers only (the entry's ``renderer`` field).
Where the features are computed is an option, ``feature_placement`` (``'memory'``, the seed's way; ``'disk'``;
``'on_the_fly'``), carried out by a ``course_utils.placement`` object: the classes here keep the dataset logic.

Taught in notebooks/03_dataset.ipynb.
"""


import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from course_utils import annotation, audio_store, feature, placement, runtime
from course_utils.config import ConfigError, as_config, require_sections
from course_utils.placement import FEATURE_PLACEMENT_L, DatasetError  # noqa: F401 (part of this module's face)


def dataset_files(config, data_dir):
    """The two files of a config's ``dataset.base`` in ``data_dir``, named as the original course names them:
    ``(<base>_audio.hdf5, <base>.pyjama)``, or ``<base>_feat.hdf5`` for features read from a file
    (``feature.type: precomputed``).

    ``base: course`` is the offline course dataset of this mode (``course-small`` in fast mode,
    ``course-full`` otherwise; ``data.build.ensure_dataset`` builds it).
    """
    config = as_config(config)
    base = config.get("dataset", {}).get("base")
    if not base:
        raise DatasetError("the config's dataset section has no 'base' (the name of its files, e.g. base: bach10 "
                           "for bach10_audio.hdf5 and bach10.pyjama)")
    if base == "course":
        base = f"course-{runtime.dataset_preset()}"
    computed = not config.get("feature") or feature.is_computed(config.feature)
    return audio_store.pair_paths(data_dir, base, "audio" if computed else "feat")


def _sections(config):
    """(dataset section, feature section) of a config, as Configs, with the feature keys every Dataset needs."""
    try:
        config = require_sections(config, ("dataset", "feature"))
    except ConfigError as error:
        raise DatasetError(str(error)) from None
    for key in ("type", "patch_L_frame", "patch_STEP_frame"):  # sr_hz: optional, read from the audio file
        if key not in config.feature:
            raise DatasetError(f"the config's feature section has no '{key}'")
    return config.dataset, config.feature


class PatchDataset(Dataset):
    """What the three datasets share: reading, splitting, selecting, features (``placement``), targets, patches."""

    split_group_key = None  # the field that groups tracks for a split made here (None: work_id, else the original
    # course's split by entry index; dataset.group_key overrides)

    def __init__(self, hdf5_audio_file, pyjama_annot_file, split, config, feature_placement="memory",
                 feature_cache_dir=None, progress=True):
        super().__init__()
        self.dataset_d, self.feature_d = _sections(config)
        self.hdf5_audio_file, self.pyjama_annot_file = str(hdf5_audio_file), str(pyjama_annot_file)
        self.split, self.feature_placement = split, feature_placement
        self.skipped_d = {}  # reason -> number of entries left out on purpose (reported, never silent)
        if feature_placement not in FEATURE_PLACEMENT_L:
            raise ValueError(f"feature_placement must be one of {', '.join(FEATURE_PLACEMENT_L)}, "
                             f"got '{feature_placement}'")
        data_d = annotation.load_pyjama(pyjama_annot_file)
        self.prepare_labels(data_d)
        entry_l = annotation.f_get_split_entry_l(data_d["collection"]["entry"], split,
                                                 group_key=self.dataset_d.get("group_key", self.split_group_key),
                                                 pyjama_annot_file=self.pyjama_annot_file)
        self.entry_l = self.select_entries(self._select_renderers(entry_l))
        if not self.entry_l:
            raise DatasetError(f"{pyjama_annot_file}: no entry left in the '{split}' split after selection "
                               f"(left out: {self.skipped_d})")
        self.key_l = [entry["filepath"][0]["value"] for entry in self.entry_l]
        self.placement = placement.make_placement(feature_placement, hdf5_audio_file, self.feature_d, self.key_l,
                                                  feature_cache_dir)
        self.feature_d, self.sr_hz_source = self.placement.feature_d, self.placement.sr_hz_source
        self.data_d, self.patch_l = {}, []
        with self.placement.opened() as source_fid:
            for entry in tqdm(self.entry_l, desc=f"{type(self).__name__}({split})", unit="track",
                              disable=not progress):
                self._prepare_track(entry, source_fid)
        self.prepare_items()
        self.report()

    # --- whole tracks: the public face of every dataset (notebooks use these, not data_d)
    def get_target(self, key):
        """The whole-track target of ``key`` (its label(s), frame targets, piano roll or work)."""
        return self._track(key)["y"]

    def renderer_of_key(self, key):
        """Who played the track: its entry's ``renderer`` field (``synth`` for files made before the field existed)."""
        entry = self.entry_l[self.key_l.index(key)]
        return str(entry.get("renderer", [{"value": "synth"}])[0]["value"])

    def time_sec_v(self, key):
        """Time of each frame of the track's feature in seconds: np.ndarray, shape (n_frames,)."""
        return self._track(key)["time_sec_v"]

    def track_patches(self, key):
        """The patches of a track: list of ``{'start_frame', 'end_frame'}`` (as ``feature.f_get_patches``)."""
        return self._track(key)["patch_l"]

    def get_track(self, key):
        """Whole-track feature and target: (X tensor (C, F, T) or (1, T), the target of ``get_target``)."""
        target = self.get_target(key)  # first: a key of another split is reported as such
        return self.get_X(key, 0, self.placement.n_frames(key)), target

    def get_track_patches(self, key):
        """Every patch of a track, stacked: tensor (n_patch, C, F, L) or (n_patch, 1, L)."""
        return torch.stack([self.get_X(key, p["start_frame"], p["end_frame"]) for p in self.track_patches(key)])

    def get_X(self, key, start_frame, end_frame):
        """Feature of frames [start_frame, end_frame) of a track: tensor (C, F, L) or (1, L), float32."""
        return self.placement.get_X(key, start_frame, end_frame)

    def _track(self, key):
        if key not in self.data_d:
            raise KeyError(f"track '{key}' is not in the '{self.split}' split of {self.pyjama_annot_file} "
                           f"(this dataset has {len(self.key_l)} tracks: see .key_l)")
        return self.data_d[key]

    def _prepare_track(self, entry, source_fid):
        """One track: its feature (by the placement), frame times, target and patches."""
        key = entry["filepath"][0]["value"]
        time_sec_v = self.placement.add_track(key, source_fid)
        try:
            local_patch_l = feature.f_get_patches(len(time_sec_v), self.feature_d["patch_L_frame"],
                                                  self.feature_d["patch_STEP_frame"])
        except ValueError as error:
            raise DatasetError(f"{self.hdf5_audio_file}, track '{key}' ({self.placement.duration_sec(key):.2f} s): "
                               f"{error}") from None
        self.data_d[key] = {"y": self.make_target(entry, time_sec_v), "time_sec_v": time_sec_v,
                            "patch_l": local_patch_l}
        self.patch_l += [{"audiofile": key, **local_patch} for local_patch in local_patch_l]

    def _select_renderers(self, entry_l):
        """Only the tracks played by ``dataset.renderer_l``; the others are counted in ``skipped_d``."""
        renderer_l = self.dataset_d.get("renderer_l")
        if renderer_l is None:
            return entry_l
        kept_l = [entry for entry in entry_l if str(annotation.get_field(entry, "renderer", self.pyjama_annot_file)
                                                    [0]["value"]) in renderer_l]
        if len(kept_l) < len(entry_l):
            self.skipped_d[f"tracks not played by {list(renderer_l)}"] = len(entry_l) - len(kept_l)
        return kept_l

    # --- hooks of each dataset
    def prepare_labels(self, data_d):
        """Set what the targets need from the whole file (e.g. the label vocabulary)."""

    def select_entries(self, entry_l):
        """The entries this dataset uses (others are counted in ``self.skipped_d``)."""
        return entry_l

    def make_target(self, entry, time_sec_v):
        raise NotImplementedError

    def prepare_items(self):
        """Set what ``__getitem__`` needs once every track is ready (e.g. the list of works)."""

    def report(self):
        """Print what was built, and what was left out on purpose (never silently)."""
        message = f"{type(self).__name__}({self.split}): {len(self.key_l)} tracks, {len(self)} items"
        if self.skipped_d:
            message += "; left out: " + ", ".join(f"{n} {reason}" for reason, n in self.skipped_d.items())
        print(message)

    def __len__(self):
        return len(self.patch_l)

    def __getitem__(self, idx_patch):
        patch = self.patch_l[idx_patch]
        key, s, e = patch["audiofile"], patch["start_frame"], patch["end_frame"]
        return {"X": self.get_X(key, s, e), "y": self.get_y(key, s, e), "key": key, "start_frame": s}


class TagDataset(PatchDataset):
    """Auto-tagging. idx = a patch; X = the patch's feature; y = the track's label(s).

    ``config['dataset']``: ``problem`` ('multiclass': y = class index, int64; 'multilabel': y = 0/1 vector
    (n_label,), float32; 'segment': y = 0/1 frames (n_label, L), float32), ``annot_key`` (the .pyjama field),
    optionally ``n_out`` (the number of labels, checked) and ``label_l``: the labels to use. Without
    ``label_l``, every label of the file is used (computed on all entries before the split, as in the seed).
    For 'multiclass', entries whose label is not in ``label_l`` are left out and counted (e.g. the chorales
    when learning dance types).
    """

    def prepare_labels(self, data_d):
        self.problem, self.annot_key = self.dataset_d.get("problem"), self.dataset_d.get("annot_key")
        if self.problem not in ("multiclass", "multilabel", "segment"):
            raise DatasetError(f"dataset.problem must be multiclass, multilabel or segment for a TagDataset, "
                               f"got {self.problem!r}")
        self.labelname_l = [str(label) for label in self.dataset_d["label_l"]] if "label_l" in self.dataset_d \
            else annotation.f_get_labelname_dict(data_d, self.annot_key, self.pyjama_annot_file)
        n_out = self.dataset_d.get("n_out")
        if n_out is not None and n_out != len(self.labelname_l):
            raise DatasetError(f"dataset.n_out is {n_out} but there are {len(self.labelname_l)} labels "
                               f"({', '.join(self.labelname_l)}); set n_out to {len(self.labelname_l)}, the size "
                               "of the model's output")

    def select_entries(self, entry_l):
        if self.problem != "multiclass" or "label_l" not in self.dataset_d:
            return entry_l
        kept_l = []
        for entry in entry_l:
            value_l = [str(item["value"]) for item in annotation.get_field(entry, self.annot_key,
                                                                           self.pyjama_annot_file)]
            if len(value_l) == 1 and value_l[0] not in self.labelname_l:
                reason = f"entries labelled '{value_l[0]}' (not in label_l)"
                self.skipped_d[reason] = self.skipped_d.get(reason, 0) + 1
            else:
                kept_l.append(entry)
        return kept_l

    def make_target(self, entry, time_sec_v):
        if self.problem == "multiclass":
            return torch.tensor(annotation.f_get_multiclass_target(entry, self.annot_key, self.labelname_l,
                                                                   self.pyjama_annot_file))
        if self.problem == "multilabel":
            return torch.from_numpy(annotation.f_get_multilabel_target(entry, self.annot_key, self.labelname_l,
                                                                       self.pyjama_annot_file))
        return torch.from_numpy(annotation.f_get_segment_target(entry, self.annot_key, self.labelname_l,
                                                                time_sec_v, self.pyjama_annot_file))

    def get_y(self, key, start_frame, end_frame):
        y = self.data_d[key]["y"]
        # --- the same annotation for the whole track, or the patch's frames for segments
        return y if self.problem in ("multiclass", "multilabel") else y[:, start_frame:end_frame]


class PitchDataset(PatchDataset):
    """Multi-pitch estimation. idx = a patch; X = its HCQT (C, F, L); y = its piano roll (1, F, L), float32.

    The piano roll lives on the pitch bins of the HCQT's h = 1 channel (``fmin``, ``bins_per_semitone``), so
    the model's output (B, 1, F, L) and the target have the same shape. ``config['dataset']``: ``annot_key``
    ('pitchmidi' notes with time/duration, 'f0' arrays in Hz, or 'f0multi' arrays in MIDI) and optionally
    ``voice_l``: draw only the notes of these voices (e.g. ``[Soprano]``: the melody of the chorales);
    tracks without such a note are left out (counted). The original course's ``do_f0_annot`` is understood:
    ``segment`` = notes (``annot_key`` 'pitchmidi' unless given: MAPS), ``frame`` = f0 arrays per stem in
    MIDI (``annot_key`` 'f0multi' unless given: Bach10).
    """

    def prepare_labels(self, data_d):
        if self.feature_d["type"] != "hcqt":
            raise DatasetError(f"a PitchDataset needs the HCQT (feature.type: hcqt), got '{self.feature_d['type']}'")
        do_f0_annot = self.dataset_d.get("do_f0_annot", "segment")
        if do_f0_annot not in ("segment", "frame"):
            raise DatasetError(f"dataset.do_f0_annot must be 'segment' (notes: pitchmidi) or 'frame' (f0 arrays: "
                               f"f0multi), got {do_f0_annot!r}")
        self.annot_key = self.dataset_d.get("annot_key", "f0multi" if do_f0_annot == "frame" else "pitchmidi")
        self.f0_unit = {"f0": "hz", "f0multi": "midi"}.get(self.annot_key)  # None: notes
        if do_f0_annot == "frame" and self.f0_unit is None:
            raise DatasetError(f"dataset.do_f0_annot 'frame' reads f0 arrays ('f0multi' in MIDI or 'f0' in Hz), "
                               f"not the field '{self.annot_key}'")
        self.voice_l = self.dataset_d.get("voice_l")
        if self.voice_l is not None and self.f0_unit is not None:
            raise DatasetError(f"dataset.voice_l selects notes of 'pitchmidi'; it cannot be used with annot_key "
                               f"'{self.annot_key}'")
        self.n_bins = feature.f_get_n_bins(self.feature_d)
        self.frequency_hz_v = feature.f_get_pitch_grid_hz(self.feature_d)

    def select_entries(self, entry_l):
        if self.voice_l is None:
            return entry_l
        kept_l = [entry for entry in entry_l
                  if annotation.has_voice(entry, self.annot_key, self.voice_l, self.pyjama_annot_file)]
        if len(kept_l) < len(entry_l):
            self.skipped_d[f"tracks with no note of voice_l {self.voice_l}"] = len(entry_l) - len(kept_l)
        return kept_l

    def make_target(self, entry, time_sec_v):
        grid = (self.feature_d["fmin"], self.feature_d["bins_per_semitone"], self.n_bins)
        if self.f0_unit is not None:
            return torch.from_numpy(annotation.f_get_f0_target(entry, self.annot_key, time_sec_v, *grid,
                                                               pyjama_annot_file=self.pyjama_annot_file,
                                                               unit=self.f0_unit))
        target_m, left_out_d = annotation.f_get_pianoroll_target(entry, self.annot_key, time_sec_v, *grid,
                                                                 pyjama_annot_file=self.pyjama_annot_file,
                                                                 voice_l=self.voice_l)
        for reason, n_note in left_out_d.items():
            self.skipped_d[reason] = self.skipped_d.get(reason, 0) + n_note
        return torch.from_numpy(target_m)

    def get_y(self, key, start_frame, end_frame):
        return self.data_d[key]["y"][np.newaxis, :, start_frame:end_frame]



class CoverDataset(PatchDataset):
    """Cover-song identification. idx = a work; the item holds one patch of each of several versions.

    Item: ``X`` (k, C, F, L) (one patch per version), ``y`` (k,) the work's index, int64. In the train
    split, k = ``dataset.versions_per_work`` versions drawn at random (each with a random patch), and works
    with a single version are left out (counted: they give no positive pair); in valid/test, every version
    with its first patch. Batch items with ``cover_collate``. For evaluation on whole tracks,
    ``get_track_patches(key)`` gives all the patches of a version.
    """

    def prepare_labels(self, data_d):
        """The work field: ``annot_key``, else ``work_id`` (ours), else ``work-id`` (the original course's
        Cover1000 and Da-TACOS files, whose entries also carry ``performance-id``)."""
        first_entry = data_d["collection"]["entry"][0] if data_d["collection"]["entry"] else {}
        self.annot_key = self.dataset_d.get("annot_key",
                                            "work-id" if "work-id" in first_entry and "work_id" not in first_entry
                                            else "work_id")
        self.split_group_key = self.annot_key
        self.versions_per_work = int(self.dataset_d.get("versions_per_work", 4))

    def select_entries(self, entry_l):
        work_of_entry_l = [annotation.f_get_work_id(entry, self.annot_key, self.pyjama_annot_file)
                           for entry in entry_l]
        if self.split != "train":
            return entry_l
        kept_l = [entry for entry, work in zip(entry_l, work_of_entry_l, strict=True)
                  if work_of_entry_l.count(work) >= 2]
        if len(kept_l) < len(entry_l):
            self.skipped_d["single-version works (no positive pair)"] = len(entry_l) - len(kept_l)
        return kept_l

    def make_target(self, entry, time_sec_v):
        return annotation.f_get_work_id(entry, self.annot_key, self.pyjama_annot_file)

    def prepare_items(self):
        self.work_l = sorted({track_d["y"] for track_d in self.data_d.values()})
        self.key_by_work_d = {work: [key for key in self.key_l if self.data_d[key]["y"] == work]
                              for work in self.work_l}

    def __len__(self):
        return len(self.work_l)

    def __getitem__(self, idx_work):
        work = self.work_l[idx_work]
        key_l = self.key_by_work_d[work]
        if self.split == "train":
            order_v = torch.randperm(len(key_l))[: self.versions_per_work]
            key_l = [key_l[i] for i in order_v]
        X_l = []
        for key in key_l:
            patch_l = self.data_d[key]["patch_l"]
            patch = patch_l[int(torch.randint(len(patch_l), ()))] if self.split == "train" else patch_l[0]
            X_l.append(self.get_X(key, patch["start_frame"], patch["end_frame"]))
        return {"X": torch.stack(X_l), "y": torch.full((len(key_l),), idx_work, dtype=torch.long), "key": key_l}



def cover_collate(item_l):
    """Batch of CoverDataset items (works with different numbers of versions): X (N, C, F, L), y (N,).

    N is the total number of versions in the batch; ``key`` is the flat list of their track keys.
    """
    return {"X": torch.cat([item["X"] for item in item_l]), "y": torch.cat([item["y"] for item in item_l]),
            "key": [key for item in item_l for key in item["key"]]}


def track_collate(item_l):
    """Batch of whole tracks of different lengths (idx = a track): each ``X`` (..., T_i) is zero-padded at the end
    of its time axis to the longest, T_max.

    Returns ``{'X': (B, ..., T_max), 'n_frames': int64 (B,) the true lengths, 'y': the targets stacked (a target
    with the time axis of its X, e.g. a piano roll (1, F, T_i), is padded the same way), 'key': list}``.
    A model that pools over time should ignore the padded frames (``n_frames`` says which they are).
    """
    n_frame_l = [item["X"].shape[-1] for item in item_l]
    n_max = max(n_frame_l)

    def padded(tensor, n_frames):
        return torch.nn.functional.pad(tensor, (0, n_max - n_frames))

    y_l = [item["y"] for item in item_l]
    if all(y.ndim >= 1 and y.shape[-1] == n for y, n in zip(y_l, n_frame_l, strict=True)) and len(set(n_frame_l)) > 1:
        y_l = [padded(y, n) for y, n in zip(y_l, n_frame_l, strict=True)]
    return {"X": torch.stack([padded(item["X"], n) for item, n in zip(item_l, n_frame_l, strict=True)]),
            "n_frames": torch.tensor(n_frame_l, dtype=torch.int64), "y": torch.stack(y_l),
            "key": [item.get("key") for item in item_l]}
