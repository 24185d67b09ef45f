"""pytest configuration shared by the unit tests (tests/) and the notebooks (notebooks/, run by nbval).

The test run switches the course to fast mode (small data, few epochs) unless the caller chose a mode
already: ``COURSE_FAST_MODE=0 pytest notebooks`` runs the notebooks in the default (full) mode.
The variable is set here, before nbval starts the notebook kernels, so every kernel inherits it.
"""

import os

os.environ.setdefault("COURSE_FAST_MODE", "1")
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


def pytest_sessionfinish(session):
    if _EXECUTED_DIR:
        from course_utils import runtime
        from course_utils.tools import website

        for path in website.save_nbval_notebooks(session.items, _EXECUTED_DIR, runtime.is_fast_mode()):
            print(f"\nexecuted notebook saved: {path}")
