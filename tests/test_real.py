"""course_utils.data.real: the fetch against a local HTTP server (complete, corrupt, interrupted, offline),
and a Cover1000-style file of precomputed features read by CoverDataset."""

import functools
import hashlib
import http.server
import socket
import threading
import zipfile

import h5py
import numpy as np
import pytest

from course_utils import audio_store, feature_cache
from course_utils import dataset as ds
from course_utils.data import real

from .helpers import write_pyjama

PAYLOAD = np.random.default_rng(0).integers(0, 255, 200_000, dtype=np.uint8).tobytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        if "/missing" in self.path:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        if "interrupted" in self.path:
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 3])  # the connection closes mid-way
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(PAYLOAD)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _original_files(folder, name="bach10", n_track=3, extra_path=""):
    """A real dataset as the original server serves it: <name>.pyjama and <name>_audio.hdf5.zip."""
    folder.mkdir(parents=True, exist_ok=True)
    entry_l = [{"filepath": [{"value": f"track{i}.wav"}], "pitchmidi": [], "split": [{"value": "train"}]}
               for i in range(n_track)]
    write_pyjama(folder / f"{name}.pyjama", entry_l)
    hdf5_path = folder / f"{name}_audio.hdf5"
    with h5py.File(hdf5_path, "w") as fid:
        for i in range(n_track):
            fid.create_dataset(f"track{i}.wav", data=np.zeros(100, np.int16))
    with zipfile.ZipFile(folder / f"{name}_audio.hdf5.zip", "w") as zip_fid:
        zip_fid.write(hdf5_path, arcname=extra_path + hdf5_path.name)
    hdf5_path.unlink()
    return folder


@pytest.fixture
def file_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving the folder tmp_path / 'served'."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_QuietFileHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietFileHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_original_file_names_for_every_dataset():
    names_l = [path.name for name in real.REAL_DATASET_D for path in real.real_dataset_paths(name, "d")]
    assert "bach10_audio.hdf5" in names_l and "cover1000_feat.hdf5" in names_l and "rwc-pop_chord.pyjama" in names_l
    assert "datacos-benchmark_feat.hdf5" in names_l and "mtt_audio.hdf5" in names_l and "maps.pyjama" in names_l
    assert real.ORIGINAL_BASE_URL.startswith("https://")


def test_fetch_downloads_unzips_and_checks_the_pair(file_server, tmp_path):
    served, url = file_server
    _original_files(served, extra_path="bach10/")  # the hdf5 in a folder of the zip
    sha256_d = {name: hashlib.sha256((served / name).read_bytes()).hexdigest()
                for name in ("bach10.pyjama", "bach10_audio.hdf5.zip")}
    out = tmp_path / "out"
    data_path, pyjama_path = real.fetch_real_dataset("bach10", url, out, sha256_d, progress=False)
    assert (data_path.name, pyjama_path.name) == ("bach10_audio.hdf5", "bach10.pyjama")
    assert audio_store.pair_problem(data_path, pyjama_path) is None
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["bach10.pyjama", "bach10_audio.hdf5"]
    (served / "bach10_audio.hdf5.zip").unlink()  # a checked pair is not downloaded again
    assert real.fetch_real_dataset("bach10", url, out, progress=False) == (data_path, pyjama_path)


def test_fetch_resumes_from_a_complete_zip_and_restarts_a_broken_one(file_server, tmp_path):
    served, url = file_server
    _original_files(served)
    out = tmp_path / "out"
    out.mkdir()
    (out / "bach10_audio.hdf5.zip").write_bytes((served / "bach10_audio.hdf5.zip").read_bytes())
    (served / "bach10_audio.hdf5.zip").rename(served / "elsewhere.zip")  # the server no longer has it
    data_path, _ = real.fetch_real_dataset("bach10", url, out, progress=False)  # unzipped, not downloaded
    assert data_path.is_file() and not (out / "bach10_audio.hdf5.zip").exists()
    data_path.unlink()
    (out / "bach10_audio.hdf5.zip").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(ValueError, match="bach10_audio.hdf5.zip: not a valid zip .*it was deleted, run again"):
        real.fetch_real_dataset("bach10", url, out, progress=False)
    assert not (out / "bach10_audio.hdf5.zip").exists() and not data_path.exists()
    (served / "elsewhere.zip").rename(served / "bach10_audio.hdf5.zip")
    assert real.fetch_real_dataset("bach10", url, out, progress=False)[0] == data_path


