"""Exercises of the notebooks, checked offline in seconds: ``exercises.check('02.1', frame_signal)``.

Each exercise is a cell tagged ``exercise`` in a notebook: a stub (a function, a class or a YAML text) that
the student fills in, followed by a cell that calls ``check(exercise_id, answer)``. ``check`` runs the
answer on small made-up inputs, compares it with a reference, and prints one of three verdicts, never a
bare traceback: **not done** (the stub is untouched), **not yet** (what is wrong, on which input, what was
expected) or **passed** (what was checked).

- ``checking``: the framework (the registry, ``evaluate``, ``check``, running the student's code);
- ``ex01_data`` ... ``ex11_generation``: one module per notebook, its exercises and their checkers, as
  ``solutions/`` holds one file of solutions per notebook (``show_solution('02.1')`` prints one); a notebook
  whose checkers outgrow one module continues in a second, ``ex11_generation_flow_fidelity`` (11.3 and 11.4).
"""

from course_utils.exercises import (  # noqa: F401 (importing a notebook's module registers its exercises)
    ex01_data,
    ex02_features,
    ex03_dataset,
    ex04_model_from_yaml,
    ex05_training_tagging,
    ex06_training_multipitch,
    ex07_training_covers,
    ex08_source_separation,
    ex09_self_supervised,
    ex10_autoencoders,
    ex11_generation,
    ex11_generation_flow_fidelity,
)
from course_utils.exercises.checking import (  # noqa: F401 (the face of the package)
    EXERCISE_D,
    STATUS_L,
    Exercise,
    Result,
    check,
    evaluate,
    hint,
    show_solution,
    solution_path,
    solution_source,
)
