"""Run every notebook in the default mode (the full dataset) and print the results table of README.md.

    .venv/bin/python benchmarks/results.py            # all notebooks, about 30 minutes on 2 CPU cores
    .venv/bin/python benchmarks/results.py 05 07      # only the notebooks whose names start with these

Each notebook is executed top to bottom (as a student would, with COURSE_FAST_MODE=0); its run time is
measured and the output of its last code cell (each training notebook ends by printing its test results)
is collected. The executed notebooks are written to data/executed/ to be read.
"""

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]


def last_output(notebook):
    """The printout of the last code cell when it is a results summary ('test results...'), else ''."""
    for cell in reversed(notebook.cells):
        if cell.cell_type == "code":
            text = "".join(output.get("text", "") for output in cell.get("outputs", [])
                           if output.get("output_type") == "stream").strip()
            return text if text.startswith("test results") else ""
    return ""


def main(prefix_l):
    os.environ["COURSE_FAST_MODE"] = "0"
    out_dir = ROOT / "data" / "executed"
    out_dir.mkdir(parents=True, exist_ok=True)
    row_l = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if prefix_l and not any(path.name.startswith(prefix) for prefix in prefix_l):
            continue
        notebook = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        try:
            NotebookClient(notebook, timeout=3600, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            result = last_output(notebook)
        except CellExecutionError as error:  # report it in the table, and go on with the next notebook
            result = f"FAILED: {str(error).strip().splitlines()[-1]}"
        minutes = (time.perf_counter() - start) / 60
        nbformat.write(notebook, out_dir / path.name)
        row_l.append((path.name, minutes, result))
        print(f"{path.name}: {minutes:.1f} min", flush=True)
    print("\n| notebook | run time (min) | test results (default mode) |\n| --- | ---: | --- |")
    for name, minutes, result in row_l:
        print(f"| {name} | {minutes:.1f} | {'<br>'.join(result.splitlines()) if result else ''} |")


if __name__ == "__main__":
    main(sys.argv[1:])
