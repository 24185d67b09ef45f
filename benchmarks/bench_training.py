"""Training speed on this machine: one optimiser step (forward + backward + step) of the course's models,
eager PyTorch against channels-last memory format and ``torch.compile``, in the same run.

    .venv/bin/python -m benchmarks.bench_training [--steps 20]

For each config: the median time of a step after warm-up, the ratio to eager, and the one-off warm-up
cost (``torch.compile`` traces and compiles the model on its first steps). A speed-up per step only
shortens a notebook when (steps in the notebook) x (time saved per step) exceeds the warm-up.
"""

import argparse
import platform
import time

import numpy as np
import torch

from course_utils import feature, model_factory, runtime
from course_utils.config import load_config

CONFIG_L = [("tag_genre_lms.yaml", 32, torch.nn.CrossEntropyLoss()),
            ("tag_instrument_lms.yaml", 32, torch.nn.BCEWithLogitsLoss()),
            ("pitch_bittner_hcqt.yaml", 16, torch.nn.BCEWithLogitsLoss())]


def random_batch(model, batch_size, loss_fn):
    """Inputs of the model's shape and targets that fit its output and loss."""
    X = torch.randn([batch_size, *model.input_dim[1:]])
    out_shape = [batch_size, *model.output_dim[1:]]
    if isinstance(loss_fn, torch.nn.CrossEntropyLoss):
        return X, torch.randint(out_shape[1], (batch_size,))
    return X, (torch.rand(out_shape) > 0.9).float()


def time_steps(model, X, y, loss_fn, n_step, channels_last=False, compiled=False):
    """(warm-up seconds, median seconds per step) of n_step training steps."""
    if channels_last and X.dim() == 4:
        model = model.to(memory_format=torch.channels_last)
        X = X.contiguous(memory_format=torch.channels_last)
    step_model = torch.compile(model) if compiled else model
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        loss = loss_fn(step_model(X), y)
        loss.backward()
        optimizer.step()

    start = time.perf_counter()
    for _ in range(3):  # warm-up: allocator, kernels, compilation
        step()
    warm_up_sec = time.perf_counter() - start
    time_l = []
    for _ in range(n_step):
        start = time.perf_counter()
        step()
        time_l.append(time.perf_counter() - start)
    return warm_up_sec, float(np.median(time_l))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device: cpu")
    print("\n| config | batch | variant | warm-up (s) | ms per step | speed-up |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    root = runtime.project_dir()
    for config_name, batch_size, loss_fn in CONFIG_L:
        config = load_config(root / "configs" / config_name)
        eager_ms = None
        for variant, kwargs in (("eager", {}), ("channels-last", {"channels_last": True}),
                                ("torch.compile", {"compiled": True})):
            runtime.seed_everything(0)
            model = model_factory.NetModel(config, feature.feature_input_dim(config.feature, batch_size)).train()
            X, y = random_batch(model, batch_size, loss_fn)
            try:
                warm_up_sec, step_sec = time_steps(model, X, y, loss_fn, args.steps, **kwargs)
            except Exception as error:  # e.g. torch.compile without a C++ compiler
                print(f"| {config_name} | {batch_size} | {variant} | failed: {type(error).__name__} | | |")
                continue
            eager_ms = eager_ms or step_sec * 1000
            print(f"| {config_name} | {batch_size} | {variant} | {warm_up_sec:.1f} | {step_sec * 1000:.0f} "
                  f"| {eager_ms / (step_sec * 1000):.2f}x |")


if __name__ == "__main__":
    main()
