"""Where a dataset's features live: one small object per choice, with one interface.

The course text asks *where to compute* the input ``X``: in ``__init__`` and kept (memory), once into a file
read patch by patch (disk), or in every ``__getitem__`` (on the fly). A fourth source has no audio at all:
features computed elsewhere and shipped in a ``<base>_feat.hdf5`` file (Cover1000's 12-d features, the melody
chroma of notebook 07), read with ``feature.type: precomputed``. Each is a ``FeaturePlacement``:

- ``add_track(key, source_fid)``: called once per track by the Dataset's ``__init__``; returns the time of each
  frame in seconds (so that annotations in seconds can be mapped to frames);
- ``get_X(key, start_frame, end_frame)``: the feature of frames [start, end) of a track, a float32 tensor
  (C, F, L) or (1, L);
- ``n_frames(key)``, ``duration_sec(key)``.

``make_placement`` chooses the object from the name (``'memory'``, ``'disk'``, ``'on_the_fly'``) and the
feature section. The Dataset classes (``course_utils.dataset``) keep the dataset logic only: splits, targets,
patches, the unit of ``idx``. Taught in notebooks/03_dataset.ipynb ("where to compute the features").
"""

import contextlib
import os

import h5py
import numpy as np
import torch

from course_utils import feature, feature_cache
from course_utils.audio_store import open_audio_file, read_audio
from course_utils.config import as_config


class DatasetError(ValueError):
    """Data that does not fit the config: names the file, the entry and what to change (``dataset`` re-exports it)."""


class FeaturePlacement:
    """What every placement shares: the data file, the feature section (with its ``sr_hz``) and the frame times."""

    name = None

    def __init__(self, data_file, feature_d, key_l, cache_dir=None):
        self.data_file, self.feature_d = str(data_file), as_config(feature_d, "feature")
        self.key_l, self.cache_dir = list(key_l), cache_dir
        self._frames_d, self._duration_d = {}, {}
        self.sr_hz_source = "the config's feature.sr_hz"

    @contextlib.contextmanager
    def opened(self):
        """The data file, open for the ``add_track`` pass of the Dataset's ``__init__``."""
        with open_audio_file(self.data_file) as source_fid:
            yield source_fid

    def add_track(self, key, source_fid):
        """Prepare one track; returns ``time_sec_v`` (n_frames,), the time of each frame in seconds."""
        raise NotImplementedError

    def get_X(self, key, start_frame, end_frame):
        """Feature of frames [start_frame, end_frame) of a track: float32 tensor (C, F, L) or (1, L)."""
        raise NotImplementedError

    def n_frames(self, key):
        return self._frames_d[key]

    def duration_sec(self, key):
        """Length of the track's audio in seconds (for messages)."""
        return self._duration_d[key]

    def _remember(self, key, n_frames, duration_sec):
        self._frames_d[key], self._duration_d[key] = int(n_frames), float(duration_sec)


class _AudioPlacement(FeaturePlacement):
    """Placements that compute the feature from the ``_audio.hdf5`` file, at the config's ``sr_hz``."""

    def __init__(self, data_file, feature_d, key_l, cache_dir=None):
        super().__init__(data_file, feature_d, key_l, cache_dir)
        if "sr_hz" not in self.feature_d:
            self._read_sr_hz()

    def _read_sr_hz(self):
        """A config without ``feature.sr_hz`` (the original course's configs): the rate of the first track, which
        every other track must share."""
        with open_audio_file(self.data_file) as audio_fid:
            _, sr_hz = read_audio(audio_fid, self.key_l[0], self.data_file)
        self.feature_d = as_config({**self.feature_d.to_dict(), "sr_hz": sr_hz}, "feature")
        self.sr_hz_source = f"track '{self.key_l[0]}' (the config has no feature.sr_hz)"

    def _read(self, key, audio_fid):
        """(audio_v, sr_hz) of a track, checked against the feature's rate."""
        audio_v, sr_hz = read_audio(audio_fid, key, self.data_file)
        if sr_hz != self.feature_d["sr_hz"]:
            raise DatasetError(f"{self.data_file}, track '{key}': sampling rate {sr_hz} Hz but "
                                 f"{self.feature_d['sr_hz']} Hz from {self.sr_hz_source}; resample the audio to one "
                                 "rate or change the config")
        return audio_v, sr_hz


class InMemory(_AudioPlacement):
    """Every track's feature computed in ``__init__`` and kept in RAM (the course text's way)."""

    name = "memory"

    def __init__(self, data_file, feature_d, key_l, cache_dir=None):
        super().__init__(data_file, feature_d, key_l, cache_dir)
        self.X_d = {}

    def add_track(self, key, source_fid):
        audio_v, sr_hz = self._read(key, source_fid)
        X, time_sec_v = feature.f_get_feature(audio_v, sr_hz, self.feature_d)
        self.X_d[key] = torch.from_numpy(X).float()
        self._remember(key, len(time_sec_v), audio_v.size / sr_hz)
        return time_sec_v

    def get_X(self, key, start_frame, end_frame):
        return self.X_d[key][..., start_frame:end_frame]


