"""Training on several processes (DistributedDataParallel, launched by torchrun, gloo on the CPU) gives the
weights that one process gives with the same global batches."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

from course_utils import runtime, train

from .distributed_case import make_case

HERE = Path(__file__).resolve().parent


def _torchrun():
    path = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    if path is None:
        pytest.fail("torchrun not found next to the Python of the test run (it comes with torch)")
    return path


def test_two_processes_give_the_weights_of_one_with_the_same_global_batch(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(HERE.parent))
    result = subprocess.run([_torchrun(), "--nproc_per_node", "2", "--master_port", "0", "--standalone",
                             str(HERE / "distributed_worker.py"), str(tmp_path)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rank_l = [torch.load(tmp_path / f"rank{rank}.pt") for rank in (0, 1)]
    assert rank_l[0]["world_size"] == 2 and rank_l[0]["batch_per_process"] == 4, "global batch 8 = 2 x 4"
    for name, value in rank_l[0]["state"].items():  # both processes end with the same model
        torch.testing.assert_close(value, rank_l[1]["state"][name])
    assert (tmp_path / "best.pt").is_file() and (tmp_path / "best.yaml").is_file(), "rank 0 wrote the checkpoint"

    # one process, the same global batches: DistributedSampler with one replica draws the same permutation
    model, dataset, config = make_case()
    sampler = DistributedSampler(dataset, num_replicas=1, rank=0, shuffle=True, seed=config["train"]["seed"])
    n_thread = torch.get_num_threads()
    torch.set_num_threads(1)  # as each worker: the same order of float additions
    try:
        history = train.fit(model, DataLoader(dataset, batch_size=8, sampler=sampler),
                            DataLoader(dataset, batch_size=64), torch.nn.MSELoss(), config)
    finally:
        torch.set_num_threads(n_thread)
    for name, value in model.state_dict().items():  # gradients summed in another order: float tolerance
        torch.testing.assert_close(value, rank_l[0]["state"][name], rtol=1e-4, atol=1e-5)
    assert history["train_loss"] == pytest.approx(rank_l[0]["history"]["train_loss"], rel=1e-4)
    assert history["train_loss"][-1] < history["train_loss"][0], "it learned"


def test_a_global_batch_that_does_not_divide_among_the_processes_is_an_error(monkeypatch):
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "get_world_size", lambda: 3)
    _, dataset, config = make_case()
    with pytest.raises(Exception, match="train.batch_size 8 is the global batch: it must divide among the 3"):
        train.make_loaders({"train": dataset}, config)


def test_mixed_precision_only_on_cuda():
    settings = train.train_settings({"train": {"batch_size": 8, "learning_rate": 0.1, "max_epoch": 1, "patience": 1}})
    assert settings.mixed_precision is True
    assert runtime.mixed_precision(settings.mixed_precision, torch.device("cpu")) == (None, None)


def test_finishing_waits_for_every_process_before_leaving_the_group(monkeypatch):
    call_l = []
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "barrier", lambda: call_l.append("barrier"))
    monkeypatch.setattr(torch.distributed, "destroy_process_group", lambda: call_l.append("destroy"))
    runtime.finish_distributed()
    assert call_l == ["barrier", "destroy"], "a process that leaves first must not tear down its peers' links"
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: False)
    runtime.finish_distributed()
    assert call_l == ["barrier", "destroy"], "outside torchrun it does nothing"
