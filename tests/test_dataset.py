"""course_utils.dataset on small files in the original course's format, written by the tests."""

import h5py
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from course_utils import dataset as ds
from course_utils.annotation import AnnotationError

from .helpers import SR_HZ, sine_track, write_audio_hdf5, write_pyjama

LMS = {"sr_hz": SR_HZ, "type": "lms", "nb_band": 64, "L_n": 1024, "STEP_n": 512, "patch_L_frame": 16,
       "patch_STEP_frame": 8}
HCQT = {"sr_hz": SR_HZ, "type": "hcqt", "h_l": [0.5, 1, 2], "fmin": 32.7, "n_octaves": 6, "bins_per_semitone": 1,
        "hop_length": 512, "patch_L_frame": 16, "patch_STEP_frame": 16}
TEMPOGRAM = {"sr_hz": SR_HZ, "type": "tempogram", "nb_band": 32, "L_n": 1024, "onset_hop_n": 256, "nb_lag": 32,
             "STEP_n": 512, "patch_L_frame": 16, "patch_STEP_frame": 8}
SPLIT_L = ["train", "train", "valid", "test"]


def genre_entry(key, genre, split, tag_l=("flute",), work="w"):
    return {"filepath": [{"value": key}], "genre": [{"value": genre}], "tag": [{"value": t} for t in tag_l],
            "split": [{"value": split}], "work_id": [{"value": work}],
            "pitchmidi": [{"value": 57 if genre == "low" else 81, "time": 0.5, "duration": 1.0}]}  # 220 / 880 Hz


