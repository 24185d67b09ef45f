"""course_utils.data: scores, synthesiser, dataset build (determinism, splits, labels vs audio, errors)."""

import collections
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import librosa
import numpy as np
import pytest

from course_utils import annotation, safe_files
from course_utils.data import build, plan, render, sampled, scores, soundfont, synth

from .helpers import fill_disk

TINY = plan.Preset("tiny", n_cover_tunes=2, max_versions_per_tune=2, n_single_chorales=1, n_tunes_per_dance=1,
                    chorale_max_sec=4.0, fiddle_max_sec=4.0)


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("tiny")
    return build.build_dataset(TINY, out_dir, n_workers=1, progress=False)


# --- synthesiser ----------------------------------------------------------------------------------

@pytest.mark.parametrize("instrument", synth.INSTRUMENT_L)
def test_a_rendered_note_has_its_energy_at_the_labelled_pitch_and_time(instrument):
    rng = np.random.default_rng(0)
    note = {"midi": 62, "time": 0.5, "duration": 0.6, "voice": "v", "gain": 1.0}
    audio_v = synth.render_notes([note], 2.0, rng, {"v": instrument}, reverb_wet=0.0)
    cqt_m = np.abs(librosa.cqt(audio_v, sr=synth.SR_HZ, fmin=librosa.midi_to_hz(24), n_bins=84, hop_length=256))
    frame_sec_v = librosa.frames_to_time(np.arange(cqt_m.shape[1]), sr=synth.SR_HZ, hop_length=256)
    inside_v = (frame_sec_v > 0.6) & (frame_sec_v < 1.0)
    spectrum_v = cqt_m[:, inside_v].mean(axis=1)
    bin_62 = 62 - 24
    # the fundamental is a spectral peak, strong next to the partials (an oboe's 2nd and 3rd are stronger)
    assert spectrum_v[bin_62] > spectrum_v[bin_62 - 1] and spectrum_v[bin_62] > spectrum_v[bin_62 + 1]
    assert spectrum_v[bin_62] > 0.3 * spectrum_v.max(), f"{instrument}: weak energy at MIDI 62"
    assert spectrum_v[:bin_62 - 1].max() < 0.1 * spectrum_v[bin_62], f"{instrument}: energy below the note"
    energy_before = cqt_m[:, frame_sec_v < 0.4].sum()
    energy_during = cqt_m[:, inside_v].sum() * (frame_sec_v < 0.4).sum() / inside_v.sum()
    assert energy_during > 100 * energy_before, f"{instrument}: sound outside the labelled time"


def test_synth_is_deterministic_and_fast():
    import time
    note_l = [{"midi": 60 + (i % 12), "time": i * 0.25, "duration": 0.5, "voice": str(i % 4), "gain": 0.5}
              for i in range(4 * 40)]
    start = time.perf_counter()
    audio_a = synth.render_notes(note_l, 10.0, np.random.default_rng(1), {str(v): "violin" for v in range(4)})
    elapsed = time.perf_counter() - start
    audio_b = synth.render_notes(note_l, 10.0, np.random.default_rng(1), {str(v): "violin" for v in range(4)})
    np.testing.assert_array_equal(audio_a, audio_b)
    assert audio_a.shape == (10 * synth.SR_HZ,) and np.abs(audio_a).max() <= 1.0
    assert elapsed < 10.0 / 5, f"synthesis too slow: {10.0 / elapsed:.0f}x real time"  # loose bound for CI


# --- scores and tunes -----------------------------------------------------------------------------

def test_read_chorale_gives_four_voices():
    note_l, _ = scores.read_chorale_notes("bwv66.6.mxl")
    assert {note["voice"] for note in note_l} == set(scores.VOICE_L)
    assert all(note["duration_ql"] > 0 and 30 <= note["midi"] <= 90 for note in note_l)


def test_read_fiddle_tune_and_dance_types():
    dance_d = scores.list_fiddle_tunes()
    assert set(dance_d.values()) == set(scores.DANCE_TYPE_L)
    assert dance_d["LanigansBallJig.abc"] == "jig"
    note_l, title, beat_ql = scores.read_fiddle_tune("LanigansBallJig.abc")
    assert len(note_l) > 20 and "LANIGAN" in title.upper()
    assert beat_ql == 1.5  # 6/8: a dotted quarter
    # metrical weights counted from the bar lines, after the pickup note (offset 0): downbeat 1, mid-bar 0.5
    strength_by_onset_d = {note["onset_ql"]: note["beat_strength"] for note in note_l}
    assert strength_by_onset_d[0.5] == 1.0 and strength_by_onset_d[2.0] == 0.5 and strength_by_onset_d[3.5] == 1.0
    assert strength_by_onset_d[0.0] < 1.0


def test_a_tune_without_time_signature_is_an_error_naming_it(tmp_path, monkeypatch):
    (tmp_path / "ryansMammoth").mkdir()
    (tmp_path / "ryansMammoth" / "NoMeterReel.abc").write_text("X: 1\nT: No meter\nR: reel\nL: 1/8\nK: D\n"
                                                               "DFAd fdAF | GBdg bgdB |]\n")
    monkeypatch.setattr(scores, "corpus_root", lambda: tmp_path)
    with pytest.raises(ValueError, match=r"NoMeterReel.abc: the tune has no time signature \(ABC field M:\)"):
        scores.read_fiddle_tune("NoMeterReel.abc")


