"""The cover collection (tune families and chorale tunes as versions) and the non-learned cover baselines."""

import collections

import numpy as np
import pytest

from course_utils import annotation, covers
from course_utils.data import build, plan, render, scores

from .helpers import sine_track, write_audio_hdf5

TINY_COVERS = plan.Preset("tiny", n_cover_tunes=2, max_versions_per_tune=2, n_single_chorales=0, n_tunes_per_dance=1,
                          chorale_max_sec=4.0, fiddle_max_sec=4.0, n_folk_families=3, max_versions_per_family=2,
                          cover_max_sec=4.0)


# --- the collection: which songs are versions of which work ----------------------------------------

def test_the_full_cover_collection_holds_hundreds_of_families_each_in_one_split():
    track_l = plan.plan_cover_tracks(plan.PRESET_D["full"])
    folk_l = [track for track in track_l if track["kind"] == "folk"]
    split_by_work_d = collections.defaultdict(set)
    for track in track_l:
        split_by_work_d[track["work_id"]].add(track["split"])
    assert all(len(split_set) == 1 for split_set in split_by_work_d.values()), "a work in two splits"
    n_version_d = collections.Counter(track["work_id"] for track in folk_l)
    assert len(n_version_d) == len(plan.load_family_index()["families"]) >= 400, "every family is a work"
    assert min(n_version_d.values()) >= 2 and max(n_version_d.values()) <= plan.PRESET_D["full"].max_versions_per_family
    assert collections.Counter(split for work in n_version_d for split in split_by_work_d[work])["test"] >= 80
    assert len({track["source"] for track in track_l}) == len(track_l), "a song is one version"


def test_a_family_is_the_songs_of_one_title_that_its_melodies_confirm():
    title_d = scores.list_essen_songs()
    family_by_work_d = collections.defaultdict(list)
    for track in plan.plan_cover_tracks(plan.PRESET_D["small"]):
        if track["kind"] == "folk":
            family_by_work_d[track["work_id"]].append(track["source"])
    threshold = plan.load_family_index()["same_family"]
    for song_l in list(family_by_work_d.values())[:5]:
        assert len({title_d[song] for song in song_l}) == 1
        interval_l = [scores.melody_intervals(scores.read_essen_song(song), "Melody") for song in song_l]
        linked = [max(scores.melody_similarity(interval_l[i], interval_l[j]) for j in range(len(song_l)) if j != i)
                  for i in range(len(song_l))]
        assert min(linked) >= threshold, "each song is linked to another of its family"


def test_chorale_versions_keep_the_split_and_seed_of_the_preset():
    chorale_d = {track["source"]: track for track in plan.plan_tracks(plan.PRESET_D["small"])}
    cover_chorale_l = [track for track in plan.plan_cover_tracks(plan.PRESET_D["small"]) if track["kind"] == "chorale"]
    assert cover_chorale_l and all(chorale_d[track["source"]] == track for track in cover_chorale_l)
    n_version_d = collections.Counter(track["work_id"] for track in cover_chorale_l)
    assert min(n_version_d.values()) >= 2, "a single chorale is no cover"


# --- rendering a folk version -----------------------------------------------------------------------

MELODY = [{"onset_ql": 0.0, "duration_ql": 1.0, "midi": 67, "voice": "Melody", "beat_strength": 1.0},
          {"onset_ql": 1.0, "duration_ql": 1.0, "midi": 69, "voice": "Melody", "beat_strength": 0.5},
          {"onset_ql": 2.0, "duration_ql": 2.0, "midi": 71, "voice": "Melody", "beat_strength": 1.0},
          {"onset_ql": 4.0, "duration_ql": 2.0, "midi": 62, "voice": "Melody", "beat_strength": 1.0}]


def test_a_drone_holds_the_tonic_and_its_fifth_and_a_bass_follows_the_downbeats():
    drone_l = render.accompaniment_notes(MELODY, "drone")
    assert {note["midi"] for note in drone_l} == {50, 57}, "the last note's pitch class (D) and its fifth, from C3"
    assert [note["onset_ql"] for note in drone_l] == [0.0, 0.0, 4.0, 4.0] and drone_l[-1]["duration_ql"] == 2.0
    bass_l = render.accompaniment_notes(MELODY, "bass")
    assert [(note["onset_ql"], note["duration_ql"], note["midi"]) for note in bass_l] == [
        (0.0, 2.0, 43), (2.0, 2.0, 47), (4.0, 2.0, 38)]
    assert all(note["voice"] == "Accompaniment" for note in drone_l + bass_l)
    assert render.accompaniment_notes(MELODY, "none") == []
    with pytest.raises(ValueError, match="unknown accompaniment 'chords'"):
        render.accompaniment_notes(MELODY, "chords")


