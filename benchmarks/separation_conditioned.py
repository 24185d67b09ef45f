"""Notebook 08's two separation models, measured the same way: the U-Net with one mask per voice
(configs/separation_unet_stft.yaml) and the conditioned U-Net that is asked for one voice at a time
(configs/separation_cunet_stft.yaml, after Meseguer-Brocal and Peeters' C-U-Net).

    .venv/bin/python -m benchmarks.separation_conditioned                      # both, seed 0, the full preset
    .venv/bin/python -m benchmarks.separation_conditioned --configs separation_cunet_stft.yaml --seeds 0 1 2

Each model trains as notebook 08 trains it (``train.fit`` with the config's settings, early stopping on the
validation loss; the same number of training steps for both: the conditioned dataset has 4 items per patch and
its config 2 epochs where the U-Net's has 8), then separates the whole test tracks as built (A) and played by the
held-out library (B, ``merlin``). Score: the SI-SDR improvement over the mixture, as notebook 08 reports it (the
median over tracks of each voice's SI-SDR, the mean over the voices, minus the mixture's), mean ± sd over seeds.
``--fast`` trains as the fast mode does, on the ``small`` preset, for a quick check of the script;
``--max-epoch N`` trains each model for N epochs instead of its config's (e.g. to give the conditioned model
more steps than the U-Net).
"""

import argparse
import time

import numpy as np
import torch

from benchmarks import common
from course_utils import runtime, separation, task, train
from course_utils.config import load_config


def mean_si_sdr_improvement(model, ds, feature_d, device):
    """(per voice (V,), mean over voices): the median over the tracks of ``ds`` of SI-SDR(estimate) -
    SI-SDR(mixture), in dB (the improvement of the voices' medians, as notebook 08 computes it)."""
    estimate_l, mixture_l = [], []
    for key in ds.key_l:
        mix_v, stem_m = ds.read_track(key)
        estimate_m = separation.separate_track(model, mix_v, feature_d, device)
        audible_v = separation.audible_voices(stem_m)  # a silent voice has no score (as separation_scores)
        estimate_l.append([separation.si_sdr(estimate_v, stem_v) if audible else np.nan
                           for estimate_v, stem_v, audible in zip(estimate_m, stem_m, audible_v, strict=True)])
        mixture_l.append([separation.si_sdr(mix_v, stem_v) if audible else np.nan
                          for stem_v, audible in zip(stem_m, audible_v, strict=True)])
    improvement_v = np.nanmedian(estimate_l, axis=0) - np.nanmedian(mixture_l, axis=0)
    return improvement_v, float(np.mean(improvement_v))


def train_and_score(config_name, seed, preset, fast_mode, device, max_epoch=None):
    """Train one model from seed ``seed``; returns {'A': dB, 'B': dB, 'minutes': training and scoring time}."""
    start = time.perf_counter()
    config = load_config(runtime.project_dir() / "configs" / config_name)
    if max_epoch is not None:
        config.train.max_epoch = max_epoch
    generator = runtime.seed_everything(seed)
    data_dir = runtime.project_dir() / "data"
    split_d = task.split_datasets(config, preset, data_dir, progress=False)  # train, valid, test (A) and B
    model, history = task.train_model(config, split_d, device, generator, fast_mode)
    n_batch = len(train.make_loaders({"train": split_d["train"]}, config, fast_mode=fast_mode)["train"])
    result_d = {"steps": n_batch * len(history["train_loss"]), "best_epoch": history["best_epoch"]}
    for where, ds in (("A", split_d["test"]), ("B", split_d[task.HELDOUT_SPLIT])):
        result_d[where + "_voice"], result_d[where] = mean_si_sdr_improvement(model, ds, config.feature, device)
    result_d["minutes"] = (time.perf_counter() - start) / 60
    return result_d


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=["separation_unet_stft.yaml", "separation_cunet_stft.yaml"])
    common.add_seeds_argument(parser)
    parser.add_argument("--fast", action="store_true", help="the fast mode's training, on the small preset")
    parser.add_argument("--max-epoch", type=int, default=None, help="epochs instead of the config's")
    args = parser.parse_args()
    preset, device = ("small" if args.fast else "full"), runtime.get_device()
    print(f"preset {preset}, {'fast' if args.fast else 'default'} mode, device {device}, torch threads "
          f"{torch.get_num_threads()}" + (f", {args.max_epoch} epochs each" if args.max_epoch else ""))
    summary_l = []
    for config_name in args.configs:
        run_l = []
        for seed in args.seeds:
            run_l.append(train_and_score(config_name, seed, preset, args.fast, device, args.max_epoch))
            run = run_l[-1]
            print(f"{config_name} seed {seed}: {run['steps']} training steps (best epoch {run['best_epoch']}), "
                  f"SI-SDRi A {run['A']:.2f} (per voice {np.round(run['A_voice'], 2).tolist()}), "
                  f"B {run['B']:.2f} (per voice {np.round(run['B_voice'], 2).tolist()}) dB, "
                  f"{run['minutes']:.1f} min", flush=True)
        summary_l.append((config_name, run_l))
    row_l = [[config_name, len(run_l), *(common.mean_sd([run[where] for run in run_l], 2) for where in ("A", "B")),
              f"{np.mean([run['minutes'] for run in run_l]):.1f}"] for config_name, run_l in summary_l]
    print("\n" + "\n".join(common.markdown_table(["config", "seeds", "SI-SDRi A (dB)", "SI-SDRi B, never heard (dB)",
                                                   "min per run"], row_l)))


if __name__ == "__main__":
    main()
