"""Where a student opens a notebook without installing anything: Google Colab and Binder.

- ``repository_url``: the course's GitHub address, from one setting: the site build's ``--repository``, else the
  ``COURSE_REPOSITORY_URL`` environment variable, else the clone's git remote ``origin``; None when none is known
  (the site then shows no launch links, rather than links to a guessed address);
- ``colab_url`` / ``binder_url``: the addresses that open a notebook of that repository there;
- ``launch_links_markdown``: the line under the title of each notebook page of the website;
- ``colab_cell_source``: the first code cell of every notebook (tagged ``colab``): on Colab it installs the course
  and builds its small dataset, anywhere else it does nothing; ``sync_colab_cells`` writes it into the notebooks.
"""

import os
import re
import subprocess
from pathlib import Path

from course_utils import runtime

REPOSITORY_VARIABLE = "COURSE_REPOSITORY_URL"
BRANCH = "main"
COLAB_CLONE_NAME = "mir-course"  # the folder the Colab cell clones into (under /content)
COLAB_MIN_TORCH = (2, 4)  # Colab's own torch (built for its GPU) is kept when at least this recent
_GITHUB_PATTERN = re.compile(r"(?:https://github\.com/|git@github\.com:)([\w.-]+/[\w.-]+?)(?:\.git)?/?")


def github_owner_and_name(repository_url):
    """'https://github.com/owner/name' (or 'git@github.com:owner/name.git') -> 'owner/name'; any other address is
    an error that says what is expected."""
    match = _GITHUB_PATTERN.fullmatch(str(repository_url or ""))
    if not match:
        raise ValueError(f"{repository_url!r} is not a GitHub address 'https://github.com/owner/name': Colab and "
                         "Binder open notebooks from GitHub")
    return match.group(1)


def repository_url(explicit=None, root=None):
    """The course's GitHub address (``https://github.com/owner/name``) or None when none is known: ``explicit`` (the
    site build's ``--repository``), else ``COURSE_REPOSITORY_URL``, else the git remote ``origin`` of the clone (when
    it is on GitHub)."""
    for given in (explicit, os.environ.get(REPOSITORY_VARIABLE)):
        if given:
            return f"https://github.com/{github_owner_and_name(given)}"
    try:
        completed = subprocess.run(["git", "-C", str(root or runtime.project_dir()), "remote", "get-url", "origin"],
                                   capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    match = _GITHUB_PATTERN.fullmatch(completed.stdout.strip()) if completed.returncode == 0 else None
    return f"https://github.com/{match.group(1)}" if match else None


def colab_url(notebook_name, repository, branch=BRANCH):
    """The address that opens ``notebooks/<notebook_name>`` of the repository in Google Colab."""
    return (f"https://colab.research.google.com/github/{github_owner_and_name(repository)}/blob/{branch}"
            f"/notebooks/{notebook_name}")


def binder_url(notebook_name, repository, branch=BRANCH):
    """The address that builds the repository on mybinder.org (from ``environment.yml``) and opens the notebook
    in JupyterLab."""
    return (f"https://mybinder.org/v2/gh/{github_owner_and_name(repository)}/{branch}"
            f"?labpath=notebooks%2F{notebook_name}")


def launch_links_markdown(notebook_name, repository, branch=BRANCH):
    """The markdown line put under the title of a notebook's page: Colab, Binder, and how to run it locally."""
    return (f"**Run this notebook**: [Open in Colab]({colab_url(notebook_name, repository, branch)}) · "
            f"[Launch on Binder]({binder_url(notebook_name, repository, branch)}) · or on your machine, "
            "with the two commands of the [home page](../index.md#quick-start-two-commands).")


def colab_cell_source(repository=None):
    """The first code cell of every notebook: on Colab it installs the course and builds the small dataset; anywhere
    else it does nothing.

    ``repository``: the address it clones (None: the one in ``COURSE_REPOSITORY``, which the cell asks for). Colab's
    own torch is kept when it is recent enough (a reinstall takes minutes and gigabytes): the course is then
    installed without its torch pin. ``COURSE_COLAB_BOOTSTRAP=1`` runs the Colab branch elsewhere (the tests). The
    editable install is put on ``sys.path`` by hand: a running kernel does not read the ``.pth`` file pip writes.
    """
    default = f'"{repository}"' if repository else '""'
    return f'''# On Google Colab: install the course and build its small dataset (a few minutes, once per session).
# Anywhere else this cell does nothing.
import os
import sys

if "google.colab" in sys.modules or os.environ.get("COURSE_COLAB_BOOTSTRAP") == "1":
    import importlib
    import importlib.metadata
    import subprocess
    import tomllib

    repository = os.environ.get("COURSE_REPOSITORY", {default})
    if not repository:
        raise RuntimeError("this copy of the course does not name its repository: run "
                           "os.environ['COURSE_REPOSITORY'] = 'https://github.com/<owner>/<name>' first")
    course_dir = os.path.abspath("{COLAB_CLONE_NAME}")
    if not os.path.isdir(os.path.join(course_dir, "course_utils")):
        subprocess.run(["git", "clone", "--depth", "1", repository, course_dir], check=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    try:
        torch_version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        torch_version = ""
    if tuple(int(part) for part in torch_version.split("+")[0].split(".")[:2] if part.isdigit()) >= {COLAB_MIN_TORCH}:
        with open(os.path.join(course_dir, "pyproject.toml"), "rb") as fid:  # keep Colab's torch (and its GPU build)
            requirement_l = [r for r in tomllib.load(fid)["project"]["dependencies"] if not r.startswith("torch")]
        subprocess.run(pip + requirement_l, check=True)
        subprocess.run(pip + ["--no-deps", "-e", course_dir], check=True)
    else:
        subprocess.run(pip + ["-e", course_dir], check=True)
    sys.path.insert(0, course_dir)
    importlib.invalidate_caches()
    os.chdir(os.path.join(course_dir, "notebooks"))
    from course_utils.data import build

    build.ensure_dataset("small", os.path.join(course_dir, "data"))'''


def repository_in_cell(source):
    """The address a Colab cell clones by default (None when it names none)."""
    match = re.search(r'os\.environ\.get\("COURSE_REPOSITORY", "([^"]*)"\)', source)
    return (match.group(1) or None) if match else None


def sync_colab_cells(notebook_dir=None, repository=None):
    """Write :func:`colab_cell_source` for ``repository`` (default: ``repository_url()``) as the first code cell
    (tagged ``colab``) of every notebook; returns the names of the notebooks changed."""
    import nbformat

    repository = repository or repository_url()
    changed_l = []
    for path in sorted(Path(notebook_dir or runtime.project_dir() / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        source = colab_cell_source(repository)
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
