"""The real datasets of the original course (optional, downloaded on request only).

The original course serves each dataset as two files at ``ORIGINAL_BASE_URL``: ``<base>.pyjama`` (the
annotations) and ``<base>_audio.hdf5.zip`` (the audio; the cover sets ship 12-d features,
``<base>_feat.hdf5.zip``). Unzipped, they are in the same format as our course dataset, and the ``Dataset``
classes read them with a config that names their fields (``REAL_DATASET_D`` gives them).

``fetch_real_dataset`` downloads them with pooch (a progress bar, an integrity check when the SHA-256 of a
file is given, an atomic write: pooch downloads to a temporary file and moves it only once it is complete
and verified), unzips the data file under a temporary name and moves it into place, deletes the zip, and
checks the pair (every track of the ``.pyjama`` is in the data file). Run again after an interruption, it
starts over from what is complete: a verified pair is kept, a complete zip is unzipped without being
downloaded again, nothing half-written is ever taken for a file. Nothing in the course calls it by
default: it needs a network.
"""

import os
import urllib.parse
import zipfile
import zlib
from pathlib import Path

import pooch
import requests

from course_utils import audio_store, safe_files

# Where the original course serves its datasets (its notebooks' index page lists the files and sizes).
ORIGINAL_BASE_URL = "https://perso.telecom-paristech.fr/gpeeters/tuto_DL101forMIR/"

# Each dataset: the suffix of its data file ('audio' or 'feat'), the size of its zip on the original
# server, what it is for, and the config entries it needs. Fill ``sha256_d`` of ``fetch_real_dataset``
# from the source you download from: a known hash is checked after every download.
REAL_DATASET_D = {
    "gtzan-genre": {"data": "audio", "zip_size": "1.5 GB",
                    "dataset": {"problem": "multiclass", "annot_key": "genre", "group_key": "artist"},
                    "task": "genre classification, 10 classes (TagDataset)"},
    "mtt": {"data": "audio", "zip_size": "2.3 GB",
            "dataset": {"problem": "multilabel", "annot_key": "tag", "group_key": "album"},
            "task": "auto-tagging, top-50 tags (TagDataset)"},
    "bach10": {"data": "audio", "zip_size": "129 MB",
               "dataset": {"annot_key": "pitchmidi", "group_key": "work_id"},
               "task": "multi-pitch estimation of 10 four-voice chorales (PitchDataset)"},
    "maps": {"data": "audio", "zip_size": "2.3 GB",
             "dataset": {"annot_key": "pitchmidi", "group_key": "work_id"},
             "task": "piano transcription (PitchDataset)"},
    "rwc-pop_chord": {"data": "audio", "zip_size": "1.8 GB",
                      "dataset": {"problem": "segment", "annot_key": "chord"},
                      "task": "chord recognition, frame by frame (TagDataset, problem segment)"},
    "cover1000": {"data": "feat", "zip_size": "101 MB",
                  "dataset": {"problem": "cover", "annot_key": "work-id"}, "feature": {"type": "precomputed"},
                  "task": "cover-song identification on precomputed 12-d features (CoverDataset)"},
    "datacos-benchmark": {"data": "feat", "zip_size": "1.5 GB",
                          "dataset": {"problem": "cover", "annot_key": "work-id"},
                          "feature": {"type": "precomputed"},
                          "task": "cover-song identification, Da-TACOS benchmark subset (CoverDataset)"},
}


def real_dataset_paths(name, out_dir):
    """(data file, .pyjama file) of a real dataset in ``out_dir``: ``<name>_audio.hdf5`` (or ``_feat``)."""
    if name not in REAL_DATASET_D:
        raise ValueError(f"unknown dataset '{name}'; use one of {', '.join(REAL_DATASET_D)}")
    return audio_store.pair_paths(out_dir, name, REAL_DATASET_D[name]["data"])


