"""Compute a feature once for every track of a dataset and keep it in an HDF5 feature file.

The cache file's name and attributes carry the feature parameters and a fingerprint of the audio
file, so a changed parameter or a rebuilt dataset gives a new cache, never stale data. Files are
written to a temporary name and renamed when complete: an interrupted run leaves nothing that a
later run takes for a finished cache.

Safe with other processes (``safe_files``: one writer at a time, under a lock; others wait and then use
its file) and checked: every array has an HDF5 checksum, verified when the file is opened for use and on
each read, so damaged data is recomputed or reported, never read as features.

Taught in notebooks/03_dataset.ipynb (where to compute features: on the fly, in memory, on disk).
"""

import hashlib
import json
import os
from pathlib import Path

import h5py
import numpy as np
from tqdm.auto import tqdm

from course_utils import feature, processes, safe_files
from course_utils.audio_store import open_audio_file, read_audio
from course_utils.config import to_plain

# Bump when the feature code changes its values: every existing cache is then recomputed.
FEATURE_CODE_VERSION = 3  # 2: checksummed arrays (fletcher32); 3: track keys escaped ('/' is HDF5's separator)
# Keys of the 'feature' config section that do not change the feature values.
_NOT_FEATURE_KEYS = ("patch_L_frame", "patch_STEP_frame")


def feature_param_dict(param_feature):
    """The parameters that define a feature's values, as a plain dict (patch settings left out)."""
    return {key: value for key, value in to_plain(param_feature).items() if key not in _NOT_FEATURE_KEYS}


def cache_key(key):
    """The name of a track's group in a feature file: its key with '%' and '/' escaped (HDF5 reads '/' as a path)."""
    return str(key).replace("%", "%25").replace("/", "%2F")


def _audio_fingerprint(hdf5_audio_file):
    stat = os.stat(hdf5_audio_file)
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def cache_file_name(hdf5_audio_file, param_feature, cache_dir=None):
    """Path of the feature file for this audio file and these parameters.

    ``<cache_dir>/<audio file stem>_feat-<type>-<10 hex digits of the parameters' hash>.hdf5``;
    ``cache_dir`` defaults to the audio file's folder.
    """
    param_d = feature_param_dict(param_feature)
    param_json = json.dumps({"params": param_d, "version": FEATURE_CODE_VERSION}, sort_keys=True)
    digest = hashlib.sha256(param_json.encode("utf-8")).hexdigest()[:10]
    audio_path = Path(hdf5_audio_file)
    folder = Path(cache_dir) if cache_dir is not None else audio_path.parent
    return folder / f"{audio_path.stem}_feat-{param_d.get('type', 'unknown')}-{digest}.hdf5"


def _compute_one(hdf5_audio_file, key, param_d):
    """Worker: read one track and compute its feature (runs in a separate process)."""
    with open_audio_file(hdf5_audio_file) as audio_fid:
        audio_v, sr_hz = read_audio(audio_fid, key, hdf5_audio_file)
    try:
        data, time_sec_v = feature.f_get_feature(audio_v, sr_hz, param_d)
    except ValueError as error:
        raise ValueError(f"{hdf5_audio_file}, track '{key}': {error}") from None
    return key, data, time_sec_v


def cache_problem(cache_path, param_json, fingerprint, key_l):
    """Why a feature file cannot be used for these parameters, audio and tracks (a sentence), or None.

    Every array is read back: HDF5 checks each chunk against its stored checksum (fletcher32), so a
    file damaged on disk or by a partial copy is found here, not in the middle of training.
    """
    if not Path(cache_path).exists():
        return "missing"
    try:
        with h5py.File(cache_path, "r") as cache_fid:
            if cache_fid.attrs.get("params_json") != param_json:
                return "made with other feature parameters or another version of the feature code"
            if cache_fid.attrs.get("audio_fingerprint") != fingerprint:
                return "made from another version of the audio file"
            missing_l = [key for key in key_l if cache_key(key) not in cache_fid]
            if missing_l:
                return f"incomplete: {len(missing_l)} tracks missing (e.g. '{missing_l[0]}')"
            for key in key_l:
                cache_fid[cache_key(key)]["X"][()]
                cache_fid[cache_key(key)]["time_sec_v"][()]
    except (OSError, KeyError, ValueError) as error:
        return f"damaged ({error})"
    return None


