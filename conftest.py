"""pytest configuration shared by the unit tests (tests/) and the notebooks (notebooks/, run by nbval).

The test run switches the course to fast mode (small data, few epochs) unless the caller chose a mode
already: ``COURSE_FAST_MODE=0 pytest notebooks`` runs the notebooks in the default (full) mode.
The variable is set here, before nbval starts the notebook kernels, so every kernel inherits it.
"""

import os

os.environ.setdefault("COURSE_FAST_MODE", "1")
# No window may open during a test run; notebooks draw inline anyway.
os.environ.setdefault("MPLBACKEND", "Agg")
