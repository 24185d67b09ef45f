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
    assert cell.source == launch.colab_cell_source(launch.repository_in_cell(cell.source)), (
        f"{notebook_path.name}: the first code cell is not launch.colab_cell_source(); run "
        "'.venv/bin/python -m course_utils.tools.website --sync-colab-cells'")
    first_l = [_first_code_cell(path).source for path in NOTEBOOK_PATH_L]
    assert len(set(first_l)) == 1, "every notebook's Colab cell clones the same repository"


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


def test_the_colab_cell_clones_the_repository_it_names():
    source = launch.colab_cell_source("https://github.com/someone/course")
    assert launch.repository_in_cell(source) == "https://github.com/someone/course"
    assert launch.repository_in_cell(launch.colab_cell_source()) is None
    assert "google.colab" in source  # how the hook and a reader tell the bootstrap from a forbidden install cell


@pytest.mark.parametrize("torch_version, keeps_torch", [("2.9.0+cu126", True), ("2.2.1", False), (None, False)])
def test_on_colab_a_recent_torch_is_kept_and_an_old_or_missing_one_installed(tmp_path, monkeypatch, torch_version,
                                                                             keeps_torch):
    """Colab's own torch (built for its GPU) is kept when recent enough: a reinstall would take minutes."""
    import importlib.metadata

    from course_utils.data import build

    monkeypatch.setenv("COURSE_COLAB_BOOTSTRAP", "1")
    monkeypatch.setenv("COURSE_REPOSITORY", "https://github.com/someone/course")
    monkeypatch.chdir(tmp_path)
    course_dir = tmp_path / launch.COLAB_CLONE_NAME
    (course_dir / "course_utils").mkdir(parents=True)
    (course_dir / "notebooks").mkdir()
    (course_dir / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    command_l = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: command_l.append(command))

    def version(name):
        if torch_version is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return torch_version

    monkeypatch.setattr(importlib.metadata, "version", version)
    monkeypatch.setattr(build, "ensure_dataset", lambda preset, folder: None)
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(compile(launch.colab_cell_source(), "<colab cell>", "exec"), {})
    installed_l = [argument for command in command_l for argument in command]
    assert any(argument.startswith("librosa") for argument in installed_l) == keeps_torch
    assert ("--no-deps" in installed_l) == keeps_torch
    assert not any(argument.startswith("torch") for argument in installed_l), "torch is never asked for by name"


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
