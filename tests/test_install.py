"""The install files agree with each other: pyproject.toml is the one list, environment.yml repeats it."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements():
    with open(ROOT / "pyproject.toml", "rb") as fid:
        project = tomllib.load(fid)["project"]
    return set(project["dependencies"]) | set(project["optional-dependencies"]["test"])


def _environment_pip_requirements():
    with open(ROOT / "environment.yml", encoding="utf-8") as fid:
        environment = yaml.safe_load(fid)
    pip_section_l = [item["pip"] for item in environment["dependencies"] if isinstance(item, dict)]
    assert len(pip_section_l) == 1, "environment.yml must have exactly one pip: section"
    return {req for req in pip_section_l[0] if not req.startswith("-e")}


def test_environment_yml_lists_the_same_packages_as_pyproject():
    in_pyproject = _pyproject_requirements()
    in_environment = _environment_pip_requirements()
    assert in_pyproject == in_environment, (
        f"only in pyproject.toml: {sorted(in_pyproject - in_environment)}; "
        f"only in environment.yml: {sorted(in_environment - in_pyproject)}")


def test_torch_is_pinned_to_the_cpu_wheel_version():
    assert "torch==2.13.0" in _pyproject_requirements()


def test_environment_yml_installs_the_package_itself():
    with open(ROOT / "environment.yml", encoding="utf-8") as fid:
        environment = yaml.safe_load(fid)
    pip_l = [item["pip"] for item in environment["dependencies"] if isinstance(item, dict)][0]
    assert "-e ." in pip_l


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[test]"' in readme and 'pip install --quiet -e ".[test]"' in ci_script
    assert ".venv/bin/pytest" in readme and ".venv/bin/pytest" in ci_script
