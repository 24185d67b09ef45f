"""The checking framework of the exercises: the registry, the verdicts, running the student's code safely.

Each exercise is a cell tagged ``exercise`` in a notebook: a stub (a function, a class or a YAML text) that
the student fills in, followed by a cell that calls ``check(exercise_id, answer)``. ``check`` runs the
answer on small made-up inputs, compares it with a reference, and prints one of three verdicts, never a
bare traceback:

- **not done**: the stub is untouched (it raises ``NotImplementedError``, or the YAML text is empty): what
  to do and a hint;
- **not yet**: what is wrong, on which input, what was expected, and a hint (an error raised by the answer
  is reported with its line in the student's cell);
- **passed**: what was checked.

``evaluate`` returns the verdict as a ``Result`` instead of printing it (the test suite runs every solution
and every untouched stub through it). Solutions live outside the notebooks, in ``solutions/`` (one file
per notebook): ``show_solution('02.1')`` prints one.
"""

import ast
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from course_utils import runtime

STATUS_L = ("not done", "not yet", "passed")


class NotDone(Exception):
    """The answer is still the stub."""


class Wrong(Exception):
    """The answer runs but gives a wrong result: the message says on which input and what was expected."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is, what the student defines (``name``), the task, a hint and its checker."""

    exercise_id: str
    notebook: str
    title: str
    name: str
    task: str
    hint: str
    checker: object


@dataclass(frozen=True)
class Result:
    """The verdict of ``evaluate``: ``status`` is one of ``STATUS_L``; ``message`` is what ``check`` prints."""

    exercise_id: str
    status: str
    message: str

    @property
    def passed(self):
        return self.status == "passed"


EXERCISE_D = {}


def exercise(exercise_id, notebook, title, name, task, hint):
    """Register a checker: a function of the answer that returns what was checked or raises Wrong/NotDone."""

    def register(checker):
        EXERCISE_D[exercise_id] = Exercise(exercise_id, notebook, title, name, task, hint, checker)
        return checker

    return register


# --- running the student's code ------------------------------------------------------------------------


def _student_frame(tb):
    """The innermost frame of a traceback that is the student's code (not this module, not a library)."""
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # course_utils: never the student's
    library_root_l = [package_dir] + [os.path.abspath(p) for p in {sys.prefix, sys.base_prefix}]
    frame = None
    for summary in traceback.extract_tb(tb):
        path = os.path.abspath(summary.filename)
        if any(path.startswith(root + os.sep) for root in library_root_l):
            continue
        frame = summary
    return frame


def _raised_message(error):
    """An error raised by the answer, said in one sentence with its place in the student's cell."""
    frame = _student_frame(error.__traceback__)
    where = f" (line {frame.lineno} of your cell: `{(frame.line or '').strip()}`)" if frame is not None else ""
    return f"your code raised {type(error).__name__}: {error}{where}"


def evaluate(exercise_id, answer):
    """Check an answer without printing: a ``Result`` (status 'not done', 'not yet' or 'passed')."""
    if exercise_id not in EXERCISE_D:
        raise KeyError(f"no exercise '{exercise_id}'; the exercises are {', '.join(EXERCISE_D)}")
    exercise = EXERCISE_D[exercise_id]
    head = f"Exercise {exercise_id} ({exercise.title})"
    try:
        if answer is None or answer is Ellipsis:
            raise NotDone
        checked = exercise.checker(answer)
    except (NotDone, NotImplementedError):
        return Result(exercise_id, "not done",
                      f"{head} is not done yet: {exercise.task}\nHint: {exercise.hint}\n"
                      f"(Stuck? exercises.show_solution('{exercise_id}') prints a solution.)")
    except Wrong as wrong:
        return Result(exercise_id, "not yet", f"{head}, not yet: {wrong}\nHint: {exercise.hint}")
    except Exception as error:  # the student's code failed: say where, never a bare traceback
        return Result(exercise_id, "not yet", f"{head}, not yet: {_raised_message(error)}\nHint: {exercise.hint}")
    return Result(exercise_id, "passed", f"{head} passed: {checked}")


def check(exercise_id, answer):
    """Check an answer and print the verdict (what to do, what is wrong and a hint, or what passed)."""
    print(evaluate(exercise_id, answer).message)


def solution_path(exercise_id):
    """The file of ``solutions/`` that holds the solution of an exercise (one file per notebook)."""
    return runtime.project_dir() / "solutions" / f"{EXERCISE_D[exercise_id].notebook}.py"


def solution_source(exercise_id):
    """The source text of an exercise's solution (the function, class or assignment named ``name``)."""
    exercise, path = EXERCISE_D[exercise_id], solution_path(exercise_id)
    text = Path(path).read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        defined_l = [node.name] if isinstance(node, ast.FunctionDef | ast.ClassDef) else \
            [target.id for target in getattr(node, "targets", []) if isinstance(target, ast.Name)]
        if exercise.name in defined_l:
            return ast.get_source_segment(text, node)
    raise KeyError(f"{path} has no definition of '{exercise.name}' (the solution of exercise {exercise_id})")


def show_solution(exercise_id):
    """Print a solution: try first, then compare."""
    path = solution_path(exercise_id).relative_to(runtime.project_dir())
    print(f"# a solution of exercise {exercise_id}, from {path}")
    print(solution_source(exercise_id))


# --- small helpers of the checkers -----------------------------------------------------------------------


def call(function, *arg_l, **kwarg_d):
    """Call the student's function; a function that returns None has forgotten its ``return``."""
    if not callable(function):
        raise Wrong(f"expected a function, got {type(function).__name__}")
    value = function(*arg_l, **kwarg_d)
    if value is None:
        raise Wrong("your function returned None: did you forget the `return`?")
    return value


def as_array(value, what):
    try:
        return np.asarray(value.detach().cpu() if torch.is_tensor(value) else value)
    except Exception:
        raise Wrong(f"{what} should be an array, got {type(value).__name__}") from None


def as_float(value, what):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a number, got {type(value).__name__}: {value!r}") from None


# Entries of a .pyjama file, made up for the checkers (a multi-valued field, an entry without it).
SAMPLE_ENTRY_L = [
    {"filepath": [{"value": "a.wav"}], "tag": [{"value": "violin"}, {"value": "cello"}], "genre": [{"value": "reel"}]},
    {"filepath": [{"value": "b.wav"}], "tag": [{"value": "violin"}], "genre": [{"value": "jig"}]},
    {"filepath": [{"value": "c.wav"}], "tag": [{"value": "piano"}, {"value": "piano"}], "genre": [{"value": "reel"}]},
    {"filepath": [{"value": "d.wav"}], "genre": [{"value": "chorale"}]},
]
