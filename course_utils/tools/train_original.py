"""Train a config of the original course on its real dataset, with the course's own code.

    .venv/bin/python -m course_utils.tools.train_original configs/original/bittner_D1-I2-C1.yaml --data data/real
    .venv/bin/python -m course_utils.tools.train_original configs/original/autotagging_D1-I2-C4.yaml \\
        --data data/real --max-epoch 50 --batch-size 64

The config's ``dataset.base`` names the files (``dataset.dataset_files``); when they are not in ``--data`` the
command says how to get them (``data.real.fetch_real_dataset``) and exits with status 2. The original configs
have no ``train`` section: the course's defaults below are used, and the options override them. The
``Dataset`` class, the loss and the test metrics follow from the config's task (``course_utils.task``: tags with
``TagDataset``, multi-pitch with ``PitchDataset``, covers with ``CoverDataset``); ``train.fit`` trains (a GPU when
there is one; several under ``torchrun``), and the test split is scored with the task's standard metric. The
checkpoint goes to ``data/checkpoints/``.
"""

import argparse
import sys
from pathlib import Path

from course_utils import dataset, feature, model_factory, runtime, task, train
from course_utils.config import as_config, load_config
from course_utils.data import real

DEFAULT_TRAIN_D = {"batch_size": 32, "learning_rate": 0.001, "max_epoch": 100, "patience": 10, "margin": 0.3}


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


def run(config_path, data_dir, override_d, checkpoint_dir):
    """Train and test one original config; returns the test scores (dict)."""
    runtime.init_distributed()
    config = with_train_section(load_config(config_path), override_d)
    message = missing_files_message(config, data_dir)
    if message is not None:
        raise FileNotFoundError(message)
    the_task = task.get_task(config)
    generator = runtime.seed_everything(runtime.training_seed())
    device = runtime.get_device()
    dataset_d = task.make_datasets(config, *dataset.dataset_files(config, data_dir))
    if not feature.is_computed(config.feature):  # features read from a file: their size comes from the file
        n_bin = dataset_d["train"].get_track(dataset_d["train"].key_l[0])[0].shape[-2]
        config = as_config({**config.to_dict(), "feature": {**config.feature.to_dict(), "n_bins": n_bin}})
    loader_d = train.make_loaders({s: dataset_d[s] for s in ("train", "valid")}, config, generator=generator,
                                  collate_fn=the_task.collate_fn)
    model = model_factory.NetModel(config, feature.feature_input_dim(config.feature, config.train.batch_size))
    model = model.to(device)
    checkpoint_path = Path(checkpoint_dir) / f"original_{Path(config_path).stem}.pt"
    train.fit(model, loader_d["train"], loader_d["valid"], task.make_loss(config), config, device=device,
              checkpoint_path=checkpoint_path)
    score_d = task.test_scores(model.cpu(), config, dataset_d["test"])
    if runtime.is_main_process():
        saved = f"model saved to {checkpoint_path}" if checkpoint_path.is_file() else "no checkpoint was written"
        print(f"{Path(config_path).name}: test " + ", ".join(f"{name} {value:.3f}" for name, value in score_d.items())
              + f"; {saved}")
    runtime.finish_distributed()
    return score_d


def _positive(kind):
    """An argparse type: a number of this kind > 0 (--max-epoch 0 would train nothing and save nothing)."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} must be > 0")
        return value

    return parse


def main(argument_l=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="a config of configs/original/ (or any config with dataset.base)")
    parser.add_argument("--data", default="data/real", help="folder holding <base>_audio.hdf5 and <base>.pyjama")
    parser.add_argument("--checkpoints", default="data/checkpoints", help="folder for the trained model")
    parser.add_argument("--max-epoch", type=_positive(int))
    parser.add_argument("--batch-size", type=_positive(int))
    parser.add_argument("--learning-rate", type=_positive(float))
    parser.add_argument("--patience", type=_positive(int))
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
