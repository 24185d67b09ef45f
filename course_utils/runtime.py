"""Run-time helpers shared by every notebook: fast mode, device, seeding, the course folder.

Used in the first code cell of every notebook (notebooks/01_data.ipynb introduces them).
"""

import hashlib
import os
import random

import numpy as np

FAST_MODE_VARIABLE = "COURSE_FAST_MODE"
SEED_VARIABLE = "COURSE_SEED"


def is_fast_mode():
    """True when the course runs in fast mode (the test run sets ``COURSE_FAST_MODE=1``).

    Fast mode shrinks data and epochs so that every notebook runs in a minute or two
    on a 2-core CPU; the default mode gives the real results reported in README.md.
    Any of ``1``, ``true``, ``yes`` (any case) switches it on; unset, ``0`` or empty leave it off.

    Raises
    ------
    ValueError
        if the variable holds something else (a typo should not silently give the slow mode).
    """
    value = os.environ.get(FAST_MODE_VARIABLE, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(
        f"{FAST_MODE_VARIABLE}={os.environ[FAST_MODE_VARIABLE]!r} is not understood: "
        "set it to 1 (fast mode) or 0 / unset it (default mode).")


def get_device():
    """The best available torch device: CUDA, then Apple MPS, then CPU.

    Under ``torchrun`` with several GPUs, each process gets the GPU of its ``LOCAL_RANK``.

    Returns
    -------
    device : torch.device
    """
    import torch  # imported here: the dataset build and the split rule use this module without torch

    if torch.cuda.is_available():
        return torch.device("cuda", distributed_world()[1] % torch.cuda.device_count())
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def training_seed():
    """The seed of a notebook's training run: 0, or ``COURSE_SEED`` when set (``python -m benchmarks.results --seeds 3``
    runs each training notebook with 0, 1 and 2 to report mean and spread). The data and its splits do not
    depend on it.

    Raises
    ------
    ValueError
        if the variable is not a non-negative integer.
    """
    value = os.environ.get(SEED_VARIABLE, "").strip()
    if not value:
        return 0
    if not value.isdigit():
        raise ValueError(f"{SEED_VARIABLE}={os.environ[SEED_VARIABLE]!r} is not a non-negative integer; "
                         "set it to 0, 1, 2, ... or unset it")
    return int(value)


def distributed_world():
    """(rank, local_rank, world_size) of this process, from the environment that ``torchrun`` sets:
    (0, 0, 1) for a plain run."""
    return tuple(int(os.environ.get(name, default)) for name, default in
                 (("RANK", 0), ("LOCAL_RANK", 0), ("WORLD_SIZE", 1)))


def init_distributed():
    """Join the process group of a ``torchrun`` launch: NCCL between GPUs, gloo between CPU processes.

    ``torchrun --nproc_per_node 2 my_training.py`` starts two processes; each calls this first, then trains
    with ``train.make_loaders`` and ``train.fit`` as usual: they shard the training batches
    (``DistributedSampler``), average the gradients (``DistributedDataParallel``) and let rank 0 alone write
    checkpoints and progress bars. Outside torchrun it does nothing.

    Returns
    -------
    (rank, world_size) : (0, 1) for a plain run
    """
    import torch

    rank, _, world_size = distributed_world()
    if world_size > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(get_device())
        torch.distributed.init_process_group(backend=backend)
    return rank, world_size


def finish_distributed():
    """Leave the process group of a ``torchrun`` launch cleanly: the last line of a script that called
    ``init_distributed``. Outside torchrun it does nothing.

    Every process first waits at a barrier for the others, then the group is destroyed. Without the barrier
    a process that finishes first can tear down its gloo connections while a peer still uses them, and the
    peer aborts (SIGABRT, "terminate called without an active exception") after a training that went well.
    Call it only after a run that succeeded: a process that failed never reaches the barrier, and torchrun
    stops the others.
    """
    import torch

    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def distributed_model(model, device):
    """The model wrapped in ``DistributedDataParallel`` in a distributed run (the model itself otherwise): the
    gradients of a step averaged over the processes."""
    import torch

    if not torch.distributed.is_available() or not torch.distributed.is_initialized():
        return model
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def mixed_precision(enabled, device):
    """(autocast dtype, GradScaler) of the ``mixed_precision`` setting on CUDA: bfloat16 where supported (no scaler
    needed), else float16 with a scaler; (None, None) on a CPU or MPS, or when switched off."""
    import torch

    if not enabled or device.type != "cuda":
        return None, None
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16, None
    return torch.float16, torch.amp.GradScaler("cuda")


def is_main_process():
    """True in a plain run and in rank 0 of a distributed one (the process that writes files and logs)."""
    return distributed_world()[0] == 0


def seed_everything(seed):
    """Seed Python, NumPy and PyTorch so that a notebook gives the same numbers when rerun.

    Parameters
    ----------
    seed : int, >= 0

    Returns
    -------
    generator : torch.Generator seeded with ``seed`` (pass it to a DataLoader for a reproducible shuffle)
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    import torch

    random.seed(int(seed))
    np.random.seed(int(seed))
    torch.manual_seed(int(seed))
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    return generator


def stable_seed(*part_l):
    """An integer seed in [0, 2**32) from names, the same on every machine and every run (never from
    absolute paths or Python's per-run ``hash``): ``stable_seed(0, 'split', 'work-12')``."""
    digest = hashlib.sha256("/".join(str(part) for part in part_l).encode("utf-8")).hexdigest()
    return int(digest[:8], 16)


def project_dir():
    """The course folder (the one holding ``configs/`` and ``notebooks/``), found from the current folder.

    Notebooks run from ``notebooks/``, scripts from the root: both find the same ``configs/`` and ``data/``.
    """
    from pathlib import Path

    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / "configs").is_dir() and (folder / "course_utils").is_dir():
            return folder
    package_parent = Path(__file__).resolve().parents[1]
    if (package_parent / "configs").is_dir():
        return package_parent
    raise FileNotFoundError("cannot find the course folder (with configs/ and course_utils/) from "
                            f"{Path.cwd()}; run the notebooks from the course's clone")


def checkpoint_path(name):
    """Where a notebook keeps a model it trains: ``data/checkpoints/<name>.pt`` in the default mode and
    ``data/checkpoints/fast/<name>.pt`` in fast mode, so that a test run (fast mode) never overwrites the models
    that the notebooks trained in the default mode."""
    folder = project_dir() / "data" / "checkpoints"
    return (folder / "fast" if is_fast_mode() else folder) / f"{name}.pt"


def dataset_preset():
    """The dataset preset for this mode: 'small' in fast mode, 'full' otherwise."""
    return "small" if is_fast_mode() else "full"


RESULTS_DIR_NAME = "results"  # data/results/: what each training notebook measured, one JSON file per run


def results_path(notebook_name, seed=None, fast_mode=None):
    """The file of a notebook's results: ``data/results/<notebook>-<fast|default>-seed<k>.json`` (by default the
    mode and training seed of this run)."""
    mode = "fast" if (is_fast_mode() if fast_mode is None else fast_mode) else "default"
    seed = training_seed() if seed is None else int(seed)
    return project_dir() / "data" / RESULTS_DIR_NAME / f"{notebook_name}-{mode}-seed{seed}.json"


def save_results(notebook_name, result_d):
    """Write what a training notebook measured, as data: ``result_d`` maps a result's name (what, metric, split:
    e.g. ``"instruments, log-mel: ROC-AUC on B"``) to a number. ``benchmarks.results`` reads these files (mean ± sd over
    seeds) and writes README's results table from them. Written whole or not at all; returns the path."""
    import json

    from course_utils import safe_files

    bad_l = [name for name, value in result_d.items() if not isinstance(value, int | float) or value != value]
    if bad_l:
        raise ValueError(f"results of {notebook_name}: {bad_l} are not numbers; save numbers (float(...))")
    path = results_path(notebook_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    record_d = {"notebook": notebook_name, "mode": "fast" if is_fast_mode() else "default",
                "preset": dataset_preset(), "seed": training_seed(),
                "results": {name: float(value) for name, value in result_d.items()}}
    with safe_files.file_lock(path):
        partial = safe_files.partial_path(path)
        partial.write_text(json.dumps(record_d, indent=1) + "\n", encoding="utf-8")
        safe_files.replace_all([(partial, path)])
    print(f"results saved to data/{RESULTS_DIR_NAME}/{path.name}")
    return path
