"""Build the offline course dataset: scores of the music21 corpus rendered to audio, with labels.

Two files, in the original course's format (see data/README.md for every field):

- ``<name>_audio.hdf5``: one int16 dataset per track (key = the track's file name), attribute ``sr_hz``;
- ``<name>.pyjama``: JSON, one entry per track with its labels for the three tasks:
  ``genre`` (chorale or dance type), ``tag`` (instruments playing), ``pitchmidi`` (every note, with its
  voice), ``work_id`` (same tune = covers), ``split`` (train/valid/test, by work) and ``render`` (all that
  is needed to render the track again).

This module writes the files; ``plan`` decides what to render and ``render`` renders one track. The build
is deterministic (same preset and seed: byte-identical files) and atomic (files are written under
temporary names and renamed at the end). Taught in notebooks/01_data.ipynb.
"""

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import h5py
from tqdm.auto import tqdm

from course_utils.data import scores, synth
from course_utils.data.plan import PRESET_D, Preset, plan_tracks
from course_utils.data.render import RENDERER, render_track


def _render_job(args):
    track, max_sec = args
    try:
        return render_track(track, max_sec)
    except Exception as error:  # name the score: a worker's traceback alone does not say which
        raise RuntimeError(f"building track from {track['source']}: {error}") from error


def dataset_paths(out_dir, preset_name):
    """(audio .hdf5 path, .pyjama path) of a built preset in ``out_dir``."""
    out_dir = Path(out_dir)
    return out_dir / f"course-{preset_name}_audio.hdf5", out_dir / f"course-{preset_name}.pyjama"


def build_dataset(preset_name, out_dir, n_workers=None, progress=True):
    """Build a preset into ``out_dir``: ``course-<preset>_audio.hdf5`` and ``course-<preset>.pyjama``.

    Parameters
    ----------
    preset_name : 'small' (CI, fast mode: seconds) or 'full' (class: about two minutes on 2 cores), or a
        ``Preset`` object (the tests build tiny ones)
    out_dir : folder to write into (created if needed)
    n_workers : processes rendering in parallel (default: number of CPU cores, at most 4)

    Returns
    -------
    (audio_path, pyjama_path) : the two files, complete
    """
    if isinstance(preset_name, Preset):
        preset, preset_name = preset_name, preset_name.name
    elif preset_name in PRESET_D:
        preset = PRESET_D[preset_name]
    else:
        raise ValueError(f"unknown preset '{preset_name}'; use one of {', '.join(PRESET_D)}")
    audio_path, pyjama_path = dataset_paths(out_dir, preset_name)
    audio_path.parent.mkdir(parents=True, exist_ok=True)
    track_l = plan_tracks(preset)
    job_l = [(track, preset.chorale_max_sec if track["kind"] == "chorale" else preset.fiddle_max_sec)
             for track in track_l]
    n_workers = n_workers or min(4, os.cpu_count() or 1)

    partial_audio = audio_path.with_name(audio_path.name + ".partial")
    partial_pyjama = pyjama_path.with_name(pyjama_path.name + ".partial")
    for path in (audio_path, pyjama_path):  # an old pair must never be mixed with a new one
        path.unlink(missing_ok=True)
    try:
        entry_l = []
        with h5py.File(partial_audio, "w", libver="earliest", track_order=False) as audio_fid:
            with ProcessPoolExecutor(max_workers=n_workers) if n_workers > 1 else _InlineExecutor() as pool:
                result_iter = pool.map(_render_job, job_l, chunksize=2)
                for audio_v, entry in tqdm(result_iter, total=len(job_l), desc=f"building course-{preset_name}",
                                           unit="track", disable=not progress):
                    key = entry["filepath"][0]["value"]
                    dataset = audio_fid.create_dataset(key, data=audio_v, compression="gzip", compression_opts=1,
                                                       shuffle=True, track_times=False)
                    dataset.attrs["sr_hz"] = synth.SR_HZ
                    entry_l.append(entry)
        data_d = {"schemaversion": 1.31,
                  "collection": {"descriptiondefinition": FIELD_DESCRIPTION_D,
                                 "preset": asdict(preset), "renderer": RENDERER, "entry": entry_l}}
        with open(partial_pyjama, "w", encoding="utf-8") as fid:
            json.dump(data_d, fid, indent=1)
    except BaseException:  # interrupted or failed: leave nothing behind that could pass as a dataset
        partial_audio.unlink(missing_ok=True)
        partial_pyjama.unlink(missing_ok=True)
        raise
    os.replace(partial_audio, audio_path)
    os.replace(partial_pyjama, pyjama_path)
    return audio_path, pyjama_path


