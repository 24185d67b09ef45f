"""pytest configuration shared by the unit tests (tests/) and the notebooks (notebooks/, run by nbval).

The test run switches the course to fast mode (small data, few epochs) unless the caller chose a mode
already: ``COURSE_FAST_MODE=0 pytest notebooks`` runs the notebooks in the default (full) mode.
The variable is set here, before nbval starts the notebook kernels, so every kernel inherits it.
"""

import os

os.environ.setdefault("COURSE_FAST_MODE", "1")
# The test run is spread over the cores by pytest-xdist (pyproject.toml: -n auto --dist loadfile: the tests of a file,
# and so the cells of a notebook, run in order in one worker; nbval keeps one kernel per notebook only so). Each
# worker (and each notebook kernel it starts, which inherits the variables) then computes with its share of the
# cores: two workers of two threads on two cores would wait on each other.
if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _THREADS = str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(_variable, _THREADS)
# No window may open during a test run: figures are drawn off screen (Agg), or, when the executed notebooks are
# kept for the website (COURSE_EXECUTED_DIR, below), inline in the notebooks' kernels, as Jupyter draws them.
_EXECUTED_DIR = os.environ.get("COURSE_EXECUTED_DIR")
if _EXECUTED_DIR:
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # inherited by the kernels
    import matplotlib

    matplotlib.use("Agg")  # this process: the unit tests
else:
    os.environ.setdefault("MPLBACKEND", "Agg")

# With COURSE_EXECUTED_DIR set, the notebooks that nbval executed are written there with their outputs, for the
# website to show (``python -m course_utils.tools.website --executed <dir>``): CI executes each notebook once.


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per core, at most 2 (each notebook kernel holds about 1.5 GB; more workers than that
    fill a laptop's memory before they save time)."""
    return max(1, min(2, os.cpu_count() or 1))


def pytest_sessionfinish(session):
    if _EXECUTED_DIR:
        from course_utils import runtime
        from course_utils.tools import website

        for path in website.save_nbval_notebooks(session.items, _EXECUTED_DIR, runtime.is_fast_mode()):
            print(f"\nexecuted notebook saved: {path}")
