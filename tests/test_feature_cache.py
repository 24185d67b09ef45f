"""course_utils.feature_cache and course_utils.audio_store on small hand-made HDF5 files."""

import h5py
import numpy as np
import pytest

from course_utils import feature, feature_cache
from course_utils.audio_store import open_audio_file, read_audio

from .helpers import SR_HZ, sine_track, write_audio_hdf5

PARAM_LMS = {"type": "lms", "nb_band": 64, "L_n": 1024, "STEP_n": 512, "patch_L_frame": 16,
             "patch_STEP_frame": 8}


@pytest.fixture
def audio_file(tmp_path):
    track_d = {f"track{i}.wav": sine_track(1.0 + i * 0.5, 220 * (i + 1)) for i in range(3)}
    return write_audio_hdf5(tmp_path / "toy_audio.hdf5", track_d, as_int16=True)


def test_read_audio_scales_int16(audio_file):
    with open_audio_file(audio_file) as fid:
        audio_v, sr_hz = read_audio(fid, "track0.wav", audio_file)
    assert sr_hz == SR_HZ and audio_v.dtype == np.float32
    assert 0.29 < np.abs(audio_v).max() <= 0.31


def test_read_audio_missing_track_names_file_and_key(audio_file):
    with open_audio_file(audio_file) as fid, pytest.raises(KeyError, match="no audio for track 'nope.wav'"):
        read_audio(fid, "nope.wav", audio_file)


def test_read_audio_rejects_nan_and_stereo(tmp_path):
    path = tmp_path / "bad_audio.hdf5"
    with h5py.File(path, "w") as fid:
        fid.create_dataset("nan.wav", data=np.array([0, np.nan], np.float32)).attrs["sr_hz"] = SR_HZ
        fid.create_dataset("stereo.wav", data=np.zeros((2, 10), np.float32)).attrs["sr_hz"] = SR_HZ
        fid.create_dataset("no_sr.wav", data=np.zeros(10, np.float32))
    with open_audio_file(path) as fid:
        with pytest.raises(ValueError, match="'nan.wav' holds NaN"):
            read_audio(fid, "nan.wav", path)
        with pytest.raises(ValueError, match="'stereo.wav' has shape"):
            read_audio(fid, "stereo.wav", path)
        with pytest.raises(KeyError, match="no 'sr_hz' attribute"):
            read_audio(fid, "no_sr.wav", path)


def test_open_missing_or_truncated_file(tmp_path, audio_file):
    with pytest.raises(FileNotFoundError, match="python -m course_utils.data build"):
        open_audio_file(tmp_path / "absent_audio.hdf5")
    truncated = tmp_path / "truncated_audio.hdf5"
    truncated.write_bytes(audio_file.read_bytes()[:1000])
    with pytest.raises(OSError, match="truncated"):
        open_audio_file(truncated)


def test_cache_holds_the_same_values_as_direct_computation(audio_file, tmp_path):
    cache_path = feature_cache.f_cache_features(audio_file, PARAM_LMS, cache_dir=tmp_path / "cache")
    with open_audio_file(audio_file) as audio_fid, h5py.File(cache_path, "r") as cache_fid:
        assert sorted(cache_fid.keys()) == ["track0.wav", "track1.wav", "track2.wav"]
        audio_v, sr_hz = read_audio(audio_fid, "track2.wav")
        expected_3m, expected_time_v = feature.f_get_lms(audio_v, sr_hz, PARAM_LMS)
        data_3m, time_sec_v = feature_cache.f_read_cached_feature(cache_fid, "track2.wav")
    np.testing.assert_array_equal(data_3m, expected_3m)
    np.testing.assert_array_equal(time_sec_v, expected_time_v)


def test_cache_is_reused_and_patch_settings_do_not_matter(audio_file):
    first = feature_cache.f_cache_features(audio_file, PARAM_LMS)
    mtime_ns = first.stat().st_mtime_ns
    second = feature_cache.f_cache_features(audio_file, dict(PARAM_LMS, patch_L_frame=32))
    assert second == first and second.stat().st_mtime_ns == mtime_ns


def test_changed_parameter_gives_a_new_cache(audio_file):
    first = feature_cache.f_cache_features(audio_file, PARAM_LMS)
    second = feature_cache.f_cache_features(audio_file, dict(PARAM_LMS, nb_band=32))
    assert first != second
    with h5py.File(second, "r") as fid:
        assert fid["track0.wav"]["X"].shape[1] == 32