def test_accents_make_the_downbeat_loudest():
    assert render.accent_gain_db(1.0, 1.5) == 0.0
    assert render.accent_gain_db(0.5, 1.5) == pytest.approx(-1.5)
    assert render.accent_gain_db(0.0625, 1.5) == pytest.approx(-6.0)
    assert render.accent_gain_db(0.001, 1.5) == pytest.approx(-6.0)  # no softer than 4 levels down
    assert render.accent_gain_db(0.25, 0.0) == 0.0  # chorales: no accents


def test_a_dance_plays_at_the_same_speed_whatever_its_notation(tmp_path, monkeypatch):
    # the same reel bar written in C| with eighth notes and in 2/4 with sixteenth notes (both are in the collection)
    (tmp_path / "ryansMammoth").mkdir()
    for name, meter, unit in (("CutReel.abc", "C|", "1/8"), ("TwoFourReel.abc", "2/4", "1/16")):
        (tmp_path / "ryansMammoth" / name).write_text(f"X: 1\nT: {name}\nR: reel\nM: {meter}\nL: {unit}\nK: D\n"
                                                      "DFAd fdAF | GBdg bgdB |]\n")
    monkeypatch.setattr(scores, "corpus_root", lambda: tmp_path)
    onset_sec_l = []
    for name in ("CutReel.abc", "TwoFourReel.abc"):
        track = {"kind": "fiddle", "source": name, "work_id": "fiddle-x", "genre": "reel", "split": "train", "seed": 7}
        _, entry = render.render_track(track, 3.0)
        render_d = entry["render"][0]["value"]
        assert render_d["tempo_qpm"] == pytest.approx(render_d["tempo_bpm"] * render_d["beat_ql"])
        onset_sec_l.append([note["time"] for note in entry["pitchmidi"]])
    assert onset_sec_l[0] == pytest.approx(onset_sec_l[1])  # same seed, same tempo in beats per minute
    assert 0.1 < np.median(np.diff(onset_sec_l[0])) < 0.2  # a reel: 5 to 10 notes per second


def test_missing_scores_are_named():
    with pytest.raises(FileNotFoundError, match="bwv0.mxl: no such chorale"):
        scores.read_chorale_notes("bwv0.mxl")
    with pytest.raises(FileNotFoundError, match="Nope.abc: no such tune"):
        scores.read_fiddle_tune("Nope.abc")


def _melody(pitch_l, voice="Soprano"):
    return [{"onset_ql": float(i), "duration_ql": 1.0, "midi": p, "voice": voice} for i, p in enumerate(pitch_l)]


def _four_voices(soprano_l, shift=0):
    note_l = []
    for offset, voice in zip((0, -5, -12, -20), scores.VOICE_L, strict=True):
        note_l += _melody([p + offset + shift + (i % 3 if voice == "Alto" else 0) for i, p in enumerate(soprano_l)],
                          voice)
    return note_l


def test_grouping_is_transposition_invariant_and_finds_duplicates():
    tune_a = [60, 62, 64, 65, 67, 65, 64, 62, 60, 67, 69, 71, 72, 71, 69, 67]
    tune_b = [70, 69, 67, 65, 70, 72, 74, 72, 70, 69, 67, 65, 64, 62, 60, 65]
    other_harmonisation = _four_voices(tune_a, shift=5)
    for note in other_harmonisation:
        if note["voice"] == "Bass":
            note["midi"] += (note["onset_ql"] % 2) * 3  # a different bass line
    note_by_file_d = {"a1.mxl": _four_voices(tune_a), "a2.mxl": other_harmonisation,
                      "a1.krn": _four_voices(tune_a), "a3.mxl": _four_voices(tune_a, shift=-2),
                      "b1.mxl": _four_voices(tune_b)}
    tune_l, duplicate_d = scores.group_chorale_tunes(note_by_file_d)
    assert tune_l == [["a1.krn", "a2.mxl"], ["b1.mxl"]]
    assert duplicate_d == {"a1.mxl": "a1.krn", "a3.mxl": "a1.krn"}


def test_shipped_chorale_index_matches_the_corpus():
    index_d = plan.load_chorale_index()
    corpus_file_set = set(scores.list_chorale_files())
    listed_l = ([name for tune in index_d["tunes"] for name in tune] + list(index_d["duplicates"])
                + list(index_d["not_chorales"]))
    assert sorted(listed_l) == sorted(corpus_file_set), "rebuild it: python -m course_utils.data index"
    cover_tune_l = [tune for tune in index_d["tunes"] if len(tune) > 1]
    assert 60 <= len(cover_tune_l) <= 80 and 200 <= sum(map(len, cover_tune_l)) <= 280


def test_a_score_that_is_no_four_voice_chorale_is_named_and_never_planned():
    # the corpus's Bach folder holds the C major Prelude of the Well-Tempered Clavier: two piano staves, which the
    # reader once took for a Soprano and an Alto (the full preset had a "chorale" of two voices)
    with pytest.raises(scores.NotAChoraleError, match=r"bwv846.mxl: not a four-voice chorale: its parts are"):
        scores.read_chorale_notes("bwv846.mxl")
    assert "bwv846.mxl" in plan.load_chorale_index()["not_chorales"]
    for preset in plan.PRESET_D.values():
        assert all(track["source"] != "bwv846.mxl" for track in plan.plan_tracks(preset))


# --- plan and splits ------------------------------------------------------------------------------

