"""course_utils.train: the loop learns a toy problem, early stopping, checkpoints."""

import numpy as np
import pytest
import torch
import yaml

from course_utils import checkpoint, task, train
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
    loaded, config = checkpoint.load_checkpoint(tmp_path / "toy.pt")
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
        checkpoint.load_checkpoint(tmp_path / "absent.pt")


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
    whole = task.predict_track(model, X)
    assert whole.shape == (2, 25) and not whole.requires_grad and model.training, "mode restored"
    patch_l = [{"start_frame": 0, "end_frame": 10}, {"start_frame": 10, "end_frame": 20},
               {"start_frame": 15, "end_frame": 25}]
    by_patch = task.predict_track(model, X.numpy(), patch_l, batch_size=2)
    assert by_patch.shape == (3, 2, 10)
    torch.testing.assert_close(by_patch[1], model.eval()(X[None, :, 10:20])[0].detach())


def _saved_toy(tmp_path):
    model = NetModel(CONFIG, [8, 3])
    checkpoint.save_checkpoint(tmp_path / "toy.pt", model, CONFIG)
    return model


def test_save_checkpoint_refuses_what_it_cannot_load(tmp_path):
    model = NetModel(CONFIG, [8, 3])
    with pytest.raises(ValueError, match="a checkpoint path ends in .pt"):
        checkpoint.save_checkpoint(tmp_path / "toy.yaml", model, CONFIG)
    with pytest.raises(ConfigError, match="needs the config the model was built from"):
        checkpoint.save_checkpoint(tmp_path / "toy.pt", model, None)
    with pytest.raises(ConfigError, match="must hold model.block_l"):
        checkpoint.save_checkpoint(tmp_path / "toy.pt", model, {"train": CONFIG["train"]})
    with pytest.raises(ConfigError, match="cannot be written to YAML"):
        checkpoint.save_checkpoint(tmp_path / "toy.pt", model, {**CONFIG, "note": object()})
    assert list(tmp_path.iterdir()) == [], "nothing written when the config is refused"
    checkpoint.save_checkpoint(tmp_path / "toy.pt", model, {**CONFIG, "threshold": np.float32(0.5)})
    assert yaml.safe_load((tmp_path / "toy.yaml").read_text())["threshold"] == 0.5


def test_an_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model = _saved_toy(tmp_path)
    before = (tmp_path / "toy.pt").read_bytes(), (tmp_path / "toy.yaml").read_text()

    def torch_save_killed(obj, path):
        open(path, "wb").write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", torch_save_killed)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save_checkpoint(tmp_path / "toy.pt", model, CONFIG)
    assert ((tmp_path / "toy.pt").read_bytes(), (tmp_path / "toy.yaml").read_text()) == before
    assert sorted(path.name for path in tmp_path.iterdir() if not path.name.endswith(".lock")) == [
        "toy.pt", "toy.yaml"], "no partial file left"


def test_load_checkpoint_names_the_bad_file(tmp_path):
    _saved_toy(tmp_path)
    (tmp_path / "toy.pt").write_bytes((tmp_path / "toy.pt").read_bytes()[:100])
    with pytest.raises(ValueError, match=r"toy.pt: not a readable checkpoint .*truncated"):
        checkpoint.load_checkpoint(tmp_path / "toy.pt")
    (tmp_path / "toy.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"toy.pt: not a readable checkpoint"):
        checkpoint.load_checkpoint(tmp_path / "toy.pt")
    _saved_toy(tmp_path)
    other = dict(CONFIG, model=dict(CONFIG["model"], name="Other"))
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(other))
    with pytest.raises(ValueError, match="toy.yaml is not the config saved with toy.pt"):
        checkpoint.load_checkpoint(tmp_path / "toy.pt")
    (tmp_path / "toy.yaml").write_text("model: [unclosed")
    with pytest.raises(ConfigError, match="toy.yaml: not a readable config"):
        checkpoint.load_checkpoint(tmp_path / "toy.pt")
    with pytest.raises(ValueError, match="a checkpoint path ends in .pt"):
        checkpoint.load_checkpoint(tmp_path / "toy.yaml")


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
    loaded, _ = checkpoint.load_checkpoint(tmp_path / "conv.pt")
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


@pytest.mark.parametrize("train_d, message", [
    ({"learning_rate": "1e-3"}, r"train.learning_rate must be a number > 0, e.g. 0.001; got '1e-3' \(a string: write "
                                r"numbers without quotes\)"),
    ({"fast": {"max_epochs": 1}}, r"train.fast.max_epochs is not a training setting. Did you mean 'max_epoch'\?"),
    ({"patience": -1}, r"train.patience must be a whole number >= 1"),
    ({"max_epoch": 0}, r"train.max_epoch must be a whole number >= 1; got 0"),
    ({"max_epoch": 2.0}, r"train.max_epoch must be a whole number >= 1.*got 2.0"),
    ({"batch_size": "4"}, r"train.batch_size must be a whole number >= 1; got '4'"),
    ({"compile": "yes"}, r"train.compile must be true or false"),
    ({"learning_rate": float("nan")}, r"train.learning_rate must be a number > 0"),
    ({"fast": 8}, r"train.fast must be a mapping of overrides"),
])
def test_a_train_section_that_looks_right_but_is_not_is_refused_by_name(train_d, message):
    config = {**CONFIG, "train": {**CONFIG["train"], **train_d}}
    with pytest.raises(ConfigError, match=message):
        train.train_settings(config, fast_mode=True)