def test_rebuilt_audio_invalidates_the_cache(audio_file):
    first = feature_cache.f_cache_features(audio_file, PARAM_LMS)
    write_audio_hdf5(audio_file, {"track0.wav": sine_track(2.0, 880)})  # same name, new content
    second = feature_cache.f_cache_features(audio_file, PARAM_LMS)
    assert second == first
    with h5py.File(second, "r") as fid:
        assert list(fid.keys()) == ["track0.wav"]


def test_interrupted_cache_is_not_taken_for_complete(audio_file):
    path = feature_cache.cache_file_name(audio_file, PARAM_LMS)
    path.write_bytes(b"half-written")  # what a crash mid-write could leave
    result = feature_cache.f_cache_features(audio_file, PARAM_LMS)
    with h5py.File(result, "r") as fid:
        assert len(fid.keys()) == 3
    assert not list(audio_file.parent.glob("*.partial"))


def test_parallel_workers_give_the_same_file_content(audio_file, tmp_path):
    serial = feature_cache.f_cache_features(audio_file, PARAM_LMS, cache_dir=tmp_path / "serial")
    parallel = feature_cache.f_cache_features(audio_file, PARAM_LMS, cache_dir=tmp_path / "parallel",
                                              n_workers=2)
    with h5py.File(serial, "r") as fid_a, h5py.File(parallel, "r") as fid_b:
        for key in fid_a:
            np.testing.assert_array_equal(fid_a[key]["X"][()], fid_b[key]["X"][()])


def test_track_too_short_for_a_feature_names_the_track(tmp_path):
    path = write_audio_hdf5(tmp_path / "short_audio.hdf5", {"ok.wav": sine_track(1.0, 440),
                                                             "bad.wav": np.zeros(0, np.float32)})
    with pytest.raises(ValueError, match="track 'bad.wav': audio_v is empty"):
        feature_cache.f_cache_features(path, PARAM_LMS)


def test_unknown_track_key_is_an_error(audio_file):
    with pytest.raises(KeyError, match="no audio for tracks"):
        feature_cache.f_cache_features(audio_file, PARAM_LMS, key_l=["track0.wav", "ghost.wav"])


def test_read_cached_feature_of_an_unknown_track(audio_file):
    cache_path = feature_cache.f_cache_features(audio_file, PARAM_LMS)
    with h5py.File(cache_path, "r") as fid, pytest.raises(KeyError, match="no feature for track 'ghost.wav'"):
        feature_cache.f_read_cached_feature(fid, "ghost.wav", cache_path)


def _damage_track(cache_path, key):
    """Overwrite bytes in the middle of the stored feature of ``key`` (a bad sector, a broken copy)."""
    with h5py.File(cache_path, "r") as fid:
        offset = fid[key]["X"].id.get_chunk_info(0).byte_offset
    with open(cache_path, "r+b") as raw:
        raw.seek(offset + 20)
        raw.write(b"\x00garbage\xff" * 4)


def test_damaged_cache_is_found_by_its_checksum_and_recomputed(audio_file, capsys):
    cache_path = feature_cache.f_cache_features(audio_file, PARAM_LMS)
    with h5py.File(cache_path, "r") as fid:
        good = fid["track1.wav"]["X"][()]
    _damage_track(cache_path, "track1.wav")
    with h5py.File(cache_path, "r") as fid, pytest.raises(OSError, match=r"track 'track1.wav': the stored feature is "
                                                                           r"damaged .*delete the file"):
        feature_cache.f_read_cached_feature(fid, "track1.wav", cache_path)
    assert feature_cache.f_cache_features(audio_file, PARAM_LMS) == cache_path
    assert "the existing file is damaged" in capsys.readouterr().out  # track1 computed again, the others kept
    with h5py.File(cache_path, "r") as fid:
        np.testing.assert_array_equal(fid["track1.wav"]["X"][()], good)


