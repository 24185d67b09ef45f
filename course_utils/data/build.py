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

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import h5py
from tqdm.auto import tqdm

from course_utils import audio_store, processes, safe_files
from course_utils.data import recording, renderers, scores
from course_utils.data.plan import PRESET_D, Preset, plan_cover_tracks, plan_tracks
from course_utils.data.render import render_track

# Version of the whole dataset: a dataset made by another version is rebuilt by ensure_dataset.
# v3: the entry field "renderer" (synth, or sampled: recorded samples, data.sampled).
# v4: two sample libraries, renderers timgm (trained on) and merlin (held out); a random EQ, noise floor and
# articulation per version. v5: the clogs are hornpipes (scores.MERGED_DANCE_TYPE_D); up to 120 tunes per dance.
# v6: bwv846.mxl (a piano prelude, two staves) is no longer taken for a chorale (scores.NotAChoraleError).
DATASET_VERSION = "course_utils.data v6 (synth v2 + timgm + merlin, recording variety, 4 dance types, SATB chorales)"


def _render_job(args):
    track, max_sec, stems = args
    try:
        return render_track(track, max_sec, stems=True) if stems else render_track(track, max_sec)
    except Exception as error:  # name the score: a worker's traceback alone does not say which
        raise RuntimeError(f"building track from {track['source']}: {error}") from error


def dataset_paths(out_dir, preset_name):
    """(audio .hdf5 path, .pyjama path) of a built preset in ``out_dir`` (named ``course-<preset>``)."""
    return audio_store.pair_paths(out_dir, f"course-{preset_name}")


def _preset(preset_name):
    """(Preset, its name) from a name of PRESET_D or a Preset object (the tests build tiny ones)."""
    if isinstance(preset_name, Preset):
        return preset_name, preset_name.name
    if preset_name in PRESET_D:
        return PRESET_D[preset_name], preset_name
    raise ValueError(f"unknown preset '{preset_name}'; use one of {', '.join(PRESET_D)}")


def build_dataset(preset_name, out_dir, n_workers=None, progress=True, split=None, renderer=None, stems=False,
                  covers=False):
    """Build a preset into ``out_dir``: ``course-<preset>_audio.hdf5`` and ``course-<preset>.pyjama``.

    Safe with other processes and interruptions (``course_utils.safe_files``): the build holds the
    dataset's lock, writes both files under names of its own, and replaces the old pair only once the
    new one is complete (an interrupted rebuild leaves the previous pair as it was). Both files carry the
    same ``content_id``, so a pair mixed from two builds is detected (``dataset_problem``).

    Parameters
    ----------
    preset_name : 'small' (CI, fast mode: seconds) or 'full' (class: about two minutes on 2 cores), or a
        ``Preset`` object (the tests build tiny ones)
    out_dir : folder to write into (created if needed)
    n_workers : processes rendering in parallel (default: number of CPU cores, at most 4)
    split, renderer : optional, e.g. 'test' and 'merlin': only the tracks of that split, every one played by
        that renderer (same notes, tempo, key, instruments and seeds as in the preset), written as
        ``course-<preset>-<split>-<renderer>_audio.hdf5`` and ``.pyjama``: the cross-renderer test set
    stems : True: the preset's chorales only, each cut to ``STEMS_MAX_SEC``, with each voice's audio alone
        (``course-<preset>-stems``; ``read_stems``): the data of source separation
    covers : True: the preset's cover collection (``plan.plan_cover_tracks``: tune families of folk songs and
        chorale tunes, every version cut to ``cover_max_sec``), ``course-<preset>-covers``: the data of
        cover-song identification (notebook 07)

    Returns
    -------
    (audio_path, pyjama_path) : the two files, complete and checked
    """
    preset, _ = _preset(preset_name)
    name = _dataset_name(preset, split, renderer, stems, covers)
    audio_path, _ = dataset_paths(out_dir, name)
    audio_path.parent.mkdir(parents=True, exist_ok=True)
    with safe_files.file_lock(audio_path, f"course-{name}"):
        return _build_locked(preset, out_dir, n_workers, progress, split, renderer, stems, covers)


