"""course_utils.train: the loop learns a toy problem, early stopping, checkpoints."""

import numpy as np
import pytest
import torch
import yaml

from course_utils import train
from course_utils.config import ConfigError
from course_utils.model_factory import NetModel

CONFIG = {"train": {"batch_size": 16, "learning_rate": 0.05, "max_epoch": 15, "patience": 3,
                    "fast": {"max_epoch": 2}},
          "model": {"name": "Toy", "block_l": [{"sequential_l": [{"layer_l": [
              ["Linear", {"in_features": -1, "out_features": 2}]]}]}]}}


class ToyDataset(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        generator = torch.Generator().manual_seed(seed)
        self.X = torch.randn(n, 3, generator=generator)
        self.y = (self.X[:, 0] > 0).long()

    def __len__(self):
        return len(self.y)

    def __getitem__(self, idx):
        return {"X": self.X[idx], "y": self.y[idx]}


def test_fit_learns_and_keeps_the_best_model(tmp_path):
    torch.manual_seed(0)
    model = NetModel(CONFIG, [8, 3])
    loader_d = train.make_loaders({"train": ToyDataset(200, 0), "valid": ToyDataset(100, 1)}, CONFIG)
    history = train.fit(model, loader_d["train"], loader_d["valid"], torch.nn.CrossEntropyLoss(), CONFIG,
                        device=torch.device("cpu"), checkpoint_path=tmp_path / "toy.pt")
    assert history["valid_loss"][history["best_epoch"]] == min(history["valid_loss"])
    assert history["valid_loss"][-1] < history["valid_loss"][0] * 0.8
    loaded, config = train.load_checkpoint(tmp_path / "toy.pt")
    X = ToyDataset(50, 2).X
    torch.testing.assert_close(loaded(X), model.eval()(X))
    assert config["model"]["name"] == "Toy"


def test_early_stopping():
    stopper = train.EarlyStopping(patience=2)
    assert stopper.step(1.0, 0) and not stopper.step(1.5, 1) and not stopper.should_stop
    assert not stopper.step(1.2, 2) and stopper.should_stop and stopper.best_epoch == 0
    higher = train.EarlyStopping(patience=1, higher_is_better=True)
    assert higher.step(0.5, 0) and higher.step(0.6, 1) and not higher.step(0.1, 2) and higher.should_stop


def test_load_checkpoint_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="a checkpoint is a .pt file with its .yaml config"):
        train.load_checkpoint(tmp_path / "absent.pt")


def test_fit_in_fast_mode_takes_the_fast_overrides():
    model = NetModel(CONFIG, [8, 3])
    loader_d = train.make_loaders({"train": ToyDataset(40, 0), "valid": ToyDataset(20, 1)}, CONFIG)
    history = train.fit(model, loader_d["train"], loader_d["valid"], torch.nn.CrossEntropyLoss(), CONFIG,
                        fast_mode=True)
    assert len(history["train_loss"]) == 2


def test_train_settings_and_loaders():
    settings = train.train_settings(CONFIG)
    assert settings.max_epoch == 15 and settings["patience"] == 3 and settings.valid_batch_size == 64
    assert "fast" not in settings and train.train_settings(CONFIG, fast_mode=True).max_epoch == 2
    loader_d = train.make_loaders({"train": ToyDataset(40, 0), "valid": ToyDataset(20, 1)}, CONFIG)
    assert loader_d["train"].batch_size == 16 and loader_d["valid"].batch_size == 64
    with pytest.raises(ConfigError, match="train.learning_rate is missing"):
        train.train_settings({"train": {"batch_size": 2, "max_epoch": 1, "patience": 1}})
    with pytest.raises(ConfigError, match="no 'train' section"):
        train.train_settings({"model": {}})


def test_predict_track_whole_and_by_patches():
    config = {"model": {"name": "Conv", "block_l": [{"sequential_l": [{"layer_l": [
        ["Conv1d", {"in_channels": -1, "out_channels": 2, "kernel_size": 3, "padding": 1}]]}]}]}}
    model = NetModel(config, [4, 1, 10]).train()
    X = torch.randn(1, 25)
    whole = train.predict_track(model, X)
    assert whole.shape == (2, 25) and not whole.requires_grad and model.training, "mode restored"
    patch_l = [{"start_frame": 0, "end_frame": 10}, {"start_frame": 10, "end_frame": 20},
               {"start_frame": 15, "end_frame": 25}]
    by_patch = train.predict_track(model, X.numpy(), patch_l, batch_size=2)
    assert by_patch.shape == (3, 2, 10)
    torch.testing.assert_close(by_patch[1], model.eval()(X[None, :, 10:20])[0].detach())


def _saved_toy(tmp_path):
    model = NetModel(CONFIG, [8, 3])
    train.save_checkpoint(tmp_path / "toy.pt", model, CONFIG)
    return model


