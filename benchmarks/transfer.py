"""Leave one library out: does a model hold on a sample library it never heard? (issue #28)

    .venv/bin/python -m benchmarks.transfer                          # dance type (2 front-ends), instruments
    .venv/bin/python -m benchmarks.transfer --seeds 0 1 2            # mean ± sd over 3 seeds, and their ensemble
    .venv/bin/python -m benchmarks.transfer --configs tag_instrument_lms.yaml --preset small
    .venv/bin/python -m benchmarks.transfer --configs pitch_bittner_hcqt.yaml     # multi-pitch (71 min a seed, 2 cores)

The course's three renderers (``synth``, the synthesiser; ``timgm`` and ``merlin``, two sample libraries) play
the same notes. For each renderer in turn, a model is trained (as notebook 05 trains it: ``train.fit``, early
stopping on the validation split, the default mode's settings) on the train and valid splits played by the
other two, and scored on the test split played by each of the three. The held-out column is what matters:
one held-out library can flatter a model (notebook 05's B is ``merlin``, which sounds like what it trained
on); the spread over the three held-out libraries does not depend on that choice. A multi-pitch config is
trained as notebook 06 trains it (the positives weighted by ``task.pitch_pos_weight``) and scored as notebook
06 scores it on unheard instruments: mir_eval's Accuracy with a threshold relative to the track
(``metrics.relative_salience``), chosen on the validation split of the libraries it trained on.

Prints, per config, a table (rows: the library left out; columns: the test split of each renderer, the one
left out marked) and the held-out scores' minimum and mean; with several seeds (tagging configs), also the score
of their ensemble (the mean of their track probabilities, as notebook 05's ensemble) on each library left out.
The first run renders the train and valid splits
played by ``merlin`` (``build.ensure_dataset(..., split=..., renderer='merlin')``, about 2 min for ``full``).
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks import common
from course_utils import feature, metrics, runtime, task
from course_utils.config import load_config
from course_utils.data import renderers

LIBRARY_L = list(renderers.RENDERER_D)  # synth, timgm, merlin
DEFAULT_CONFIG_L = ["tag_genre_lms.yaml", "tag_genre_tempogram.yaml", "tag_instrument_lms.yaml"]


def score_name_of(config):
    """The one score a config is reported by: the tagging task's headline metric, multi-pitch Accuracy."""
    return "Accuracy" if task.task_of(config) == "pitch" else task.HEADLINE_METRIC_D[config.dataset.problem]


def _parts(ds):
    """The Datasets inside ``ds`` (one, or the parts of a ``ConcatDataset``)."""
    return ds.datasets if isinstance(ds, torch.utils.data.ConcatDataset) else [ds]


def relative_pitch_pairs(model, ds):
    """(relative salience, reference roll) of every track of ``ds``, as notebook 06 scores unheard instruments."""
    return [(metrics.relative_salience(salience_m), roll_m)
            for part in _parts(ds) for salience_m, roll_m in (task.track_salience(model, part, key)
                                                              for key in part.key_l)]


def pitch_accuracy_d(model, config, valid_ds, test_d):
    """Accuracy on each library's test split, the relative threshold chosen on the validation split trained on."""
    salience_l, roll_l = zip(*relative_pitch_pairs(model, valid_ds), strict=True)
    threshold = metrics.choose_threshold(salience_l, roll_l)
    hop_sec = feature.f_get_hop_sec(config.feature, config.feature.sr_hz)
    frequency_hz_v = feature.f_get_pitch_grid_hz(config.feature)
    accuracy_d = {}
    for library, test_ds in test_d.items():
        salience_l, roll_l = zip(*relative_pitch_pairs(model, test_ds), strict=True)
        accuracy_d[library] = metrics.mean_multipitch_scores(salience_l, roll_l, threshold, hop_sec,
                                                             frequency_hz_v)["Accuracy"]
    return accuracy_d


