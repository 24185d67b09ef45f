"""Run by tests/test_distributed.py under ``torchrun --nproc_per_node 2``: the course's training path
(``runtime.init_distributed``, ``train.make_loaders``, ``train.fit``) in several processes."""

import os
import sys
from pathlib import Path

import torch

from course_utils import runtime, train

sys.path.insert(0, str(Path(__file__).resolve().parent))
from distributed_case import make_case  # noqa: E402

out_dir = Path(sys.argv[1])
rank, world_size = runtime.init_distributed()
model, dataset, config = make_case()
loader_d = train.make_loaders({"train": dataset, "valid": dataset}, config)
history = train.fit(model, loader_d["train"], loader_d["valid"], torch.nn.MSELoss(), config,
                    checkpoint_path=out_dir / "best.pt")
torch.save({"state": model.state_dict(), "history": history, "world_size": world_size,
            "batch_per_process": loader_d["train"].batch_size}, out_dir / f"rank{rank}.pt")
runtime.finish_distributed()
# Leave without running the C++ destructors: under a loaded CPU, a gloo thread still winding down at interpreter exit
# has aborted a process whose results were saved ("terminate called without an active exception", SIGABRT, seen in
# a fresh-clone CI run after finish_distributed's barrier). The results above are written and closed.
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