def test_save_checkpoint_refuses_what_it_cannot_load(tmp_path):
    model = NetModel(CONFIG, [8, 3])
    with pytest.raises(ValueError, match="a checkpoint path ends in .pt"):
        train.save_checkpoint(tmp_path / "toy.yaml", model, CONFIG)
    with pytest.raises(ConfigError, match="needs the config the model was built from"):
        train.save_checkpoint(tmp_path / "toy.pt", model, None)
    with pytest.raises(ConfigError, match="must hold model.block_l"):
        train.save_checkpoint(tmp_path / "toy.pt", model, {"train": CONFIG["train"]})
    with pytest.raises(ConfigError, match="cannot be written to YAML"):
        train.save_checkpoint(tmp_path / "toy.pt", model, {**CONFIG, "note": object()})
    assert list(tmp_path.iterdir()) == [], "nothing written when the config is refused"
    train.save_checkpoint(tmp_path / "toy.pt", model, {**CONFIG, "threshold": np.float32(0.5)})
    assert yaml.safe_load((tmp_path / "toy.yaml").read_text())["threshold"] == 0.5


def test_an_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model = _saved_toy(tmp_path)
    before = (tmp_path / "toy.pt").read_bytes(), (tmp_path / "toy.yaml").read_text()

    def torch_save_killed(obj, path):
        open(path, "wb").write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", torch_save_killed)
    with pytest.raises(KeyboardInterrupt):
        train.save_checkpoint(tmp_path / "toy.pt", model, CONFIG)
    assert ((tmp_path / "toy.pt").read_bytes(), (tmp_path / "toy.yaml").read_text()) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["toy.pt", "toy.yaml"], "no partial file left"


def test_load_checkpoint_names_the_bad_file(tmp_path):
    _saved_toy(tmp_path)
    (tmp_path / "toy.pt").write_bytes((tmp_path / "toy.pt").read_bytes()[:100])
    with pytest.raises(ValueError, match=r"toy.pt: not a readable checkpoint .*truncated"):
        train.load_checkpoint(tmp_path / "toy.pt")
    (tmp_path / "toy.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"toy.pt: not a readable checkpoint"):
        train.load_checkpoint(tmp_path / "toy.pt")
    _saved_toy(tmp_path)
    other = dict(CONFIG, model=dict(CONFIG["model"], name="Other"))
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(other))
    with pytest.raises(ValueError, match="toy.yaml is not the config saved with toy.pt"):
        train.load_checkpoint(tmp_path / "toy.pt")
    (tmp_path / "toy.yaml").write_text("model: [unclosed")
    with pytest.raises(ConfigError, match="toy.yaml: not a readable config"):
        train.load_checkpoint(tmp_path / "toy.pt")
    with pytest.raises(ValueError, match="a checkpoint path ends in .pt"):
        train.load_checkpoint(tmp_path / "toy.yaml")


def test_fit_with_channels_last_keeps_the_weights_layout_out_of_the_checkpoint(tmp_path):
    config = {"train": dict(CONFIG["train"], max_epoch=2), "model": {"name": "Conv", "block_l": [{"sequential_l": [
        {"layer_l": [["Conv2d", {"in_channels": -1, "out_channels": 2, "kernel_size": 3, "padding": 1}],
                     ["Mean", {"dim": [2, 3]}]]}]}]}}
    model = NetModel(config, [4, 3, 8, 8])
    generator = torch.Generator().manual_seed(0)
    X, y = torch.randn(32, 3, 8, 8, generator=generator), torch.randint(2, (32,), generator=generator)
    data = [{"X": X[i], "y": y[i]} for i in range(32)]
    loader_d = train.make_loaders({"train": data, "valid": data}, config)
    train.fit(model, loader_d["train"], loader_d["valid"], torch.nn.CrossEntropyLoss(), config,
              checkpoint_path=tmp_path / "conv.pt")
    loaded, _ = train.load_checkpoint(tmp_path / "conv.pt")
    torch.testing.assert_close(loaded(X), model.eval()(X))


def test_fit_falls_back_when_torch_compile_fails(monkeypatch):
    class BrokenCompiled(torch.nn.Module):  # what a machine without a C++ compiler gives on the first step
        def forward(self, X):
            error_type = type("BackendCompilerFailed", (RuntimeError,), {"__module__": "torch._dynamo.exc"})
            raise error_type("no C++ compiler")

    monkeypatch.setattr(torch, "compile", lambda model: BrokenCompiled())
    config = dict(CONFIG, train=dict(CONFIG["train"], max_epoch=2, compile=True))
    model = NetModel(config, [8, 3])
    loader_d = train.make_loaders({"train": ToyDataset(40, 0), "valid": ToyDataset(20, 1)}, config)
    with pytest.warns(UserWarning, match="torch.compile failed .*training without it"):
        history = train.fit(model, loader_d["train"], loader_d["valid"], torch.nn.CrossEntropyLoss(), config)
    assert len(history["train_loss"]) == 2


def test_fit_with_torch_compile_learns():
    torch.manual_seed(0)
    config = dict(CONFIG, train=dict(CONFIG["train"], max_epoch=3, compile=True))
    model = NetModel(config, [8, 3])
    loader_d = train.make_loaders({"train": ToyDataset(200, 0), "valid": ToyDataset(100, 1)}, config)
    history = train.fit(model, loader_d["train"], loader_d["valid"], torch.nn.CrossEntropyLoss(), config)
    assert history["valid_loss"][-1] < history["valid_loss"][0]