def test_fetch_reports_a_pair_that_does_not_match(file_server, tmp_path):
    served, url = file_server
    _original_files(served, n_track=2)
    write_pyjama(served / "bach10.pyjama", [{"filepath": [{"value": f"track{i}.wav"}], "split": [{"value": "train"}]}
                                             for i in range(4)])  # a newer .pyjama than the audio
    with pytest.raises(ValueError, match=r"2 of the 4 tracks of bach10.pyjama are not in bach10_audio.hdf5 "
                                         r"\(first: track2.wav, track3.wav\)"):
        real.fetch_real_dataset("bach10", url, tmp_path / "out", progress=False)


def test_a_zip_without_the_data_file_is_named(file_server, tmp_path):
    served, url = file_server
    _original_files(served)
    with zipfile.ZipFile(served / "bach10_audio.hdf5.zip", "w") as zip_fid:
        zip_fid.writestr("readme.txt", "nothing here")
    with pytest.raises(ValueError, match=r"no bach10_audio.hdf5 in the zip \(it holds: readme.txt\)"):
        real.fetch_real_dataset("bach10", url, tmp_path / "out", progress=False)


def test_corrupt_download_is_rejected_and_not_kept(server, tmp_path):
    with pytest.raises(ValueError, match="bach10.pyjama: the downloaded file does not match its SHA-256"):
        real.fetch_real_dataset("bach10", server, tmp_path, {"bach10.pyjama": "0" * 64}, progress=False)
    assert not (tmp_path / "bach10.pyjama").exists()


def test_interrupted_download_is_not_kept(server, tmp_path):
    with pytest.raises(ConnectionError, match="interrupted|failed|cannot reach"):
        real.fetch_real_dataset("bach10", server + "/interrupted", tmp_path, progress=False)
    assert not (tmp_path / "bach10.pyjama").exists()


def test_http_error_and_offline(server, tmp_path):
    with pytest.raises(ConnectionError, match="failed"):
        real.fetch_real_dataset("bach10", server + "/missing", tmp_path, progress=False)
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with pytest.raises(ConnectionError, match=r"\(offline\?\).*python -m course_utils.data build"):
        real.fetch_real_dataset("bach10", f"http://127.0.0.1:{closed_port}", tmp_path, progress=False)


def test_unknown_real_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'gtzan'; use one of gtzan-genre"):
        real.fetch_real_dataset("gtzan", "http://127.0.0.1:1", "unused")


def test_cover1000_style_precomputed_features(tmp_path):
    """The original cover sets ship features per track in <name>_feat.hdf5 instead of audio (Cover1000: 23 bins,
    the 12 pitch classes wrapped to 23) and name the work 'work-id' (with a 'performance-id')."""
    rng = np.random.default_rng(0)
    feature_path = tmp_path / "cover1000_feat.hdf5"
    entry_l = []
    with h5py.File(feature_path, "w") as fid:
        for work in range(3):
            for version in range(2):
                key = f"w{work}_v{version}"
                fid.create_dataset(key, data=rng.random((23, 100), dtype=np.float32)).attrs["hop_sec"] = 0.5
                entry_l.append({"filepath": [{"value": key}], "work-id": [{"value": work}],
                                "performance-id": [{"value": f"p{work}{version}"}], "split": [{"value": "train"}]})
    pyjama = write_pyjama(tmp_path / "cover1000.pyjama", entry_l)
    config = {"dataset": dict(real.REAL_DATASET_D["cover1000"]["dataset"], versions_per_work=2),
              "feature": {"type": "precomputed", "patch_L_frame": 32, "patch_STEP_frame": 16}}
    covers = ds.CoverDataset(feature_path, pyjama, "train", config, progress=False)
    assert len(covers) == 3 and covers[0]["X"].shape == (2, 1, 23, 32)
    original = {"dataset": {"base": "cover1000", "versions_per_work": 2}, "feature": config["feature"]}  # no annot_key
    assert ds.dataset_files(original, tmp_path) == (feature_path, pyjama)
    same = ds.CoverDataset(feature_path, pyjama, "train", original, progress=False)
    assert same.annot_key == "work-id" and [same.get_target(key) for key in same.key_l] == list("001122")
    with pytest.raises(ds.DatasetError, match="use feature_placement='memory'"):
        ds.CoverDataset(feature_path, pyjama, "train", config, feature_placement="disk", progress=False)