def _dataset_name(preset, split=None, renderer=None, stems=False, covers=False):
    """'<preset>' for a preset, '<preset>-<split>-<renderer>' for one split played by one renderer; '-stems'
    after the preset's name for its chorales with stems, '-covers' for its cover collection."""
    if (split is None) != (renderer is None):
        raise ValueError("give both split and renderer (e.g. split='test', renderer='merlin'), or neither")
    if stems and covers:
        raise ValueError("stems and covers are two different datasets: ask for one of them")
    base = f"{preset.name}-stems" if stems else f"{preset.name}-covers" if covers else preset.name
    if split is None:
        return base
    if split not in ("train", "valid", "test") or renderer not in renderers.RENDERER_D:
        raise ValueError(f"split must be train, valid or test and renderer one of {', '.join(renderers.RENDERER_D)}; "
                         f"got {split!r}, {renderer!r}")
    return f"{base}-{split}-{renderer}"


def _build_locked(preset, out_dir, n_workers, progress, split=None, renderer=None, stems=False, covers=False):
    """The build itself; the caller holds the dataset's lock. A SIGTERM stops it as Ctrl-C does; a disk without
    room for the build stops it before it starts, or at the first track that would not fit."""
    name = _dataset_name(preset, split, renderer, stems, covers)
    audio_path, pyjama_path = dataset_paths(out_dir, name)
    for path in (audio_path, pyjama_path):
        safe_files.remove_stale_partials(path)
    job_l = _jobs(preset, split, renderer, stems, covers)
    safe_files.ensure_free_space(audio_path, sum(_job_bytes(job) for job in job_l))
    partial_audio, partial_pyjama = safe_files.partial_path(audio_path), safe_files.partial_path(pyjama_path)
    try:
        with safe_files.terminate_as_interrupt():
            entry_l = _render_into(partial_audio, audio_path, job_l, n_workers or min(4, os.cpu_count() or 1),
                                   progress, name)
            data_d = {"schemaversion": 1.31,
                      "collection": {"descriptiondefinition": FIELD_DESCRIPTION_D, "preset": asdict(preset),
                                     "renderer": DATASET_VERSION, "content_id": _content_id(entry_l),
                                     "entry": entry_l}}
            with safe_files.disk_full_reported(pyjama_path), open(partial_pyjama, "w", encoding="utf-8") as fid:
                json.dump(data_d, fid, indent=1)
            problem = dataset_problem(partial_audio, partial_pyjama)
            if problem is not None:
                raise RuntimeError(f"the new course-{name} files are {problem}; nothing was replaced")
            safe_files.replace_all([(partial_audio, audio_path), (partial_pyjama, pyjama_path)])
    finally:  # interrupted or failed: the temporary files go, the previous pair stays
        partial_audio.unlink(missing_ok=True)
        partial_pyjama.unlink(missing_ok=True)
    return audio_path, pyjama_path


def _jobs(preset, split=None, renderer=None, stems=False, covers=False):
    """(track, max_sec, stems) of every track to render: the preset's, or one split played by one renderer; with
    ``stems`` the chorales only (four voices), cut to ``STEMS_MAX_SEC``; with ``covers`` the cover collection."""
    track_l = plan_cover_tracks(preset) if covers else plan_tracks(preset)
    if split is not None:
        track_l = [dict(track, renderer=renderer) for track in track_l if track["split"] == split]
    if covers:
        return [(track, preset.cover_max_sec, False) for track in track_l]
    if stems:
        return [(track, min(preset.chorale_max_sec, STEMS_MAX_SEC), True) for track in track_l
                if track["kind"] == "chorale"]
    return [(track, preset.chorale_max_sec if track["kind"] == "chorale" else preset.fiddle_max_sec, False)
            for track in track_l]


def _raw_bytes(duration_sec):
    """Bytes of a track of ``duration_sec`` as int16 samples: what it takes on disk at most (gzip takes ~10 % off)."""
    return int(duration_sec * recording.SR_HZ * 2)


def _job_bytes(job):
    """What a job's audio takes on disk at most: the mixture, and with stems four voices more."""
    _, max_sec, stems = job
    return _raw_bytes(max_sec) * (1 + 4 * stems)


def _render_into(partial_audio, audio_path, job_l, n_workers, progress, name):
    """Render every job (in a pool of workers that end with this process) into the HDF5 file ``partial_audio``;
    returns the entries. Each track is written only when the disk has room for it."""
    entry_l = []
    pool = processes.process_pool(n_workers) if n_workers > 1 else None
    try:
        result_iter = pool.map(_render_job, job_l, chunksize=2) if pool is not None else map(_render_job, job_l)
        with h5py.File(partial_audio, "w", libver="earliest", track_order=False) as audio_fid:
            for audio_v, entry, *stem_l in tqdm(result_iter, total=len(job_l), desc=f"building course-{name}",
                                                unit="track", disable=not progress):
                stem_d = stem_l[0] if stem_l else None
                n_byte = audio_v.nbytes * (1 + len(stem_d or ()))
                if safe_files.free_bytes(partial_audio) < n_byte + safe_files.FREE_SPACE_MARGIN_BYTES:
                    raise safe_files.disk_full_error(audio_path, sum(_job_bytes(job) for job in job_l[len(entry_l):]))
                _write_audio(audio_fid, entry["filepath"][0]["value"], audio_v)
                for voice, stem_v in (stem_d or {}).items():
                    _write_audio(audio_fid, audio_store.stem_key(entry["filepath"][0]["value"], voice), stem_v)
                entry_l.append(entry)
            audio_fid.attrs["content_id"] = _content_id(entry_l)
    finally:
        if pool is not None:
            processes.stop_pool(pool)
    return entry_l


