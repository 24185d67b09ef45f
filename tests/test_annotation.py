"""course_utils.annotation: each mapping on hand-made entries, splits, and the bad inputs."""

import json

import numpy as np
import pytest

from course_utils import annotation as an


def entry(key="a.wav", **field_d):
    return {"filepath": [{"value": key}], **field_d}


def test_load_pyjama_and_label_vocabulary(tmp_path):
    path = tmp_path / "x.pyjama"
    path.write_text(json.dumps({"schemaversion": 1.31, "collection": {"entry": [
        entry("a.wav", genre=[{"value": "rock"}]), entry("b.wav", genre=[{"value": "jazz"}])]}}))
    data_d = an.load_pyjama(path)
    assert an.f_get_labelname_dict(data_d, "genre") == ["jazz", "rock"]


def test_load_pyjama_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.pyjama: annotation file not found"):
        an.load_pyjama(tmp_path / "absent.pyjama")
    truncated = tmp_path / "t.pyjama"
    truncated.write_text('{"collection": {"entry": [')
    with pytest.raises(an.AnnotationError, match="t.pyjama: not valid JSON"):
        an.load_pyjama(truncated)
    wrong = tmp_path / "w.pyjama"
    wrong.write_text('{"entries": []}')
    with pytest.raises(an.AnnotationError, match="no 'collection' -> 'entry' list"):
        an.load_pyjama(wrong)
    no_path = tmp_path / "n.pyjama"
    no_path.write_text('{"collection": {"entry": [{"genre": [{"value": "x"}]}]}}')
    with pytest.raises(an.AnnotationError, match="entry 0 has no 'filepath'"):
        an.load_pyjama(no_path)


def test_multiclass_target_and_errors():
    labels = ["jazz", "rock"]
    assert an.f_get_multiclass_target(entry(genre=[{"value": "rock"}]), "genre", labels) == 1
    with pytest.raises(an.AnnotationError, match="entry 'a.wav' has no field 'genre'"):
        an.f_get_multiclass_target(entry(tag=[{"value": "x"}]), "genre", labels, "f.pyjama")
    with pytest.raises(an.AnnotationError, match="unknown label 'pop'"):
        an.f_get_multiclass_target(entry(genre=[{"value": "pop"}]), "genre", labels)
    with pytest.raises(an.AnnotationError, match="has 2 values; a multiclass problem needs exactly one"):
        an.f_get_multiclass_target(entry(genre=[{"value": "rock"}, {"value": "jazz"}]), "genre", labels)
    with pytest.raises(an.AnnotationError, match="list of {'value': ...} dicts"):
        an.f_get_multiclass_target(entry(genre="rock"), "genre", labels)


def test_multilabel_target():
    target_v = an.f_get_multilabel_target(entry(tag=[{"value": "flute"}, {"value": "organ"}]), "tag",
                                          ["flute", "organ", "piano"])
    np.testing.assert_array_equal(target_v, [1, 1, 0])
    assert target_v.dtype == np.float32


