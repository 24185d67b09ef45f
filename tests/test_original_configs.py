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


# Parameters of each variant in the original course's own factory (its model_factory.NetModel, run once on these
# files with the shapes above, at commit a0b7ae4 of geoffroypeeters/deeplearning-101-audiomir_notebook).
ORIGINAL_N_PARAMETER_D = {
    "autotagging_D1-I1-C1": 219427, "autotagging_D1-I2-C2": 313011, "autotagging_D1-I2-C3": 124931,
    "autotagging_D1-I2-C4": 219963, "autotagging_D2-I1-C1": 222027,
    "bittner_D1-I1-C1": 390243, "bittner_D1-I2-C1": 406253, "bittner_D1-I2-C2": 148717, "bittner_D1-I2-C3": 853741,
    "bittner_D1-I2-C4": 516205, "bittner_D2-I2-C1": 406253,
    "chord_D3-I3": 6959721, "doras": 7093591,
    "cover": 1869094, "cover_AutoPoolWeight": 1873190, "cover_Max": 1873189, "cover_Mean": 1873189,
    "cover_SoftmaxWeight": 1869093,
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


@pytest.mark.parametrize("path", sorted(ORIGINAL_DIR.glob("*.yaml")), ids=lambda path: path.stem)
def test_every_original_variant_has_the_originals_number_of_parameters(path):
    assert path.stem in ORIGINAL_N_PARAMETER_D, f"{path.name}: count its parameters in the original's factory"
    model = model_factory.NetModel(load_config(path), _shapes(path)[0])
    assert sum(parameter.numel() for parameter in model.parameters()) == ORIGINAL_N_PARAMETER_D[path.stem]
