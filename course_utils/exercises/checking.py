"""The checking framework of the exercises: the registry, the verdicts, running the student's code safely.

Each exercise is a cell tagged ``exercise`` in a notebook: a stub (a function, a class or a YAML text) that
the student fills in, followed by a cell that calls ``check(exercise_id, answer)``. ``check`` runs the
answer on small made-up inputs, compares it with a reference, and prints one of three verdicts, never a
bare traceback:

- **not done**: the stub is untouched (it raises ``NotImplementedError``, or the YAML text is empty): the task,
  nothing more;
- **not yet**: what is wrong, on which input, what was expected (an error raised by the answer is reported
  with its line in the student's cell; an answer that runs longer than the exercise's time limit, or calls
  ``sys.exit()``, is reported as such);
- **passed**: what was checked.

Help comes on request, in steps: ``hint('02.1')`` prints the next of the exercise's graded hints (each a little
more precise, none the answer), and only after the last one does ``show_solution('02.1')`` print a solution
(``solutions/``, one file per notebook; ``force=True`` for a teacher). The answer is always given copies of the
checker's inputs, so an answer that changes its inputs cannot change the checker's own examples.

``evaluate`` returns the verdict as a ``Result`` instead of printing it (the test suite runs every solution
and every untouched stub through it).
"""

import ast
import collections.abc
import contextlib
import copy
import ctypes
import inspect
import os
import sys
import threading
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


class _TimeLimit(BaseException):
    """Raised inside the student's code when it runs past the exercise's time limit (a BaseException, so that the
    student's own ``except Exception`` cannot swallow it)."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is, what the student defines (``name``), the task, graded hints and its checker.

    hint_l : hints from the vaguest to the most precise; none of them is the answer
    time_limit_sec : how long the checker may run the student's code before the verdict "did not finish"
    forbidden_l : the package's functions that the exercise asks the student to write: an answer that calls one of
        them directly is refused, naming it (``call`` watches for them)
    example_context : for an experiment, whose check also reads what the notebook measured (``check(id, answer,
        **context)``): a function giving a context made up for the tests (None for the other exercises)
    """

    exercise_id: str
    notebook: str
    title: str
    name: str
    task: str
    hint_l: tuple
    checker: object
    time_limit_sec: float = 20.0
    example_context: object = None
    forbidden_l: tuple = ()


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


_HINTS_SHOWN_D = {}  # exercise id -> number of hints shown in this kernel


def exercise(exercise_id, notebook, title, name, task, hint_l, time_limit_sec=20.0, example_context=None,
             forbidden_l=()):
    """Register a checker: a function of the answer (and of the context of an experiment) that returns what was
    checked or raises Wrong/NotDone. ``forbidden_l``: the package functions the answer must not call (see
    ``Exercise``)."""

    def register(checker):
        hints = (hint_l,) if isinstance(hint_l, str) else tuple(hint_l)
        EXERCISE_D[exercise_id] = Exercise(exercise_id, notebook, title, name, task, hints, checker, time_limit_sec,
                                           example_context, tuple(forbidden_l))
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


@contextlib.contextmanager
def _time_limit(seconds):
    """Raise ``_TimeLimit`` in this thread if the block runs longer than ``seconds`` (a watchdog thread injects it
    between two Python instructions: an endless loop stops; a long call into C stops when it returns)."""
    target, lock, state_d = threading.get_ident(), threading.Lock(), {"finished": False}

    def watchdog():
        if not finished_event.wait(seconds):
            with lock:
                if not state_d["finished"]:
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), ctypes.py_object(_TimeLimit))

    finished_event = threading.Event()
    thread = threading.Thread(target=watchdog, daemon=True)
    thread.start()
    try:
        yield
    finally:
        with lock:
            state_d["finished"] = True
        finished_event.set()
        thread.join()


@contextlib.contextmanager
def _random_state_kept():
    """The checker may seed and draw random numbers: the notebook's own random state (Python, NumPy, torch) is the
    same after the check as before, so that checking an answer never changes what the notebook trains."""
    import random

    python_state, numpy_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


_FORBIDDEN_L = []  # the package functions that the answer being checked must not call (set by _run_checker)


def _run_checker(exercise, answer, context_d):
    """(status, message) of one answer (see the module docstring)."""
    _FORBIDDEN_L[:] = exercise.forbidden_l
    try:
        with _time_limit(exercise.time_limit_sec), _random_state_kept():
            if answer is None or answer is Ellipsis:
                raise NotDone
            return "passed", f" passed: {exercise.checker(answer, **context_d)}"
    except (NotDone, NotImplementedError):
        return "not done", f" is not done yet: {exercise.task}"
    except Wrong as wrong:
        return "not yet", f", not yet: {wrong}"
    except _TimeLimit:
        return "not yet", (f", not yet: your code did not finish in {exercise.time_limit_sec:.0f} s on a small "
                           "example (an endless loop? a loop whose condition never changes?)")
    except SystemExit:
        return "not yet", (", not yet: your code called sys.exit() (or exit()), which ends the whole program; a "
                           "function gives its result with `return`")
    except Exception as error:  # the student's code failed: say where, never a bare traceback
        return "not yet", f", not yet: {_raised_message(error)}"
    finally:
        _FORBIDDEN_L.clear()


