"""The real datasets of the original course (optional, downloaded on request only).

The original course's datasets come in the same format as ours: ``<name>_audio.hdf5`` + ``<name>.pyjama``
(Cover1000 ships precomputed 12-d features in ``<name>_feat.hdf5`` instead of audio). The ``Dataset``
classes read them unchanged with a config that names their fields (``REAL_DATASET_D`` gives them).

``fetch_real_dataset`` downloads the files with pooch: a progress bar, an integrity check when the SHA-256
of a file is given, and an atomic write (pooch downloads to a temporary file and moves it only once it is
complete and verified). Nothing in the course calls it by default: it needs a network.
"""

import urllib.parse
from pathlib import Path

import pooch
import requests

# Files and the config entries each dataset needs. Fill ``sha256`` from the source you download from:
# a known hash is checked after every download; None means no integrity check (a warning says so).
REAL_DATASET_D = {
    "gtzan-genre": {"file_l": ["gtzan-genre_audio.hdf5", "gtzan-genre.pyjama"],
                    "dataset": {"problem": "multiclass", "annot_key": "genre", "group_key": "artist"},
                    "task": "genre classification, 10 classes (TagDataset)"},
    "mtt": {"file_l": ["mtt_audio.hdf5", "mtt.pyjama"],
            "dataset": {"problem": "multilabel", "annot_key": "tag", "group_key": "album"},
            "task": "auto-tagging, top-50 tags (TagDataset)"},
    "bach10": {"file_l": ["bach10_audio.hdf5", "bach10.pyjama"],
               "dataset": {"annot_key": "pitchmidi", "group_key": "work_id"},
               "task": "multi-pitch estimation of 10 four-voice chorales (PitchDataset)"},
    "maps": {"file_l": ["maps_audio.hdf5", "maps.pyjama"],
             "dataset": {"annot_key": "pitchmidi", "group_key": "work_id"},
             "task": "piano transcription (PitchDataset)"},
    "cover1000": {"file_l": ["cover1000_feat.hdf5", "cover1000.pyjama"],
                  "dataset": {"problem": "cover", "annot_key": "work_id"},
                  "feature": {"type": "precomputed"},
                  "task": "cover-song identification on precomputed 12-d features (CoverDataset)"},
}


def fetch_real_dataset(name, base_url, out_dir, sha256_d=None, progress=True):
    """Download the files of a real dataset into ``out_dir`` (skipped when already there and verified).

    Parameters
    ----------
    name : a key of REAL_DATASET_D
    base_url : where the files are served (``<base_url>/<file name>``), e.g. the address given on the
        original course's page
    out_dir : folder to write into
    sha256_d : optional dict file name -> SHA-256 hex digest; a file that does not match is rejected

    Returns
    -------
    path_l : list of Path, the downloaded files
    """
    if name not in REAL_DATASET_D:
        raise ValueError(f"unknown dataset '{name}'; use one of {', '.join(REAL_DATASET_D)}")
    scheme = urllib.parse.urlsplit(str(base_url)).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"base_url {base_url!r}: the address must start with http:// or https:// (got "
                         f"{scheme + '://' if scheme else 'no scheme'}); for files already on disk, pass their "
                         "folder to the Dataset classes directly")
    sha256_d = sha256_d or {}
    path_l = []
    for file_name in REAL_DATASET_D[name]["file_l"]:
        known_hash = f"sha256:{sha256_d[file_name]}" if file_name in sha256_d else None
        url = f"{base_url.rstrip('/')}/{file_name}"
        try:
            path = pooch.retrieve(url, known_hash=known_hash, fname=file_name, path=out_dir, progressbar=progress)
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
        path_l.append(Path(path))
    return path_l
