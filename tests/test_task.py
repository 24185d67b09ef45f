"""What a task is (course_utils.task): every config of the course names one, and each gives the loss the course
trains."""

from pathlib import Path

import pytest
import torch

from course_utils import contrastive, dataset, separation, task
from course_utils.config import load_config

ROOT = Path(__file__).resolve().parents[1]
COURSE_CONFIG_L = sorted((ROOT / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", COURSE_CONFIG_L, ids=lambda path: path.stem)
def test_every_course_config_names_its_task(path):
    config = load_config(path)
    assert config.dataset.get("problem") in task.TASK_D, f"{path.name}: dataset.problem names no task"
    expected = {"tag": ("multiclass", "multilabel"), "pitch": ("pitch",), "cover": ("cover", "pitch"),
                "separation": ("separation",), "ssl": ("contrastive",), "autoencoder": ("reconstruction",),
                "vae": ("reconstruction",), "codec": ("reconstruction",),
                "lm": ("language_model",), "flow": ("flow",)}[path.stem.split("_")[0]]
    assert task.task_of(config) in expected, path.name


def test_a_config_without_a_task_is_an_error_listing_the_tasks():
    with pytest.raises(dataset.DatasetError, match="names no task: set dataset.problem to one of multiclass"):
        task.task_of({"dataset": {"base": "course"}})
    with pytest.raises(dataset.DatasetError, match="'tempo', not a task of the course"):
        task.task_of({"dataset": {"problem": "tempo"}})
    assert task.task_of({"dataset": {"base": "bach10", "do_f0_annot": "frame"}}) == "pitch"  # the original course's


class _Rolls:
    """Stands for a PitchDataset: two tracks whose piano rolls are 10 % and 30 % active."""

    key_l = ["a", "b"]

    def get_target(self, key):
        roll_m = torch.zeros(10, 10)
        roll_m.view(-1)[: 10 if key == "a" else 30] = 1
        return roll_m


def test_the_pitch_loss_weights_the_positives_as_notebook_06_trains_it():
    config = load_config(ROOT / "configs" / "pitch_bittner_hcqt.yaml")
    loss_fn = task.make_loss(config, _Rolls())
    assert isinstance(loss_fn, torch.nn.BCEWithLogitsLoss)
    assert float(loss_fn.pos_weight) == pytest.approx(min(10.0, 0.8 / 0.2))
    assert task.make_loss(config).pos_weight is None  # without the training split: unweighted
    melody_config = load_config(ROOT / "configs" / "cover_melody_hcqt.yaml")  # train.pos_weight: false
    assert task.make_loss(melody_config, _Rolls()).pos_weight is None
    capped = load_config(ROOT / "configs" / "pitch_bittner_hcqt.yaml")
    capped.train["pos_weight"] = 2.0
    assert float(task.make_loss(capped, _Rolls()).pos_weight) == pytest.approx(2.0)


def test_the_losses_of_separation_and_contrastive_pretraining_are_the_course_s():
    mask_logits, y = torch.randn(2, 4, 8, 16), torch.rand(2, 5, 8, 16)
    separation_loss = task.make_loss(load_config(ROOT / "configs" / "separation_unet_stft.yaml"))
    assert torch.equal(separation_loss(mask_logits, y), separation.masked_mse_loss(mask_logits, y))
    ssl_config = load_config(ROOT / "configs" / "ssl_contrastive_lms.yaml")
    nt_xent = task.make_loss(ssl_config)
    z_a, z_b = torch.randn(6, 4), torch.randn(6, 4)
    assert torch.equal(nt_xent(z_a, z_b), contrastive.nt_xent_loss(z_a, z_b, ssl_config.pretrain.temperature))
    assert task.get_task(ssl_config).dataset_class.__qualname__ == "contrastive.CropDataset"
    assert task.get_task(load_config(ROOT / "configs" / "separation_unet_stft.yaml")).build_option_d == {"stems": True}
