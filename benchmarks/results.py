"""Run every notebook in the default mode (the full dataset), read the results they saved, and write README's table.

    .venv/bin/python -m benchmarks.results                  # all notebooks, one seed: about 45 min on 2 CPU cores
    .venv/bin/python -m benchmarks.results --seeds 3        # the training notebooks with seeds 0, 1, 2: mean ± sd
    .venv/bin/python -m benchmarks.results 05 07            # only the notebooks whose names start with these
    .venv/bin/python -m benchmarks.results --readme         # README's results table from the saved results, no run
    .venv/bin/python -m benchmarks.results --transfer --seeds 3 none   # only the leave-one-library-out tables

Each notebook is executed top to bottom (as a student would, with COURSE_FAST_MODE=0 and COURSE_SEED set); each
training notebook saves what it measured as data (``runtime.save_results``: ``data/results/<notebook>-default-
seed<k>.json``), and this script adds the run time to that record. A notebook that calls ``runtime.training_seed()``
(the training notebooks) is run once per seed; each result is then reported as mean ± sd (sample standard deviation)
over the seeds (``benchmarks.common.mean_sd``). The data and its splits are the same for every seed. The executed
notebooks are written to data/executed/ to be read (``-seed1``, ``-seed2`` ... for the other seeds).

``--readme`` rewrites the block of README.md between ``<!-- results:begin -->`` and ``<!-- results:end -->`` from
the saved records (every seed found): no number of that table is copied by hand. ``--transfer`` adds the
leave-one-library-out tables of ``benchmarks.transfer`` and ``benchmarks.transfer_covers`` with the same seeds.
"""

import argparse
import json
import os
import time
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from benchmarks import common

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "data" / "results"
README_BEGIN, README_END = "<!-- results:begin -->", "<!-- results:end -->"


def uses_training_seed(notebook):
    """Whether a notebook's results depend on ``COURSE_SEED`` (it calls ``runtime.training_seed()``)."""
    return any(cell.cell_type == "code" and "runtime.training_seed()" in cell.source for cell in notebook.cells)


def record_path(stem, seed):
    """The results record of one default-mode run of a notebook (``runtime.results_path``'s layout)."""
    return RESULTS_DIR / f"{stem}-default-seed{seed}.json"


def run_notebook(path, seed):
    """Execute one notebook in the default mode with ``COURSE_SEED=seed``; add the run time (and a failure, if
    any) to its results record. Returns (executed notebook, record)."""
    os.environ["COURSE_FAST_MODE"], os.environ["COURSE_SEED"] = "0", str(seed)
    notebook = nbformat.read(path, as_version=4)
    record = record_path(path.stem, seed)
    record.unlink(missing_ok=True)  # a record left by an earlier run must not pass for this one
    start, failure = time.perf_counter(), None
    try:
        NotebookClient(notebook, timeout=3600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as error:  # reported in the table; the next notebook runs
        failure = str(error).strip().splitlines()[-1]
    record_d = json.loads(record.read_text(encoding="utf-8")) if record.exists() else \
        {"notebook": path.stem, "mode": "default", "seed": seed, "results": {}}
    record_d.update(minutes=(time.perf_counter() - start) / 60, failure=failure)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(record_d, indent=1) + "\n", encoding="utf-8")
    return notebook, record_d


def combine_records(record_l):
    """One row from the records of a notebook's seeds: (minutes per run, number of runs, name -> 'mean ± sd').
    A result missing from one seed's record (a failed run) is reported with the seeds that have it."""
    name_l = list(dict.fromkeys(name for record in record_l for name in record.get("results", {})))
    cell_d = {}
    for name in name_l:
        value_l = [record["results"][name] for record in record_l if name in record.get("results", {})]
        cell = common.mean_sd(value_l, 2 if "dB" in name else 3)
        cell_d[name] = cell if len(value_l) == len(record_l) else f"{cell} ({len(value_l)} of {len(record_l)} runs)"
    failure_l = [f"seed {record['seed']} FAILED: {record['failure']}" for record in record_l if record.get("failure")]
    minutes = float(np.mean([record["minutes"] for record in record_l if "minutes" in record] or [np.nan]))
    return minutes, len(record_l), cell_d, failure_l


def saved_records(prefix_l=()):
    """notebook -> its default-mode records (every seed found in data/results/), in notebook order."""
    record_ld = {}
    for path in sorted(RESULTS_DIR.glob("*-default-seed*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if not prefix_l or any(record["notebook"].startswith(prefix) for prefix in prefix_l):
            record_ld.setdefault(record["notebook"], []).append(record)
    return record_ld


def results_table(record_ld):
    """README's results table (markdown lines) from notebook -> records."""
    row_l = []
    for notebook, record_l in record_ld.items():
        minutes, n_run, cell_d, failure_l = combine_records(record_l)
        result = "<br>".join([*(f"{name}: {cell}" for name, cell in cell_d.items()), *failure_l])
        row_l.append([f"`{notebook}`", f"{minutes:.1f}", n_run, result])
    return common.markdown_table(["notebook", "run time (min, per run)", "seeds", "test results (default mode)"],
                                 row_l, ["---", "---:", "---:", "---"])


def write_readme(record_ld, readme_path=ROOT / "README.md"):
    """Replace the block between README's results markers by the table of ``record_ld``."""
    text = readme_path.read_text(encoding="utf-8")
    if README_BEGIN not in text or README_END not in text:
        raise ValueError(f"{readme_path}: no {README_BEGIN} ... {README_END} block to write the results table into")
    head, rest = text.split(README_BEGIN, 1)
    tail = rest.split(README_END, 1)[1]
    readme_path.write_text(head + README_BEGIN + "\n" + "\n".join(results_table(record_ld)) + "\n" + README_END + tail,
                           encoding="utf-8")


def main(prefix_l, n_seed, with_transfer=False):
    out_dir = ROOT / "data" / "executed"
    out_dir.mkdir(parents=True, exist_ok=True)
    record_ld = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if prefix_l and not any(path.name.startswith(prefix) for prefix in prefix_l):
            continue
        seed_l = range(n_seed) if uses_training_seed(nbformat.read(path, as_version=4)) else [0]
        for seed in seed_l:
            notebook, record_d = run_notebook(path, seed)
            nbformat.write(notebook, out_dir / (path.name if seed == 0 else f"{path.stem}-seed{seed}.ipynb"))
            record_ld.setdefault(path.stem, []).append(record_d)
            print(f"{path.name} (seed {seed}): {record_d['minutes']:.1f} min", flush=True)
    print("\n" + "\n".join(results_table(record_ld)))
    if with_transfer:
        from benchmarks import transfer, transfer_covers

        print("\nLeave one library out (benchmarks.transfer):")
        for config_name in transfer.DEFAULT_CONFIG_L:
            print("\n" + "\n".join(transfer.transfer_table(config_name, range(n_seed))[0]), flush=True)
        print("\n" + "\n".join(transfer_covers.transfer_table(range(n_seed))[0]), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefix", nargs="*", help="run only the notebooks whose names start with these")
    parser.add_argument("--seeds", type=int, default=1, help="training seeds per training notebook (0, 1, ...)")
    parser.add_argument("--transfer", action="store_true", help="add the leave-one-library-out tables")
    parser.add_argument("--readme", action="store_true", help="write README's results table from data/results/")
    arguments = parser.parse_args()
    if arguments.seeds < 1:
        parser.error("--seeds must be at least 1")
    if arguments.readme:
        write_readme(saved_records(arguments.prefix))
    else:
        main(arguments.prefix, arguments.seeds, arguments.transfer)