def f_cache_features(hdf5_audio_file, param_feature, key_l=None, cache_dir=None, n_workers=1):
    """Compute the feature of every track (or of ``key_l``) once and store it in an HDF5 feature file.

    Parameters
    ----------
    hdf5_audio_file : str or Path, the ``<name>_audio.hdf5`` file
    param_feature : the ``feature`` section of a config (``type`` + its keys)
    key_l : list of str or None, the tracks to compute (None: every track of the file)
    cache_dir : str or Path or None, where to write (None: beside the audio file)
    n_workers : int, processes computing in parallel (on 2 cores, 2 helps for HCQT; 1: no pool)

    Returns
    -------
    cache_path : Path of the feature file; in it, for each track key, a group with ``X``
        (the feature, float32, (C, F, T) or (1, T)) and ``time_sec_v`` (T,)
    """
    hdf5_audio_file = Path(hdf5_audio_file)
    param_d = feature_param_dict(param_feature)
    param_json = json.dumps({"params": param_d, "version": FEATURE_CODE_VERSION}, sort_keys=True)
    with open_audio_file(hdf5_audio_file) as audio_fid:
        key_l = list(audio_fid.keys()) if key_l is None else list(key_l)
        missing_l = [key for key in key_l if key not in audio_fid]
    if missing_l:
        raise KeyError(f"{hdf5_audio_file}: no audio for tracks {missing_l[:5]} (of {len(missing_l)} missing)")

    cache_path = cache_file_name(hdf5_audio_file, param_d, cache_dir)
    fingerprint = _audio_fingerprint(hdf5_audio_file)
    if cache_problem(cache_path, param_json, fingerprint, key_l) is None:
        return cache_path
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    with safe_files.file_lock(cache_path, f"the feature file {cache_path.name}"):
        problem = cache_problem(cache_path, param_json, fingerprint, key_l)  # another process may have made it
        if problem is None:
            return cache_path
        reusable_l = _verified_tracks(cache_path, param_json, fingerprint)
        if problem != "missing":
            print(f"{cache_path.name}: the existing file is {problem}; computing "
                  f"{len([key for key in key_l if key not in reusable_l])} tracks, keeping {len(reusable_l)}")
        safe_files.remove_stale_partials(cache_path)
        partial_path = safe_files.partial_path(cache_path)
        try:
            with safe_files.terminate_as_interrupt():
                _write_cache(partial_path, hdf5_audio_file, param_d, param_json, fingerprint,
                             [key for key in key_l if key not in reusable_l], n_workers, (cache_path, reusable_l))
                safe_files.replace_all([(partial_path, cache_path)])
        finally:
            partial_path.unlink(missing_ok=True)
    return cache_path


def _verified_tracks(cache_path, param_json, fingerprint):
    """Tracks of an existing feature file that can be kept: made with these parameters from this audio, and
    read back without a checksum error; [] when the file cannot be used at all."""
    try:
        with h5py.File(cache_path, "r") as cache_fid:
            if (cache_fid.attrs.get("params_json"), cache_fid.attrs.get("audio_fingerprint")) != (param_json,
                                                                                                  fingerprint):
                return []
            kept_l = []
            for name in cache_fid:
                try:
                    cache_fid[name]["X"][()]
                    cache_fid[name]["time_sec_v"][()]
                    kept_l.append(name.replace("%2F", "/").replace("%25", "%"))  # the track's key
                except (OSError, KeyError):
                    pass
            return kept_l
    except (OSError, KeyError, ValueError):
        return []


def _write_cache(partial_path, hdf5_audio_file, param_d, param_json, fingerprint, key_l, n_workers, keep=(None, [])):
    """Write a feature file: the tracks ``keep = (old file, keys)`` copied from the old file, ``key_l`` computed
    (in a pool of workers that end with this process when ``n_workers`` > 1)."""
    pool = processes.process_pool(n_workers) if n_workers > 1 else None
    try:
        with h5py.File(partial_path, "w") as cache_fid:
            cache_fid.attrs["params_json"] = param_json
            cache_fid.attrs["audio_fingerprint"] = fingerprint
            cache_fid.attrs["audio_file"] = hdf5_audio_file.name
            old_path, kept_l = keep
            if kept_l:
                with h5py.File(old_path, "r") as old_fid:
                    for key in kept_l:
                        old_fid.copy(old_fid[cache_key(key)], cache_fid, name=cache_key(key))
            if pool is None:
                result_iter = (_compute_one(hdf5_audio_file, key, param_d) for key in key_l)
            else:
                result_iter = pool.map(_compute_one, [hdf5_audio_file] * len(key_l), key_l, [param_d] * len(key_l),
                                       chunksize=4)
            with tqdm(total=len(key_l), desc=f"{param_d.get('type')} features", unit="track") as progress:
                _store_all(cache_fid, result_iter, progress, partial_path, old_path)
    finally:
        if pool is not None:
            processes.stop_pool(pool)