def _write_audio(audio_fid, key, audio_v):
    """One track's int16 audio into the open HDF5 file, under ``key``, with its rate."""
    dataset = audio_fid.create_dataset(key, data=audio_v, compression="gzip", compression_opts=1, shuffle=True,
                                       track_times=False)
    dataset.attrs["sr_hz"] = recording.SR_HZ


def _content_id(entry_l):
    """Fingerprint of a build's content (its entries: sources, seeds, render settings, notes), 16 hex digits.

    The same preset gives the same id (the build stays byte-identical); two different builds never share one.
    """
    return hashlib.sha256(json.dumps(entry_l, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def dataset_problem(audio_path, pyjama_path):
    """Why a built pair of files is not a complete dataset of this version of the course (a sentence), or None."""
    audio_path, pyjama_path = Path(audio_path), Path(pyjama_path)
    if not audio_path.exists() or not pyjama_path.exists():
        return "missing"
    problem = audio_store.pair_problem(audio_path, pyjama_path)
    if problem is not None:
        return problem
    try:
        with open(pyjama_path, encoding="utf-8") as fid:
            collection_d = json.load(fid)["collection"]
        with h5py.File(audio_path, "r") as audio_fid:
            audio_content_id = audio_fid.attrs.get("content_id")
    except (OSError, ValueError, KeyError) as error:
        return f"unreadable ({error})"
    if collection_d.get("renderer") != DATASET_VERSION:
        return (f"made by another version of the course data ('{collection_d.get('renderer')}', this course "
                f"makes '{DATASET_VERSION}')")
    if audio_content_id != collection_d.get("content_id"):
        return "not a pair: the audio and the .pyjama come from two different builds"
    return None


def ensure_dataset(preset_name, out_dir, n_workers=None, split=None, renderer=None, stems=False, covers=False):
    """The dataset files of a preset: built first if missing, incomplete, unreadable or not a pair.

    Safe when several processes call it at once (two notebooks opened together): one builds, the others
    wait for it and then use its files. ``split`` and ``renderer``: one split played by one renderer; ``stems``:
    the chorales with each voice alone; ``covers``: the cover collection (see ``build_dataset``). Returns
    (audio_path, pyjama_path). Used by the notebooks ("built on first use").
    """
    preset, _ = _preset(preset_name)
    name = _dataset_name(preset, split, renderer, stems, covers)
    audio_path, pyjama_path = dataset_paths(out_dir, name)
    if dataset_problem(audio_path, pyjama_path) is None:
        return audio_path, pyjama_path
    audio_path.parent.mkdir(parents=True, exist_ok=True)
    with safe_files.file_lock(audio_path, f"course-{name}"):
        problem = dataset_problem(audio_path, pyjama_path)  # again: another process may have built it meanwhile
        if problem is None:
            return audio_path, pyjama_path
        if problem != "missing":
            print(f"rebuilding course-{name}: the existing files are {problem}")
        return _build_locked(preset, out_dir, n_workers, True, split, renderer, stems, covers)


STEMS_MAX_SEC = 10.0  # the length of a track of a stems dataset (five times the audio of a mixture alone)

FIELD_DESCRIPTION_D = {
    "filepath": "key of the track's audio in the _audio.hdf5 file",
    "title": "title of the score",
    "source": "the score in the music21 corpus",
    "genre": "'chorale', the dance type of a fiddle tune (hornpipe, jig, reel, strathspey), or 'folk' (a song of a "
             "tune family, in the cover collection)",
    "tag": "instruments playing (multi-label)",
    "pitchmidi": "every note: value = MIDI pitch (as rendered, after transposition), time and duration in "
                 "seconds, voice",
    "work_id": "the work (tune): tracks with the same work_id are versions (covers) of one another: "
               "'chorale-<file>' (harmonisations of one chorale tune) or 'folk-<song>' (a tune family)",
    "split": "train, valid or test; assigned by work, so that no tune is in two splits",
    "renderer": renderers.field_description(),
    "duration_sec": "length of the audio in seconds",
    "render": "everything needed to render the track again (seed, tempo, transposition, instruments, ...)",
    "stems": "stems datasets only: the voices whose audio alone is in the _audio.hdf5 file, under "
             "stems/<filepath>/<voice>; the mixture is their sum plus the noise floor (render.noise_db)",
}


def _essen_intervals_job(song_id):
    """(song id, melody intervals), or (song id, the error) for a song music21 cannot read (named in the index)."""
    try:
        return song_id, scores.melody_intervals(scores.read_essen_song(song_id), voice="Melody")
    except Exception as error:  # noqa: BLE001 (a broken ABC text of the corpus: kept out, with its reason)
        return song_id, f"{type(error).__name__}: {error}"


def build_family_index(out_path=None, n_workers=None, same_family=None):
    """Parse the Essen songs whose title is shared, group them into tune families and write
    ``essen_families.json`` (``families``, ``generic_titles``, ``unreadable``: the songs music21 cannot parse).

    About a minute on 2 cores; the result ships with the package, so that a build never parses a song it
    does not render. ``python -m course_utils.data families`` runs it.
    """
    import music21  # only for its version number

    out_path = Path(out_path) if out_path else Path(__file__).with_name("essen_families.json")
    same_family = scores.FAMILY_SIMILARITY if same_family is None else same_family
    title_d = scores.list_essen_songs()
    n_by_title_d = {}
    for title in title_d.values():
        n_by_title_d[title] = n_by_title_d.get(title, 0) + 1
    song_l = sorted(song_id for song_id, title in title_d.items() if n_by_title_d[title] >= 2)
    n_workers = n_workers or min(4, os.cpu_count() or 1)
    with processes.process_pool(n_workers) as pool:
        result_d = dict(tqdm(pool.map(_essen_intervals_job, song_l, chunksize=16), total=len(song_l),
                             desc="reading folk songs", unit="song"))
    interval_d = {song_id: value for song_id, value in result_d.items() if isinstance(value, tuple)}
    family_l, generic_title_l = scores.group_tune_families(interval_d, title_d, same_family)
    index_d = {"generated_by": "python -m course_utils.data families", "music21_version": music21.__version__,
               "same_family": same_family, "n_songs": len(title_d), "n_songs_with_a_shared_title": len(song_l),
               "families": family_l, "generic_titles": generic_title_l,
               "unreadable": {song_id: value for song_id, value in result_d.items() if isinstance(value, str)}}
    partial_path = safe_files.partial_path(out_path)
    with open(partial_path, "w", encoding="utf-8") as fid:
        json.dump(index_d, fid, indent=1)
    os.replace(partial_path, out_path)
    return index_d


def _read_chorale_job(file_name):
    try:
        return file_name, scores.read_chorale_notes(file_name)[0]
    except scores.NotAChoraleError as error:
        return file_name, str(error)


def build_chorale_index(out_path=None, n_workers=None):
    """Parse every chorale of the corpus, group them into tunes and write ``chorale_tunes.json`` (the scores of the
    corpus's Bach folder that are not four-voice chorales under ``not_chorales``, with the reason).

    This takes about a minute on 2 cores; the result ships with the package so that a build never has
    to parse the chorales it does not render. ``python -m course_utils.data index`` runs it.
    """
    import music21  # only for its version number

    out_path = Path(out_path) if out_path else Path(__file__).with_name("chorale_tunes.json")
    name_l = scores.list_chorale_files()
    n_workers = n_workers or min(4, os.cpu_count() or 1)
    with processes.process_pool(n_workers) as pool:
        note_by_file_d = dict(tqdm(pool.map(_read_chorale_job, name_l, chunksize=4), total=len(name_l),
                                   desc="reading chorales", unit="score"))
    not_chorale_d = {name: note_l for name, note_l in note_by_file_d.items() if isinstance(note_l, str)}
    tune_l, duplicate_d = scores.group_chorale_tunes({name: note_l for name, note_l in note_by_file_d.items()
                                                      if name not in not_chorale_d})
    index_d = {"generated_by": "python -m course_utils.data index", "music21_version": music21.__version__,
               "n_files": len(name_l), "tunes": tune_l, "duplicates": duplicate_d, "not_chorales": not_chorale_d}
    partial_path = safe_files.partial_path(out_path)
    with open(partial_path, "w", encoding="utf-8") as fid:
        json.dump(index_d, fid, indent=1)
    os.replace(partial_path, out_path)
    return index_d
