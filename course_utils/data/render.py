"""Rendering one track of the course dataset: a score of the music21 corpus played by one renderer.

``render_track(track, max_sec)`` draws the version's random choices (tempo, transposition, instruments,
loudness, sound) from the track's seed, plays the notes with the track's renderer (``renderers.RENDERER_D``:
the entry's ``renderer`` field and ``render.renderer``), and returns the audio with its ``.pyjama`` entry,
which records everything needed to render it again. Taught in notebooks/01_data.ipynb.
"""

import math

import numpy as np

from course_utils.data import recording, renderers, scores

ACCENT_DB_PER_LEVEL = 1.5
# Tempo ranges in beats per minute, per genre (realistic ranges that overlap). The beat of a fiddle tune
# comes from its time signature (reel in C|: a half note; jig in 6/8: a dotted quarter); the chorales are
# played with a quarter-note beat.
TEMPO_RANGE_BPM_D = {"chorale": (60, 96), "reel": (95, 120), "jig": (110, 133), "hornpipe": (75, 95),
                     "strathspey": (120, 160), "folk": (80, 144)}
CHORALE_INSTRUMENT_L = ["organ", "violin", "cello", "flute", "clarinet", "oboe", "horn", "piano"]
FIDDLE_INSTRUMENT_L = ["violin", "flute", "clarinet", "oboe", "piano", "guitar", "organ"]  # also the folk melodies
# The arrangement of a folk version (drawn per version): the melody alone, over a drone, or over a bass line.
ACCOMPANIMENT_P_D = {"none": 0.4, "drone": 0.3, "bass": 0.3}
ACCOMPANIMENT_INSTRUMENT_L = ["cello", "organ", "horn", "guitar", "piano"]


def accent_gain_db(beat_strength, accent_db_per_level):
    """Loudness of a note from its place in the bar (dance players lean on the beat), in dB (0 or negative).

    ``beat_strength``: 1 on the downbeat, halved at each metrical level below (0.5, 0.25, ...);
    each level is ``accent_db_per_level`` softer, down to 4 levels (sixteenth notes in a bar of C|).
    """
    return accent_db_per_level * max(math.log2(max(beat_strength, 1e-6)), -4.0)


def _renderer_of(track):
    """The ``renderers.Renderer`` that plays a track (its ``renderer``, else the default); an error names the score."""
    try:
        return renderers.get_renderer(track.get("renderer", renderers.DEFAULT_RENDERER))
    except ValueError as error:
        raise ValueError(f"{track['source']}: {error}") from None


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
    accent_db = ACCENT_DB_PER_LEVEL if track["kind"] != "chorale" else 0.0
    return {
        "seed": track["seed"], "renderer": _renderer_of(track).description,
        "sr_hz": recording.SR_HZ,
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
    } | _recording_settings(rng)


def _recording_settings(rng):
    """How the version is played and recorded, drawn after the musical choices: articulation (share of a
    note's written length that sounds), the channel strip's EQ (``recording.draw_eq``) and the noise floor.
    Variety that no renderer owns, so that a model cannot learn one renderer's fingerprint."""
    return {"articulation": float(rng.uniform(0.75, 1.0)), "eq": recording.draw_eq(rng),
            "noise_db": float(rng.uniform(-70, -40))}


def _accompaniment_settings(rng):
    """A folk version's arrangement, drawn after every other choice (``ACCOMPANIMENT_P_D``): its kind, the
    instrument that plays it and its level in dB below the melody."""
    kind_l = list(ACCOMPANIMENT_P_D)
    kind = str(rng.choice(kind_l, p=[ACCOMPANIMENT_P_D[name] for name in kind_l]))
    return {"accompaniment": kind, "accompaniment_instrument": str(rng.choice(ACCOMPANIMENT_INSTRUMENT_L)),
            "accompaniment_gain_db": float(rng.uniform(-12, -4))}