class NaNDataset(ToyDataset):
    def __getitem__(self, idx):
        item = super().__getitem__(idx)
        return {"X": item["X"] * float("nan") if idx == 3 else item["X"], "y": item["y"]}


def test_nan_inputs_stop_training_by_name_and_save_nothing(tmp_path):
    model = NetModel(CONFIG, [8, 3])
    loader_d = train.make_loaders({"train": NaNDataset(40, 0), "valid": ToyDataset(20, 1)},
                                  {**CONFIG, "train": {**CONFIG["train"], "batch_size": 4}})
    loader_d["train"] = torch.utils.data.DataLoader(NaNDataset(40, 0), batch_size=4)  # in order: batch 0 holds it
    with pytest.raises(FloatingPointError, match=r"the training loss is nan at epoch 0, batch 0: the inputs of this "
                                                 r"batch hold NaN or inf.*no checkpoint of this epoch was written"):
        train.fit(model, loader_d["train"], loader_d["valid"], torch.nn.CrossEntropyLoss(), CONFIG,
                  checkpoint_path=tmp_path / "nan.pt")
    assert not (tmp_path / "nan.pt").exists()
    assert all(torch.isfinite(parameter).all() for parameter in model.parameters()), "no step was taken with NaN"


def test_a_loader_without_batches_is_named():
    model = NetModel(CONFIG, [8, 3])
    empty = torch.utils.data.DataLoader(ToyDataset(3, 0), batch_size=4, drop_last=True)
    with pytest.raises(ValueError, match=r"the training DataLoader gave no batch \(its dataset has 3 items\)"):
        train.fit(model, empty, empty, torch.nn.CrossEntropyLoss(), CONFIG)


def test_predict_track_takes_float64_and_integer_arrays():
    model = NetModel(CONFIG, [8, 3])
    X = np.random.default_rng(0).standard_normal((7, 3))  # float64, as numpy makes it
    torch.testing.assert_close(task.predict_track(model, X[0]), model.eval()(torch.from_numpy(X[:1]).float())[0])
    assert task.predict_track(model, np.ones(3, dtype=np.int64)).dtype == torch.float32


class _RollDataset(torch.utils.data.Dataset):
    """Tracks whose piano rolls have a given share of active cells (what ``task.pitch_pos_weight`` reads)."""

    def __init__(self, share_l):
        self.key_l = [f"track{i}" for i in range(len(share_l))]
        self.roll_d = {key: (torch.arange(100) < round(100 * share)).float().reshape(1, 10, 10)
                       for key, share in zip(self.key_l, share_l, strict=True)}

    def __len__(self):
        return len(self.key_l)

    def get_target(self, key):
        return self.roll_d[key]


def test_pitch_pos_weight_over_tracks_and_concatenated_renderers():
    """(1 - r) / r of the mean share r of active cells per track, at most the cap; a ConcatDataset (leave one
    library out) counts the tracks of all its parts."""
    assert task.pitch_pos_weight(_RollDataset([0.1, 0.3])) == pytest.approx(4.0)  # r = 0.2
    assert task.pitch_pos_weight(_RollDataset([0.01])) == 10.0  # 99 capped at 10
    assert task.pitch_pos_weight(_RollDataset([0.01]), cap=200) == pytest.approx(99.0)
    both = torch.utils.data.ConcatDataset([_RollDataset([0.1]), _RollDataset([0.3, 0.2])])
    assert task.pitch_pos_weight(both) == pytest.approx(4.0)


def test_fit_trains_with_a_batch_loss_of_its_own_and_can_keep_the_last_epoch(tmp_path):
    """The one training loop: a task gives its batch loss (model and batch in, loss out); keep_last trains every
    epoch, no early stopping, and the checkpoint follows the last epoch."""
    torch.manual_seed(0)
    X, y = torch.randn(64, 3), torch.randn(64, 1)
    loader = torch.utils.data.DataLoader([{"inputs": a, "targets": b} for a, b in zip(X, y, strict=True)],
                                         batch_size=16)
    config = {"train": {"batch_size": 16, "learning_rate": 0.05, "max_epoch": 6, "patience": 1},
              "model": {"block_l": [{"sequential_l": [{"layer_l": [
                  ["Linear", {"in_features": -1, "out_features": 1}]]}]}]}}
    model = NetModel(config, [16, 3])
    seen_l = []

    def batch_loss(model, batch):
        seen_l.append(sorted(batch))
        return ((model(batch["inputs"]) - batch["targets"]) ** 2).mean() + 100.0 * len(seen_l)  # worse each batch

    history = train.fit(model, loader, loader, None, config, batch_loss=batch_loss, keep_last=True,
                        checkpoint_path=tmp_path / "last.pt")
    assert len(history["train_loss"]) == 6 and history["best_epoch"] == 5, history  # patience 1 did not stop it
    assert seen_l[0] == ["inputs", "targets"]
    saved_model = checkpoint.load_checkpoint(tmp_path / "last.pt")[0]
    for saved, kept in zip(saved_model.parameters(), model.parameters(), strict=True):
        assert torch.equal(saved, kept.detach())