class _InlineExecutor:
    """Stand-in for a process pool when n_workers is 1 (easier to debug, no process start-up)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def map(self, function, iterable, chunksize=1):
        return map(function, iterable)


def dataset_problem(audio_path, pyjama_path):
    """Why a built pair of files is not a complete dataset (a sentence), or None when it is."""
    if not audio_path.exists() or not pyjama_path.exists():
        return "missing"
    try:
        with open(pyjama_path, encoding="utf-8") as fid:
            collection_d = json.load(fid)["collection"]
        key_l = [entry["filepath"][0]["value"] for entry in collection_d["entry"]]
        if collection_d.get("renderer") != RENDERER:
            return f"made by another renderer ('{collection_d.get('renderer')}', this course uses '{RENDERER}')"
        with h5py.File(audio_path, "r") as audio_fid:
            missing_l = [key for key in key_l if key not in audio_fid]
    except (OSError, ValueError, KeyError, IndexError) as error:
        return f"unreadable ({error})"
    return f"{len(missing_l)} tracks of the .pyjama have no audio" if missing_l else None


def ensure_dataset(preset_name, out_dir, n_workers=None):
    """The dataset files of a preset: built first if missing, incomplete or unreadable.

    Returns (audio_path, pyjama_path). Used by the notebooks ("built on first use").
    """
    if preset_name not in PRESET_D:
        raise ValueError(f"unknown preset '{preset_name}'; use one of {', '.join(PRESET_D)}")
    audio_path, pyjama_path = dataset_paths(out_dir, preset_name)
    problem = dataset_problem(audio_path, pyjama_path)
    if problem is not None:
        if problem != "missing":
            print(f"rebuilding course-{preset_name}: the existing files are {problem}")
        return build_dataset(preset_name, out_dir, n_workers=n_workers)
    return audio_path, pyjama_path


FIELD_DESCRIPTION_D = {
    "filepath": "key of the track's audio in the _audio.hdf5 file",
    "title": "title of the score",
    "source": "the score in the music21 corpus",
    "genre": "'chorale' or the dance type of a fiddle tune (clog, hornpipe, jig, reel, strathspey)",
    "tag": "instruments playing (multi-label)",
    "pitchmidi": "every note: value = MIDI pitch (as rendered, after transposition), time and duration in "
                 "seconds, voice",
    "work_id": "the work (tune): tracks with the same work_id are versions (covers) of one another",
    "split": "train, valid or test; assigned by work, so that no tune is in two splits",
    "duration_sec": "length of the audio in seconds",
    "render": "everything needed to render the track again (seed, tempo, transposition, instruments, ...)",
}


def _read_chorale_job(file_name):
    return file_name, scores.read_chorale_notes(file_name)[0]


def build_chorale_index(out_path=None, n_workers=None):
    """Parse every chorale of the corpus, group them into tunes and write ``chorale_tunes.json``.

    This takes about a minute on 2 cores; the result ships with the package so that a build never has
    to parse the chorales it does not render. ``python -m course_utils.data index`` runs it.
    """
    import music21  # only for its version number

    out_path = Path(out_path) if out_path else Path(__file__).with_name("chorale_tunes.json")
    name_l = scores.list_chorale_files()
    n_workers = n_workers or min(4, os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=n_workers) as pool:
        note_by_file_d = dict(tqdm(pool.map(_read_chorale_job, name_l, chunksize=4), total=len(name_l),
                                   desc="reading chorales", unit="score"))
    tune_l, duplicate_d = scores.group_chorale_tunes(note_by_file_d)
    index_d = {"generated_by": "python -m course_utils.data index", "music21_version": music21.__version__,
               "n_files": len(name_l), "tunes": tune_l, "duplicates": duplicate_d}
    partial_path = out_path.with_name(out_path.name + ".partial")
    with open(partial_path, "w", encoding="utf-8") as fid:
        json.dump(index_d, fid, indent=1)
    os.replace(partial_path, out_path)
    return index_d