def test_a_folk_version_is_labelled_with_its_melody_its_accompaniment_and_its_family():
    track_l = [track for track in plan.plan_cover_tracks(TINY_COVERS) if track["kind"] == "folk"]
    seen_set = set()
    for track in track_l:
        audio_v, entry = render.render_track(track, 4.0)
        render_d = entry["render"][0]["value"]
        voice_set = {note["voice"] for note in entry["pitchmidi"]}
        has_accompaniment = render_d["accompaniment"] != "none"
        assert voice_set == ({"Melody", "Accompaniment"} if has_accompaniment else {"Melody"})
        assert {tag["value"] for tag in entry["tag"]} == set(render_d["instrument_by_voice"].values())
        assert entry["filepath"][0]["value"] == f"folk_{plan.song_key(track['source'])}.wav"
        assert entry["work_id"][0]["value"] == track["work_id"] and entry["genre"][0]["value"] == "folk"
        assert render.track_of_entry(entry) == track, "the entry says how to render it again"
        assert len(audio_v) <= 4.0 * 22050 + 1
        seen_set.add(render_d["accompaniment"])
    assert len(seen_set) >= 2, "versions differ in arrangement"


def test_the_cover_collection_builds_into_its_own_files(tmp_path):
    audio_path, pyjama_path = build.build_dataset(TINY_COVERS, tmp_path, n_workers=1, progress=False, covers=True)
    assert audio_path.name == "course-tiny-covers_audio.hdf5"
    entry_l = annotation.load_pyjama(pyjama_path)["collection"]["entry"]
    assert {entry["genre"][0]["value"] for entry in entry_l} == {"folk", "chorale"}
    assert len(entry_l) == len(plan.plan_cover_tracks(TINY_COVERS))
    with pytest.raises(ValueError, match="stems and covers are two different datasets"):
        build.build_dataset(TINY_COVERS, tmp_path, stems=True, covers=True)


# --- the baselines -------------------------------------------------------------------------------------

def _one_hot(pitch_class_l):
    sequence_m = np.zeros((12, len(pitch_class_l)))
    sequence_m[pitch_class_l, np.arange(len(pitch_class_l))] = 1.0
    return sequence_m


TUNE = [0, 0, 2, 4, 4, 5, 7, 7, 9, 7, 5, 4, 2, 0, 11, 0]
OTHER = [7, 3, 3, 10, 8, 8, 3, 1, 1, 6, 6, 6, 10, 3, 5, 1]


def test_the_alignment_ignores_key_tempo_and_where_the_excerpt_ends():
    slower = np.repeat(_one_hot([(pc + 5) % 12 for pc in TUNE]), 2, axis=1)  # transposed, half as fast
    prefix = _one_hot(TUNE[:10])  # an excerpt that ends earlier in the tune
    silent = np.concatenate([_one_hot(TUNE), np.zeros((12, 6))], axis=1)  # frames without melody are skipped
    distance_m = covers.alignment_distances([_one_hot(TUNE), slower, prefix, silent, _one_hot(OTHER)])
    assert np.allclose(distance_m[0, :4], 0) and np.allclose(distance_m, distance_m.T)
    assert distance_m[0, 4] > 0.5 and np.all(np.diag(distance_m) == 0)


def test_the_profile_baseline_ignores_the_key_only():
    tune_m, other_m = _one_hot(TUNE), _one_hot(OTHER)
    distance_m = covers.profile_distances([tune_m, np.roll(tune_m, 3, axis=0), other_m])
    assert distance_m[0, 1] == pytest.approx(0, abs=1e-6) and distance_m[0, 2] > 0.2
    scrambled_m = tune_m[:, [3, 14, 8, 0, 11, 6, 1, 15, 9, 4, 12, 2, 7, 13, 5, 10]]  # the same notes, shuffled
    assert covers.profile_distances([tune_m, scrambled_m])[0, 1] == pytest.approx(0, abs=1e-6)
    assert covers.alignment_distances([tune_m, scrambled_m])[0, 1] > 0.2, "the alignment hears the order"


