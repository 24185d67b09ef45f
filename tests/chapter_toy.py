"""A toy chapter, written as docs/extending.md's "Adding a chapter" says: its notebook, its exercise and its
solution. ``tests/test_extending.py`` runs the course's own rules (the tests every real notebook passes) on it."""

import nbformat

from course_utils import references
from course_utils.tools import launch

TOY_NUMBER, TOY_NAME = "99", "99_toy_chapter"


def toy_notebook(repository=None, going_further=True):
    """A minimal chapter notebook: the header, the Colab cell, one explanation, one exercise with its check, a
    `check` cell, Further reading and (``going_further``) one Going further section."""
    key = next(iter(references.load_bibliography()))
    anchor = sorted(references.glossary_anchors())[0]
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cell_l = [
        md(f"# {TOY_NUMBER} · A toy chapter\n\n**What you will learn**\n- what a [term](../docs/glossary.md#{anchor}) "
           f"means [{key}].\n\n**Before you start**: notebook 01.\n\n**Time**: about 10 minutes of study, exercises "
           "included. Compute on a 2-core laptop CPU: about 1 minute in fast mode (`COURSE_FAST_MODE=1`, the test "
           "run), about 2 minutes in the default mode (the results of the README)."),
        code(launch.colab_cell_source(repository), metadata={"tags": ["colab"]}),
        code("from course_utils import exercises, runtime\n\nfast_mode = runtime.is_fast_mode()"),
        md("## A sum\n\nThe explanation comes before the computation."),
        code(f"# Exercise {TOY_NUMBER}.1: a sum by hand\ndef sum_by_hand(value_l):\n    raise NotImplementedError",
             metadata={"tags": ["exercise"]}),
        code(f'exercises.check("{TOY_NUMBER}.1", sum_by_hand)'),
        code("assert sum([1, 2]) == 3", metadata={"tags": ["check"]}),
        md(f"## Further reading\n\n- **[{key}]** {references.format_reference(key)}"),
    ]
    if going_further:
        cell_l.append(md("## Going further\n\nThe deeper material goes here."))
    return nbformat.v4.new_notebook(cells=cell_l, metadata={"kernelspec": {
        "display_name": "Python 3", "language": "python", "name": "python3"}})


SOLUTION_SOURCE = '''def sum_by_hand(value_l):
    """The sum of a list of numbers, one addition at a time."""
    total = 0
    for value in value_l:
        total += value
    return total
'''


def register():
    """What the chapter's module of ``course_utils/exercises/`` does on import: register its exercise."""
    from course_utils.exercises import checking

    checking.exercise(f"{TOY_NUMBER}.1", TOY_NAME, "a sum by hand", "sum_by_hand", "write sum_by_hand(value_l): the "
                      "sum of a list of numbers", ["Add them one at a time."])(check_sum)


def check_sum(sum_by_hand):
    """The toy exercise's checker: three lists, and the package's own ``sum`` refused (forbidden_l)."""
    from course_utils.exercises.checking import Wrong, call

    for value_l in ([1, 2, 3], [], [-1.5, 2.5]):
        answer = call(sum_by_hand, value_l) if value_l else sum_by_hand(value_l)
        if answer != sum(value_l):
            raise Wrong(f"for {value_l} you gave {answer}, expected {sum(value_l)}")
    return "the same sums as Python's on 3 lists"
