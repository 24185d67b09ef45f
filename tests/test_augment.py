import pytest
import torch

from course_utils import augment, train
from course_utils.config import ConfigError, as_config


def test_random_eq_adds_one_smooth_curve_per_item_along_frequency():
    torch.manual_seed(0)
    X = torch.zeros(5, 1, 128, 20)
    out = augment.RandomEQ(3.0)(X)
    assert out.shape == X.shape
    curve_m = out[:, 0, :, 0]
    assert torch.equal(out, curve_m[:, None, :, None].expand_as(out)), "the same curve in every frame of an item"
    assert not torch.allclose(curve_m[0], curve_m[1]), "a new curve for every item"
    assert curve_m.abs().max() <= 3.0 * (1 + 1 / 2 + 1 / 3 + 1 / 4) + 1e-5
    assert curve_m.diff(dim=1).abs().max() < 0.5, "smooth: no jump between neighbouring bins"
    assert torch.equal(augment.RandomEQ(0.0)(X), X)


def test_random_eq_on_hcqt_and_three_axis_batches():
    X = torch.ones(2, 6, 72, 10)  # HCQT: every harmonic channel gets the same curve
    out = augment.RandomEQ(1.0)(X)
    assert torch.equal(out[:, 0], out[:, 5])
    assert augment.RandomEQ(1.0)(torch.ones(2, 72, 10)).shape == (2, 72, 10)
    with pytest.raises(ValueError, match=r"\(batch, \[channel,\] frequency, time\) features, got shape \(4, 10\)"):
        augment.RandomEQ(1.0)(torch.ones(4, 10))


class _Items(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, idx):
        return {"X": torch.zeros(1, 16, 4), "y": torch.tensor(idx)}


def _config(train_extra_d):
    return as_config({"train": {"batch_size": 4, "learning_rate": 0.001, "max_epoch": 1, "patience": 1,
                                **train_extra_d}})


def test_make_loaders_augments_the_training_batches_only():
    config = _config({"augment": {"random_eq": 2.0}})
    loader_d = train.make_loaders({"train": _Items(), "valid": _Items()}, config)
    assert next(iter(loader_d["train"]))["X"].abs().sum() > 0
    assert next(iter(loader_d["valid"]))["X"].abs().sum() == 0
    assert augment.train_collate(_config({})) is None
    plain = train.make_loaders({"train": _Items()}, _config({}))
    assert next(iter(plain["train"]))["X"].abs().sum() == 0


def test_augment_errors_name_the_setting():
    with pytest.raises(ConfigError, match=r"train.augment: unknown augmentation \['mixup'\]; known: random_eq"):
        augment.train_collate(_config({"augment": {"mixup": 0.2}}))
    with pytest.raises(ConfigError, match="random_eq: the largest gain must be a number >= 0, got 'loud'"):
        augment.train_collate(_config({"augment": {"random_eq": "loud"}}))
    with pytest.raises(ConfigError, match="train.augment works with the default collate only"):
        train.make_loaders({"train": _Items()}, _config({"augment": {"random_eq": 1.0}}),
                           collate_fn=torch.utils.data.default_collate)
