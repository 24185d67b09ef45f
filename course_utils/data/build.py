"""Build the offline course dataset: scores of the music21 corpus rendered to audio, with labels.

Two files, in the original course's format (see data/README.md for every field):

- ``<name>_audio.hdf5``: one int16 dataset per track (key = the track's file name), attribute ``sr_hz``;
- ``<name>.pyjama``: JSON, one entry per track with its labels for the three tasks:
  ``genre`` (chorale or dance type), ``tag`` (instruments playing), ``pitchmidi`` (every note, with its
  voice), ``work_id`` (same tune = covers), ``split`` (train/valid/test, by work) and ``render`` (all that
  is needed to render the track again).

The build is deterministic (same preset and seed: byte-identical files) and atomic (files are written
under temporary names and renamed at the end). Taught in notebooks/01_data.ipynb.
"""

import hashlib
import json
import math
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import h5py
import numpy as np
from tqdm.auto import tqdm

from course_utils.data import scores, synth

RENDERER = "course_utils.data.synth v2"  # v2: fiddle tunes at a tempo in beats per minute, with accents
SPLIT_FRACTION_D = {"train": 0.6, "valid": 0.2, "test": 0.2}


@dataclass(frozen=True)
class Preset:
    """What a preset builds. Sizes are numbers of works (tunes); all versions of a chosen tune are built."""

    name: str
    n_cover_tunes: int  # chorale tunes with several harmonisations (covers)
    max_versions_per_tune: int
    n_single_chorales: int  # chorales with one harmonisation (pitch and tag tasks only)
    n_tunes_per_dance: int  # fiddle tunes per dance type (genre task)
    chorale_max_sec: float
    fiddle_max_sec: float
    seed: int = 0


PRESET_D = {
    "small": Preset("small", n_cover_tunes=30, max_versions_per_tune=4, n_single_chorales=0, n_tunes_per_dance=10,
                    chorale_max_sec=12.0, fiddle_max_sec=10.0),
    "full": Preset("full", n_cover_tunes=72, max_versions_per_tune=13, n_single_chorales=30, n_tunes_per_dance=40,
                   chorale_max_sec=20.0, fiddle_max_sec=15.0),
}

# Metrical accents of the dance tunes: dB softer per metrical level below the downbeat (see accent_gain_db)
ACCENT_DB_PER_LEVEL = 1.5
# Tempo ranges in beats per minute, per genre (realistic ranges that overlap). The beat of a fiddle tune
# comes from its time signature (reel in C|: a half note; jig in 6/8: a dotted quarter); the chorales are
# played with a quarter-note beat.
TEMPO_RANGE_BPM_D = {"chorale": (60, 96), "reel": (95, 120), "jig": (110, 133), "hornpipe": (75, 95),
                     "strathspey": (120, 160), "clog": (80, 100)}
CHORALE_INSTRUMENT_L = ["organ", "violin", "cello", "flute", "clarinet", "oboe", "horn", "piano"]
FIDDLE_INSTRUMENT_L = ["violin", "flute", "clarinet", "oboe", "piano", "guitar", "organ"]


def stable_seed(*part_l):
    """An integer seed from names (never from absolute paths or Python's per-run hash)."""
    digest = hashlib.sha256("/".join(str(part) for part in part_l).encode("utf-8")).hexdigest()
    return int(digest[:8], 16)


def load_chorale_index():
    """The tunes of the chorale corpus: ``{'tunes': [[file, ...], ...], 'duplicates': {file: kept}}``."""
    with resources.files("course_utils.data").joinpath("chorale_tunes.json").open(encoding="utf-8") as fid:
        return json.load(fid)


def assign_splits(work_id_l, seed):
    """Split works (not clips) into train/valid/test: ``{work_id: split}``, about 60/20/20.

    The order is a seeded shuffle of the sorted ids; each split gets at least one work when there are 3+.
    """
    order_l = sorted(set(work_id_l), key=lambda work_id: stable_seed(seed, "split", work_id))
    n_work = len(order_l)
    n_valid = max(1, round(SPLIT_FRACTION_D["valid"] * n_work)) if n_work >= 3 else 0
    n_test = max(1, round(SPLIT_FRACTION_D["test"] * n_work)) if n_work >= 3 else 0
    split_d = {}
    for rank, work_id in enumerate(order_l):
        split_d[work_id] = "test" if rank < n_test else "valid" if rank < n_test + n_valid else "train"
    return split_d


