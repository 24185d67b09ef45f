"""README.md says what is true of the course: its counts are computed here, so that they stay right when the course
grows."""

import re
from pathlib import Path

from course_utils import exercises

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_number_of_exercises_is_the_course_s():
    said_l, n_exercise = re.findall(r"The (\d+) exercises", README), len(exercises.EXERCISE_D)
    assert said_l == [str(n_exercise)], f"README says {said_l}, the course has {n_exercise}"


def test_every_notebook_has_its_row_in_the_notebook_table():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"| `{path.name}` |" in README, f"README's table of notebooks has no row for {path.name}"


def test_the_results_table_is_between_the_markers_the_results_command_writes():
    from benchmarks import results

    assert README.count(results.README_BEGIN) == 1 and README.count(results.README_END) == 1
    assert README.index(results.README_BEGIN) < README.index(results.README_END)