class OnDisk(_AudioPlacement):
    """Every track's feature computed once into an HDF5 feature cache (``feature_cache``), read patch by patch:
    for data larger than RAM. One file handle per process (DataLoader workers open their own)."""

    name = "disk"

    def __init__(self, data_file, feature_d, key_l, cache_dir=None):
        super().__init__(data_file, feature_d, key_l, cache_dir)
        self.cache_path = feature_cache.f_cache_features(data_file, self.feature_d, key_l=self.key_l,
                                                         cache_dir=cache_dir)
        self._cache_fid, self._cache_pid = None, None

    def add_track(self, key, source_fid):
        with h5py.File(self.cache_path, "r") as cache_fid:
            time_sec_v = feature_cache.read_time_sec_v(cache_fid, key, self.cache_path)
        self._remember(key, len(time_sec_v), len(time_sec_v) * feature.f_get_hop_sec(self.feature_d,
                                                                                     self.feature_d["sr_hz"]))
        return time_sec_v

    def get_X(self, key, start_frame, end_frame):
        if self._cache_fid is None or self._cache_pid != os.getpid():
            self._cache_fid, self._cache_pid = h5py.File(self.cache_path, "r"), os.getpid()
        X = feature_cache.read_checked(self._cache_fid, key, np.s_[..., start_frame:end_frame], self.cache_path)
        return torch.from_numpy(X).float()

    def __getstate__(self):  # a DataLoader worker started by 'spawn' opens its own handle
        return {**self.__dict__, "_cache_fid": None, "_cache_pid": None}


class OnTheFly(_AudioPlacement):
    """Only the audio is kept; each ``get_X`` computes the feature of its frames, with enough audio around them
    for the analysis windows (``feature.f_get_context_frames``). Slowest, and the audio is larger than a log-mel."""

    name = "on_the_fly"

    def __init__(self, data_file, feature_d, key_l, cache_dir=None):
        super().__init__(data_file, feature_d, key_l, cache_dir)
        self.audio_d = {}

    def add_track(self, key, source_fid):
        audio_v, sr_hz = self._read(key, source_fid)
        self.audio_d[key] = audio_v
        n_frames = feature.f_get_n_frames(audio_v.size, self.feature_d)
        self._remember(key, n_frames, audio_v.size / sr_hz)
        return np.arange(n_frames) * feature.f_get_hop_sec(self.feature_d, sr_hz)

    def get_X(self, key, start_frame, end_frame):
        audio_v, sr_hz = self.audio_d[key], self.feature_d["sr_hz"]
        hop_n, context = feature.f_get_hop_n(self.feature_d), feature.f_get_context_frames(self.feature_d, sr_hz)
        n_frames = self.n_frames(key)
        first_frame, last_frame = max(0, start_frame - context), min(n_frames, end_frame + context)
        end_sample = audio_v.size if last_frame == n_frames else (last_frame - 1) * hop_n + 1
        X, _ = feature.f_get_feature(audio_v[first_frame * hop_n:end_sample], sr_hz, self.feature_d)
        return torch.from_numpy(X[..., start_frame - first_frame:end_frame - first_frame]).float()


class Precomputed(FeaturePlacement):
    """Features read from a ``<base>_feat.hdf5`` file (no audio): one dataset per track, (F, T) or (C, F, T), with
    the attribute ``hop_sec`` (else the config's ``feature.hop_sec``). Kept in memory."""

    name = "precomputed"

    def __init__(self, data_file, feature_d, key_l, cache_dir=None):
        super().__init__(data_file, feature_d, key_l, cache_dir)
        self.X_d = {}

    @contextlib.contextmanager
    def opened(self):
        try:
            source_fid = h5py.File(self.data_file, "r")
        except OSError as error:
            raise DatasetError(f"{self.data_file}: not a readable feature file ({error})") from None
        with source_fid:
            yield source_fid

    def add_track(self, key, source_fid):
        where = f"{self.data_file}, track '{key}'"
        if key not in source_fid:
            raise KeyError(f"{self.data_file}: no feature for track '{key}' (named in the .pyjama file)")
        X = np.asarray(source_fid[key][()], dtype=np.float32)
        problem = feature_cache.precomputed_feature_problem(X)
        if problem is not None:
            raise DatasetError(f"{where}: {problem}")
        X = X[np.newaxis] if X.ndim == 2 else X  # (F, T) -> (1, F, T)
        if "n_bins" in self.feature_d and X.shape[-2] != self.feature_d["n_bins"]:
            raise DatasetError(f"{where}: the precomputed feature has {X.shape[-2]} bins but the config says "
                                 f"feature.n_bins = {self.feature_d['n_bins']}; use the feature file made for this "
                                 "config")
        hop_sec = float(source_fid[key].attrs.get("hop_sec", self.feature_d.get("hop_sec", 1.0)))
        self.X_d[key] = torch.from_numpy(X)
        self._remember(key, X.shape[-1], X.shape[-1] * hop_sec)
        return np.arange(X.shape[-1]) * hop_sec

    def get_X(self, key, start_frame, end_frame):
        return self.X_d[key][..., start_frame:end_frame]


PLACEMENT_D = {cls.name: cls for cls in (InMemory, OnDisk, OnTheFly)}  # the one table of placements
FEATURE_PLACEMENT_L = PLACEMENT_D.keys()  # their names: a live view of the table (a new entry is a name at once)


def make_placement(name, data_file, feature_d, key_l, cache_dir=None):
    """The ``FeaturePlacement`` of a dataset: ``name`` in ``FEATURE_PLACEMENT_L`` for features computed from audio;
    features of a type that is read from a file (``feature.type: precomputed``) are always kept in memory."""
    if name not in FEATURE_PLACEMENT_L:
        raise ValueError(f"feature_placement must be one of {', '.join(FEATURE_PLACEMENT_L)}, got '{name}'")
    if not feature.is_computed(feature_d):
        if name != "memory":
            raise DatasetError(f"precomputed features are read into memory: use feature_placement='memory', not "
                                 f"'{name}'")
        return Precomputed(data_file, feature_d, key_l, cache_dir)
    return PLACEMENT_D[name](data_file, feature_d, key_l, cache_dir)