@pytest.mark.parametrize("preset_name", ["small", "full"])
def test_no_work_is_in_two_splits_and_every_class_is_in_every_split(preset_name):
    track_l = plan.plan_tracks(plan.PRESET_D[preset_name])
    split_by_work_d = {}
    for track in track_l:
        assert split_by_work_d.setdefault(track["work_id"], track["split"]) == track["split"]
    for genre in ["chorale", *scores.DANCE_TYPE_L]:
        assert {t["split"] for t in track_l if t["genre"] == genre} == {"train", "valid", "test"}, genre
    cover_split_l = [t["split"] for t in track_l if t["work_id"].startswith("chorale")]
    assert cover_split_l.count("test") >= 4
    assert len({t["source"] for t in track_l}) == len(track_l)


def test_assign_splits_proportions():
    split_d = annotation.assign_splits([f"w{i}" for i in range(100)], seed=0)
    count_d = {split: list(split_d.values()).count(split) for split in ("train", "valid", "test")}
    assert count_d == {"train": 60, "valid": 20, "test": 20}


# --- the built files ------------------------------------------------------------------------------

def test_built_files_have_the_course_format(tiny_dataset):
    audio_path, pyjama_path = tiny_dataset
    data_d = json.loads(pyjama_path.read_text(encoding="utf-8"))
    entry_l = data_d["collection"]["entry"]
    assert data_d["schemaversion"] == 1.31 and len(entry_l) == 2 * 2 + 1 + len(scores.DANCE_TYPE_L)
    with h5py.File(audio_path, "r") as audio_fid:
        for entry in entry_l:
            key = entry["filepath"][0]["value"]
            assert audio_fid[key].dtype == np.int16 and audio_fid[key].attrs["sr_hz"] == 22050
            duration_sec = audio_fid[key].shape[0] / 22050
            assert duration_sec == pytest.approx(entry["duration_sec"][0]["value"], abs=1e-3)
            for field in ("title", "source", "genre", "tag", "pitchmidi", "work_id", "split", "render"):
                assert entry[field], f"{key}: empty {field}"
            assert all(0 <= n["time"] and n["time"] + n["duration"] <= duration_sec + 1e-3
                       for n in entry["pitchmidi"])
            render_d = entry["render"][0]["value"]
            assert {"seed", "tempo_qpm", "transpose_semitones", "renderer"} <= set(render_d)
            assert sorted(t["value"] for t in entry["tag"]) == sorted(set(render_d["instrument_by_voice"].values()))


def _share_of_melody_notes_at_their_pitch(audio_path, pyjama_path, renderer_prefix="course_utils.data.synth"):
    """(notes of the built fiddle tunes whose CQT peaks at their labelled pitch, notes checked)."""
    entry_l = json.loads(pyjama_path.read_text(encoding="utf-8"))["collection"]["entry"]
    fiddle_l = [e for e in entry_l if e["genre"][0]["value"] != "chorale"
                and e["render"][0]["value"]["renderer"].startswith(renderer_prefix)]
    n_match, n_note = 0, 0
    with h5py.File(audio_path, "r") as audio_fid:
        for entry in fiddle_l:
            audio_v = audio_fid[entry["filepath"][0]["value"]][()].astype(np.float32) / 32768
            cqt_m = np.abs(librosa.cqt(audio_v, sr=22050, fmin=librosa.midi_to_hz(36), n_bins=72, hop_length=256))
            for note in entry["pitchmidi"]:
                if note["duration"] < 0.1:
                    continue
                frame = int((note["time"] + note["duration"] / 2) * 22050 / 256)
                n_match += 36 + int(np.argmax(cqt_m[:, frame])) == note["value"]
                n_note += 1
    return n_match, n_note


def test_labels_match_the_audio_of_a_built_melody(tiny_dataset):
    n_match, n_note = _share_of_melody_notes_at_their_pitch(*tiny_dataset)
    assert n_note > 20 and n_match / n_note > 0.85, f"only {n_match}/{n_note} notes found at their pitch"


# --- the second renderer: recorded GM instrument samples ----------------------------------------

@pytest.mark.parametrize("library_name", sorted(sampled.SAMPLE_LIBRARY_D))
@pytest.mark.parametrize("instrument", sorted(sampled.GM_PROGRAM_D))
def test_every_sampled_instrument_plays_the_key_it_is_given(instrument, library_name):
    """Every key sounds at its pitch, also below an instrument's range (Merlin's violin has no key under G3)."""
    for midi in (43, 60, 76):
        audio_v = sampled.render_notes([{"midi": midi, "time": 0.2, "duration": 1.0, "voice": "v", "gain": 1.0}],
                                       1.4, np.random.default_rng(0), {"v": instrument}, reverb_wet=0, noise_db=-120,
                                       library_name=library_name)
        frequency_hz = librosa.midi_to_hz(midi)  # search from an octave below (a 16-foot organ) to a fifth above
        f0_v, _, _ = librosa.pyin(audio_v[int(0.3 * 22050):int(1.0 * 22050)], fmin=0.45 * frequency_hz,
                                  fmax=1.5 * frequency_hz, sr=22050)
        error = 12 * np.log2(np.nanmedian(f0_v) / librosa.midi_to_hz(midi))
        assert abs(error) < 0.2, f"{library_name} {instrument} key {midi} sounds {error:+.2f} semitones off"