def plan_tracks(preset):
    """The list of tracks a preset builds (before rendering): one dict per track, in build order."""
    index_d = load_chorale_index()
    cover_tune_l = [tune for tune in index_d["tunes"] if len(tune) >= 2]
    single_l = [tune[0] for tune in index_d["tunes"] if len(tune) == 1]
    # prefer tunes with 3 to 6 versions for the small preset (a useful cover set from few files)
    cover_tune_l = sorted(cover_tune_l, key=lambda tune: (not 3 <= len(tune) <= 6, stable_seed(preset.seed, *tune)))
    track_l = []
    for tune in cover_tune_l[: preset.n_cover_tunes]:
        work_id = "chorale-" + tune[0].rsplit(".", 1)[0]
        for file_name in tune[: preset.max_versions_per_tune]:
            track_l.append({"kind": "chorale", "source": file_name, "work_id": work_id, "genre": "chorale"})
    for file_name in sorted(single_l, key=lambda name: stable_seed(preset.seed, name))[: preset.n_single_chorales]:
        track_l.append({"kind": "chorale", "source": file_name, "work_id": "chorale-" + file_name.rsplit(".", 1)[0],
                        "genre": "chorale"})
    dance_d = scores.list_fiddle_tunes()
    for dance in scores.DANCE_TYPE_L:
        tune_l = sorted([name for name, kind in dance_d.items() if kind == dance],
                        key=lambda name: stable_seed(preset.seed, name))
        for file_name in tune_l[: preset.n_tunes_per_dance]:
            track_l.append({"kind": "fiddle", "source": file_name, "work_id": "fiddle-" + file_name[:-4],
                            "genre": dance})
    # splits: chorale works and each dance type's works are split separately (every class in every split)
    split_d = {}
    for group in ["chorale"] + list(scores.DANCE_TYPE_L):
        split_d.update(assign_splits([t["work_id"] for t in track_l if t["genre"] == group], preset.seed))
    for track in track_l:
        track["split"] = split_d[track["work_id"]]
        track["seed"] = stable_seed(preset.seed, track["source"])
    return track_l


def accent_gain_db(beat_strength, accent_db_per_level):
    """Loudness of a note from its place in the bar (dance players lean on the beat), in dB (0 or negative).

    ``beat_strength``: 1 on the downbeat, halved at each metrical level below (0.5, 0.25, ...);
    each level is ``accent_db_per_level`` softer, down to 4 levels (sixteenth notes in a bar of C|).
    """
    return accent_db_per_level * max(math.log2(max(beat_strength, 1e-6)), -4.0)


def _render_settings(track, rng, beat_ql):
    """The version's random choices: tempo, transposition, instruments, loudness, sound.

    ``beat_ql``: the beat in quarter lengths; ``tempo_qpm`` (quarter notes per minute, what the renderer
    uses) = ``tempo_bpm`` (beats per minute, drawn in the genre's range) x ``beat_ql``.
    """
    low_bpm, high_bpm = TEMPO_RANGE_BPM_D[track["genre"]]
    if track["kind"] == "chorale":
        instrument_l = list(rng.choice(CHORALE_INSTRUMENT_L, size=4, replace=True))
        instrument_by_voice_d = dict(zip(scores.VOICE_L, instrument_l, strict=True))
        gain_db_by_voice_d = {voice: float(rng.uniform(-6, 0)) for voice in scores.VOICE_L}
    else:
        instrument_by_voice_d = {"Melody": str(rng.choice(FIDDLE_INSTRUMENT_L))}
        gain_db_by_voice_d = {"Melody": 0.0}
    tempo_bpm = float(rng.uniform(low_bpm, high_bpm))
    accent_db = ACCENT_DB_PER_LEVEL if track["kind"] == "fiddle" else 0.0
    return {
        "seed": track["seed"], "renderer": RENDERER, "sr_hz": synth.SR_HZ,
        "tempo_bpm": tempo_bpm, "beat_ql": beat_ql, "tempo_qpm": tempo_bpm * beat_ql,
        "transpose_semitones": int(rng.integers(-3, 4)),
        "detune_cents": float(rng.uniform(-20, 20)),
        "instrument_by_voice": {voice: str(name) for voice, name in instrument_by_voice_d.items()},
        "gain_db_by_voice": gain_db_by_voice_d,
        "brightness": float(rng.uniform(0.75, 1.2)),
        "reverb_rt60_sec": float(rng.uniform(0.3, 1.6)),
        "reverb_wet": float(rng.uniform(0.05, 0.35)),
        "timing_jitter_sec": 0.01,
        "accent_db_per_level": accent_db,
    }