def _retrieve(url, file_name, out_dir, sha256_d, progress):
    """One file from ``url`` into ``out_dir`` with pooch (kept when already there with the right hash)."""
    known_hash = f"sha256:{sha256_d[file_name]}" if file_name in sha256_d else None
    try:
        return Path(pooch.retrieve(url, known_hash=known_hash, fname=file_name, path=out_dir, progressbar=progress))
    except requests.exceptions.ConnectionError as error:
        raise ConnectionError(f"cannot reach {url} (offline?): {error}. The course does not need it: the "
                              "offline course dataset is built with `python -m course_utils.data build`") from None
    except requests.exceptions.HTTPError as error:
        raise ConnectionError(f"downloading {url} failed: {error}") from None
    except requests.exceptions.ChunkedEncodingError as error:
        raise ConnectionError(f"the download of {url} was interrupted ({error}); nothing was kept, try again") \
            from None
    except ValueError as error:  # pooch: hash mismatch (the corrupt download is not kept)
        raise ValueError(f"{file_name}: the downloaded file does not match its SHA-256 ({error}); nothing was "
                         "kept: check the address, or the hash you gave") from None


def _unzip_member(zip_path, member_name, out_path):
    """Extract the member of ``zip_path`` named ``member_name`` (in any folder of the zip) to ``out_path``,
    under a temporary name first (an interrupted extraction leaves nothing that looks complete)."""
    try:
        with zipfile.ZipFile(zip_path) as zip_fid:
            match_l = [info for info in zip_fid.infolist() if Path(info.filename).name == member_name]
            if not match_l:
                raise ValueError(f"{zip_path}: no {member_name} in the zip (it holds: "
                                 f"{', '.join(info.filename for info in zip_fid.infolist()[:5])})")
            partial = safe_files.partial_path(out_path)
            try:
                with zip_fid.open(match_l[0]) as source, open(partial, "wb") as target:
                    while chunk := source.read(1 << 24):
                        target.write(chunk)
                os.replace(partial, out_path)
            finally:
                partial.unlink(missing_ok=True)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:  # a bad header, damaged compressed data, a cut file
        zip_path.unlink(missing_ok=True)
        raise ValueError(f"{zip_path}: not a valid zip ({type(error).__name__}: {error}); it was deleted, run again "
                         "to download it") from None


def fetch_real_dataset(name, base_url, out_dir, sha256_d=None, progress=True):
    """Download, unzip and check a real dataset of the original course into ``out_dir``.

    Parameters
    ----------
    name : a key of REAL_DATASET_D (e.g. 'bach10')
    base_url : where the files are served (``<base_url>/<file name>``): ``ORIGINAL_BASE_URL`` for the
        original course's server
    out_dir : folder to write into
    sha256_d : optional dict file name (``bach10_audio.hdf5.zip``, ``bach10.pyjama``) -> SHA-256 hex
        digest; a download that does not match is rejected and not kept

    Returns
    -------
    (data_path, pyjama_path) : ``<name>_audio.hdf5`` (or ``_feat.hdf5``) and ``<name>.pyjama``, checked as a
        pair; already there and checked: nothing is downloaded
    """
    data_path, pyjama_path = real_dataset_paths(name, out_dir)
    scheme = urllib.parse.urlsplit(str(base_url)).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"base_url {base_url!r}: the address must start with http:// or https:// (got "
                         f"{scheme + '://' if scheme else 'no scheme'}); for files already on disk, pass their "
                         "folder to the Dataset classes directly")
    sha256_d = sha256_d or {}
    data_path.parent.mkdir(parents=True, exist_ok=True)
    with safe_files.file_lock(data_path, f"the {name} dataset"):
        if audio_store.pair_problem(data_path, pyjama_path) is None:
            return data_path, pyjama_path
        url = base_url.rstrip("/")
        _retrieve(f"{url}/{pyjama_path.name}", pyjama_path.name, data_path.parent, sha256_d, progress)
        if audio_store.pair_problem(data_path, pyjama_path) is not None:
            zip_name = data_path.name + ".zip"
            zip_path = _retrieve(f"{url}/{zip_name}", zip_name, data_path.parent, sha256_d, progress)
            _unzip_member(zip_path, data_path.name, data_path)
            zip_path.unlink()
        problem = audio_store.pair_problem(data_path, pyjama_path)
        if problem is not None:
            raise ValueError(f"the {name} files do not make a dataset: {problem}. Delete them and run again, or "
                             "check that the server holds files of the same version")
    return data_path, pyjama_path