def test_a_preset_with_sampled_tracks_renders_both_with_labels_that_match(tmp_path):
    mixed = plan.Preset("mixed", n_cover_tunes=2, max_versions_per_tune=2, n_single_chorales=1,
                        n_tunes_per_dance=3, chorale_max_sec=4.0, fiddle_max_sec=6.0, sampled_fraction=0.5)
    track_l = plan.plan_tracks(mixed)
    assert {track["renderer"] for track in track_l} == {"synth", "timgm"}
    assert {track["renderer"] for track in plan.plan_tracks(TINY)} == {"synth"}, "off unless a preset asks"
    audio_path, pyjama_path = build.build_dataset(mixed, tmp_path, n_workers=1, progress=False)
    assert build.dataset_problem(audio_path, pyjama_path) is None
    # recorded timbres can have stronger upper partials than their fundamental: the labelled pitch must be a
    # spectral peak, and the same labels moved by a semitone must not be (the check can fail)
    share_v = [_share_of_melody_notes_at_a_peak(audio_path, pyjama_path, sampled.renderer_name("timgm"), shift)
               for shift in (0, 1, -1)]
    assert share_v[0] > 0.95 and max(share_v[1:]) < 0.05, f"labels at a spectral peak (0, +1, -1): {share_v}"


def _share_of_melody_notes_at_a_peak(audio_path, pyjama_path, renderer_prefix, shift_semitones):
    """Share of the fiddle-tune notes whose labelled pitch (+ shift) is a peak of the CQT frame at mid-note."""
    entry_l = json.loads(pyjama_path.read_text(encoding="utf-8"))["collection"]["entry"]
    at_peak_l = []
    with h5py.File(audio_path, "r") as audio_fid:
        for entry in entry_l:
            if entry["genre"][0]["value"] == "chorale" or not entry["render"][0]["value"]["renderer"].startswith(
                    renderer_prefix):
                continue
            audio_v = audio_fid[entry["filepath"][0]["value"]][()].astype(np.float32) / 32768
            cqt_m = np.abs(librosa.cqt(audio_v, sr=22050, fmin=librosa.midi_to_hz(35), n_bins=74, hop_length=256))
            for note in entry["pitchmidi"]:
                if note["duration"] >= 0.1:
                    frame_v = cqt_m[:, int((note["time"] + note["duration"] / 2) * 22050 / 256)]
                    row = note["value"] + shift_semitones - 35
                    at_peak_l.append(1 <= row < 73 and frame_v[row] >= max(frame_v[row - 1], frame_v[row + 1])
                                     and frame_v[row] > 0.1 * frame_v.max())
    assert len(at_peak_l) > 20, f"only {len(at_peak_l)} notes to check"
    return float(np.mean(at_peak_l))


def test_sampled_renderer_errors_name_what_is_wrong(tmp_path):
    with pytest.raises(ValueError, match=r"no General-MIDI program for \['kazoo'\]; known instruments: piano"):
        sampled.render_notes([], 1.0, np.random.default_rng(0), {"v": "kazoo"})
    not_sf2 = tmp_path / "fake.sf2"
    not_sf2.write_bytes(b"RIFF\x04\x00\x00\x00WAVE")
    with pytest.raises(soundfont.SoundFontError, match="fake.sf2: not a SoundFont 2 file"):
        soundfont.SoundFont(not_sf2)
    not_sf2.write_bytes(b"RIFF\x04\x00\x00\x00sfbk")
    with pytest.raises(soundfont.SoundFontError, match="SoundFont chunks missing"):
        soundfont.SoundFont(not_sf2)
    with pytest.raises(soundfont.SoundFontError, match="no preset for program 7 in bank 5"):
        sampled.load_soundfont()._preset_zones(7, bank=5)
    with pytest.raises(ValueError, match="unknown sample library 'fluid'; use one of timgm, merlin"):
        sampled.soundfont_path("fluid")
    with pytest.raises(ValueError, match=r"Nope.abc: unknown renderer 'fluid'; use one of synth, timgm, merlin"):
        render.render_track({"kind": "chorale", "source": "Nope.abc", "renderer": "fluid"}, 4.0)


def test_same_preset_gives_byte_identical_files(tiny_dataset, tmp_path):
    audio_path, pyjama_path = tiny_dataset
    again_audio, again_pyjama = build.build_dataset(TINY, tmp_path, n_workers=2, progress=False)
    assert again_audio.read_bytes() == audio_path.read_bytes()
    assert again_pyjama.read_bytes() == pyjama_path.read_bytes()


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset 'huge'; use one of small, full"):
        build.build_dataset("huge", "unused")
    with pytest.raises(ValueError, match="unknown preset"):
        build.ensure_dataset("huge", "unused")


def test_interrupted_build_leaves_nothing_that_passes(tmp_path, monkeypatch):
    calls = []

    def failing_render(track, max_sec):
        calls.append(track)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_render(track, max_sec)

    real_render = render.render_track
    monkeypatch.setattr(build, "render_track", failing_render)
    with pytest.raises(KeyboardInterrupt):
        build.build_dataset(TINY, tmp_path, n_workers=1, progress=False)
    assert [path.name for path in tmp_path.iterdir()] == [".course-tiny_audio.hdf5.lock"], "only the lock file"
    monkeypatch.setattr(build, "render_track", real_render)


def test_ensure_dataset_rebuilds_a_truncated_file(tiny_dataset, tmp_path, monkeypatch):
    audio_path, pyjama_path = tiny_dataset
    monkeypatch.setitem(plan.PRESET_D, "tiny", TINY)
    copy_audio, copy_pyjama = build.dataset_paths(tmp_path, "tiny")
    copy_pyjama.write_bytes(pyjama_path.read_bytes())
    copy_audio.write_bytes(audio_path.read_bytes()[:5000])  # an interrupted copy
    assert "unreadable" in build.dataset_problem(copy_audio, copy_pyjama)
    build.ensure_dataset("tiny", tmp_path, n_workers=1)
    assert build.dataset_problem(copy_audio, copy_pyjama) is None
    assert copy_audio.read_bytes() == audio_path.read_bytes()