@pytest.fixture
def toy(tmp_path):
    """8 tracks of 2 s, two genres (a low and a high tone), two works per split (train/valid/test)."""
    track_d, entry_l = {}, []
    for i in range(8):
        genre = "low" if i % 2 == 0 else "high"
        key = f"{genre}{i}.wav"
        track_d[key] = sine_track(2.0, 220.0 if genre == "low" else 880.0) * (0.5 + 0.1 * i)
        entry_l.append(genre_entry(key, genre, SPLIT_L[i // 2], tag_l=("flute", "organ") if i % 4 == 0
                                   else ("flute",), work=f"work{i // 2}"))
    audio = write_audio_hdf5(tmp_path / "toy_audio.hdf5", track_d)
    pyjama = write_pyjama(tmp_path / "toy.pyjama", entry_l)
    return audio, pyjama, tmp_path


def config(feature_d=LMS, **dataset_d):
    return {"dataset": {"problem": "multiclass", "annot_key": "genre", **dataset_d}, "feature": dict(feature_d)}


def test_tag_dataset_multiclass_items_and_batches(toy):
    audio, pyjama, _ = toy
    train = ds.TagDataset(audio, pyjama, "train", config(), progress=False)
    assert train.labelname_l == ["high", "low"] and len(train.key_l) == 4
    n_frames = 1 + 2 * SR_HZ // 512
    assert len(train) == 4 * len(range(0, n_frames - 16 + 1, 8)) + 4 * ((n_frames - 16) % 8 != 0)
    item = train[0]
    assert item["X"].shape == (1, 64, 16) and item["X"].dtype == torch.float32
    assert item["y"].dtype == torch.int64 and item["y"].item() == train.labelname_l.index("low")
    batch = next(iter(DataLoader(train, batch_size=5, shuffle=True)))
    assert batch["X"].shape == (5, 1, 64, 16) and batch["y"].shape == (5,) and len(batch["key"]) == 5


def test_tag_dataset_multilabel(toy):
    audio, pyjama, _ = toy
    train = ds.TagDataset(audio, pyjama, "train", config(problem="multilabel", annot_key="tag"), progress=False)
    assert train.labelname_l == ["flute", "organ"]
    y_by_key_d = {item["key"]: item["y"].tolist() for item in (train[i] for i in range(len(train)))}
    assert y_by_key_d["low0.wav"] == [1.0, 1.0] and y_by_key_d["high1.wav"] == [1.0, 0.0]


def test_label_l_leaves_out_other_labels_and_reports_them(toy, capsys):
    audio, pyjama, _ = toy
    train = ds.TagDataset(audio, pyjama, "train", config(label_l=["low"]), progress=False)
    assert all(key.startswith("low") for key in train.key_l)
    assert train.skipped_d == {"entries labelled 'high' (not in label_l)": 2}
    assert "left out: 2 entries labelled 'high'" in capsys.readouterr().out


def test_feature_placements_give_the_same_patches(toy):
    audio, pyjama, tmp_path = toy
    for feature_d, tolerance in ((LMS, 1e-4), (HCQT, 2e-2), (TEMPOGRAM, 1e-4)):
        memory = ds.TagDataset(audio, pyjama, "train", config(feature_d), progress=False)
        disk = ds.TagDataset(audio, pyjama, "train", config(feature_d), feature_placement="disk",
                             feature_cache_dir=tmp_path / "cache", progress=False)
        fly = ds.TagDataset(audio, pyjama, "train", config(feature_d), feature_placement="on_the_fly",
                            progress=False)
        assert len(memory) == len(disk) == len(fly)
        for idx in (0, len(memory) // 2, len(memory) - 1):
            torch.testing.assert_close(disk[idx]["X"], memory[idx]["X"])
            error = torch.linalg.norm(fly[idx]["X"] - memory[idx]["X"]) / torch.linalg.norm(memory[idx]["X"])
            assert error < tolerance, f"{feature_d['type']} on the fly differs by {error:.1e} at patch {idx}"


def test_disk_placement_works_with_dataloader_workers(toy):
    audio, pyjama, tmp_path = toy
    disk = ds.TagDataset(audio, pyjama, "train", config(), feature_placement="disk", progress=False)
    batch_l = list(DataLoader(disk, batch_size=4, num_workers=2))
    assert sum(batch["X"].shape[0] for batch in batch_l) == len(disk)


def test_pitch_dataset_piano_roll_is_aligned(toy):
    audio, pyjama, _ = toy
    train = ds.PitchDataset(audio, pyjama, "train", config(HCQT, annot_key="pitchmidi"), progress=False)
    X, roll_m = train.get_track("high1.wav")
    assert X.shape[:2] == (3, 72) and roll_m.shape == (72, X.shape[2])
    active_bin_v = torch.nonzero(roll_m.sum(dim=1)).flatten()
    assert active_bin_v.tolist() == [81 - 24]  # A5 (MIDI 81) is 57 semitones above C1 (MIDI 24), 1 bin/semitone
    item = train[0]
    assert item["X"].shape == (3, 72, 16) and item["y"].shape == (1, 72, 16) and item["y"].dtype == torch.float32
    time_sec_v = np.arange(roll_m.shape[1]) * 512 / SR_HZ
    assert roll_m[57, (time_sec_v >= 0.5) & (time_sec_v < 1.5)].min() == 1
    assert roll_m[57, (time_sec_v < 0.5) | (time_sec_v >= 1.5)].max() == 0
    assert X[1, 57, (time_sec_v > 0.2) & (time_sec_v < 1.8)].mean() > 10 * X[1, 45].mean()  # the sound is there


def test_pitch_dataset_of_one_voice(tmp_path):
    """dataset.voice_l: the target holds that voice only; tracks without it are left out and counted."""
    track_d = {f"t{i}.wav": sine_track(2.0, 880.0) + sine_track(2.0, 220.0) for i in range(3)}
    note_l = [{"value": 81, "time": 0.5, "duration": 1.0, "voice": "Soprano"},
              {"value": 57, "time": 0.5, "duration": 1.0, "voice": "Bass"}]
    entry_l = [{"filepath": [{"value": key}], "split": [{"value": "train"}], "work_id": [{"value": key}],
                "pitchmidi": note_l if key != "t2.wav" else note_l[1:]} for key in track_d]
    audio = write_audio_hdf5(tmp_path / "v_audio.hdf5", track_d)
    pyjama = write_pyjama(tmp_path / "v.pyjama", entry_l)
    melody = ds.PitchDataset(audio, pyjama, "train", config(HCQT, annot_key="pitchmidi", voice_l=["Soprano"]),
                             progress=False)
    assert melody.key_l == ["t0.wav", "t1.wav"]
    assert melody.skipped_d == {"tracks with no note of voice_l ['Soprano']": 1}
    _, roll_m = melody.get_track("t0.wav")
    assert torch.nonzero(roll_m.sum(dim=1)).flatten().tolist() == [81 - 24]
    with pytest.raises(ds.DatasetError, match="voice_l selects notes of 'pitchmidi'"):
        ds.PitchDataset(audio, pyjama, "train", config(HCQT, annot_key="f0", voice_l=["Soprano"]), progress=False)


def test_pitch_dataset_needs_the_hcqt(toy):
    audio, pyjama, _ = toy
    with pytest.raises(ds.DatasetError, match="needs the HCQT"):
        ds.PitchDataset(audio, pyjama, "train", config(LMS, annot_key="pitchmidi"), progress=False)


def test_cover_dataset_units_are_works_and_collate(toy):
    audio, pyjama, _ = toy
    train = ds.CoverDataset(audio, pyjama, "train", config(HCQT, annot_key="work_id", versions_per_work=2),
                            progress=False)
    assert len(train) == 2 and train.work_l == ["work0", "work1"]
    item = train[1]
    assert item["X"].shape == (2, 3, 72, 16) and item["y"].tolist() == [1, 1]
    batch = next(iter(DataLoader(train, batch_size=2, collate_fn=ds.cover_collate)))
    assert batch["X"].shape == (4, 3, 72, 16) and sorted(batch["y"].tolist()) == [0, 0, 1, 1]
    assert train.get_track_patches("low0.wav").shape[1:] == (3, 72, 16)


def test_cover_train_split_leaves_out_single_version_works(toy, tmp_path):
    audio, _, _ = toy
    entry_l = [genre_entry(f"low{i}.wav", "low", "train", work=f"w{min(i, 2)}") for i in (0, 2, 4)]
    entry_l[0]["filepath"][0]["value"], entry_l[1]["filepath"][0]["value"] = "low0.wav", "low2.wav"
    entry_l[2]["work_id"] = [{"value": "w0"}]
    entry_l.append(genre_entry("low6.wav", "low", "train", work="alone"))
    pyjama = write_pyjama(tmp_path / "covers.pyjama", entry_l)
    train = ds.CoverDataset(audio, pyjama, "train", config(HCQT, annot_key="work_id"), progress=False)
    assert train.work_l == ["w0"] and train.skipped_d == {"single-version works (no positive pair)": 2}


@pytest.mark.parametrize("make", [
    lambda a, p: ds.TagDataset(a, p, "train", config(problem="multilabel", annot_key="tag"), progress=False),
    lambda a, p: ds.PitchDataset(a, p, "train", config(HCQT, annot_key="pitchmidi"), progress=False),
    lambda a, p: ds.CoverDataset(a, p, "train", config(HCQT, annot_key="work_id"), progress=False),
], ids=["tag", "pitch", "cover"])
def test_every_dataset_gives_whole_tracks_through_the_same_methods(toy, make):
    audio, pyjama, _ = toy
    train = make(audio, pyjama)
    key = train.key_l[0]
    X, y = train.get_track(key)
    time_sec_v, patch_l = train.time_sec_v(key), train.track_patches(key)
    assert X.shape[-1] == len(time_sec_v) and time_sec_v[1] == pytest.approx(512 / SR_HZ)
    assert patch_l[0] == {"start_frame": 0, "end_frame": 16} and patch_l[-1]["end_frame"] == X.shape[-1]
    assert train.get_track_patches(key).shape == (len(patch_l), *X.shape[:-1], 16)
    target = train.get_target(key)
    assert (target == y) if isinstance(target, str) else torch.equal(target, y)
    with pytest.raises(KeyError, match="track 'valid2.wav' is not in the 'train' split"):
        train.get_track("valid2.wav")


def test_cover_works_are_listed_when_built(toy):
    audio, pyjama, _ = toy
    test = ds.CoverDataset(audio, pyjama, "test", config(HCQT, annot_key="work_id"), progress=False)
    assert test.work_l == ["work3"] and test.key_by_work_d == {"work3": ["low6.wav", "high7.wav"]}
    assert test.get_track("low6.wav")[1] == "work3"


# --- bad inputs -----------------------------------------------------------------------------------

def test_filepath_without_audio(toy, tmp_path):
    audio, _, _ = toy
    pyjama = write_pyjama(tmp_path / "ghost.pyjama", [genre_entry("ghost.wav", "low", "train")])
    with pytest.raises(KeyError, match="toy_audio.hdf5: no audio for track 'ghost.wav'"):
        ds.TagDataset(audio, pyjama, "train", config(), progress=False)


def test_missing_annotation_field(toy):
    audio, pyjama, _ = toy
    with pytest.raises(AnnotationError, match="entry 'low0.wav' has no field 'mood'"):
        ds.TagDataset(audio, pyjama, "train", config(annot_key="mood"), progress=False)


def test_unknown_label(toy):
    audio, pyjama, _ = toy
    with pytest.raises(AnnotationError, match="entry 'low0.wav', field 'tag': unknown label 'organ'"):
        ds.TagDataset(audio, pyjama, "train", config(problem="multilabel", annot_key="tag", label_l=["flute"]),
                      progress=False)


def test_empty_split(toy, tmp_path):
    audio, _, _ = toy
    pyjama = write_pyjama(tmp_path / "train_only.pyjama", [genre_entry("low0.wav", "low", "train")])
    with pytest.raises(AnnotationError, match="the 'test' split is empty"):
        ds.TagDataset(audio, pyjama, "test", config(), progress=False)


def test_track_shorter_than_one_patch(tmp_path):
    audio = write_audio_hdf5(tmp_path / "short_audio.hdf5", {"short.wav": sine_track(0.2, 440)})
    pyjama = write_pyjama(tmp_path / "short.pyjama", [genre_entry("short.wav", "low", "train")])
    with pytest.raises(ds.DatasetError, match=r"short_audio.hdf5, track 'short.wav' \(0.20 s\): the feature has 9 "
                                              "frames, fewer than one patch of 16 frames"):
        ds.TagDataset(audio, pyjama, "train", config(), progress=False)


def test_sampling_rate_different_from_the_config(tmp_path):
    audio = write_audio_hdf5(tmp_path / "sr_audio.hdf5", {"a.wav": sine_track(2.0, 440, sr_hz=16000)}, sr_hz=16000)
    pyjama = write_pyjama(tmp_path / "sr.pyjama", [genre_entry("a.wav", "low", "train")])
    with pytest.raises(ds.DatasetError, match="track 'a.wav': sampling rate 16000 Hz but 22050 Hz from the config's "
                                              "feature.sr_hz; resample the audio to one rate or change the config"):
        ds.TagDataset(audio, pyjama, "train", config(), progress=False)


@pytest.mark.parametrize("placement", ["memory", "disk", "on_the_fly"])
def test_sampling_rate_read_from_the_audio_file_when_the_config_has_none(tmp_path, placement):
    """The original course's feature sections have no sr_hz: it comes from the audio file."""
    audio = write_audio_hdf5(tmp_path / "sr_audio.hdf5", {"a.wav": sine_track(2.0, 440, sr_hz=16000),
                                                          "b.wav": sine_track(2.0, 440, sr_hz=16000)}, sr_hz=16000)
    pyjama = write_pyjama(tmp_path / "sr.pyjama", [genre_entry(key, "low", "train") for key in ("a.wav", "b.wav")])
    no_rate = {key: value for key, value in LMS.items() if key != "sr_hz"}
    read = ds.TagDataset(audio, pyjama, "train", config(no_rate), feature_placement=placement,
                         feature_cache_dir=tmp_path / "cache", progress=False)
    assert read.feature_d.sr_hz == 16000 and "track 'a.wav'" in read.sr_hz_source
    told = ds.TagDataset(audio, pyjama, "train", config(dict(no_rate, sr_hz=16000)), feature_placement=placement,
                         feature_cache_dir=tmp_path / "cache", progress=False)
    assert torch.equal(read[0]["X"], told[0]["X"])
    mixed = write_audio_hdf5(tmp_path / "mixed_audio.hdf5", {"a.wav": sine_track(2.0, 440, sr_hz=16000)}, sr_hz=16000)
    with h5py.File(mixed, "a") as fid:
        fid.create_dataset("b.wav", data=sine_track(2.0, 440)).attrs["sr_hz"] = 22050
    with pytest.raises(ds.DatasetError, match=r"track 'b.wav': sampling rate 22050 Hz but 16000 Hz from track 'a.wav' "
                                              r"\(the config has no feature.sr_hz\)"):
        ds.TagDataset(mixed, pyjama, "train", config(no_rate), progress=False)


def test_nan_audio(tmp_path):
    audio_v = sine_track(2.0, 440)
    audio_v[100] = np.nan
    audio = write_audio_hdf5(tmp_path / "nan_audio.hdf5", {"a.wav": audio_v})
    pyjama = write_pyjama(tmp_path / "nan.pyjama", [genre_entry("a.wav", "low", "train")])
    with pytest.raises(ValueError, match="nan_audio.hdf5: track 'a.wav' holds NaN"):
        ds.TagDataset(audio, pyjama, "train", config(), progress=False)


def test_bad_config(toy):
    audio, pyjama, _ = toy
    with pytest.raises(ds.DatasetError, match="no 'feature' section"):
        ds.TagDataset(audio, pyjama, "train", {"dataset": {}}, progress=False)
    with pytest.raises(ds.DatasetError, match="dataset.problem must be multiclass, multilabel or segment"):
        ds.TagDataset(audio, pyjama, "train", config(problem="regression"), progress=False)
    with pytest.raises(ValueError, match="feature_placement must be one of memory, disk, on_the_fly"):
        ds.TagDataset(audio, pyjama, "train", config(), feature_placement="gpu", progress=False)


def test_no_entry_left_after_selection(toy):
    audio, pyjama, _ = toy
    with pytest.raises(ds.DatasetError, match="no entry left in the 'train' split after selection"):
        ds.TagDataset(audio, pyjama, "train", config(label_l=["rock"]), progress=False)


def test_n_out_must_match_the_labels(toy):
    audio, pyjama, _ = toy
    with pytest.raises(ds.DatasetError, match=r"n_out is 3 but there are 2 labels \(high, low\); set n_out to 2"):
        ds.TagDataset(audio, pyjama, "train", config(n_out=3), progress=False)
    assert len(ds.TagDataset(audio, pyjama, "train", config(n_out=2), progress=False).labelname_l) == 2


def test_renderer_l_keeps_the_tracks_of_some_renderers(toy, tmp_path):
    audio, _, _ = toy
    entry_l = [dict(genre_entry(f"low{i}.wav", "low", "train"), renderer=[{"value": "timgm" if i else "synth"}])
               for i in (0, 2, 4)]
    pyjama = write_pyjama(tmp_path / "renderers.pyjama", entry_l)
    synth_only = ds.TagDataset(audio, pyjama, "train", config(renderer_l=["synth"]), progress=False)
    assert synth_only.key_l == ["low0.wav"] and synth_only.skipped_d == {"tracks not played by ['synth']": 2}
    every = ds.TagDataset(audio, pyjama, "train", config(), progress=False)
    assert [every.renderer_of_key(key) for key in every.key_l] == ["synth", "timgm", "timgm"]
    with pytest.raises(AnnotationError, match="entry 'low0.wav' has no field 'renderer'"):
        ds.TagDataset(audio, toy[1], "train", config(renderer_l=["synth"]), progress=False)


def test_original_bach10_schema_with_base_and_do_f0_annot_frame(tmp_path):
    """The original course's Bach10: f0multi (per-stem MIDI arrays, 0 = silent), files named by base, no sr_hz."""
    track_d = {f"bach{i}.wav": sine_track(2.0, 440.0) + sine_track(2.0, 110.0) for i in range(2)}
    write_audio_hdf5(tmp_path / "bach10_audio.hdf5", track_d)
    time_v = np.arange(0, 2.0, 0.01)
    entry_l = [{"filepath": [{"value": key}], "split": [{"value": "train"}],
                "f0multi": [{"time": time_v.tolist(), "value": [[69.0] * len(time_v), [45.0] * len(time_v),
                                                                  [0.0] * len(time_v)]}]} for key in track_d]
    write_pyjama(tmp_path / "bach10.pyjama", entry_l)
    config = {"dataset": {"base": "bach10", "do_f0_annot": "frame"},
              "feature": {key: value for key, value in HCQT.items() if key != "sr_hz"}}
    audio, pyjama = ds.dataset_files(config, tmp_path)
    assert (audio.name, pyjama.name) == ("bach10_audio.hdf5", "bach10.pyjama")
    pitch = ds.PitchDataset(audio, pyjama, "train", config, progress=False)
    roll_m = pitch.get_target("bach0.wav")
    assert torch.equal(roll_m.sum(dim=1) > 0, torch.isin(torch.arange(72), torch.tensor([69 - 24, 45 - 24])))
    assert roll_m[69 - 24].all() and roll_m[45 - 24].all(), "every frame labelled, from the nearest f0 time"
    for bad_d, message in (({"do_f0_annot": "notes"}, "do_f0_annot must be 'segment'"),
                           ({"do_f0_annot": "frame", "annot_key": "pitchmidi"}, "'frame' reads f0 arrays")):
        with pytest.raises(ds.DatasetError, match=message):
            ds.PitchDataset(audio, pyjama, "train", dict(config, dataset=dict(config["dataset"], **bad_d)),
                            progress=False)


def test_dataset_files_of_a_config(tmp_path):
    assert ds.dataset_files({"dataset": {"base": "cover1000"}, "feature": {"type": "precomputed"}}, tmp_path) == (
        tmp_path / "cover1000_feat.hdf5", tmp_path / "cover1000.pyjama")
    assert ds.dataset_files({"dataset": {"base": "course"}, "feature": {"type": "lms"}}, tmp_path)[1].name == \
        "course-small.pyjama"  # the test run is in fast mode
    with pytest.raises(ds.DatasetError, match="dataset section has no 'base'"):
        ds.dataset_files({"dataset": {}, "feature": {}}, tmp_path)


def test_track_collate_pads_whole_tracks_to_the_longest_and_keeps_their_lengths():
    item_l = [{"X": torch.ones(2, 3, n_frames), "y": torch.tensor(label), "key": f"t{n_frames}"}
              for n_frames, label in ((4, 0), (6, 1))]
    batch = ds.track_collate(item_l)
    assert batch["X"].shape == (2, 2, 3, 6) and batch["n_frames"].tolist() == [4, 6]
    assert batch["X"][0, ..., :4].eq(1).all() and batch["X"][0, ..., 4:].eq(0).all()
    assert batch["y"].tolist() == [0, 1] and batch["key"] == ["t4", "t6"]
    # a target with the time axis of its X (a piano roll) is padded the same way
    roll_l = [{"X": torch.ones(6, 72, n), "y": torch.ones(1, 72, n)} for n in (5, 8)]
    roll_batch = ds.track_collate(roll_l)
    assert roll_batch["y"].shape == (2, 1, 72, 8) and roll_batch["y"][0, ..., 5:].eq(0).all()


# ---- the original course's files, in exactly its schema: 'filepath' and the task's field, no split, no work id


def _original_gtzan(track_i):
    return {"genre": [{"value": ("blues", "rock")[track_i % 2]}]}


def _original_mtt(track_i):
    return {"tag": [{"value": tag} for tag in (("guitar", "rock"), ("piano",), ("guitar",))[track_i % 3]]}


def _original_rwc_chord(track_i):
    return {"chord": [{"value": "C:maj", "time": 0.0, "duration": 1.0},
                      {"value": ("G:maj", "A:min")[track_i % 2], "time": 1.0, "duration": 1.0}]}


def _original_maps(track_i):
    return {"pitchmidi": [{"value": 57 + track_i % 3, "time": 0.2, "duration": 1.5}]}


def _original_bach10(track_i):
    time_v = np.arange(0, 2.0, 0.01).tolist()
    return {"f0multi": [{"time": time_v, "value": [[69.0] * len(time_v), [45.0 + track_i % 2] * len(time_v)]}]}


NO_RATE_LMS = {key: value for key, value in LMS.items() if key != "sr_hz"}
NO_RATE_HCQT = {key: value for key, value in HCQT.items() if key != "sr_hz"}
# (base, dataset section as the original config writes it, feature section, Dataset class, fields of track i, rate)
ORIGINAL_SCHEMA_L = [
    ("gtzan-genre", {"problem": "multiclass", "annot_key": "genre", "n_out": 2}, NO_RATE_LMS, ds.TagDataset,
     _original_gtzan, 22050),
    ("mtt", {"problem": "multilabel", "annot_key": "tag", "n_out": 3}, NO_RATE_LMS, ds.TagDataset, _original_mtt,
     16000),
    ("rwc-pop_chord", {"problem": "segment", "annot_key": "chord", "n_out": 3},
     dict(NO_RATE_HCQT, h_l=[1], patch_L_frame=32, patch_STEP_frame=16), ds.TagDataset, _original_rwc_chord, 22050),
    ("maps", {"do_f0_annot": "segment"}, NO_RATE_HCQT, ds.PitchDataset, _original_maps, 22050),
    ("bach10", {"do_f0_annot": "frame"}, NO_RATE_HCQT, ds.PitchDataset, _original_bach10, 22050),
]


@pytest.mark.parametrize("base, dataset_d, feature_d, dataset_class, fields_of_track, sr_hz", ORIGINAL_SCHEMA_L,
                         ids=[case[0] for case in ORIGINAL_SCHEMA_L])
def test_original_schema_files_load_with_the_originals_split(tmp_path, base, dataset_d, feature_d, dataset_class,
                                                            fields_of_track, sr_hz):
    """Files named by ``base``, no sr_hz in the config, entries with only 'filepath' and the task's field: they load
    in their Dataset, split as the original course splits them (every fifth entry is valid; 'test' is valid), with
    a warning that says so."""
    key_l = [f"{base}_{i:02d}.wav" for i in range(10)]
    write_audio_hdf5(tmp_path / f"{base}_audio.hdf5", {key: sine_track(2.0, 220.0 * (1 + i % 3), sr_hz=sr_hz)
                                                       for i, key in enumerate(key_l)}, sr_hz=sr_hz)
    write_pyjama(tmp_path / f"{base}.pyjama", [{"filepath": [{"value": key}], **fields_of_track(i)}
                                               for i, key in enumerate(key_l)])
    config = {"dataset": {"base": base, **dataset_d}, "feature": dict(feature_d)}
    audio, pyjama = ds.dataset_files(config, tmp_path)
    split_d = {}
    for split in ("train", "valid", "test"):
        with pytest.warns(UserWarning, match=r"neither a 'split' nor a 'work_id' field: split track by track as the "
                                             r"original course does \(entry index % 5 == 0 -> valid"):
            split_d[split] = dataset_class(audio, pyjama, split, config, progress=False)
    assert split_d["train"].key_l == [key for i, key in enumerate(key_l) if i % 5 != 0]
    assert split_d["valid"].key_l == split_d["test"].key_l == [key_l[0], key_l[5]]
    train = split_d["train"]
    assert train.feature_d.sr_hz == sr_hz
    item = train[0]
    assert item["X"].dtype == torch.float32 and item["X"].shape[-1] == feature_d["patch_L_frame"]
    if dataset_class is ds.TagDataset:
        assert len(train.labelname_l) == dataset_d["n_out"]
    batch = next(iter(DataLoader(train, batch_size=4)))
    assert batch["X"].shape[0] == 4 and batch["y"].shape[0] == 4
    assert batch["y"].float().sum() > 0, "no target at all: the annotation was not read"


def test_original_schema_with_an_asked_group_field_that_is_missing(tmp_path):
    write_audio_hdf5(tmp_path / "gtzan-genre_audio.hdf5", {"a.wav": sine_track(2.0, 220.0)})
    write_pyjama(tmp_path / "gtzan-genre.pyjama", [{"filepath": [{"value": "a.wav"}], **_original_gtzan(0)}])
    config = {"dataset": {"base": "gtzan-genre", "problem": "multiclass", "annot_key": "genre", "group_key": "artist"},
              "feature": dict(NO_RATE_LMS)}
    with pytest.raises(AnnotationError, match=r"1 of 1 \(e.g. 'a.wav'\) have no 'artist' field to split by"):
        ds.TagDataset(*ds.dataset_files(config, tmp_path), "train", config, progress=False)


def test_track_keys_with_a_slash_behave_the_same_in_every_placement(tmp_path):
    audio = write_audio_hdf5(tmp_path / "s_audio.hdf5", {"folder/a.wav": sine_track(2.0, 440),
                                                         "b.wav": sine_track(2.0, 220)})
    pyjama = write_pyjama(tmp_path / "s.pyjama", [genre_entry("folder/a.wav", "high", "train"),
                                                  genre_entry("b.wav", "low", "train")])
    by_placement_l = [ds.TagDataset(audio, pyjama, "train", config(), feature_placement=name,
                                    feature_cache_dir=tmp_path / "cache", progress=False)
                      for name in ("memory", "disk", "on_the_fly")]
    for dataset in by_placement_l:
        assert dataset.key_l == ["folder/a.wav", "b.wav"] and len(dataset) == len(by_placement_l[0])
        torch.testing.assert_close(dataset.get_track("folder/a.wav")[0], by_placement_l[0].get_track("folder/a.wav")[0],
                                   atol=1e-3, rtol=1e-3)
