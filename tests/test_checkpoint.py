"""course_utils.checkpoint: a full disk, killed saves, the device a model is loaded on (the save/load round trip
and damaged files are in test_train.py)."""

import subprocess
import sys

import pytest
import torch

from course_utils import checkpoint, safe_files
from course_utils.model_factory import NetModel

from .helpers import fill_disk

CONFIG = {"model": {"name": "Wide", "block_l": [{"sequential_l": [{"layer_l": [
    ["Linear", {"in_features": -1, "out_features": 1000}]]}]}]}}


def _model(n_in=1000):
    return NetModel(CONFIG, [2, n_in])  # 1,001,000 parameters: 4 MB of weights


def test_a_save_on_a_full_disk_keeps_the_previous_checkpoint(small_disk, monkeypatch):
    disk = small_disk(16)
    checkpoint.save_checkpoint(disk / "wide.pt", _model(10), CONFIG)  # small: fits
    before = (disk / "wide.pt").read_bytes(), (disk / "wide.yaml").read_bytes()
    fill_disk(disk, leave_mb=10)
    with pytest.raises(safe_files.DiskFullError, match=r"no space left on device while writing .*wide.pt: \d+ MB free, "
                                                       r"about \d+ MB needed"):
        checkpoint.save_checkpoint(disk / "wide.pt", _model(), CONFIG)
    assert ((disk / "wide.pt").read_bytes(), (disk / "wide.yaml").read_bytes()) == before
    assert not list(disk.glob("*.partial"))
    # the same when the first check passes and torch itself meets the full disk ('unexpected pos')
    monkeypatch.setattr(safe_files, "ensure_free_space", lambda path, needed_bytes: None)
    fill_disk(disk, leave_mb=1)
    with pytest.raises(safe_files.DiskFullError, match="no space left on device while writing .*wide.pt"):
        checkpoint.save_checkpoint(disk / "wide.pt", _model(), CONFIG)
    assert ((disk / "wide.pt").read_bytes(), (disk / "wide.yaml").read_bytes()) == before
    assert not list(disk.glob("*.partial"))


def test_a_save_removes_the_temporary_files_of_killed_saves(tmp_path):
    stale = tmp_path / "toy.pt.12345-deadbeef.partial"
    stale.write_bytes(b"\0" * 1000)  # what a save killed with kill -9 leaves
    (tmp_path / "toy.yaml.12345-deadbeef.partial").write_text("model: ")
    checkpoint.save_checkpoint(tmp_path / "toy.pt", _model(10), CONFIG)
    assert not list(tmp_path.glob("*.partial"))
    assert checkpoint.load_checkpoint(tmp_path / "toy.pt")[0].name == "Wide"


SAVE_SCRIPT = """
import sys, time
import torch
from course_utils import checkpoint
from course_utils.model_factory import NetModel
config = {"model": {"name": "Wide", "block_l": [{"sequential_l": [{"layer_l": [
    ["Linear", {"in_features": -1, "out_features": 1000}]]}]}]}}
real_save = torch.save
def slow_save(obj, path):  # the save is under way when the signal comes
    real_save(obj, path)
    print("written", flush=True)
    time.sleep(60)
torch.save = slow_save
checkpoint.save_checkpoint(sys.argv[1], NetModel(config, [2, 1000]), config)
"""


def test_sigterm_during_a_save_keeps_the_previous_checkpoint(tmp_path):
    checkpoint.save_checkpoint(tmp_path / "wide.pt", _model(10), CONFIG)
    before = (tmp_path / "wide.pt").read_bytes()
    process = subprocess.Popen([sys.executable, "-c", SAVE_SCRIPT, str(tmp_path / "wide.pt")], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().startswith("written")
    process.terminate()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0 and "KeyboardInterrupt" in stderr
    assert (tmp_path / "wide.pt").read_bytes() == before
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the device is available")
def test_loading_on_a_device_this_machine_lacks_names_the_device(tmp_path):
    checkpoint.save_checkpoint(tmp_path / "toy.pt", _model(10), CONFIG)
    with pytest.raises(ValueError, match="device 'cuda' is not available on this machine; load the model with "
                                         "device='cpu'"):
        checkpoint.load_checkpoint(tmp_path / "toy.pt", device="cuda")
    with pytest.raises(ValueError, match="device 'gpu' is not a torch device"):
        checkpoint.load_checkpoint(tmp_path / "toy.pt", device="gpu")
