"""Run every notebook in the default mode (the full dataset) and print the results table of README.md.

    .venv/bin/python benchmarks/results.py                 # all notebooks, one seed: about 35 min on 2 CPU cores
    .venv/bin/python benchmarks/results.py --seeds 3       # the training notebooks with seeds 0, 1, 2: mean ± sd
    .venv/bin/python benchmarks/results.py 05 07           # only the notebooks whose names start with these
    .venv/bin/python benchmarks/results.py --transfer --seeds 3   # and leave each sample library out in turn

Each notebook is executed top to bottom (as a student would, with COURSE_FAST_MODE=0); its run time is
measured and the output of its last code cell (each training notebook ends by printing its test results)
is collected. A notebook that calls ``runtime.training_seed()`` (05-07) is run once per seed with
``COURSE_SEED`` set; each number of its printout is then reported as mean ± sd (sample standard deviation)
over the seeds. The data and its splits are the same for every seed. The executed notebooks are written to
data/executed/ to be read (``-seed1``, ``-seed2`` ... for the other seeds).

``--transfer`` adds the leave-one-library-out tables of ``benchmarks/transfer.py`` (the tagging models trained
without each renderer in turn, scored on the one left out) and of ``benchmarks/transfer_covers.py`` (the cover
system, about 30 min a seed) with the same seeds; ``--transfer`` alone, with no
notebook prefix, runs only those (``results.py --transfer --seeds 3 none``: the prefix 'none' matches no notebook).
"""

import argparse
import os
import re
import time
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NUMBER_PATTERN = re.compile(r"(?<![\w@.])[-+]?\d+(?:\.\d+)?(?![\w.])")  # not the 1 of MR1 or P@1


def last_output(notebook):
    """The printout of the last code cell when it is a results summary ('test results...'), else ''."""
    for cell in reversed(notebook.cells):
        if cell.cell_type == "code":
            text = "".join(output.get("text", "") for output in cell.get("outputs", [])
                           if output.get("output_type") == "stream").strip()
            return text if text.startswith("test results") else ""
    return ""


def uses_training_seed(notebook):
    """Whether a notebook's results depend on ``COURSE_SEED`` (it calls ``runtime.training_seed()``)."""
    return any(cell.cell_type == "code" and "runtime.training_seed()" in cell.source for cell in notebook.cells)


def combine_printouts(text_l):
    """One printout from the same printout of several seeds: each number becomes 'mean ± sd' (same decimals).

    Numbers equal in every run (counts, settings) are kept as printed. A line whose words differ between
    seeds (e.g. a failed run) is kept as printed by each seed, joined by ' | '.
    """
    if len(text_l) == 1:
        return text_l[0]
    line_ll = [text.splitlines() for text in text_l]
    if len({len(line_l) for line_l in line_ll}) > 1:
        return "\n".join(f"seed {seed}: {text}" for seed, text in enumerate(text_l))
    out_l = []
    for line_l in zip(*line_ll, strict=True):
        word_l = {NUMBER_PATTERN.sub("#", line) for line in line_l}
        number_ll = [NUMBER_PATTERN.findall(line) for line in line_l]
        if len(word_l) > 1 or not number_ll[0]:
            out_l.append(line_l[0] if len(set(line_l)) == 1 else " | ".join(line_l))
            continue
        summary_l = []
        for value_l in zip(*number_ll, strict=True):
            if len(set(value_l)) == 1:  # the same in every run (a count, a setting): kept as printed
                summary_l.append(value_l[0])
                continue
            decimals = len(value_l[0].split(".")[1]) if "." in value_l[0] else 0
            value_v = np.array([float(value) for value in value_l])
            summary_l.append(f"{value_v.mean():.{decimals}f} ± {value_v.std(ddof=1):.{decimals}f}")
        piece_l = NUMBER_PATTERN.split(line_l[0])  # the words around the numbers, one more than the numbers
        out_l.append("".join(piece + summary for piece, summary in zip(piece_l, [*summary_l, ""], strict=True)))
    return "\n".join(out_l)


def run_notebook(path, seed):
    """Execute one notebook in the default mode with ``COURSE_SEED=seed``: (executed notebook, printout, min)."""
    os.environ["COURSE_FAST_MODE"], os.environ["COURSE_SEED"] = "0", str(seed)
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(notebook, timeout=3600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        result = last_output(notebook)
    except CellExecutionError as error:  # report it in the table, and go on with the next notebook
        result = f"FAILED: {str(error).strip().splitlines()[-1]}"
    return notebook, result, (time.perf_counter() - start) / 60


def main(prefix_l, n_seed, with_transfer=False):
    out_dir = ROOT / "data" / "executed"
    out_dir.mkdir(parents=True, exist_ok=True)
    row_l = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if prefix_l and not any(path.name.startswith(prefix) for prefix in prefix_l):
            continue
        seed_l = range(n_seed) if uses_training_seed(nbformat.read(path, as_version=4)) else [0]
        result_l, minute_l = [], []
        for seed in seed_l:
            notebook, result, minutes = run_notebook(path, seed)
            nbformat.write(notebook, out_dir / (path.name if seed == 0 else f"{path.stem}-seed{seed}.ipynb"))
            result_l.append(result)
            minute_l.append(minutes)
            print(f"{path.name} (seed {seed}): {minutes:.1f} min", flush=True)
        row_l.append((path.name, np.mean(minute_l), combine_printouts(result_l), len(seed_l)))
    print("\n| notebook | run time (min, per run) | seeds | test results (default mode) |\n| --- | ---: | ---: | --- |")
    for name, minutes, result, n_run in row_l:
        print(f"| {name} | {minutes:.1f} | {n_run} | {'<br>'.join(result.splitlines()) if result else ''} |")
    if with_transfer:
        import transfer  # benchmarks/transfer.py, beside this script

        print("\nLeave one library out (benchmarks/transfer.py):")
        for config_name in transfer.DEFAULT_CONFIG_L:
            print("\n" + "\n".join(transfer.transfer_table(config_name, range(n_seed))[0]), flush=True)
        import transfer_covers  # benchmarks/transfer_covers.py: notebook 07's two-stage system

        print("\n" + "\n".join(transfer_covers.transfer_table(range(n_seed))[0]), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefix", nargs="*", help="run only the notebooks whose names start with these")
    parser.add_argument("--seeds", type=int, default=1, help="training seeds per training notebook (0, 1, ...)")
    parser.add_argument("--transfer", action="store_true", help="add the leave-one-library-out tables")
    arguments = parser.parse_args()
    if arguments.seeds < 1:
        parser.error("--seeds must be at least 1")
    main(arguments.prefix, arguments.seeds, arguments.transfer)