def accompaniment_notes(melody_note_l, kind):
    """An accompaniment derived from a melody (voice 'Accompaniment'), in quarter lengths like the melody's notes.

    ``kind``: 'none' (no note), 'drone' (the tonic, taken as the last note's pitch class, and its fifth, in the
    octave from C3, struck every 4 quarter notes) or 'bass' (on each downbeat, the melody's note of that onset
    in the octave from C2, held to the next downbeat).
    """
    if kind == "none":
        return []
    start_ql = min(note["onset_ql"] for note in melody_note_l)
    end_ql = max(note["onset_ql"] + note["duration_ql"] for note in melody_note_l)
    if kind == "drone":
        tonic_midi = 48 + (melody_note_l[-1]["midi"] - 48) % 12
        onset_l = np.arange(start_ql, end_ql, 4.0)
        return [{"onset_ql": float(onset), "duration_ql": float(min(4.0, end_ql - onset)), "midi": midi,
                 "voice": "Accompaniment", "beat_strength": 1.0}
                for onset in onset_l for midi in (tonic_midi, tonic_midi + 7)]
    if kind != "bass":
        raise ValueError(f"unknown accompaniment {kind!r}; use one of {', '.join(ACCOMPANIMENT_P_D)}")
    down_l = [note for note in melody_note_l if note.get("beat_strength", 1.0) >= 1.0]
    down_l = [note for i, note in enumerate(down_l) if i == 0 or note["onset_ql"] > down_l[i - 1]["onset_ql"]]
    return [{"onset_ql": note["onset_ql"], "midi": 36 + (note["midi"] - 36) % 12, "voice": "Accompaniment",
             "duration_ql": (down_l[i + 1]["onset_ql"] if i + 1 < len(down_l) else end_ql) - note["onset_ql"],
             "beat_strength": 1.0} for i, note in enumerate(down_l)]


def _score_notes(track):
    """(notes of the score, title, beat in quarter lengths) of a track's source."""
    if track["kind"] == "chorale":
        score_note_l, title = scores.read_chorale_notes(track["source"])
        return score_note_l, title, 1.0  # chorales: a quarter-note beat
    if track["kind"] == "folk":
        return scores.read_essen_song(track["source"]), scores.essen_title(track["source"]), 1.0
    return scores.read_fiddle_tune(track["source"])


def _folk_arrangement(score_note_l, render_d, rng):
    """A folk version's notes with its accompaniment, and its settings completed (``_accompaniment_settings``)."""
    render_d.update(_accompaniment_settings(rng))
    if render_d["accompaniment"] != "none":
        render_d["instrument_by_voice"]["Accompaniment"] = render_d["accompaniment_instrument"]
        render_d["gain_db_by_voice"]["Accompaniment"] = render_d["accompaniment_gain_db"]
    return sorted(score_note_l + accompaniment_notes(score_note_l, render_d["accompaniment"]),
                  key=lambda note: note["onset_ql"])


def _played_notes(score_note_l, render_d, rng, max_sec):
    """The notes as played in seconds: repeats until ``max_sec`` (as musicians play the repeats), timing jitter,
    articulation, transposition and gains (voice and metrical accent). Returns (note_l, duration_sec)."""
    sec_per_ql = 60.0 / render_d["tempo_qpm"]
    first_onset_ql = min(note["onset_ql"] for note in score_note_l)  # skip silent bars (instrumental intros)
    piece_ql = max(note["onset_ql"] + note["duration_ql"] for note in score_note_l) - first_onset_ql
    n_play = max(1, math.ceil(max_sec / (piece_ql * sec_per_ql)))
    score_note_l = [dict(note, onset_ql=note["onset_ql"] + play * piece_ql) for play in range(n_play)
                    for note in score_note_l]
    note_l = []
    for note in score_note_l:
        jitter_sec = float(rng.uniform(-1, 1)) * render_d["timing_jitter_sec"]
        time_sec = (note["onset_ql"] - first_onset_ql) * sec_per_ql + 0.25 + jitter_sec
        duration_sec = note["duration_ql"] * sec_per_ql * render_d["articulation"]  # detached to legato
        if time_sec >= max_sec - 0.3:
            continue
        duration_sec = min(duration_sec, max_sec - time_sec)
        gain_db = render_d["gain_db_by_voice"][note["voice"]] + accent_gain_db(note.get("beat_strength", 1.0),
                                                                                  render_d["accent_db_per_level"])
        note_l.append({"midi": note["midi"] + render_d["transpose_semitones"], "time": max(0.0, time_sec),
                       "duration": duration_sec, "voice": note["voice"], "gain": 10 ** (gain_db / 20)})
    if not note_l:
        return note_l, 0.0
    return note_l, min(max_sec, max(n["time"] + n["duration"] for n in note_l) + 0.5)


def _track_notes(track, max_sec):
    """What ``render_track`` plays, before any sound: (notes in seconds, duration_sec, settings, title, the
    track's random generator, ready for the renderer)."""
    score_note_l, title, beat_ql = _score_notes(track)
    rng = np.random.default_rng(track["seed"])
    render_d = _render_settings(track, rng, beat_ql)
    if track["kind"] == "folk":
        score_note_l = _folk_arrangement(score_note_l, render_d, rng)
    note_l, duration_sec = _played_notes(score_note_l, render_d, rng, max_sec)
    return note_l, duration_sec, render_d, title, rng


def played_notes(track, max_sec):
    """The notes ``render_track(track, max_sec)`` plays (time and duration in seconds, MIDI pitch after
    transposition, voice), and the length of the excerpt in seconds, without rendering any audio."""
    note_l, duration_sec, _, _, _ = _track_notes(track, max_sec)
    return note_l, duration_sec