def test_precomputed_features_missing_or_malformed(tmp_path):
    feature_path = tmp_path / "bad_feat.hdf5"
    with h5py.File(feature_path, "w") as fid:
        fid.create_dataset("flat", data=np.zeros(100, np.float32))
    config = {"dataset": {"annot_key": "work_id"},
              "feature": {"type": "precomputed", "patch_L_frame": 8, "patch_STEP_frame": 8}}
    for key, error_type, message in (("ghost", KeyError, "no feature for track 'ghost'"),
                                     ("flat", ds.DatasetError, r"must be a finite \(F, T\) or \(C, F, T\) array")):
        pyjama = write_pyjama(tmp_path / f"{key}.pyjama", [{"filepath": [{"value": key}], "work_id": [{"value": 1}],
                                                            "split": [{"value": "test"}]}])
        with pytest.raises(error_type, match=message):
            ds.CoverDataset(feature_path, pyjama, "test", config, progress=False)


def test_written_precomputed_features_are_read_back(tmp_path):
    """f_write_precomputed_features writes the format that CoverDataset reads (notebook 07's melody chroma)."""
    rng = np.random.default_rng(1)
    X_by_key_d = {f"w{work}_v{version}": rng.random((12, 40), dtype=np.float32)
                  for work in range(2) for version in range(2)}
    feature_path = feature_cache.f_write_precomputed_features(tmp_path / "melody_feat.hdf5", X_by_key_d, 0.0929)
    assert not feature_path.with_name(feature_path.name + ".partial").exists()
    entry_l = [{"filepath": [{"value": key}], "work_id": [{"value": key[:2]}], "split": [{"value": "test"}]}
               for key in X_by_key_d]
    pyjama = write_pyjama(tmp_path / "melody.pyjama", entry_l)
    config = {"dataset": {"annot_key": "work_id"},
              "feature": {"type": "precomputed", "patch_L_frame": 16, "patch_STEP_frame": 8}}
    covers = ds.CoverDataset(feature_path, pyjama, "test", config, progress=False)
    X_4m = covers.get_track_patches("w1_v0")
    assert X_4m.shape == (4, 1, 12, 16)  # patches start at frames 0, 8, 16 and 24
    np.testing.assert_array_equal(X_4m[1, 0].numpy(), X_by_key_d["w1_v0"][:, 8:24])
    with h5py.File(feature_path, "r") as fid:
        assert fid["w1_v0"].attrs["hop_sec"] == pytest.approx(0.0929)
    config["feature"]["n_bins"] = 24
    with pytest.raises(ds.DatasetError, match="has 12 bins but the config says feature.n_bins = 24"):
        ds.CoverDataset(feature_path, pyjama, "test", config, progress=False)


def test_write_precomputed_features_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="track 'flat': a precomputed feature must be"):
        feature_cache.f_write_precomputed_features(tmp_path / "f.hdf5", {"flat": np.zeros(10)}, 0.1)
    with pytest.raises(ValueError, match="track 'nan'"):
        feature_cache.f_write_precomputed_features(tmp_path / "f.hdf5", {"nan": np.full((2, 3), np.nan)}, 0.1)
    with pytest.raises(ValueError, match="hop_sec must be a positive"):
        feature_cache.f_write_precomputed_features(tmp_path / "f.hdf5", {"ok": np.zeros((2, 3))}, 0)
    assert not (tmp_path / "f.hdf5").exists()


@pytest.mark.parametrize("base_url", ["ftp://example.org/data", "file:///tmp/data", "example.org/data", "htp://x"])
def test_a_base_url_that_is_not_http_is_refused_before_any_download(tmp_path, base_url):
    with pytest.raises(ValueError, match=r"base_url .*: the address must start with http:// or https://"):
        real.fetch_real_dataset("bach10", base_url, tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_zip_with_damaged_data_is_named_and_deleted(file_server, tmp_path):
    served, url = file_server
    _original_files(served)
    zip_path = served / "bach10_audio.hdf5.zip"
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zip_fid:
        zip_fid.writestr("bach10_audio.hdf5", np.random.default_rng(0).integers(0, 4, 200000, np.uint8).tobytes())
    raw = bytearray(zip_path.read_bytes())
    raw[200:260] = b"\xff" * 60  # damage the deflated stream, not the zip's directory
    zip_path.write_bytes(bytes(raw))
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"bach10_audio.hdf5.zip: not a valid zip \(error: Error -3 while "
                                         r"decompressing"):
        real.fetch_real_dataset("bach10", url, out, progress=False)
    assert not (out / "bach10_audio.hdf5.zip").exists() and not list(out.glob("*.partial"))
