"""Train a config of the original course on its real dataset, with the course's own code.

    .venv/bin/python -m course_utils.train_original configs/original/bittner_D1-I2-C1.yaml --data data/real
    .venv/bin/python -m course_utils.train_original configs/original/autotagging_D1-I2-C4.yaml --data data/real \\
        --max-epoch 50 --batch-size 64

The config's ``dataset.base`` names the files (``dataset.dataset_files``); when they are not in ``--data`` the
command says how to get them (``data.real.fetch_real_dataset``) and exits with status 2. The original configs
have no ``train`` section: the course's defaults below are used, and the options override them. The
``Dataset`` class and the loss follow from the config (tags: ``TagDataset`` with cross-entropy or binary
cross-entropy; multi-pitch: ``PitchDataset`` with binary cross-entropy; covers: ``CoverDataset`` with a
semi-hard triplet loss); ``train.fit`` trains (a GPU when there is one; several under ``torchrun``), and the
test split is scored with the task's standard metric. The checkpoint goes to ``data/checkpoints/``.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score

from course_utils import dataset, feature, metrics, model_factory, runtime, train
from course_utils.config import as_config, load_config
from course_utils.data import real

DEFAULT_TRAIN_D = {"batch_size": 32, "learning_rate": 0.001, "max_epoch": 100, "patience": 10, "margin": 0.3}


def task_of(config):
    """'tag', 'pitch' or 'cover': which Dataset class and loss a config needs."""
    dataset_d = config.dataset
    if dataset_d.get("problem") == "cover":
        return "cover"
    if dataset_d.get("problem") in ("multiclass", "multilabel", "segment"):
        return "tag"
    return "pitch"  # the multi-pitch configs name no problem: do_f0_annot frame or segment


def with_train_section(config, override_d):
    """The config with a ``train`` section: its own if it has one, else the course's defaults; then the
    command line's overrides."""
    plain_d = config.to_dict()
    plain_d["train"] = {**DEFAULT_TRAIN_D, **plain_d.get("train", {}), **override_d}
    return as_config(plain_d)


def missing_files_message(config, data_dir):
    """None when the config's two files are in ``data_dir``, else how to get them."""
    file_l = dataset.dataset_files(config, data_dir)
    missing_l = [path for path in file_l if not path.is_file()]
    if not missing_l:
        return None
    base = config.dataset.base
    how = (f'python -c "from course_utils.data import real; real.fetch_real_dataset(\'{base}\', '
           f'real.ORIGINAL_BASE_URL, \'{data_dir}\')"' if base in real.REAL_DATASET_D else
           f"put {file_l[0].name} and {file_l[1].name} in {data_dir}")
    return (f"{', '.join(str(path) for path in missing_l)}: not found. The {base} dataset is not part of the "
            f"offline course; get it with\n    {how}\n(README.md, \"The original course's real datasets\")")


def make_datasets(config, task, data_dir):
    """split -> Dataset of the config's task."""
    data_path, pyjama_path = dataset.dataset_files(config, data_dir)
    dataset_class = {"tag": dataset.TagDataset, "pitch": dataset.PitchDataset, "cover": dataset.CoverDataset}[task]
    return {split: dataset_class(data_path, pyjama_path, split, config) for split in ("train", "valid", "test")}


def loss_of(config, task):
    if task == "cover":
        return metrics.TripletLoss(margin=config.train.margin, mining="semihard")
    if task == "tag" and config.dataset.get("problem") == "multiclass":
        return torch.nn.CrossEntropyLoss()
    return torch.nn.BCEWithLogitsLoss()