def test_segment_target():
    time_sec_v = np.arange(10) * 0.5  # 0, 0.5, ..., 4.5
    chord_l = [{"value": "C", "time": 0.0, "duration": 2.0}, {"value": "G", "time": 2.0, "duration": 3.0}]
    target_m = an.f_get_segment_target(entry(chord=chord_l), "chord", ["C", "G"], time_sec_v)
    np.testing.assert_array_equal(target_m[0], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(target_m[1], [0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    with pytest.raises(an.AnnotationError, match="no 'time'/'duration'"):
        an.f_get_segment_target(entry(chord=[{"value": "C"}]), "chord", ["C"], time_sec_v)


def test_pianoroll_target_on_hcqt_bins():
    time_sec_v = np.arange(8) * 0.25
    note_l = [{"value": 69, "time": 0.5, "duration": 0.5}, {"value": 24, "time": 0.0, "duration": 2.0},
              {"value": 10, "time": 0.0, "duration": 1.0}]  # MIDI 10 is below C1: outside
    target_m, left_out_d = an.f_get_pianoroll_target(entry(pitchmidi=note_l), "pitchmidi", time_sec_v,
                                                    fmin_hz=32.7, bins_per_semitone=3, n_bins=216)
    assert target_m.shape == (216, 8) and left_out_d == {"notes outside the pitch range": 1}
    assert target_m[(69 - 24) * 3].tolist() == [0, 0, 1, 1, 0, 0, 0, 0]  # A4: 45 semitones above C1
    assert target_m[0].sum() == 8 and target_m.sum() == 10


def test_pianoroll_target_of_some_voices_only():
    """voice_l draws the melody (the top voice) only: the target of notebook 07's melody extractor."""
    time_sec_v = np.arange(4) * 0.5
    note_l = [{"value": 72, "time": 0.0, "duration": 2.0, "voice": "Soprano"},
              {"value": 48, "time": 0.0, "duration": 2.0, "voice": "Bass"}]
    target_m, _ = an.f_get_pianoroll_target(entry(pitchmidi=note_l), "pitchmidi", time_sec_v, 32.7, 1, 72,
                                            voice_l=["Soprano"])
    assert np.flatnonzero(target_m.sum(axis=1)).tolist() == [72 - 24]
    assert an.has_voice(entry(pitchmidi=note_l), "pitchmidi", ["Bass"])
    assert not an.has_voice(entry(pitchmidi=note_l), "pitchmidi", ["Alto"])
    no_voice_l = [{"value": 72, "time": 0.0, "duration": 2.0}]
    with pytest.raises(an.AnnotationError, match="'a.wav', field 'pitchmidi': a note has no 'voice'"):
        an.f_get_pianoroll_target(entry(pitchmidi=no_voice_l), "pitchmidi", time_sec_v, 32.7, 1, 72,
                                  voice_l=["Soprano"])


def test_f0_target():
    time_sec_v = np.array([0.0, 0.1, 0.2])
    f0_item = {"value": [[440.0, 440.0, 0.0], [65.4, 0.0, 65.4]], "time": [0.0, 0.1, 0.2]}
    target_m = an.f_get_f0_target(entry(f0=[f0_item]), "f0", time_sec_v, 32.7, 1, 72)
    assert target_m[45].tolist() == [1, 1, 0] and target_m[12].tolist() == [1, 0, 1]
    bad_item = {"value": [[440.0, 440.0]], "time": [0.0, 0.1, 0.2]}
    with pytest.raises(an.AnnotationError, match="f0 array of 2 values for 3 times"):
        an.f_get_f0_target(entry(f0=[bad_item]), "f0", time_sec_v, 32.7, 1, 72)


def test_f0multi_target_in_midi_at_the_nearest_time():
    """The original course's Bach10 field: one item, time (n_time,), value (n_stem, n_time) in MIDI, 0 = silent."""
    f0multi_item = {"time": [0.0, 0.1, 0.2, 0.3], "value": [[69, 69, 0, 0], [36, 0, 0, 45.0]]}
    time_sec_v = np.array([0.0, 0.04, 0.06, 0.29])  # nearest annotation times: 0.0, 0.0, 0.1, 0.3
    target_m = an.f_get_f0_target(entry(f0multi=[f0multi_item]), "f0multi", time_sec_v, 32.7, 1, 72, unit="midi")
    assert target_m[69 - 24].tolist() == [1, 1, 1, 0] and target_m[36 - 24].tolist() == [1, 1, 0, 0]
    assert target_m[45 - 24].tolist() == [0, 0, 0, 1] and target_m.sum() == 6, "0 is silence, not a pitch"
    with pytest.raises(ValueError, match="unit must be 'hz' or 'midi', got 'cents'"):
        an.f_get_f0_target(entry(f0multi=[f0multi_item]), "f0multi", time_sec_v, 32.7, 1, 72, unit="cents")


def test_work_id():
    assert an.f_get_work_id(entry(work_id=[{"value": 17}])) == "17"


def test_split_from_the_split_field():
    entry_l = [entry("a", split=[{"value": "train"}]), entry("b", split=[{"value": "test"}])]
    assert [e["filepath"][0]["value"] for e in an.f_get_split_entry_l(entry_l, "test")] == ["b"]
    with pytest.raises(an.AnnotationError, match="the 'valid' split is empty"):
        an.f_get_split_entry_l(entry_l, "valid")
    with pytest.raises(ValueError, match="split must be one of train, valid, test"):
        an.f_get_split_entry_l(entry_l, "training")


def test_split_by_group_never_by_clip():
    entry_l = [entry(f"{work}-{version}.wav", artist=[{"value": f"artist{work}"}])
               for work in range(30) for version in range(3)]
    split_of_artist_d = {}
    for split in ("train", "valid", "test"):
        for e in an.f_get_split_entry_l(entry_l, split, group_key="artist"):
            artist = e["artist"][0]["value"]
            assert split_of_artist_d.setdefault(artist, split) == split, "an artist is in two splits"
    assert len(split_of_artist_d) == 30


def test_split_without_split_or_group_field_is_the_originals_split_by_entry_index():
    """The original course's files (GTZAN, MTT, Bach10, MAPS, RWC) have neither field: the original's rule."""
    entry_l = [entry(f"{i}.wav") for i in range(12)]
    name_d = {}
    for split in ("train", "valid", "test"):
        with pytest.warns(UserWarning, match=r"<pyjama>: the entries have neither a 'split' nor a 'work_id' field.*"
                                             r"'test' is that valid split"):
            name_d[split] = [e["filepath"][0]["value"] for e in an.f_get_split_entry_l(entry_l, split)]
    assert name_d["valid"] == name_d["test"] == ["0.wav", "5.wav", "10.wav"]
    assert len(name_d["train"]) == 9 and not set(name_d["train"]) & set(name_d["valid"])
    assert an.split_by_entry_index(6) == ["valid", "train", "train", "train", "train", "valid"]


def test_split_with_a_group_field_asked_for_or_on_some_entries_only():
    with pytest.raises(an.AnnotationError, match=r"no 'split' field, and 1 of 1 \(e.g. 'a.wav'\) have no 'artist'"):
        an.f_get_split_entry_l([entry("a.wav")], "train", group_key="artist")
    with pytest.raises(an.AnnotationError, match=r"1 of 2 \(e.g. 'b.wav'\) have no 'work_id' field"):
        an.f_get_split_entry_l([entry("a.wav", work_id=[{"value": "w"}]), entry("b.wav")], "train")


def test_assign_splits_is_one_rule_by_group():
    split_d = an.assign_splits([f"w{i}" for i in range(10)] * 3)
    assert sorted(split_d) == [f"w{i}" for i in range(10)]
    assert [list(split_d.values()).count(split) for split in ("train", "valid", "test")] == [6, 2, 2]
    assert an.assign_splits([f"w{i}" for i in range(10)]) == split_d, "the same on every call"
    assert an.assign_splits(["a", "b"]) == {"a": "train", "b": "train"}, "fewer than 3 groups: all train"
    entry_l = [entry(f"{i}.wav", work_id=[{"value": f"w{i % 10}"}]) for i in range(30)]
    chosen_l = an.f_get_split_entry_l(entry_l, "test")
    assert {e["work_id"][0]["value"] for e in chosen_l} == {w for w, s in split_d.items() if s == "test"}


def test_a_partial_split_field_is_refused_not_resplit():
    entry_l = [entry("a.wav", split=[{"value": "test"}], work_id=[{"value": "w"}]),
               entry("b.wav", work_id=[{"value": "w"}])]
    with pytest.raises(an.AnnotationError, match=r"x.pyjama: 1 of 2 entries have no 'split' field \(e.g. 'b.wav'\)"):
        an.f_get_split_entry_l(entry_l, "test", pyjama_annot_file="x.pyjama")


def test_notes_that_cannot_be_drawn_are_errors_or_counted():
    time_sec_v = np.arange(10) * 0.1
    where = "x.pyjama: entry 'a.wav', field 'pitchmidi'"
    for bad, message in (({"value": "A4", "time": 0, "duration": 1}, "pitch 'A4' is not a number"),
                         ({"value": None, "time": 0, "duration": 1}, "pitch None is not a number"),
                         ({"value": 60, "time": 0.2, "duration": -0.1}, "negative time or duration"),
                         ({"value": 60, "time": "soon", "duration": 1}, "time 'soon' is not a number")):
        with pytest.raises(an.AnnotationError, match=f"{where}: .*{message}"):
            an.f_get_pianoroll_target(entry(pitchmidi=[bad]), "pitchmidi", time_sec_v, 32.7, 1, 72,
                                      pyjama_annot_file="x.pyjama")
    late_l = [{"value": 60, "time": 0.1, "duration": 0.3}, {"value": 62, "time": 5.0, "duration": 1.0}]
    target_m, left_out_d = an.f_get_pianoroll_target(entry(pitchmidi=late_l), "pitchmidi", time_sec_v, 32.7, 1, 72)
    assert target_m.sum() == 3 and left_out_d == {"notes after the end of the audio": 1}


def test_two_entries_with_the_same_filepath_are_refused(tmp_path):
    path = tmp_path / "dup.pyjama"
    path.write_text(json.dumps({"collection": {"entry": [entry("a.wav", genre=[{"value": "rock"}]), entry("b.wav"),
                                                         entry("a.wav", genre=[{"value": "jazz"}])]}}))
    with pytest.raises(an.AnnotationError, match="dup.pyjama: entries 0 and 2 have the same filepath 'a.wav'"):
        an.load_pyjama(path)


def test_a_pyjama_in_another_encoding_or_with_a_number_as_filepath_is_named(tmp_path):
    latin = tmp_path / "latin.pyjama"
    latin.write_bytes(json.dumps({"collection": {"entry": [entry("Dvořák.wav".replace("ř", "r"), title=[
        {"value": "Chanson d'été"}])]}}, ensure_ascii=False).encode("latin-1"))
    with pytest.raises(an.AnnotationError, match=r"latin.pyjama: not UTF-8 text \(byte \d+, .*save it as UTF-8"):
        an.load_pyjama(latin)
    numeric = tmp_path / "numeric.pyjama"
    numeric.write_text(json.dumps({"collection": {"entry": [entry(12)]}}))
    with pytest.raises(an.AnnotationError, match="entry 0 has the filepath 12; a filepath is the track's key"):
        an.load_pyjama(numeric)


@pytest.mark.parametrize("value, hint", [("Train", "did you mean 'train'"), ("validation", "not 'validation'")])
def test_a_split_value_that_is_no_split_is_named_not_dropped(value, hint):
    entry_l = [entry("a.wav", split=[{"value": "train"}]), entry("b.wav", split=[{"value": value}])]
    with pytest.raises(an.AnnotationError, match=f"entry 'b.wav' has split '{value}'.*{hint}"):
        an.f_get_split_entry_l(entry_l, "train")


def test_pianoroll_to_notes_inverts_the_pianoroll_target():
    note_entry = entry(pitchmidi=[{"value": 60, "time": 0.0, "duration": 0.5}, {"value": 62, "time": 0.25,
                                                                             "duration": 0.5}])
    time_sec_v = np.arange(40) * 0.05
    roll_m, _ = an.f_get_pianoroll_target(note_entry, "pitchmidi", time_sec_v, 261.63, 1, 4)
    note_l = an.pianoroll_to_notes(roll_m, time_sec_v, [60, 61, 62, 63])
    assert [midi for _, _, midi in note_l] == [60, 62]
    np.testing.assert_allclose([note[:2] for note in note_l], [(0.0, 0.5), (0.25, 0.75)])
    assert an.pianoroll_to_notes(roll_m, time_sec_v, [60, 61, 62, 63], min_frames=11) == []
