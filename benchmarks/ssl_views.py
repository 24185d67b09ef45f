"""Which views make a useful self-supervised encoder? (notebook 09, issue #31)

    .venv/bin/python -m benchmarks.ssl_views                   # both encoders, seed 0, full preset: about 12 min
    .venv/bin/python -m benchmarks.ssl_views --encoders tempogram --seeds 0 1 2
    .venv/bin/python -m benchmarks.ssl_views --preset small    # a quick look (fast-mode epochs)

For each encoder of notebook 09 (``ssl_contrastive_lms.yaml`` for the instruments, ``ssl_contrastive_tempogram.yaml``
for the dance type) and each set of view changes below, the encoder is pretrained as the notebook pretrains it
(``contrastive.pretrain``, the config's epochs and batch, no label read) and read by a linear probe fitted on
10 % of the training labels (``probe.label_subset``), scored on the test split (A) and on the test split played
by ``merlin`` (B). The final validation NT-Xent is printed beside it: a lower loss is not a better encoder.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks import common
from course_utils import contrastive, dataset, feature, probe, runtime, task
from course_utils.config import load_config
from course_utils.data import build

ROOT = Path(__file__).resolve().parents[1]
ENCODER_D = {  # name -> (encoder config, task config, {variant: overrides of the pretrain section})
    "lms": ("ssl_contrastive_lms.yaml", "tag_instrument_lms.yaml",
            {"crops only": {"views": {}, "renderer_swap": []}, "views, no renderer swap": {"renderer_swap": []},
             "renderer swap, no views": {"views": {}}, "views and renderer swap (the config's)": {}}),
    "tempogram": ("ssl_contrastive_tempogram.yaml", "tag_genre_tempogram.yaml",
                  {"crops only": {"views": {}}, "tempo change 10 % (the config's)": {},
                   "tempo change 20 %": {"views": {"lag_stretch": 0.2}}}),
}


def split_datasets(config, preset, with_heldout=True):
    """split -> TagDataset of ``config`` (train, valid, test, and B: the test split played by the held-out renderer)."""
    return task.split_datasets(config, preset, ROOT / "data", heldout=with_heldout, progress=False)


def probe_with_views(ssl_config, override_d, pretrain_d, task_split_d, preset, fast_mode, seed):
    """Pretrain an encoder with ``override_d`` applied to its pretrain section; (valid NT-Xent, probe score A, B) with
    10 % of the labels, the probe's regularisation chosen on the validation split."""
    generator = runtime.seed_everything(seed)
    settings = contrastive.pretrain_settings({"pretrain": {**contrastive.pretrain_settings(ssl_config, fast_mode),
                                                           **override_d}})
    model = contrastive.ContrastiveModel(ssl_config, feature.feature_input_dim(ssl_config.feature, settings.batch_size),
                                         settings.projection_dim)
    patch_L = ssl_config.feature.patch_L_frame
    rendering_l = [dataset.TagDataset(*build.ensure_dataset(preset, ROOT / "data", split="train", renderer=name),
                                      "train", pretrain_d["config"], progress=False) for name in settings.renderer_swap]
    train_crops = contrastive.TrackCrops(rendering_l or pretrain_d["train"], patch_L, settings.n_item_per_track)
    history = contrastive.pretrain(model, train_crops, contrastive.TrackCrops(pretrain_d["valid"], patch_L), settings,
                                   generator=generator)
    train_ds = task_split_d["train"]
    problem = train_ds.dataset_d["problem"]
    fitted, _ = probe.choose_probe(model.encoder, task_split_d, probe.label_subset(train_ds, 0.1, seed), problem,
                                   ssl_config.probe.regularisation)
    metric = task.HEADLINE_METRIC_D[problem]
    return (history["valid_loss"][-1], *(probe.probe_scores(model.encoder, fitted, task_split_d[part])[metric]
                                         for part in ("test", task.HELDOUT_SPLIT)))


def main(encoder_l, seed_l, preset):
    fast_mode = preset == "small"
    for encoder_name in encoder_l:
        ssl_name, task_name, variant_d = ENCODER_D[encoder_name]
        ssl_config = load_config(ROOT / "configs" / ssl_name)
        task_config = probe.with_feature(load_config(ROOT / "configs" / task_name), ssl_config)
        unlabelled_config = probe.with_feature(load_config(ROOT / "configs" / "tag_instrument_lms.yaml"), ssl_config)
        pretrain_d = split_datasets(unlabelled_config, preset, with_heldout=False)  # every track: no label is read
        pretrain_d["config"] = unlabelled_config
        task_split_d = split_datasets(task_config, preset)
        print(f"\n{ssl_name}: probe with 10 % of the labels of {task_name} (seeds {list(seed_l)}, {preset})")
        print("\n".join(common.markdown_table(["views", "valid NT-Xent", "A", "B (never heard)"], [])))
        for variant, override_d in variant_d.items():
            start = time.perf_counter()
            value_m = np.array([probe_with_views(ssl_config, override_d, pretrain_d, task_split_d, preset, fast_mode,
                                                 seed) for seed in seed_l])
            cell_l = [common.mean_sd(value_v) for value_v in value_m.T]
            print(f"| {variant} | {' | '.join(cell_l)} |  ({(time.perf_counter() - start) / 60:.1f} min)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoders", nargs="+", choices=list(ENCODER_D), default=list(ENCODER_D))
    common.add_seeds_argument(parser)
    parser.add_argument("--preset", default="full", choices=["small", "full"])
    arguments = parser.parse_args()
    main(arguments.encoders, arguments.seeds, arguments.preset)
