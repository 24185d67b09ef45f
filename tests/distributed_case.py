"""The small training case that tests/test_distributed.py runs in one process and under torchrun."""

import torch

from course_utils import model_factory, runtime

CONFIG_D = {
    "train": {"batch_size": 8, "learning_rate": 0.05, "max_epoch": 3, "patience": 10, "seed": 3},
    "model": {"name": "Tiny", "block_l": [{"sequential_l": [{"layer_l": [
        ["Linear", {"in_features": -1, "out_features": 16}], ["Activation", "Tanh"],
        ["Linear", {"in_features": -1, "out_features": 1}]]}]}]},
}


class _Items(torch.utils.data.Dataset):
    """40 items {'X': (6,), 'y': (1,)}: y is a fixed function of X, so there is something to learn."""

    def __init__(self):
        generator = torch.Generator().manual_seed(1)
        self.X = torch.randn(40, 6, generator=generator)
        self.y = torch.sin(self.X.sum(dim=1, keepdim=True))

    def __len__(self):
        return len(self.X)

    def __getitem__(self, idx):
        return {"X": self.X[idx], "y": self.y[idx]}


def make_case():
    """(model, dataset, config), the model initialised from seed 0."""
    runtime.seed_everything(0)
    return model_factory.NetModel(CONFIG_D, [8, 6]), _Items(), CONFIG_D