def train_without(config, left_out, test_d, preset, data_dir, seed, device, probability_d=None):
    """Train on every library but ``left_out``; the test score on each library's test split.

    ``probability_d`` (a dict, tagging tasks): receives the track probabilities and targets on the test split
    of the library left out, ``task.track_probabilities``'s pair, for an ensemble of seeds."""
    generator = runtime.seed_everything(seed)
    trained_l = [library for library in LIBRARY_L if library != left_out]
    split_d = {split: task.renderer_dataset(config, preset, data_dir, split, trained_l) for split in ("train", "valid")}
    with tempfile.TemporaryDirectory() as folder:  # as the notebooks train it (pitch: the rare positives weighted)
        model, _ = task.train_model(config, split_d, device, generator, checkpoint_path=Path(folder) / "model.pt")
    if task.task_of(config) == "pitch":
        return {library: float(value) for library, value in pitch_accuracy_d(model, config, split_d["valid"],
                                                                               test_d).items()}
    if probability_d is not None:
        probability_d[left_out] = task.track_probabilities(model, test_d[left_out], task.get_task(config).activation)
    score_name = score_name_of(config)
    return {library: float(task.test_scores(model, config, test_ds)[score_name]) for library, test_ds in test_d.items()}


def ensemble_score(config, probability_l):
    """The headline score of the mean of several models' track probabilities ((prob_m, target) pairs, one per seed,
    same tracks): ROC-AUC (multi-label) or accuracy (multi-class), as notebook 05 scores its ensemble."""
    prob_m, target = np.mean([prob for prob, _ in probability_l], axis=0), probability_l[0][1]
    if config.dataset.problem == "multilabel":
        return task.tag_scores(prob_m, target)[0]
    return float(np.mean(prob_m.argmax(axis=1) == np.asarray(target)))


def left_out_rows(score_d, seed_l):
    """The markdown table of a leave-one-library-out run (lines: rows = the library left out, columns = the test
    split of each library, mean ± sd over the seeds, the library left out in bold) and the held-out mean per library.

    ``score_d``: (library left out, seed) -> {library tested on: score}."""
    row_l, held_out_d = [], {}
    for left_out in LIBRARY_L:
        cell_l = []
        for library in LIBRARY_L:
            value_l = [score_d[left_out, seed][library] for seed in seed_l]
            cell = common.mean_sd(value_l)
            cell_l.append(f"**{cell}** (left out)" if library == left_out else cell)
            if library == left_out:
                held_out_d[library] = float(np.mean(value_l))
        row_l.append([left_out, *cell_l])
    return common.markdown_table(["left out", *LIBRARY_L], row_l), held_out_d


def transfer_table(config_name, seed_l, preset="full"):
    """The leave-one-library-out table of one config (markdown lines) and its held-out scores per library."""
    data_dir, device = runtime.project_dir() / "data", runtime.get_device()
    config = load_config(runtime.project_dir() / "configs" / config_name)
    start = time.perf_counter()
    test_d = {library: task.renderer_dataset(config, preset, data_dir, "test", [library]) for library in LIBRARY_L}
    probability_d = {seed: {} for seed in seed_l}
    score_d = {(left_out, seed): train_without(config, left_out, test_d, preset, data_dir, seed, device,
                                               None if task.task_of(config) == "pitch" else probability_d[seed])
               for left_out in LIBRARY_L for seed in seed_l}
    score_name = score_name_of(config)
    row_l, held_out_d = left_out_rows(score_d, seed_l)
    line_l = [f"{config_name} ({preset} preset, seeds {list(seed_l)}, {(time.perf_counter() - start) / 60:.1f} min): "
              f"test {score_name} per track; rows: the library left out of training", *row_l]
    line_l.append(f"held-out {score_name}: min {min(held_out_d.values()):.3f}, "
                  f"mean {np.mean(list(held_out_d.values())):.3f}")
    if len(seed_l) > 1 and task.task_of(config) != "pitch":  # the seeds' models averaged, as notebook 05's ensemble
        line_l.append(f"ensemble of the {len(seed_l)} seeds, held-out {score_name}: " + ", ".join(
            f"{left_out} {ensemble_score(config, [probability_d[seed][left_out] for seed in seed_l]):.3f}"
            for left_out in LIBRARY_L))
    return line_l, held_out_d


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIG_L)
    common.add_seeds_argument(parser)
    parser.add_argument("--preset", default="full")
    args = parser.parse_args()
    for config_name in args.configs:
        print("\n" + "\n".join(transfer_table(config_name, args.seeds, args.preset)[0]), flush=True)


if __name__ == "__main__":
    main()