def test_two_processes_filling_one_cache_both_get_it(audio_file):
    import subprocess
    import sys

    script = ("import sys; from course_utils import feature_cache; "
              f"print(feature_cache.f_cache_features(sys.argv[1], {PARAM_LMS!r}), flush=True)")
    lock = feature_cache.safe_files.FileLock(str(feature_cache.safe_files.lock_path(
        feature_cache.cache_file_name(audio_file, PARAM_LMS))))
    lock.acquire()  # both processes start while the lock is held: they really run at once
    process_l = [subprocess.Popen([sys.executable, "-c", script, str(audio_file)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    assert all(process.stdout.readline().startswith("waiting for another process") for process in process_l)
    lock.release()
    output_l = [process.communicate(timeout=120) for process in process_l]
    assert [process.returncode for process in process_l] == [0, 0], output_l
    assert output_l[0][0] == output_l[1][0]
    assert sum("lms features" in stderr for _, stderr in output_l) == 1, "computed once"
    assert not list(audio_file.parent.glob("*.partial"))


def test_read_audio_scales_each_integer_type_by_its_range_and_refuses_unsigned(tmp_path):
    path = tmp_path / "int_audio.hdf5"
    with h5py.File(path, "w") as fid:
        fid.create_dataset("int32.wav", data=np.array([2**30, -(2**31)], np.int32)).attrs["sr_hz"] = SR_HZ
        fid.create_dataset("int16.wav", data=np.array([2**14, -(2**15)], np.int16)).attrs["sr_hz"] = SR_HZ
        fid.create_dataset("uint8.wav", data=np.array([128, 255], np.uint8)).attrs["sr_hz"] = SR_HZ
    with open_audio_file(path) as fid:
        np.testing.assert_array_equal(read_audio(fid, "int32.wav", path)[0], [0.5, -1.0])
        np.testing.assert_array_equal(read_audio(fid, "int16.wav", path)[0], [0.5, -1.0])
        with pytest.raises(ValueError, match="track 'uint8.wav' holds uint8 samples; store them as float"):
            read_audio(fid, "uint8.wav", path)


def test_a_damaged_compressed_chunk_names_the_file_and_track(tmp_path):
    path = tmp_path / "damaged_audio.hdf5"
    with h5py.File(path, "w") as fid:  # gzip-compressed, as the course dataset is
        fid.create_dataset("a.wav", data=sine_track(1.0, 440), compression="gzip").attrs["sr_hz"] = SR_HZ
    with h5py.File(path, "r") as fid:
        chunk = fid["a.wav"].id.get_chunk_info(0)
    with open(path, "r+b") as raw:
        raw.seek(chunk.byte_offset + chunk.size // 2)
        raw.write(b"\xff\x00" * 64)
    with open_audio_file(path) as fid, pytest.raises(OSError, match=r"damaged_audio.hdf5: the audio of track 'a.wav' "
                                                                    r"cannot be read .*damaged"):
        read_audio(fid, "a.wav", path)


def test_a_cache_made_for_some_tracks_keeps_them_and_adds_the_others(audio_file, capsys):
    cache_path = feature_cache.f_cache_features(audio_file, PARAM_LMS, key_l=["track0.wav"])
    with h5py.File(cache_path, "r") as fid:
        first = fid["track0.wav"]["X"][()]
    _damage_track(cache_path, "track0.wav")  # a damaged kept track is computed again, not copied
    assert feature_cache.f_cache_features(audio_file, PARAM_LMS, key_l=["track1.wav"]) == cache_path
    assert "computing 1 tracks, keeping 0" in capsys.readouterr().out, "nothing verified to keep"
    feature_cache.f_cache_features(audio_file, PARAM_LMS, key_l=["track0.wav", "track2.wav"])
    assert "is incomplete: 2 tracks missing (e.g. 'track0.wav'); computing 2 tracks, keeping 1" in \
        capsys.readouterr().out
    with h5py.File(cache_path, "r") as fid:
        assert sorted(fid) == ["track0.wav", "track1.wav", "track2.wav"]
        np.testing.assert_array_equal(fid["track0.wav"]["X"][()], first)


def test_read_audio_names_the_track_with_a_bad_rate_or_a_group(tmp_path):
    path = tmp_path / "odd_audio.hdf5"
    with h5py.File(path, "w") as fid:
        fid.create_dataset("zero.wav", data=np.zeros(10, np.float32)).attrs["sr_hz"] = 0
        fid.create_dataset("text.wav", data=np.zeros(10, np.float32)).attrs["sr_hz"] = "fast"
        fid.create_group("folder").create_dataset("in.wav", data=np.zeros(10, np.float32)).attrs["sr_hz"] = SR_HZ
    with open_audio_file(path) as fid:
        with pytest.raises(ValueError, match=r"track 'zero.wav' has sr_hz = 0; the sampling rate must be a positive"):
            read_audio(fid, "zero.wav", path)
        with pytest.raises(ValueError, match="track 'text.wav' has sr_hz = 'fast'"):
            read_audio(fid, "text.wav", path)
        with pytest.raises(ValueError, match="'folder' is an HDF5 group .* not a track's audio"):
            read_audio(fid, "folder", path)
        assert read_audio(fid, "folder/in.wav", path)[1] == SR_HZ


def test_track_keys_with_a_slash_are_cached_like_the_others(tmp_path):
    audio = write_audio_hdf5(tmp_path / "s_audio.hdf5", {"a/x%1.wav": sine_track(1.0, 440),
                                                         "b.wav": sine_track(1.0, 220)})
    cache_path = feature_cache.f_cache_features(audio, PARAM_LMS, key_l=["a/x%1.wav", "b.wav"], cache_dir=tmp_path)
    with h5py.File(cache_path, "r") as fid:
        assert sorted(fid) == ["a%2Fx%251.wav", "b.wav"]
        X, _ = feature_cache.f_read_cached_feature(fid, "a/x%1.wav", cache_path)
    with open_audio_file(audio) as audio_fid:
        np.testing.assert_allclose(X, feature.f_get_feature(read_audio(audio_fid, "a/x%1.wav")[0], SR_HZ, PARAM_LMS)[0])
    assert feature_cache.f_cache_features(audio, PARAM_LMS, key_l=["a/x%1.wav", "b.wav"], cache_dir=tmp_path) == \
        cache_path  # found complete: not computed again


CACHE_SCRIPT = """
import sys
from course_utils import feature_cache, safe_files
if sys.argv[3] == "no-estimate":
    safe_files.ensure_free_space = lambda path, needed_bytes: None
param = {"type": "lms", "nb_band": 128, "L_n": 1024, "STEP_n": 256, "patch_L_frame": 16, "patch_STEP_frame": 8}
if sys.argv[3] == "precomputed":
    import numpy as np
    feature_cache.f_write_precomputed_features(sys.argv[2] + "/melody_feat.hdf5", {"a": np.zeros((12, 10**6))}, 0.1)
else:
    feature_cache.f_cache_features(sys.argv[1], param, cache_dir=sys.argv[2], n_workers=2)
"""


@pytest.mark.parametrize("mode", ["cache", "precomputed"])
def test_feature_writers_on_a_full_disk_stop_with_one_message(tmp_path, small_disk, mode):
    """No crash at exit (HDF5 cannot report a failed write), no temporary file, one error naming the file."""
    import subprocess
    import sys

    from .helpers import fill_disk

    audio = write_audio_hdf5(tmp_path / "big_audio.hdf5", {f"t{i}.wav": sine_track(20.0, 220) for i in range(8)})
    disk = small_disk(16)
    fill_disk(disk, leave_mb=9)
    completed = subprocess.run([sys.executable, "-c", CACHE_SCRIPT, str(audio), str(disk), mode],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 1, f"exit code {completed.returncode}:\n{completed.stderr[-2000:]}"
    assert "DiskFullError" in completed.stderr and "no space left on device while writing" in completed.stderr
    assert "Exception ignored" not in completed.stderr and completed.stderr.count("Traceback") == 1
    assert not list(disk.glob("*.partial")) and not list(disk.glob("*.hdf5"))


def test_load_audio_gives_a_file_of_your_own_the_form_of_the_course_data(tmp_path):
    import soundfile

    from course_utils.audio_store import load_audio

    time_sec_v = np.arange(44100) / 44100
    stereo_m = np.stack([0.2 * np.sin(2 * np.pi * 440 * time_sec_v), 0.1 * np.sin(2 * np.pi * 440 * time_sec_v)], 1)
    soundfile.write(tmp_path / "mine.flac", stereo_m, 44100)
    audio_v, info = load_audio(tmp_path / "mine.flac", SR_HZ)
    assert audio_v.shape == (SR_HZ,) and audio_v.dtype == np.float32
    assert info == {"file_sr_hz": 44100, "n_channels": 2, "resampled": True, "gain_db": pytest.approx(15.56, abs=0.05)}
    assert np.abs(audio_v).max() == pytest.approx(0.9, abs=1e-3)
    spectrum_v = np.abs(np.fft.rfft(audio_v))
    assert np.argmax(spectrum_v) == pytest.approx(440, abs=1), "the pitch survives the conversion"
    soundfile.write(tmp_path / "silence.wav", np.zeros(1000), 22050)
    with pytest.raises(ValueError, match="silence.wav: the sound is silent"):
        load_audio(tmp_path / "silence.wav", SR_HZ)
    (tmp_path / "notes.txt").write_text("not audio")
    with pytest.raises(ValueError, match="notes.txt: not an audio file this machine can read"):
        load_audio(tmp_path / "notes.txt", SR_HZ)
    with pytest.raises(FileNotFoundError, match="absent.wav: no such audio file"):
        load_audio(tmp_path / "absent.wav", SR_HZ)