def evaluate(exercise_id, answer, **context_d):
    """Check an answer without printing: a ``Result`` (status 'not done', 'not yet' or 'passed'). An experiment's
    check also reads what the notebook measured, given as keyword arguments (e.g. ``history_d=...``)."""
    if exercise_id not in EXERCISE_D:
        raise KeyError(f"no exercise '{exercise_id}'; the exercises are {', '.join(EXERCISE_D)}")
    exercise = EXERCISE_D[exercise_id]
    status, message = _run_checker(exercise, answer, context_d)
    text = f"Exercise {exercise_id} ({exercise.title}){message}"
    if status != "passed":
        text += f"\n(Stuck? exercises.hint('{exercise_id}') gives a hint.)"
    return Result(exercise_id, status, text)


def check(exercise_id, answer, **context_d):
    """Check an answer and print the verdict (what to do, or what is wrong, or what passed)."""
    print(evaluate(exercise_id, answer, **context_d).message)


def hint(exercise_id):
    """Print the next hint of an exercise (graded: each call one step more precise); after the last one, say that
    ``show_solution`` prints a solution. Returns the hint's text."""
    if exercise_id not in EXERCISE_D:
        raise KeyError(f"no exercise '{exercise_id}'; the exercises are {', '.join(EXERCISE_D)}")
    hint_l = EXERCISE_D[exercise_id].hint_l
    level = min(_HINTS_SHOWN_D.get(exercise_id, 0), len(hint_l) - 1)
    _HINTS_SHOWN_D[exercise_id] = level + 1
    if level + 1 < len(hint_l):
        more = f"(exercises.hint('{exercise_id}') again for hint {level + 2} of {len(hint_l)})"
    else:
        more = f"(that was the last hint; exercises.show_solution('{exercise_id}') prints a solution)"
    text = f"Hint {level + 1} of {len(hint_l)} for exercise {exercise_id}: {hint_l[level]}\n{more}"
    print(text)
    return text


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


def show_solution(exercise_id, force=False):
    """Print a solution, once every hint has been shown (``hint``) or with ``force=True``: try first, then compare."""
    n_hint = len(EXERCISE_D[exercise_id].hint_l)
    if not force and _HINTS_SHOWN_D.get(exercise_id, 0) < n_hint:
        print(f"Try the hints first: exercises.hint('{exercise_id}') ({n_hint - _HINTS_SHOWN_D.get(exercise_id, 0)} "
              f"left); exercises.show_solution('{exercise_id}', force=True) prints the solution anyway.")
        return
    path = solution_path(exercise_id).relative_to(runtime.project_dir())
    print(f"# a solution of exercise {exercise_id}, from {path}")
    print(solution_source(exercise_id))


# --- small helpers of the checkers -----------------------------------------------------------------------


def call(function, *arg_l, copy_arguments=True, **kwarg_d):
    """Call the student's function on deep copies of the arguments (what it changes is not the checker's; a checker
    that reads what the function changed, e.g. a model it trains, passes ``copy_arguments=False`` and fresh
    objects); a function that returns None has forgotten its ``return``; a generator is judged on the values it
    yields."""
    if not callable(function):
        raise Wrong(f"expected a function, got {type(function).__name__}")
    if copy_arguments:
        arg_l, kwarg_d = copy.deepcopy(arg_l), copy.deepcopy(kwarg_d)
    with _forbidden_calls_watched(_FORBIDDEN_L) as called_l:
        value = function(*arg_l, **kwarg_d)
    if called_l:
        whose = "the course package's" if called_l[0].startswith("course_utils.") else "a library's ready-made"
        raise Wrong(f"your code calls {called_l[0]}, {whose} version of what this exercise asks you to write: "
                    "write it yourself (the ready-made function is for after the exercise)")
    if value is None:
        raise Wrong("your function returned None: did you forget the `return`?")
    if isinstance(value, collections.abc.Iterator):  # a generator, map, zip...: its values, once
        value = list(value)
    return value


def _qualified_name(function):
    return f"{function.__module__}.{function.__qualname__}"


@contextlib.contextmanager
def _forbidden_calls_watched(forbidden_l):
    """Yield a list that receives the qualified name of each function of ``forbidden_l`` called by code outside the
    package (the student's) while the block runs: a profile hook on this thread, only when the list is not empty.
    A decorated function (``@torch.no_grad()``) is known by its own code, and its caller found past the decorator's
    frames (a library's): a call made by the package itself, e.g. the checker's reference, is not the student's."""
    called_l = []
    code_d = {getattr(inspect.unwrap(function), "__code__", None): function for function in forbidden_l}
    code_d.pop(None, None)
    if not code_d:
        yield called_l
        return
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    library_root_l = tuple(os.path.abspath(root) + os.sep for root in {sys.prefix, sys.base_prefix})

    def profile(frame, event, _arg):
        if event != "call" or frame.f_code not in code_d:
            return
        caller = frame.f_back
        while caller is not None and os.path.abspath(caller.f_code.co_filename).startswith(library_root_l):
            caller = caller.f_back  # a decorator's wrapper, torch's or functools'
        if caller is not None and not os.path.abspath(caller.f_code.co_filename).startswith(package_dir):
            name = _qualified_name(code_d[frame.f_code])
            if name not in called_l:
                called_l.append(name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield called_l
    finally:
        sys.setprofile(previous)


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