def _store_all(cache_fid, result_iter, progress, partial_path, cache_path):
    """Store each computed track, only when the disk has room for it (HDF5 cannot report a failed write)."""
    for key, data, time_sec_v in result_iter:
        data = data.astype(np.float32)
        if safe_files.free_bytes(partial_path) < data.nbytes + safe_files.FREE_SPACE_MARGIN_BYTES:
            raise safe_files.disk_full_error(cache_path, (progress.total - progress.n) * data.nbytes)
        group = cache_fid.create_group(cache_key(key))
        group.create_dataset("X", data=data, compression="lzf", fletcher32=True)
        group.create_dataset("time_sec_v", data=time_sec_v, fletcher32=True)
        progress.update(1)


def f_read_cached_feature(cache_fid, key, cache_path="<feature file>"):
    """One track's feature from an open feature file: ``(X, time_sec_v)`` as numpy arrays."""
    time_sec_v = read_time_sec_v(cache_fid, key, cache_path)
    return read_checked(cache_fid, key, (), cache_path), time_sec_v


def read_time_sec_v(cache_fid, key, cache_path="<feature file>"):
    """The frame times (seconds) of one track of an open feature file."""
    if cache_key(key) not in cache_fid:
        raise KeyError(f"{cache_path}: no feature for track '{key}'; run f_cache_features for it")
    return cache_fid[cache_key(key)]["time_sec_v"][()]


def read_checked(cache_fid, key, index, cache_path="<feature file>"):
    """``cache_fid[key]['X'][index]``, or an error naming the file and the track when a checksum fails."""
    try:
        return cache_fid[cache_key(key)]["X"][index]
    except OSError as error:
        raise OSError(f"{cache_path}, track '{key}': the stored feature is damaged ({error}); delete the file, it "
                      "is computed again the next time it is needed") from None


def precomputed_feature_problem(X):
    """Why an array cannot be a precomputed feature (a sentence), or None when it is a finite (F, T) or (C, F, T)."""
    X = np.asarray(X)
    if X.ndim not in (2, 3) or not np.all(np.isfinite(X)):
        return f"a precomputed feature must be a finite (F, T) or (C, F, T) array, got shape {X.shape}"
    return None


def f_write_precomputed_features(feature_path, X_by_key_d, hop_sec):
    """Write features computed elsewhere (e.g. by a model) as a file that datasets read with
    ``feature.type: precomputed`` (the format of Cover1000's ``_feat.hdf5``).

    Parameters
    ----------
    feature_path : str or Path, the file to write (replaced atomically when complete)
    X_by_key_d : dict, track key (as in the .pyjama ``filepath``) -> array (F, T) or (C, F, T)
    hop_sec : float, seconds between two frames (stored with each track as the attribute ``hop_sec``)

    Returns
    -------
    feature_path : Path
    """
    feature_path = Path(feature_path)
    if hop_sec <= 0:
        raise ValueError(f"hop_sec must be a positive number of seconds, got {hop_sec!r}")
    for key, X in X_by_key_d.items():
        problem = precomputed_feature_problem(X)
        if problem is not None:
            raise ValueError(f"track '{key}': {problem}")
    feature_path.parent.mkdir(parents=True, exist_ok=True)
    with safe_files.file_lock(feature_path), safe_files.terminate_as_interrupt():
        safe_files.remove_stale_partials(feature_path)
        safe_files.ensure_free_space(feature_path, sum(np.asarray(X).size * 4 for X in X_by_key_d.values()))
        partial_path = safe_files.partial_path(feature_path)
        try:
            with h5py.File(partial_path, "w") as feature_fid:
                for key, X in X_by_key_d.items():
                    dataset = feature_fid.create_dataset(key, data=np.asarray(X, dtype=np.float32), compression="lzf",
                                                         fletcher32=True)
                    dataset.attrs["hop_sec"] = float(hop_sec)
            safe_files.replace_all([(partial_path, feature_path)])
        finally:
            partial_path.unlink(missing_ok=True)
    return feature_path
