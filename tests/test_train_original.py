"""course_utils.tools.train_original: an original config trained on files in the original schema, and a clear
message when the files are missing."""

from pathlib import Path

import numpy as np
import pytest

from course_utils import task
from course_utils.config import load_config
from course_utils.tools import train_original

from .helpers import sine_track, write_audio_hdf5, write_pyjama

ROOT = Path(__file__).resolve().parents[1]


def _bach10_like(folder):
    """bach10_audio.hdf5 + bach10.pyjama in the original schema (f0multi), 6 tracks over the three splits."""
    track_d, entry_l = {}, []
    time_v = np.arange(0, 3.0, 0.01)
    for i, split in enumerate(["train", "train", "train", "train", "valid", "test"]):
        midi = 57 + 2 * i
        key = f"piece{i}.wav"
        track_d[key] = sine_track(3.0, 440.0 * 2 ** ((midi - 69) / 12))
        entry_l.append({"filepath": [{"value": key}], "split": [{"value": split}],
                        "f0multi": [{"time": time_v.tolist(), "value": [[float(midi)] * len(time_v)]}]})
    write_audio_hdf5(folder / "bach10_audio.hdf5", track_d)
    write_pyjama(folder / "bach10.pyjama", entry_l)


def test_an_original_multipitch_config_trains_on_original_files(tmp_path, capsys):
    _bach10_like(tmp_path)
    status = train_original.main([str(ROOT / "configs" / "original" / "bittner_D1-I1-C1.yaml"), "--data",
                                  str(tmp_path), "--checkpoints", str(tmp_path / "ckpt"), "--max-epoch", "2",
                                  "--batch-size", "4"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "bittner_D1-I1-C1.yaml: test Precision" in printed and "Accuracy" in printed
    assert (tmp_path / "ckpt" / "original_bittner_D1-I1-C1.pt").is_file()


def test_missing_files_say_how_to_get_them(tmp_path, capsys):
    status = train_original.main([str(ROOT / "configs" / "original" / "autotagging_D1-I2-C4.yaml"), "--data",
                                  str(tmp_path)])
    assert status == 2
    message = capsys.readouterr().err
    assert "gtzan-genre_audio.hdf5" in message and "real.fetch_real_dataset('gtzan-genre'" in message


@pytest.mark.parametrize("name, task_name", [("autotagging_D2-I1-C1", "multilabel"), ("bittner_D2-I2-C1", "pitch"),
                                             ("chord_D3-I3", "segment")])
def test_task_of_each_original_family(name, task_name):
    assert task.task_of(load_config(ROOT / "configs" / "original" / f"{name}.yaml")) == task_name


def test_a_number_of_epochs_of_zero_is_refused_before_anything_runs(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        train_original.main([str(ROOT / "configs" / "original" / "bittner_D1-I1-C1.yaml"), "--data", str(tmp_path),
                             "--max-epoch", "0"])
    assert stop.value.code == 2 and "--max-epoch: 0 must be > 0" in capsys.readouterr().err
