"""Where a student opens a notebook without installing anything: Google Colab and Binder.

- ``colab_url`` / ``binder_url``: the addresses that open a notebook of the course's repository there;
- ``launch_links_markdown``: the line under the title of each notebook page of the website;
- ``colab_cell_source``: the first code cell of every notebook (tagged ``colab``): on Colab it installs the course
  and builds its small dataset, anywhere else it does nothing; ``sync_colab_cells`` writes it into the notebooks.
"""

import re
from pathlib import Path

from course_utils import runtime

REPOSITORY_URL = "https://github.com/mir-course/deep-learning-music-audio"  # where the course is published
BRANCH = "main"
COLAB_CLONE_NAME = "mir-course"  # the folder the Colab cell clones into (under /content)


# ---------------------------------------------------------------- launch paths: Colab and Binder


def github_owner_and_name(repository_url=REPOSITORY_URL):
    """'https://github.com/owner/name' -> 'owner/name'; any other address is an error that says what is expected."""
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?", repository_url)
    if not match:
        raise ValueError(f"REPOSITORY_URL {repository_url!r} is not a GitHub address 'https://github.com/owner/name'"
                         ": Colab and Binder open notebooks from GitHub")
    return match.group(1)


def colab_url(notebook_name, repository_url=REPOSITORY_URL, branch=BRANCH):
    """The address that opens ``notebooks/<notebook_name>`` of the repository in Google Colab."""
    return (f"https://colab.research.google.com/github/{github_owner_and_name(repository_url)}/blob/{branch}"
            f"/notebooks/{notebook_name}")


def binder_url(notebook_name, repository_url=REPOSITORY_URL, branch=BRANCH):
    """The address that builds the repository on mybinder.org (from ``environment.yml``) and opens the notebook
    in JupyterLab."""
    return (f"https://mybinder.org/v2/gh/{github_owner_and_name(repository_url)}/{branch}"
            f"?labpath=notebooks%2F{notebook_name}")


def launch_links_markdown(notebook_name, repository_url=REPOSITORY_URL, branch=BRANCH):
    """The markdown line put under the title of a notebook's page: Colab, Binder, and how to run it locally."""
    return (f"**Run this notebook**: [Open in Colab]({colab_url(notebook_name, repository_url, branch)}) · "
            f"[Launch on Binder]({binder_url(notebook_name, repository_url, branch)}) · or on your machine, "
            "with the two commands of the [home page](../index.md#quick-start-two-commands).")


def colab_cell_source(repository_url=REPOSITORY_URL):
    """The first code cell of every notebook: on Colab it installs the course and builds the small dataset; anywhere
    else it does nothing.

    ``COURSE_COLAB_BOOTSTRAP=1`` runs the Colab branch elsewhere and ``COURSE_REPOSITORY`` clones another
    repository (a local one in ``tests/test_colab.py``). The editable install is put on ``sys.path`` by hand: a
    running kernel does not read the ``.pth`` file that pip has just written.
    """
    return f'''# On Google Colab: install the course and build its small dataset (a few minutes, once per session).
# Anywhere else this cell does nothing.
import os
import sys

if "google.colab" in sys.modules or os.environ.get("COURSE_COLAB_BOOTSTRAP") == "1":
    import importlib
    import subprocess

    repository = os.environ.get("COURSE_REPOSITORY", "{repository_url}")
    course_dir = os.path.abspath("{COLAB_CLONE_NAME}")
    if not os.path.isdir(os.path.join(course_dir, "course_utils")):
        subprocess.run(["git", "clone", "--depth", "1", repository, course_dir], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", course_dir], check=True)
    sys.path.insert(0, course_dir)
    importlib.invalidate_caches()
    os.chdir(os.path.join(course_dir, "notebooks"))
    from course_utils.data import build

    build.ensure_dataset("small", os.path.join(course_dir, "data"))'''


def sync_colab_cells(notebook_dir=None, repository_url=REPOSITORY_URL):
    """Write :func:`colab_cell_source` as the first code cell (tagged ``colab``) of every notebook; returns the
    names of the notebooks changed. Run it after changing ``REPOSITORY_URL``."""
    import nbformat

    changed_l = []
    for path in sorted(Path(notebook_dir or runtime.project_dir() / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        source = colab_cell_source(repository_url)
        first_code = next((cell for cell in notebook.cells if cell.cell_type == "code"), None)
        if first_code is not None and "colab" in first_code.metadata.get("tags", []):
            if first_code.source == source:
                continue
            first_code.source = source
        else:
            cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["colab"]})
            cell.id = f"colab-bootstrap-{path.stem[:2]}"
            notebook.cells.insert(1, cell)  # under the title cell
        nbformat.write(notebook, path)
        changed_l.append(path.name)
    return changed_l
