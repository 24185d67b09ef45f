"""The design choices of notebook 08's separation model, measured: the loss and the masks' activation, for a
given U-Net config, by the validation SI-SDR improvement after a fixed number of training steps.

    .venv/bin/python -m benchmarks.separation_choices [--config configs/separation_unet_stft.yaml]
        [--preset small] [--steps 100] [--variants l1-sigmoid l2-sigmoid l2-softmax ...]

Each variant trains the same model from the same seed on the same batches (the train split's patches, read
once into memory) and reports, every ``--every`` steps, the median over the first 8 validation tracks of the
mean over the voices of SI-SDR(estimate) - SI-SDR(mixture), in dB: 0 is no better than the mixture. Variants:
``<loss>-<activation>`` with loss ``l1`` (mean absolute difference of magnitudes, as Jansson et al.), ``l2``
(mean squared difference) or ``pow0.3`` (L1 of magnitudes to the power 0.3), activation ``sigmoid`` (a mask per
voice on its own) or ``softmax`` (the voices share each bin, ``separation.masks_of``).
"""

import argparse
import time

import numpy as np
import torch

from course_utils import model_factory, runtime, separation
from course_utils.config import load_config
from course_utils.data import build

LOSS_D = {"l1": lambda estimate, reference: (estimate - reference).abs().mean(),
          "l2": lambda estimate, reference: ((estimate - reference) ** 2).mean(),
          "pow0.3": lambda estimate, reference: (estimate.clamp_min(1e-8) ** 0.3 - reference**0.3).abs().mean()}
ACTIVATION_D = {"sigmoid": torch.sigmoid, "softmax": separation.masks_of}


def valid_improvement_db(model, activation, valid_ds, feature_d, n_track=8):
    """Median over tracks of the mean over voices of the SI-SDR improvement over the mixture, dB."""
    improvement_l = []
    for key in valid_ds.key_l[:n_track]:
        mix_v, stem_m = valid_ds.read_track(key)
        estimate_m = separation.separate_track(model, mix_v, feature_d, mask_fn=activation)
        improvement_l.append(np.mean([separation.si_sdr(estimate_v, stem_v) - separation.si_sdr(mix_v, stem_v)
                                      for estimate_v, stem_v, audible in zip(estimate_m, stem_m,
                                                                             separation.audible_voices(stem_m),
                                                                             strict=True) if audible]))
    model.train()
    return float(np.median(improvement_l))


def run_variant(variant, config, X_all, y_all, valid_ds, n_step, every, batch_size=16):
    """Train one variant from seed 0; returns [(step, train loss, valid improvement dB, ms per step)]."""
    loss_name, activation_name = variant.rsplit("-", 1)
    loss_fn, activation = LOSS_D[loss_name], ACTIVATION_D[activation_name]
    torch.manual_seed(0)
    model = model_factory.NetModel(config, [batch_size, *X_all.shape[1:]])
    optimizer = torch.optim.Adam(model.parameters(), lr=float(config["train"]["learning_rate"]))
    generator, row_l, loss_l, step, start = torch.Generator().manual_seed(0), [], [], 0, time.perf_counter()
    while step < n_step:
        order = torch.randperm(len(X_all), generator=generator)
        for first in range(0, len(order) - batch_size + 1, batch_size):
            index = order[first:first + batch_size]
            mask_m = activation(model(X_all[index]))
            loss = loss_fn(mask_m * y_all[index, :1], y_all[index, 1:])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_l.append(loss.item())
            step += 1
            if step % every == 0 or step == n_step:
                row_l.append((step, float(np.mean(loss_l[-every:])),
                              valid_improvement_db(model, activation, valid_ds, config["feature"]),
                              (time.perf_counter() - start) / step * 1000))
            if step == n_step:
                break
    return row_l


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(runtime.project_dir() / "configs" / "separation_unet_stft.yaml"))
    parser.add_argument("--preset", default="small")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--variants", nargs="+", default=["l1-sigmoid", "pow0.3-sigmoid", "l2-sigmoid", "l2-softmax"])
    args = parser.parse_args()
    config = load_config(args.config)
    audio_file, pyjama_file = build.ensure_dataset(args.preset, runtime.project_dir() / "data", stems=True)
    train_ds = separation.SeparationDataset(audio_file, pyjama_file, "train", config)
    valid_ds = separation.SeparationDataset(audio_file, pyjama_file, "valid", config)
    item_l = [train_ds[index] for index in range(len(train_ds))]
    X_all, y_all = torch.stack([item["X"] for item in item_l]), torch.stack([item["y"] for item in item_l])
    print(f"config {args.config}, preset {args.preset}, {len(X_all)} train patches, torch threads "
          f"{torch.get_num_threads()}\n")
    print("| variant | step | train loss | valid SI-SDR improvement (dB) | ms per step |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for variant in args.variants:
        for step, loss, improvement, ms in run_variant(variant, config, X_all, y_all, valid_ds, args.steps, args.every):
            print(f"| {variant} | {step} | {loss:.4f} | {improvement:.2f} | {ms:.0f} |", flush=True)


if __name__ == "__main__":
    main()