def test_a_silent_sequence_is_an_error_that_says_why():
    with pytest.raises(ValueError, match="no frame with energy"):
        covers.alignment_distances([_one_hot(TUNE), np.zeros((12, 8))])


def test_scores_are_given_for_all_queries_and_for_each_kind_of_version():
    work_v = np.array(["folk-a", "folk-a", "chorale-b", "chorale-b", "folk-c"])
    distance_m = np.array([[0, 1, 2, 3, 4], [1, 0, 2, 3, 4], [9, 9, 0, 5, 1], [9, 9, 5, 0, 9], [1, 2, 3, 4, 0]], float)
    score_d = covers.scores_by_kind(distance_m, work_v)
    assert list(score_d) == ["all", "chorale", "folk"]
    assert score_d["folk"]["MAP"] == 1.0 and score_d["folk"]["n_query"] == 2
    assert score_d["chorale"]["MAP"] == pytest.approx(0.5 * (1 / 2 + 1)) and score_d["all"]["n_query"] == 4


def test_fusion_puts_two_distances_on_one_scale_and_its_weight_is_chosen_by_map():
    work_v = np.array(["a", "a", "b", "b"])
    good_m = np.array([[0, 1, 5, 5], [1, 0, 5, 5], [5, 5, 0, 1], [5, 5, 1, 0]], float)
    bad_m = 100 * np.array([[0, 5, 1, 5], [5, 0, 5, 1], [1, 5, 0, 5], [5, 1, 5, 0]], float)  # another scale
    assert np.allclose(covers.standardised(bad_m), covers.standardised(bad_m / 100))
    assert np.allclose(covers.fused_distances(good_m, bad_m, 1.0), covers.standardised(good_m))
    weight, map_d = covers.choose_fusion_weight(good_m, bad_m, work_v, weight_l=(0.0, 0.9))
    assert weight == 0.9 and map_d[0.9] == 1.0 and map_d[0.0] < 1.0
    with pytest.raises(ValueError, match=r"fusion weight must be in \[0, 1\]"):
        covers.fused_distances(good_m, bad_m, 1.5)


def test_the_notes_played_are_those_of_the_rendered_entry_without_rendering():
    track = next(track for track in plan.plan_cover_tracks(TINY_COVERS) if track["kind"] == "folk")
    note_l, duration_sec = render.played_notes(track, 4.0)
    _, entry = render.render_track(track, 4.0)
    assert [(note["midi"], round(note["time"], 4)) for note in note_l] == [
        (note["value"], note["time"]) for note in entry["pitchmidi"]]
    assert round(duration_sec, 4) == entry["duration_sec"][0]["value"]


def test_melody_chroma_keeps_the_most_salient_pitch_class_folded_over_octaves_and_silence_silent():
    salience_m = np.zeros((72, 8))
    salience_m[12 * 2 + 7, :4] = 0.9      # G in the third octave for 4 frames
    salience_m[12 * 4 + 2, 1] = 0.95      # a louder D two octaves up in one frame: it wins the pooled frame
    salience_m[12 * 1 + 4, 4:6] = 0.6     # then E
    salience_m[12 * 3 + 9, 6:] = 0.2      # then an A too quiet to be the melody
    chroma_m = covers.melody_chroma(salience_m)
    assert chroma_m.shape == (12, 4), "(12, T // 2): 12 pitch classes, two frames pooled"
    assert chroma_m.sum(axis=0).tolist() == [1, 1, 1, 0], "one pitch class a voiced frame, none when unvoiced"
    assert [covers.PITCH_CLASS_L[i] for i in chroma_m.argmax(axis=0)[:3]] == ["D", "G", "E"]
    assert covers.melody_chroma(salience_m, voicing_threshold=0.1)[9, 3] == 1, "a lower threshold keeps the A"


def test_audio_chroma_sequences_hear_the_pitch_class_of_each_track(tmp_path):
    audio_path = write_audio_hdf5(tmp_path / "two_audio.hdf5", {"a.wav": sine_track(2.0, 440.0),
                                                                 "e.wav": sine_track(2.0, 329.63)})
    sequence_l = covers.audio_chroma_sequences(audio_path, ["e.wav", "a.wav"])
    assert [sequence_m.shape[0] for sequence_m in sequence_l] == [12, 12], "(12, T) per track, in key_l's order"
    assert [covers.PITCH_CLASS_L[sequence_m.mean(axis=1).argmax()] for sequence_m in sequence_l] == ["E", "A"]