def render_track(track, max_sec, stems=False):
    """Read the score, render one version. Returns (int16 audio, pyjama entry fields); with ``stems``, also a dict
    voice -> int16 audio of that voice alone, recorded in the same chain (the mixture is their sum plus the noise
    floor, to the rounding of int16), and the entry lists them in its ``stems`` field."""
    renderer = _renderer_of(track)
    note_l, duration_sec, render_d, title, rng = _track_notes(track, max_sec)
    if not note_l:
        raise ValueError(f"{track['source']}: no notes in the first {max_sec} s")
    entry = _entry(track, title, render_d, note_l, duration_sec)
    if not stems:
        return _int16(renderer.play(note_l, duration_sec, rng, render_d)), entry
    audio_v, stem_d = renderer.play(note_l, duration_sec, rng, render_d, stems=True)
    entry["stems"] = [{"value": voice} for voice in sorted(stem_d)]
    return _int16(audio_v), entry, {voice: _int16(stem_v) for voice, stem_v in stem_d.items()}


def _int16(audio_v):
    """float audio in [-1, 1] -> int16 samples (the course data's storage)."""
    return np.round(np.asarray(audio_v) * 32767).astype(np.int16)


def _entry(track, title, render_d, note_l, duration_sec):
    """The ``.pyjama`` entry of a rendered track (data/README.md describes every field)."""
    stem = track["source"].replace(".abc#", "-") if track["kind"] == "folk" else track["source"].rsplit(".", 1)[0]
    collection = {"chorale": "bach", "folk": scores.FOLK_COLLECTION}.get(track["kind"], scores.FIDDLE_COLLECTION)
    return {
        "filepath": [{"value": f"{track['work_id'].split('-', 1)[0]}_{stem}.wav"}],
        "title": [{"value": title}],
        "source": [{"value": f"music21 corpus: {collection}/{track['source']}"}],
        "genre": [{"value": track["genre"]}],
        "tag": [{"value": name} for name in sorted(set(render_d["instrument_by_voice"].values()))],
        "pitchmidi": [{"value": int(n["midi"]), "time": round(n["time"], 4), "duration": round(n["duration"], 4),
                       "voice": n["voice"]} for n in note_l],
        "work_id": [{"value": track["work_id"]}],
        "split": [{"value": track["split"]}],
        "renderer": [{"value": _renderer_of(track).name}],
        "duration_sec": [{"value": round(duration_sec, 4)}],
        "render": [{"value": render_d}],
    }


def track_of_entry(entry, renderer=None):
    """The track (as ``plan.plan_tracks`` lists it) that a built ``.pyjama`` entry was rendered from, to render
    it again, e.g. by another renderer: ``render_track(track_of_entry(entry, name), max_sec)`` plays the same
    notes, tempo, key and instruments (``max_sec``: the preset's ``chorale_max_sec`` or ``fiddle_max_sec``, in the
    ``.pyjama``'s ``collection.preset``)."""
    source = entry["source"][0]["value"].rsplit("/", 1)[1]
    genre = entry["genre"][0]["value"]
    return {"kind": genre if genre in ("chorale", "folk") else "fiddle", "source": source, "genre": genre,
            "work_id": entry["work_id"][0]["value"], "split": entry["split"][0]["value"],
            "seed": entry["render"][0]["value"]["seed"],
            "renderer": renderer or entry.get("renderer", [{"value": renderers.DEFAULT_RENDERER}])[0]["value"]}



def render_melody(score_note_l, genre, instrument, seed, max_sec, renderer=None):
    """A melody that no score holds (e.g. generated by notebook 11's note model: ``tunes.to_score_notes``, a beat
    of one quarter length) played as a fiddle track of ``genre`` would be: a tempo drawn in the genre's range, the
    repeats until ``max_sec``, timing, articulation, accents, the room and the recording chain, by ``renderer``
    (default ``renderers.DEFAULT_RENDERER``) with ``instrument``. Returns float audio (n_samples,) at 22,050 Hz."""
    track = {"kind": "fiddle", "source": "a generated melody", "genre": genre, "seed": int(seed),
             "renderer": renderer or renderers.DEFAULT_RENDERER}
    if not score_note_l:
        raise ValueError("render_melody: the melody has no notes")
    rng = np.random.default_rng(track["seed"])
    render_d = _render_settings(track, rng, 1.0)
    render_d["instrument_by_voice"] = {"Melody": instrument}
    note_l, duration_sec = _played_notes(score_note_l, render_d, rng, max_sec)
    return np.asarray(_renderer_of(track).play(note_l, duration_sec, rng, render_d), dtype=np.float32)
