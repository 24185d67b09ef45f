"""The Colab path: every notebook's first code cell installs the course on Colab and does nothing elsewhere.

The install branch is run for real: a fresh virtual environment with only what Colab gives before the course
(a Jupyter kernel), notebook 01 copied alone into an empty folder (Colab opens one notebook from GitHub, with
nothing beside it), and executed there with ``COURSE_COLAB_BOOTSTRAP=1``: its first cell clones the course
(from this clone's committed HEAD, ``COURSE_REPOSITORY``), installs it with pip and builds the small dataset;
the rest of the notebook then runs on what that cell installed. It needs the package registry (as the install
itself does) and takes one to two minutes.
"""

import os
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest

from course_utils import runtime
from course_utils.tools import launch, website

ROOT = runtime.project_dir()
NOTEBOOK_PATH_L = website.notebook_paths(ROOT / "notebooks")


def _first_code_cell(path):
    return next(cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")


@pytest.mark.parametrize("notebook_path", NOTEBOOK_PATH_L, ids=lambda path: path.stem)
def test_every_notebook_starts_with_the_colab_cell(notebook_path):
    cell = _first_code_cell(notebook_path)
    assert "colab" in cell.metadata.get("tags", []), f"{notebook_path.name}: first code cell not tagged 'colab'"
    assert cell.source == launch.colab_cell_source(), (
        f"{notebook_path.name}: the first code cell is not launch.colab_cell_source(); run "
        "'.venv/bin/python -m course_utils.tools.website --sync-colab-cells'")


def test_the_colab_cell_does_nothing_outside_colab(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_COLAB_BOOTSTRAP", raising=False)
    monkeypatch.chdir(tmp_path)

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"the Colab cell ran a command outside Colab: {args}")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    path_before_l, module_name_s = list(sys.path), set(sys.modules)
    exec(compile(launch.colab_cell_source(), "<colab cell>", "exec"), {})
    assert Path.cwd() == tmp_path and list(tmp_path.iterdir()) == []
    assert sys.path == path_before_l
    assert "google.colab" not in set(sys.modules) - module_name_s


def test_the_colab_cell_clones_the_published_repository():
    source = launch.colab_cell_source()
    assert f'"{launch.REPOSITORY_URL}"' in source
    assert "google.colab" in source  # how the hook and a reader tell the bootstrap from a forbidden install cell


def _committed_head_is_clonable():
    completed = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert completed.returncode == 0, f"{ROOT} is not a git clone: the Colab test clones it ({completed.stderr})"


def test_the_colab_branch_installs_the_course_in_a_fresh_environment_and_a_notebook_runs(tmp_path):
    _committed_head_is_clonable()
    env_dir, content_dir = tmp_path / "venv", tmp_path / "content"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # What Colab has before the course: a Jupyter kernel and the client that runs notebooks.
    subprocess.run([python, "-m", "pip", "install", "--quiet", "ipykernel", "nbclient", "nbformat"], check=True)
    content_dir.mkdir()
    notebook_path = content_dir / "01_data.ipynb"
    notebook_path.write_bytes((ROOT / "notebooks" / "01_data.ipynb").read_bytes())
    env_d = {**os.environ, "COURSE_COLAB_BOOTSTRAP": "1", "COURSE_REPOSITORY": ROOT.as_uri(),
             "COURSE_FAST_MODE": "1", "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
    env_d.pop("VIRTUAL_ENV", None)
    env_d.pop("PYTHONPATH", None)
    runner = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
              "notebook = nbformat.read(sys.argv[1], as_version=4)\n"
              "NotebookClient(notebook, timeout=900, kernel_name='python3',"
              " resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
              "nbformat.write(notebook, sys.argv[1])\n")
    completed = subprocess.run([python, "-c", runner, notebook_path, content_dir], env=env_d, cwd=content_dir,
                               capture_output=True, text=True, timeout=1200)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]

    course_dir = content_dir / launch.COLAB_CLONE_NAME
    assert (course_dir / "course_utils" / "__init__.py").is_file(), "the cell did not clone the course"
    built_s = {path.name for path in (course_dir / "data").glob("course-small*")}
    assert {"course-small.pyjama", "course-small_audio.hdf5"} <= built_s, f"no small dataset built: {built_s}"
    installed = subprocess.run([python, "-c", "import course_utils; print(course_utils.__file__)"],
                               capture_output=True, text=True, cwd=tmp_path, env=env_d, check=True).stdout
    assert Path(installed.strip()).resolve().is_relative_to(course_dir.resolve()), installed
    executed = nbformat.read(notebook_path, as_version=4)
    printed = "".join(output.get("text", "") for cell in executed.cells for output in cell.get("outputs", []))
    assert "fast mode: True | preset: small" in printed, printed[:2000]
    assert not [output for cell in executed.cells for output in cell.get("outputs", [])
                if output.get("output_type") == "error"]
