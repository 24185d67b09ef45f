"""Notebooks are committed with their outputs cleared, and follow the course's rules.

Why cleared: training notebooks cannot give byte-stable outputs, nbval runs them with --nbval-lax
(correctness is carried by assert cells), and cleared notebooks keep diffs readable and free of
absolute paths from the author's machine.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK_PATH_L = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def _code_cells(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"], notebook


@pytest.mark.parametrize("path", NOTEBOOK_PATH_L, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path):
    code_cell_l, notebook = _code_cells(path)
    assert notebook["cells"][0]["cell_type"] == "markdown", f"{path.name} must open with what it teaches"
    assert re.match(r"\d\d_", path.name), f"{path.name}: notebooks are numbered, e.g. 03_dataset.ipynb"
    all_source = ""
    for i, cell in enumerate(code_cell_l):
        source = "".join(cell["source"])
        all_source += source
        assert cell.get("outputs", []) == [], f"{path.name} cell {i}: clear the outputs"
        assert cell.get("execution_count") is None, f"{path.name} code cell {i}: clear execution counts"
        assert not re.search(r"^\s*[!%]\s*pip\s+install", source, re.M), f"{path.name} cell {i}: pip install"
        assert not re.search(r"/(work|home|root|Users)/", source), f"{path.name} cell {i}: absolute path"
    assert "course_utils" in all_source, f"{path.name} must import course_utils"


def test_notebook_numbers_are_unique():
    number_l = [path.name[:2] for path in NOTEBOOK_PATH_L]
    assert len(number_l) == len(set(number_l)), f"two notebooks share a number: {number_l}"


# --- the student path: short prose, one "Going further" section, checks tagged


MAX_STUDENT_PATH_WORDS = 1400


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def student_path_words(path):
    """Words of prose of the student path: the markdown cells before '## Going further', without the reference list
    (lines '- **[Key]** ...'), link targets and web addresses."""
    count = 0
    for cell in _cells(path):
        text = "".join(cell["source"])
        if cell["cell_type"] != "markdown":
            continue
        if text.startswith("## Going further"):
            break
        text = "\n".join(line for line in text.splitlines() if not line.startswith("- **["))
        text = re.sub(r"\]\([^)]*\)", "]", text)
        text = re.sub(r"https?://\S+", "", text)
        count += len(re.findall(r"[A-Za-z0-9']+", text))
    return count


@pytest.mark.parametrize("path", NOTEBOOK_PATH_L, ids=lambda p: p.name)
def test_the_student_path_is_short_and_the_rest_goes_further(path):
    heading_l = [cell_text.splitlines()[0] for cell in _cells(path) if cell["cell_type"] == "markdown"
                 for cell_text in ["".join(cell["source"])] if cell_text]
    assert heading_l.count("## Going further") == 1, f"{path.name}: one '## Going further' section"
    assert "**What you will learn**" in "".join(_cells(path)[0]["source"]), f"{path.name}: say what it teaches"
    n_words = student_path_words(path)
    assert n_words <= MAX_STUDENT_PATH_WORDS, (f"{path.name}: {n_words} words before '## Going further', at most "
                                               f"{MAX_STUDENT_PATH_WORDS}: move the deeper material below it")


@pytest.mark.parametrize("path", NOTEBOOK_PATH_L, ids=lambda p: p.name)
def test_cells_that_assert_are_tagged_check(path):
    for index, cell in enumerate(_cells(path)):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and re.search(r"^\s*assert\b", source, re.M):
            assert "check" in cell.get("metadata", {}).get("tags", []), (
                f"{path.name} cell {index} asserts but is not tagged 'check' (the site hides those cells): "
                f"{source:.80}")
