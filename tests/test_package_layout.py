"""The package stays a house a newcomer can extend: small modules, small functions, one home per concept, and the
maintainers' tools outside the students' namespace."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE_PATH_L = sorted((ROOT / "course_utils").rglob("*.py"))
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60


@pytest.mark.parametrize("path", MODULE_PATH_L, ids=lambda path: str(path.relative_to(ROOT)))
def test_modules_and_functions_are_small(path):
    text = path.read_text(encoding="utf-8")
    n_line = len(text.splitlines())
    assert n_line <= MAX_MODULE_LINES, f"{path.name} has {n_line} lines: split it into two modules"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
            n_line = node.end_lineno - first + 1
            assert n_line <= MAX_FUNCTION_LINES, f"{path.name}: {node.name} has {n_line} lines (docstring included)"


def test_no_notebook_imports_the_maintainers_tools():
    for notebook_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert "course_utils.tools" not in notebook_path.read_text(encoding="utf-8"), notebook_path.name


def test_the_module_map_names_every_module():
    """course_utils/__init__.py maps each module to the notebook that teaches it: a newcomer finds every one there."""
    import re

    import course_utils

    for path in MODULE_PATH_L:
        name = path.parent.name if path.stem == "__init__" else path.stem
        if re.fullmatch(r"ex\d\d_\w+", name):
            name = "exNN_<notebook>"  # the exercises of a notebook: named by the pattern
        if name != "course_utils":
            assert re.search(rf"``(\w+\.)*{re.escape(name)}``", course_utils.__doc__), (
                f"course_utils/__init__.py does not name {name} ({path})")
