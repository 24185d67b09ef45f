"""course_utils.train: the loop learns a toy problem, early stopping, checkpoints."""

import pytest
import torch
from torch.utils.data import DataLoader

from course_utils import train

CONFIG = {"model": {"name": "Toy", "block_l": [{"sequential_l": [{"layer_l": [
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
    from course_utils.model_factory import NetModel
    model = NetModel(CONFIG, [8, 3])
    train_loader = DataLoader(ToyDataset(200, 0), batch_size=16, shuffle=True)
    valid_loader = DataLoader(ToyDataset(100, 1), batch_size=50)
    history = train.fit(model, train_loader, valid_loader, torch.nn.CrossEntropyLoss(),
                        torch.optim.Adam(model.parameters(), lr=0.05), max_epoch=15, patience=3,
                        device=torch.device("cpu"), checkpoint_path=tmp_path / "toy.pt", config=CONFIG)
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