def test_a_dataset_made_by_another_renderer_is_rebuilt(tiny_dataset, tmp_path, monkeypatch):
    audio_path, pyjama_path = tiny_dataset
    copy_audio, copy_pyjama = build.dataset_paths(tmp_path, "tiny")
    copy_audio.write_bytes(audio_path.read_bytes())
    copy_pyjama.write_bytes(pyjama_path.read_bytes())
    monkeypatch.setattr(build, "DATASET_VERSION", "course_utils.data v99")
    assert "another version of the course data" in build.dataset_problem(copy_audio, copy_pyjama)


def test_a_score_with_no_notes_is_an_error_naming_it(tmp_path, monkeypatch):
    (tmp_path / "ryansMammoth").mkdir()
    (tmp_path / "ryansMammoth" / "EmptyReel.abc").write_text("X: 1\nT: Empty\nR: reel\nM: 4/4\nL: 1/8\nK: D\n")
    monkeypatch.setattr(scores, "corpus_root", lambda: tmp_path)
    assert scores.list_fiddle_tunes() == {"EmptyReel.abc": "reel"}
    with pytest.raises(ValueError, match="EmptyReel.abc: the tune has no notes"):
        scores.read_fiddle_tune("EmptyReel.abc")


def test_silent_intro_bars_are_skipped(monkeypatch):
    monkeypatch.setattr(scores, "read_fiddle_tune", lambda name: ([{"onset_ql": 100.0, "duration_ql": 1.0,
                                                                     "midi": 60, "voice": "Melody"}], "late", 2.0))
    track = {"kind": "fiddle", "source": "Late.abc", "work_id": "fiddle-Late", "genre": "reel", "split": "train",
             "seed": 1}
    audio_v, entry = render.render_track(track, 4.0)
    assert entry["pitchmidi"][0]["time"] < 0.3 and audio_v.size > 0


def test_a_chorale_with_no_notes_is_an_error_naming_it(tmp_path, monkeypatch):
    import music21
    (tmp_path / "bach").mkdir()
    empty = music21.stream.Score([music21.stream.Part(id=voice) for voice in scores.VOICE_L])
    empty.write("musicxml", fp=tmp_path / "bach" / "bwv999.xml")
    monkeypatch.setattr(scores, "corpus_root", lambda: tmp_path)
    with pytest.raises(ValueError, match="bwv999.xml: the chorale has no notes"):
        scores.read_chorale_notes("bwv999.xml")


# --- concurrency and interruption, with real processes ---------------------------------------------

ENSURE_SCRIPT = """
import signal
import sys
from course_utils.data import build, plan
signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C raises KeyboardInterrupt, even when the test run
                                                          # was started with SIGINT ignored (a background job)
preset = plan.Preset("tiny", n_cover_tunes=2, max_versions_per_tune=2, n_single_chorales=1, n_tunes_per_dance=1,
                     chorale_max_sec=4.0, fiddle_max_sec=4.0, seed=int(sys.argv[2]))
if len(sys.argv) > 3:  # "hold": rendering waits for a Ctrl-C, so that it comes while the .partial files exist
    import time
    build._render_job = lambda job: time.sleep(120)
print("paths", *build.{function}(preset, sys.argv[1], n_workers=1), flush=True)
"""


