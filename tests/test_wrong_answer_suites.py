"""The wrong-answer suites (tests/test_wrong_answers_*.py) together: every exercise of the course meets at least
three plausible wrong answers, and the suites hold a hundred or more, each with the mistake it names."""

import importlib
from collections import Counter
from pathlib import Path

from course_utils import exercises

SUITE_L = sorted(path.stem for path in Path(__file__).parent.glob("test_wrong_answers_*.py"))


def _wrong_answers():
    return [wrong for name in SUITE_L for wrong in importlib.import_module(f"tests.{name}").WRONG_ANSWER_L]


def test_every_exercise_meets_three_or_more_wrong_answers_and_a_hundred_in_all():
    wrong_l = _wrong_answers()
    count_d = Counter(exercise_id for exercise_id, *_ in wrong_l)
    short_l = {exercise_id: count_d[exercise_id] for exercise_id in exercises.EXERCISE_D if count_d[exercise_id] < 3}
    assert not short_l, f"exercises with fewer than 3 wrong answers: {short_l}"
    assert len(wrong_l) >= 100, f"{len(wrong_l)} wrong answers in all"
    assert set(count_d) <= set(exercises.EXERCISE_D), f"no such exercise: {set(count_d) - set(exercises.EXERCISE_D)}"


def test_each_wrong_answer_names_its_mistake_and_what_the_message_must_say():
    for exercise_id, mistake, answer, fragment_l in _wrong_answers():
        assert isinstance(mistake, str) and mistake, f"{exercise_id}: a wrong answer without the name of its mistake"
        assert fragment_l and all(isinstance(fragment, str) and fragment for fragment in fragment_l), (
            f"{exercise_id} ({mistake}): say which words of the checker's message name the mistake")
        assert answer is not None
