"""Every variant of the original course's configs (configs/original/) builds unchanged and gives the
output shape of the original's model."""

from pathlib import Path

import pytest
import torch

from course_utils import model_factory
from course_utils.config import load_config

ORIGINAL_DIR = Path(__file__).resolve().parents[1] / "configs" / "original"

# (input shape, output shape) of each family, batch of 2. The log-mel variants need 256 frames: with the
# feature section's 64 (patch_L_frame), the third Conv1d + MaxPool1d has nothing left to pool, in the
# original as here (its config notes "128,64 -> 128,256" beside the first layer).
SHAPE_D = {
    "autotagging_D1-I1": ([2, 1, 128, 256], [2, 10]), "autotagging_D1-I2": ([2, 1, 3200], [2, 10]),
    "autotagging_D2-I1": ([2, 1, 128, 256], [2, 50]),
    "bittner_D1-I1": ([2, 1, 360, 64], [2, 1, 360, 64]), "bittner_D1-I2": ([2, 6, 360, 64], [2, 1, 360, 64]),
    "bittner_D2-I2": ([2, 6, 360, 64], [2, 1, 360, 64]), "doras": ([2, 6, 360, 64], [2, 1, 360, 64]),
    "chord_D3-I3": ([2, 1, 72, 1024], [2, 25, 1024]), "cover": ([2, 1, 23, 400], [2, 32]),
}


def _shapes(path):
    for prefix, shapes in sorted(SHAPE_D.items(), key=lambda item: -len(item[0])):
        if path.stem.startswith(prefix):
            return shapes
    raise AssertionError(f"{path.name}: no expected shape in SHAPE_D")


@pytest.mark.parametrize("path", sorted(ORIGINAL_DIR.glob("*.yaml")), ids=lambda path: path.stem)
def test_every_original_variant_builds_and_runs(path):
    input_dim, output_dim = _shapes(path)
    model = model_factory.NetModel(load_config(path), input_dim)
    assert model.output_dim == output_dim
    model.eval()
    with torch.no_grad():
        assert list(model(torch.randn(input_dim)).shape) == output_dim


def test_all_variants_of_the_five_files_are_there():
    stem_l = {path.stem for path in ORIGINAL_DIR.glob("*.yaml")}
    assert len([s for s in stem_l if s.startswith("autotagging_")]) == 5
    assert len([s for s in stem_l if s.startswith("bittner_")]) == 6
    assert {"doras", "chord_D3-I3", "cover", "cover_AutoPoolWeight"} <= stem_l