def test_scores(model, config, task, test_ds):
    """The task's standard metrics on the test split: per track for tags, covers and (mir_eval) pitch."""
    if task == "cover":
        embedding_m = torch.stack([train.predict_track(model, test_ds.get_track(key)[0]) for key in test_ds.key_l])
        work_v = np.array([test_ds.get_target(key) for key in test_ds.key_l])
        return {name: value for name, value in metrics.ranking_metrics(
            metrics.pairwise_distances(embedding_m).numpy(), work_v).items() if name in ("MAP", "MR1", "P@1")}
    if task == "pitch":  # mir_eval on whole tracks, as notebook 06 (threshold 0.5), averaged over tracks
        frequency_hz_v = feature.f_get_pitch_grid_hz(config.feature)
        score_l = [metrics.multipitch_scores(test_ds.get_target(key).numpy(),
                                             torch.sigmoid(train.predict_track(model, test_ds.get_track(key)[0]))[0]
                                             .numpy() > 0.5, test_ds.time_sec_v(key), frequency_hz_v)
                   for key in test_ds.key_l]
        return {name: float(np.mean([score_d[name] for score_d in score_l]))
                for name in ("Precision", "Recall", "Accuracy")}
    problem = config.dataset.problem
    activation = (lambda z: torch.softmax(z, dim=1)) if problem == "multiclass" else torch.sigmoid
    prob_m = np.array([activation(train.predict_track(model, test_ds.get_track(key)[0], test_ds.track_patches(key)))
                       .mean(dim=0).numpy() for key in test_ds.key_l])
    target_m = np.array([test_ds.get_target(key).numpy() for key in test_ds.key_l])
    if problem == "multiclass":
        return {"accuracy": accuracy_score(target_m, prob_m.argmax(axis=1)),
                "macro-recall": balanced_accuracy_score(target_m, prob_m.argmax(axis=1))}
    if problem == "segment":  # frame labels: averaged over the patches of a track, scored per label
        prob_m, target_m = prob_m.mean(axis=-1), target_m.mean(axis=-1) > 0.5
    present_v = (target_m.sum(axis=0) > 0) & (target_m.sum(axis=0) < len(target_m))
    return {"ROC-AUC (macro)": roc_auc_score(target_m[:, present_v], prob_m[:, present_v], average="macro")}


def run(config_path, data_dir, override_d, checkpoint_dir):
    """Train and test one original config; returns the test scores (dict)."""
    runtime.init_distributed()
    config = with_train_section(load_config(config_path), override_d)
    message = missing_files_message(config, data_dir)
    if message is not None:
        raise FileNotFoundError(message)
    task = task_of(config)
    generator = runtime.seed_everything(runtime.training_seed())
    device = runtime.get_device()
    dataset_d = make_datasets(config, task, data_dir)
    if task == "cover":  # the cover files' feature size comes from the file
        n_bin = dataset_d["train"].get_track(dataset_d["train"].key_l[0])[0].shape[-2]
        config = as_config({**config.to_dict(), "feature": {**config.feature.to_dict(), "n_bins": n_bin}})
    collate_fn = dataset.cover_collate if task == "cover" else None
    loader_d = train.make_loaders({s: dataset_d[s] for s in ("train", "valid")}, config, generator=generator,
                                  collate_fn=collate_fn)
    model = model_factory.NetModel(config, feature.feature_input_dim(config.feature, config.train.batch_size))
    model = model.to(device)
    checkpoint_path = Path(checkpoint_dir) / f"original_{Path(config_path).stem}.pt"
    train.fit(model, loader_d["train"], loader_d["valid"], loss_of(config, task), config, device=device,
              checkpoint_path=checkpoint_path)
    score_d = test_scores(model.cpu(), config, task, dataset_d["test"])
    if runtime.is_main_process():
        print(f"{Path(config_path).name}: test " + ", ".join(f"{name} {value:.3f}" for name, value in score_d.items())
              + f"; model saved to {checkpoint_path}")
    return score_d


def main(argument_l=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="a config of configs/original/ (or any config with dataset.base)")
    parser.add_argument("--data", default="data/real", help="folder holding <base>_audio.hdf5 and <base>.pyjama")
    parser.add_argument("--checkpoints", default="data/checkpoints", help="folder for the trained model")
    parser.add_argument("--max-epoch", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--patience", type=int)
    arguments = parser.parse_args(argument_l)
    override_d = {key: value for key, value in (("max_epoch", arguments.max_epoch),
                                                ("batch_size", arguments.batch_size),
                                                ("learning_rate", arguments.learning_rate),
                                                ("patience", arguments.patience)) if value is not None}
    try:
        run(arguments.config, arguments.data, override_d, arguments.checkpoints)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
