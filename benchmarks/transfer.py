"""Leave one library out: does a tagging model hold on a sample library it never heard? (issue #28)

    .venv/bin/python benchmarks/transfer.py                          # dance type (2 front-ends), instruments
    .venv/bin/python benchmarks/transfer.py --seeds 0 1 2            # mean ± sd over 3 seeds
    .venv/bin/python benchmarks/transfer.py --configs tag_instrument_lms.yaml --preset small

The course's three renderers (``synth``, the synthesiser; ``timgm`` and ``merlin``, two sample libraries) play
the same notes. For each renderer in turn, a model is trained (as notebook 05 trains it: ``train.fit``, early
stopping on the validation split, the default mode's settings) on the train and valid splits played by the
other two, and scored on the test split played by each of the three. The held-out column is what matters:
one held-out library can flatter a model (notebook 05's B is ``merlin``, which sounds like what it trained
on); the spread over the three held-out libraries does not depend on that choice.

Prints, per config, a table (rows: the library left out; columns: the test split of each renderer, the one
left out marked) and the held-out scores' minimum and mean. The first run renders the train and valid splits
played by ``merlin`` (``build.ensure_dataset(..., split=..., renderer='merlin')``, about 2 min for ``full``).
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from course_utils import feature, model_factory, runtime, task, train
from course_utils.config import load_config
from course_utils.data import renderers

LIBRARY_L = list(renderers.RENDERER_D)  # synth, timgm, merlin
DEFAULT_CONFIG_L = ["tag_genre_lms.yaml", "tag_genre_tempogram.yaml", "tag_instrument_lms.yaml"]


def train_without(config, left_out, test_d, preset, data_dir, seed, device):
    """Train on every library but ``left_out``; the test score on each library's test split."""
    generator = runtime.seed_everything(seed)
    trained_l = [library for library in LIBRARY_L if library != left_out]
    split_d = {split: task.renderer_dataset(config, preset, data_dir, split, trained_l) for split in ("train", "valid")}
    model = model_factory.NetModel(config, feature.feature_input_dim(config.feature, 32)).to(device)
    loader_d = train.make_loaders(split_d, config, generator=generator)
    with tempfile.TemporaryDirectory() as folder:
        train.fit(model, loader_d["train"], loader_d["valid"], task.make_loss(config), config, device=device,
                  checkpoint_path=Path(folder) / "model.pt")
    score_name = task.HEADLINE_METRIC_D[config.dataset.problem]
    return {library: float(task.test_scores(model, config, test_ds)[score_name]) for library, test_ds in test_d.items()}


def transfer_table(config_name, seed_l, preset="full"):
    """The leave-one-library-out table of one config (markdown lines) and its held-out scores per library."""
    data_dir, device = runtime.project_dir() / "data", runtime.get_device()
    config = load_config(runtime.project_dir() / "configs" / config_name)
    start = time.perf_counter()
    test_d = {library: task.renderer_dataset(config, preset, data_dir, "test", [library]) for library in LIBRARY_L}
    score_d = {(left_out, seed): train_without(config, left_out, test_d, preset, data_dir, seed, device)
               for left_out in LIBRARY_L for seed in seed_l}
    score_name = task.HEADLINE_METRIC_D[config.dataset.problem]
    line_l = [f"{config_name} ({preset} preset, seeds {list(seed_l)}, {(time.perf_counter() - start) / 60:.1f} min): "
              f"test {score_name} per track; rows: the library left out of training",
              "| left out | " + " | ".join(LIBRARY_L) + " |", "| --- | " + " | ".join("---:" for _ in LIBRARY_L) + " |"]
    held_out_d = {}
    for left_out in LIBRARY_L:
        cell_l = []
        for library in LIBRARY_L:
            value_v = np.array([score_d[left_out, seed][library] for seed in seed_l])
            text = f"{value_v.mean():.3f}" + (f" ± {value_v.std(ddof=1):.3f}" if len(value_v) > 1 else "")
            cell_l.append(f"**{text}** (left out)" if library == left_out else text)
            if library == left_out:
                held_out_d[library] = float(value_v.mean())
        line_l.append(f"| {left_out} | " + " | ".join(cell_l) + " |")
    line_l.append(f"held-out {score_name}: min {min(held_out_d.values()):.3f}, "
                  f"mean {np.mean(list(held_out_d.values())):.3f}")
    return line_l, held_out_d


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIG_L)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--preset", default="full")
    args = parser.parse_args()
    for config_name in args.configs:
        print("\n" + "\n".join(transfer_table(config_name, args.seeds, args.preset)[0]), flush=True)


if __name__ == "__main__":
    main()