def _start(tmp_path, seed=0, function="ensure_dataset", hold=False):
    """A process that builds (or ensures) the tiny dataset in tmp_path; with hold, its rendering never ends."""
    argument_l = [str(tmp_path), str(seed)] + (["hold"] if hold else [])
    return subprocess.Popen([sys.executable, "-c", ENSURE_SCRIPT.format(function=function), *argument_l],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_notebooks_ensuring_the_dataset_at_once_both_get_the_same_valid_pair(tmp_path):
    lock = safe_files.FileLock(str(safe_files.lock_path(build.dataset_paths(tmp_path, "tiny")[0])))
    lock.acquire()  # hold the lock until both processes wait for it: they are then truly concurrent
    process_l = [_start(tmp_path), _start(tmp_path)]
    waited_l = [process.stdout.readline() for process in process_l]
    assert all(line.startswith("waiting for another process writing course-tiny") for line in waited_l), waited_l
    lock.release()
    output_l = [process.communicate(timeout=120) for process in process_l]
    assert [process.returncode for process in process_l] == [0, 0], output_l
    assert output_l[0][0] == output_l[1][0] and "paths" in output_l[0][0]
    assert sum("building course-tiny" in stderr for _, stderr in output_l) == 1, "built once, then found done"
    audio_path, pyjama_path = build.dataset_paths(tmp_path, "tiny")
    assert build.dataset_problem(audio_path, pyjama_path) is None
    assert not list(tmp_path.glob("*.partial"))


def test_ctrl_c_during_a_rebuild_keeps_the_previous_pair(tmp_path):
    process = _start(tmp_path, seed=0)
    assert process.wait(timeout=120) == 0
    audio_path, pyjama_path = build.dataset_paths(tmp_path, "tiny")
    before = audio_path.read_bytes(), pyjama_path.read_bytes()
    # another seed (other content); its rendering waits, so the Ctrl-C cannot come after the build (a tiny build
    # can finish between the .partial file appearing and the signal)
    process = _start(tmp_path, seed=1, function="build_dataset", hold=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("*.partial")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob("*.partial")), "the rebuild never started"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0 and "KeyboardInterrupt" in stderr
    assert (audio_path.read_bytes(), pyjama_path.read_bytes()) == before, "the previous pair is intact"
    assert build.dataset_problem(audio_path, pyjama_path) is None
    assert not list(tmp_path.glob("*.partial")), "no temporary file left"


def test_a_pair_from_two_builds_is_detected(tiny_dataset, tmp_path):
    """Same track names, other content (e.g. audio copied from a build of another version of the course)."""
    audio_path, pyjama_path = tiny_dataset
    copy_audio, copy_pyjama = build.dataset_paths(tmp_path, "tiny")
    copy_audio.write_bytes(audio_path.read_bytes())
    copy_pyjama.write_bytes(pyjama_path.read_bytes())
    assert build.dataset_problem(copy_audio, copy_pyjama) is None
    with h5py.File(copy_audio, "a") as audio_fid:
        audio_fid.attrs["content_id"] = "0123456789abcdef"
    assert build.dataset_problem(copy_audio, copy_pyjama) == (
        "not a pair: the audio and the .pyjama come from two different builds")


def test_an_entry_renders_again_identically_or_by_the_other_renderer(tiny_dataset):
    audio_path, pyjama_path = tiny_dataset
    entry = json.loads(pyjama_path.read_text(encoding="utf-8"))["collection"]["entry"][0]
    with h5py.File(audio_path, "r") as audio_fid:
        stored_v = audio_fid[entry["filepath"][0]["value"]][()]
    again_v, again_entry = render.render_track(render.track_of_entry(entry), TINY.chorale_max_sec)
    np.testing.assert_array_equal(again_v, stored_v)
    for renderer in ("timgm", "merlin"):
        other_v, other_entry = render.render_track(render.track_of_entry(entry, renderer), TINY.chorale_max_sec)
        assert other_entry["renderer"] == [{"value": renderer}] and other_entry["pitchmidi"] == entry["pitchmidi"]
        assert other_v.shape == stored_v.shape and not np.array_equal(other_v, stored_v)


def test_a_split_rendered_again_by_the_other_renderer(tiny_dataset, tmp_path):
    """The cross-renderer test set: the test split's tracks, same notes and keys, played by held-out samples."""
    _, pyjama_path = tiny_dataset
    audio_path, sampled_pyjama = build.ensure_dataset(TINY, tmp_path, n_workers=1, split="test", renderer="merlin")
    assert audio_path.name == "course-tiny-test-merlin_audio.hdf5"
    assert build.dataset_problem(audio_path, sampled_pyjama) is None
    test_l = [e for e in json.loads(pyjama_path.read_text())["collection"]["entry"] if e["split"][0]["value"] == "test"]
    sampled_l = json.loads(sampled_pyjama.read_text())["collection"]["entry"]
    assert test_l and [e["filepath"] for e in sampled_l] == [e["filepath"] for e in test_l]
    assert [e["pitchmidi"] for e in sampled_l] == [e["pitchmidi"] for e in test_l]
    assert {e["renderer"][0]["value"] for e in sampled_l} == {"merlin"}
    with pytest.raises(ValueError, match="give both split and renderer"):
        build.ensure_dataset(TINY, tmp_path, split="test")
    with pytest.raises(ValueError, match="renderer one of synth, timgm, merlin; got 'test', 'fluid'"):
        build.ensure_dataset(TINY, tmp_path, split="test", renderer="fluid")


def test_clogs_are_written_like_dotted_hornpipes_and_merged():
    """The evidence of notebook 05 for one label: every clog is written dotted throughout, and so are more
    hornpipes than there are clogs; the merged listing calls the clogs hornpipes."""
    written_d = scores.list_fiddle_tunes(merge=False)
    share_d = {dance: np.array([scores.broken_rhythm_share(name) for name, kind in written_d.items() if kind == dance])
               for dance in ("clog", "hornpipe", "reel")}
    assert np.all(share_d["clog"] > 0.5), share_d["clog"]
    assert np.sum(share_d["hornpipe"] > 0.5) > len(share_d["clog"]), "fewer dotted hornpipes than clogs"
    assert share_d["hornpipe"].mean() > 3 * share_d["reel"].mean()
    merged_d = scores.list_fiddle_tunes()
    assert set(merged_d.values()) == set(scores.DANCE_TYPE_L) and "clog" not in merged_d.values()
    assert all(merged_d[name] == "hornpipe" for name, kind in written_d.items() if kind == "clog")
    with pytest.raises(FileNotFoundError, match="Nope.abc: no such tune"):
        scores.broken_rhythm_share("Nope.abc")


# --- a full disk, killed builds, SIGTERM (real processes: a crash of the interpreter shows as a signal) ----------

BUILD_SCRIPT = """
import signal
import sys
import time
from course_utils import safe_files
from course_utils.data import build, plan
signal.signal(signal.SIGINT, signal.default_int_handler)
preset = plan.Preset("tiny", n_cover_tunes=2, max_versions_per_tune=2, n_single_chorales=1, n_tunes_per_dance=1,
                     chorale_max_sec=4.0, fiddle_max_sec=4.0, seed=int(sys.argv[2]))
mode = sys.argv[3]
real_render = build._render_job
def slow_render(job):  # a worker that renders slowly: the test acts while the build runs
    time.sleep(0.5)
    return real_render(job)
if mode in ("slow", "no-estimate"):
    build._render_job = slow_render
if mode == "no-estimate":  # the first check passes (another process fills the disk later)
    safe_files.ensure_free_space = lambda path, needed_bytes: None
print("started", flush=True)
print("paths", *build.build_dataset(preset, sys.argv[1], n_workers=int(sys.argv[4]), progress=False), flush=True)
"""


def _build_process(out_dir, seed=0, mode="plain", n_workers=1):
    return subprocess.Popen([sys.executable, "-c", BUILD_SCRIPT, str(out_dir), str(seed), mode, str(n_workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _children(pid):
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    child_l = []
    for status_path in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status_path.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            child_l.append(int(status_path.parent.name))
    return child_l


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.parametrize("mode", ["plain", "no-estimate"])
def test_a_build_on_a_full_disk_stops_with_one_message_and_keeps_the_previous_pair(tmp_path, small_disk, mode):
    """Before rendering (the estimate does not fit) or at the first track that does not fit: one clear error, no
    crash, no temporary file, the previous pair whole."""
    disk = small_disk(20)
    process = _build_process(disk, seed=0)
    assert process.wait(timeout=180) == 0, process.communicate()
    audio_path, pyjama_path = build.dataset_paths(disk, "tiny")
    before = audio_path.read_bytes(), pyjama_path.read_bytes()
    fill_disk(disk, leave_mb=9)
    process = _build_process(disk, seed=1, mode=mode)
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 1, f"exit code {process.returncode} (a negative code is a crash):\n{stderr[-2000:]}"
    assert "DiskFullError" in stderr and "no space left on device while writing" in stderr, stderr[-2000:]
    assert f"{audio_path}" in stderr and " MB free, about " in stderr
    assert "Exception ignored" not in stderr and stderr.count("Traceback") == 1, stderr[-3000:]
    assert (audio_path.read_bytes(), pyjama_path.read_bytes()) == before
    assert not list(disk.glob("*.partial"))


def test_workers_end_when_the_build_is_killed(tmp_path):
    process = _build_process(tmp_path, mode="slow", n_workers=2)
    assert process.stdout.readline().startswith("started")
    deadline = time.monotonic() + 60
    while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    worker_l = _children(process.pid)
    assert len(worker_l) >= 2, "the pool never started"
    process.kill()  # kill -9: no clean-up runs in the parent
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in worker_l) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in worker_l), "a worker outlived its killed parent"


def test_sigterm_stops_a_build_as_ctrl_c_does(tmp_path):
    process = _build_process(tmp_path, seed=0)
    assert process.wait(timeout=180) == 0
    audio_path, pyjama_path = build.dataset_paths(tmp_path, "tiny")
    before = audio_path.read_bytes(), pyjama_path.read_bytes()
    process = _build_process(tmp_path, seed=1, mode="slow", n_workers=2)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("*.partial")) and time.monotonic() < deadline:
        time.sleep(0.05)
    worker_l = _children(process.pid)
    process.terminate()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0 and "KeyboardInterrupt" in stderr and "SIGTERM" in stderr, stderr[-2000:]
    assert (audio_path.read_bytes(), pyjama_path.read_bytes()) == before
    assert not list(tmp_path.glob("*.partial")), "no temporary file left"
    time.sleep(1)
    assert not any(_alive(pid) for pid in worker_l)


# --- folk songs: tune families --------------------------------------------------------------------

def test_tune_families_are_songs_of_one_title_with_similar_melodies_and_a_generic_title_makes_none():
    tune = (2, 2, 1, -1, -2, -2, 4, -4, 5, 2, 2, 1, -3, -2, 2, 1, 2)
    variant = tune[:6] + (3,) + tune[7:]  # one note changed
    other = (-1, -2, 7, -7, 3, 3, -1, -1, 2, -5, 5, 4, -4, 1, 1)
    interval_d = {"a.abc#1": tune, "a.abc#2": variant, "a.abc#3": other, "b.abc#1": other, "b.abc#2": tune,
                  "c.abc#1": tune, "d.abc#4": other, "d.abc#5": variant}
    title_d = {"a.abc#1": "der jaeger", "a.abc#2": "der jaeger", "a.abc#3": "der jaeger",
               "b.abc#1": "die nonne", "b.abc#2": "die nonne", "c.abc#1": "alone",
               "d.abc#4": "der jaeger", "d.abc#5": "other title"}
    family_l, generic_l = scores.group_tune_families(interval_d, title_d, same_family=0.8)
    assert family_l == [["a.abc#1", "a.abc#2"], ["a.abc#3", "d.abc#4"]]
    assert generic_l == ["die nonne"], "a shared title whose melodies differ is generic; a title of one song is none"


def test_essen_songs_are_listed_by_file_and_number_and_read_as_a_melody():
    title_d = scores.list_essen_songs()
    assert len(title_d) > 8000 and title_d["variant0.abc#1"] == "nebal nebal sir dix sust"
    note_l = scores.read_essen_song("variant0.abc#1")
    assert {note["voice"] for note in note_l} == {"Melody"} and len(note_l) > 20
    assert scores.normalised_title("  Graf und Nonne, (die Nonne). ") == "graf und nonne (die nonne)"
    with pytest.raises(KeyError, match=r"variant0.abc#999.*list_essen_songs"):
        scores.read_essen_song("variant0.abc#999")


def test_shipped_tune_families_match_the_corpus_and_are_confirmed_by_their_melodies():
    index_d = plan.load_family_index()
    title_d = scores.list_essen_songs()
    n_by_title_d = collections.Counter(title_d.values())
    assert index_d["n_songs_with_a_shared_title"] == sum(n for n in n_by_title_d.values() if n >= 2), \
        "rebuild it: python -m course_utils.data families"
    family_l = index_d["families"]
    member_l = [song_id for family in family_l for song_id in family]
    assert 400 <= len(family_l) <= 470 and 1000 <= len(member_l) <= 1200, "hundreds of families"
    assert len(member_l) == len(set(member_l)), "a song is in one family at most"
    assert all(len(family) >= 2 and len({title_d[song_id] for song_id in family}) == 1 for family in family_l)
    for family in (family_l[0], max(family_l, key=len), family_l[len(family_l) // 2]):  # the links hold again
        interval_d = {song_id: scores.melody_intervals(scores.read_essen_song(song_id), "Melody") for song_id in family}
        assert scores.group_tune_families(interval_d, title_d, index_d["same_family"])[0] == [family]


def test_generic_titles_make_no_family():
    index_d = plan.load_family_index()
    title_d = scores.list_essen_songs()
    generic_set = {"abendlied", "hochzeitslied", "jaegerlied", "der kuckuck"}  # evening, wedding, hunting songs
    assert generic_set <= set(index_d["generic_titles"])
    assert not {title_d[song_id] for family in index_d["families"] for song_id in family} & set(
        index_d["generic_titles"])


def test_a_missing_folk_song_file_is_named_and_an_unreadable_song_is_kept_out_with_its_reason():
    with pytest.raises(FileNotFoundError, match=r"nosuch\.abc: no such file of the Essen collection"):
        scores.read_essen_song("nosuch.abc#1")
    song_id, reason = build._essen_intervals_job("variant0.abc#999")
    assert song_id == "variant0.abc#999" and reason.startswith("KeyError") and "list_essen_songs" in reason
    assert isinstance(build._essen_intervals_job("variant0.abc#1")[1], tuple)


def test_renderer_dataset_trains_without_a_renderer_and_tests_on_it_alone(tiny_dataset, monkeypatch):
    """Leave one library out (benchmarks/transfer.py): the split played by the renderers asked for, no other."""
    from course_utils import task

    monkeypatch.setitem(plan.PRESET_D, "tiny", TINY)
    out_dir = Path(tiny_dataset[0]).parent
    config = {"dataset": {"problem": "multilabel", "annot_key": "tag"},
              "feature": {"sr_hz": 22050, "type": "lms", "nb_band": 32, "L_n": 1024, "STEP_n": 512,
                          "patch_L_frame": 16, "patch_STEP_frame": 16}}

    def renderers_of(ds):
        part_l = ds.datasets if hasattr(ds, "datasets") else [ds]
        return [{part.renderer_of_key(key) for key in part.key_l} for part in part_l]

    preset_renderer_l = sorted({entry["renderer"][0]["value"]
                                for entry in annotation.load_pyjama(tiny_dataset[1])["collection"]["entry"]
                                if entry["split"][0]["value"] == "train"})
    mixed = task.renderer_dataset(config, "tiny", out_dir, "train", [*preset_renderer_l[:1], "merlin"],
                                  progress=False)
    assert renderers_of(mixed) == [{preset_renderer_l[0]}, {"merlin"}]
    merlin_only = task.renderer_dataset(config, "tiny", out_dir, "train", ["merlin"], progress=False)
    assert renderers_of(merlin_only) == [{"merlin"}]
    assert len(merlin_only) == len(mixed.datasets[1])
    with pytest.raises(ValueError, match="renderer_l is empty"):
        task.renderer_dataset(config, "tiny", out_dir, "train", [])


@pytest.mark.parametrize("under_the_file", [False, True])
def test_build_with_out_an_existing_file_is_one_line_naming_it(tmp_path, capsys, under_the_file):
    from course_utils.data import __main__ as data_command

    a_file = tmp_path / "notes.txt"
    a_file.write_text("a student's file, kept")
    out = a_file / "data" if under_the_file else a_file
    with pytest.raises(SystemExit) as exit_info:
        data_command.main(["build", "--preset", "small", "--out", str(out)])
    assert exit_info.value.code == 2
    error_line_l = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(error_line_l) == 1 and f"{a_file} is a file, not a folder" in error_line_l[0], error_line_l
    assert a_file.read_text() == "a student's file, kept"


def test_split_datasets_builds_train_valid_test_and_b_played_by_the_held_out_renderer(tiny_dataset, monkeypatch):
    """One builder for the splits (task.split_datasets): A as built, B the test tracks played by the held-out
    library, which no training split holds."""
    from course_utils import task
    from course_utils.data import renderers

    monkeypatch.setitem(plan.PRESET_D, "tiny", TINY)
    out_dir = Path(tiny_dataset[0]).parent
    config = {"dataset": {"problem": "multilabel", "annot_key": "tag"},
              "feature": {"sr_hz": 22050, "type": "lms", "nb_band": 32, "L_n": 1024, "STEP_n": 512,
                          "patch_L_frame": 16, "patch_STEP_frame": 16}}
    split_d = task.split_datasets(config, "tiny", out_dir, progress=False)
    assert list(split_d) == ["train", "valid", "test", task.HELDOUT_SPLIT]
    assert sorted(split_d["B"].key_l) == sorted(split_d["test"].key_l)
    assert {split_d["B"].renderer_of_key(key) for key in split_d["B"].key_l} == {renderers.HELDOUT_RENDERER}
    trained_on_s = {split_d["train"].renderer_of_key(key) for key in split_d["train"].key_l}
    assert renderers.HELDOUT_RENDERER not in trained_on_s and trained_on_s <= set(renderers.TRAINING_RENDERER_L)
    assert list(task.split_datasets(config, "tiny", out_dir, heldout=False, progress=False)) == ["train", "valid",
                                                                                               "test"]