def render_track(track, max_sec):
    """Read the score, render one version. Returns (int16 audio, pyjama entry fields)."""
    if track["kind"] == "chorale":
        score_note_l, title = scores.read_chorale_notes(track["source"])
        beat_ql = 1.0  # chorales: a quarter-note beat
    else:
        score_note_l, title, beat_ql = scores.read_fiddle_tune(track["source"])
    rng = np.random.default_rng(track["seed"])
    render_d = _render_settings(track, rng, beat_ql)
    sec_per_ql = 60.0 / render_d["tempo_qpm"]
    first_onset_ql = min(note["onset_ql"] for note in score_note_l)  # skip silent bars (instrumental intros)
    # a piece shorter than the clip is played again, as musicians play the repeats
    piece_ql = max(note["onset_ql"] + note["duration_ql"] for note in score_note_l) - first_onset_ql
    n_play = max(1, math.ceil(max_sec / (piece_ql * sec_per_ql)))
    score_note_l = [dict(note, onset_ql=note["onset_ql"] + play * piece_ql) for play in range(n_play)
                    for note in score_note_l]
    note_l = []
    for note in score_note_l:
        jitter_sec = float(rng.uniform(-1, 1)) * render_d["timing_jitter_sec"]
        time_sec = (note["onset_ql"] - first_onset_ql) * sec_per_ql + 0.25 + jitter_sec
        duration_sec = note["duration_ql"] * sec_per_ql * 0.95  # a little detached
        if time_sec >= max_sec - 0.3:
            continue
        duration_sec = min(duration_sec, max_sec - time_sec)
        gain_db = render_d["gain_db_by_voice"][note["voice"]] + accent_gain_db(note.get("beat_strength", 1.0),
                                                                                  render_d["accent_db_per_level"])
        note_l.append({"midi": note["midi"] + render_d["transpose_semitones"], "time": max(0.0, time_sec),
                       "duration": duration_sec, "voice": note["voice"], "gain": 10 ** (gain_db / 20)})
    if not note_l:
        raise ValueError(f"{track['source']}: no notes in the first {max_sec} s")
    duration_sec = min(max_sec, max(n["time"] + n["duration"] for n in note_l) + 0.5)
    synth_note_l = [dict(note, midi=note["midi"] + render_d["detune_cents"] / 100) for note in note_l]
    audio_v = synth.render_notes(synth_note_l, duration_sec, rng, render_d["instrument_by_voice"],
                                 brightness=render_d["brightness"], reverb_rt60_sec=render_d["reverb_rt60_sec"],
                                 reverb_wet=render_d["reverb_wet"])
    key = f"{track['work_id'].split('-', 1)[0]}_{track['source'].rsplit('.', 1)[0]}.wav"
    instrument_l = sorted(set(render_d["instrument_by_voice"].values()))
    entry = {
        "filepath": [{"value": key}],
        "title": [{"value": title}],
        "source": [{"value": f"music21 corpus: {'bach' if track['kind'] == 'chorale' else scores.FIDDLE_COLLECTION}"
                             f"/{track['source']}"}],
        "genre": [{"value": track["genre"]}],
        "tag": [{"value": name} for name in instrument_l],
        "pitchmidi": [{"value": int(n["midi"]), "time": round(n["time"], 4), "duration": round(n["duration"], 4),
                       "voice": n["voice"]} for n in note_l],
        "work_id": [{"value": track["work_id"]}],
        "split": [{"value": track["split"]}],
        "duration_sec": [{"value": round(duration_sec, 4)}],
        "render": [{"value": render_d}],
    }
    return (np.round(audio_v * 32767)).astype(np.int16), entry


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
