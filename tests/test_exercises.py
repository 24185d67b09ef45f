"""The exercises: every solution passes its checker, every untouched stub of the notebooks is reported as not
done, and wrong answers get specific feedback (never a bare traceback)."""

import ast
import dataclasses
import importlib.util
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import exercises, metrics

from .helpers import exercise_context

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_L = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISE_HEAD = re.compile(r"^# Exercise (\d\d\.\d+): ")


def _cells(notebook_path):
    return json.loads(notebook_path.read_text(encoding="utf-8"))["cells"]


def _exercise_cells():
    """exercise id -> (notebook, cell index, source) for every cell tagged 'exercise'."""
    found_d = {}
    for notebook_path in NOTEBOOK_L:
        for index, cell in enumerate(_cells(notebook_path)):
            if "exercise" in cell.get("metadata", {}).get("tags", []):
                source = "".join(cell["source"])
                match = EXERCISE_HEAD.match(source)
                assert match, f"{notebook_path.name} cell {index}: start an exercise cell with '# Exercise NN.k: title'"
                assert match.group(1) not in found_d, f"exercise {match.group(1)} appears twice"
                found_d[match.group(1)] = (notebook_path, index, source)
    return found_d


def _solution(exercise_id):
    exercise = exercises.EXERCISE_D[exercise_id]
    spec = importlib.util.spec_from_file_location(f"solution_{exercise.notebook}", exercises.solution_path(exercise_id))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, exercise.name)


def _imports_before(notebook_path, index):
    """The import statements of the code cells before cell ``index``: what a stub has in scope in its notebook."""
    line_l = []
    for cell in _cells(notebook_path)[:index]:
        if cell["cell_type"] == "code":
            tree = ast.parse("\n".join(line for line in "".join(cell["source"]).splitlines()
                                       if not line.lstrip().startswith(("%", "!"))))
            line_l += [ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return "\n".join(line_l)


def _stub(exercise_id):
    notebook_path, index, source = _exercise_cells()[exercise_id]
    namespace = {}
    exec(compile(_imports_before(notebook_path, index), f"<imports of {notebook_path.name}>", "exec"), namespace)
    exec(compile(source, f"<stub {exercise_id}>", "exec"), namespace)
    return namespace[exercises.EXERCISE_D[exercise_id].name]


_context = exercise_context  # tests/helpers.py


@pytest.mark.parametrize("exercise_id", sorted(exercises.EXERCISE_D))
def test_every_solution_passes_its_checker(exercise_id):
    result = exercises.evaluate(exercise_id, _solution(exercise_id), **_context(exercise_id))
    assert result.status == "passed", result.message
    assert result.message.startswith(f"Exercise {exercise_id} (")


@pytest.mark.parametrize("exercise_id", sorted(exercises.EXERCISE_D))
def test_every_untouched_stub_of_the_notebooks_is_reported_not_done_with_help(exercise_id):
    result = exercises.evaluate(exercise_id, _stub(exercise_id), **_context(exercise_id))
    exercise = exercises.EXERCISE_D[exercise_id]
    assert result.status == "not done", result.message
    assert exercise.task in result.message and f"exercises.hint('{exercise_id}')" in result.message
    assert "show_solution" not in result.message and not any(hint in result.message for hint in exercise.hint_l)
    assert "Traceback" not in result.message


def test_the_notebooks_hold_every_exercise_three_or_more_per_notebook_twenty_two_or_more_in_all_in_order():
    found_d = _exercise_cells()
    assert set(found_d) == set(exercises.EXERCISE_D)
    assert len(found_d) >= 22
    for notebook_path in NOTEBOOK_L:
        in_notebook_l = [eid for eid, (path, _, _) in found_d.items() if path == notebook_path]
        assert len(in_notebook_l) >= 3, f"{notebook_path.name} has {len(in_notebook_l)} exercise(s)"
        assert all(exercises.EXERCISE_D[eid].notebook == notebook_path.stem for eid in in_notebook_l)
        in_cell_order_l = sorted(in_notebook_l, key=lambda eid: found_d[eid][1])
        assert in_cell_order_l == sorted(in_notebook_l), f"{notebook_path.name}: out of order {in_cell_order_l}"
        number_l = [eid.split(".")[1] for eid in sorted(in_notebook_l)]
        assert number_l == [str(k) for k in range(1, len(in_notebook_l) + 1)], f"{notebook_path.name}: {number_l}"


@pytest.mark.parametrize("exercise_id", sorted(exercises.EXERCISE_D))
def test_each_exercise_cell_is_followed_by_its_check(exercise_id):
    notebook_path, index, _ = _exercise_cells()[exercise_id]
    next_source = "".join(_cells(notebook_path)[index + 1]["source"])
    assert f'exercises.check("{exercise_id}", {exercises.EXERCISE_D[exercise_id].name}' in next_source


def _solution_statement_l(exercise_id):
    """The statements of an exercise's solution (its body, without docstrings and comments) that say the answer: at
    least 12 characters of code once normalised."""
    node = ast.parse(exercises.solution_source(exercise_id)).body[0]
    body_l = node.body if isinstance(node, ast.FunctionDef | ast.ClassDef) else [node]
    statement_l = []
    for child in ast.walk(ast.Module(body=body_l, type_ignores=[])):
        if isinstance(child, ast.stmt) and not isinstance(child, ast.FunctionDef | ast.ClassDef | ast.Expr):
            text = re.sub(r"\s+", "", ast.unparse(child).split("\n")[0])
            if len(text) >= 12 and not text.startswith(("self.X_d=", "self.y_d=", "self.roll_d=", "self.patch_l=",
                                                        "super().__init__")):
                statement_l.append(text)
    return statement_l


@pytest.mark.parametrize("exercise_id", sorted(exercises.EXERCISE_D))
def test_no_hint_and_no_task_holds_the_solutions_code(exercise_id):
    exercise = exercises.EXERCISE_D[exercise_id]
    assert len(exercise.hint_l) >= 2, f"{exercise_id}: graded hints, at least two levels"
    for text in (exercise.task, *exercise.hint_l):
        squeezed = re.sub(r"\s+", "", text)
        for statement in _solution_statement_l(exercise_id):
            assert statement not in squeezed, f"{exercise_id}: '{statement}' of the solution is in: {text}"


@pytest.mark.parametrize("exercise_id", sorted(exercises.EXERCISE_D))
def test_no_answer_appears_in_the_notebook_before_its_exercise(exercise_id):
    """Above an exercise, nothing but the stubs of earlier exercises (scaffolding the student has seen) may hold a
    statement of its solution."""
    notebook_path, index, _ = _exercise_cells()[exercise_id]
    before = re.sub(r"\s+", "", "".join("".join(cell["source"]) for cell in _cells(notebook_path)[:index]
                                        if "exercise" not in cell.get("metadata", {}).get("tags", [])))
    for statement in _solution_statement_l(exercise_id):
        assert statement not in before, f"{notebook_path.name}: '{statement}' of the solution of {exercise_id} is above"


# --- wrong answers: what is wrong, on which input, and a hint


def _status_and_message(exercise_id, answer):
    result = exercises.evaluate(exercise_id, answer)
    assert "Traceback" not in result.message
    return result.status, result.message


def _probe_in_training_mode(encoder, X_train, y_train, X_test):
    """Exercise 09.3 without encoder.eval(): its Dropout makes the embeddings noisy."""
    from sklearn.linear_model import LogisticRegression

    with torch.no_grad():
        classifier = LogisticRegression(max_iter=1000).fit(encoder(X_train).numpy(), y_train)
        return classifier.predict(encoder(X_test).numpy())


@pytest.mark.parametrize("exercise_id, answer, expected_l", [
    ("01.1", lambda entry_l, key: {e[key][0]["value"]: 1 for e in entry_l if key in e},
     ["your labels are ['piano', 'violin'], expected ['cello', 'piano', 'violin']"]),
    ("01.2", lambda entry, t: sorted(n["value"] for n in entry["pitchmidi"]
                                     if n["time"] <= t <= n["time"] + n["duration"]),
     ["at 1.0 s you gave [60, 64, 67], expected [64, 67]"]),
    ("01.3", lambda entry_l: sorted({e["work_id"][0]["value"] for e in entry_l}), ["expected ['w2', 'w4']"]),
    ("02.1", lambda a, L, S: np.stack([a[i * S:i * S + L] for i in range(1 + (len(a) - L) // S)]).T,
     ["the shape is (4, 5), expected (5, 4): one row per frame"]),
    ("02.2", lambda frame_m, window_v: np.abs(np.fft.rfft(frame_m, axis=1)) ** 2,
     ["not multiplied by the window"]),
    ("02.2", lambda frame_m, window_v: np.abs(np.fft.rfft(frame_m * window_v, axis=1)),
     ["you gave the magnitude"]),
    ("02.3", lambda patch_sec, sr_hz, hop_n: int(patch_sec * sr_hz / hop_n), ["rounded down"]),
    ("02.4", lambda n, L, S: [(s, s + L) for s in range(0, n - L + 1, S)], ["are in no patch"]),
    ("03.2", lambda entry, key, label_l: np.array([float(lab in [i["value"] for i in entry[key]]) for lab in label_l]),
     ["the dtype is float64; the loss needs float32"]),
    ("03.3", lambda note_l, t_v, low, n: np.zeros((n, len(t_v)), dtype=np.float64), ["the dtype is float64"]),
    ("04.1", lambda i, o, k, bias=True: o * i * (k * k if isinstance(k, int) else k[0] * k[1]),
     ["biases are missing"]),
    ("04.2", lambda layer_l: sum(k for k, s, d in layer_l), ["expected 5"]),
    ("04.3", "feature: {type: hcqt, h_l: [1, 2]}", ["needs a 'model' section"]),
    ("05.3", lambda loss_l, patience: (int(np.argmin(loss_l)), None), ["expected (1, 4)"]),
    ("05.5", lambda t, p: float(np.mean(t == p)), ["the accuracy (each item counts once)"]),
    ("06.1", lambda z, y, w: -(y * torch.log(torch.sigmoid(z)) + (1 - y) * torch.log(1 - torch.sigmoid(z))).mean(),
     ["the loss without the weight"]),
    ("06.2", lambda r, e: np.sum((r > 0) & (e > 0)) / np.sum(e > 0), ["the precision"]),
    ("06.3", lambda roll_m, t_v, midi_v: [], ["you found 0 notes"]),
    ("07.1", lambda d_ap_v, d_an_v, margin: (d_ap_v - d_an_v + margin).mean(), ["must count 0"]),
    ("07.2", lambda d_ap, d_an_v: int(np.argmin(d_an_v)), ["the hardest negative"]),
    ("07.3", lambda d, w: 1.0, ["expected"]),
    pytest.param("08.1", lambda m: m / m.sum(axis=0, keepdims=True), ["NaN or inf"],  # 0 / 0 warns, as it should
                 marks=pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")),
    ("08.2", lambda e, r: 10 * np.log10(np.sum(r**2) / np.sum((e - r) ** 2)), ["scale the reference"]),
    ("08.3", lambda z, y: ((torch.sigmoid(z) * y[:, :1] - y[:, 1:]) ** 2).mean(), ["a softmax over the voice axis"]),
    ("08.3", lambda z, y: ((torch.softmax(z, 1) * y[:, :1] - y[:, 1:]).abs()).mean(), ["square it"]),
    ("09.1", lambda X, L, g: tuple(X[..., s:s + L] + float(torch.rand(())) for s in torch.randint(0, 30, (2,))),
     ["no constant shift"]),
    ("09.1", lambda X, L, g: (X[..., :L], X[..., :L]), ["same few places"]),
    ("09.2", lambda a, b, t: torch.nn.functional.cross_entropy(
        torch.nn.functional.normalize(a, dim=1) @ torch.nn.functional.normalize(b, dim=1).T / t, torch.arange(len(a))),
     ["every view of both batches is a query"]),
    ("09.2", lambda a, b, t: torch.nn.functional.cross_entropy(
        (torch.cat([a, b]) @ torch.cat([a, b]).T / t).fill_diagonal_(-torch.inf),
        torch.cat([torch.arange(len(a), 2 * len(a)), torch.arange(len(a))])), ["normalise each to unit length"]),
    ("09.3", _probe_in_training_mode, ["evaluation mode"]),
    ("09.3", lambda encoder, X, y, X_test: np.zeros(len(X_test), dtype=int), ["agree with a logistic regression"]),
])
def test_a_wrong_answer_gets_specific_feedback(exercise_id, answer, expected_l):
    status, message = _status_and_message(exercise_id, answer)
    assert status == "not yet", message
    for expected in expected_l:
        assert expected in message, message


def _training_step_without(omitted):
    """A training step with one of its four parts left out: 'zero_grad', 'step' or 'backward'."""
    def training_step(model, batch, loss_fn, optimizer):
        if omitted != "zero_grad":
            optimizer.zero_grad()
        loss = loss_fn(model(batch["X"]), batch["y"])
        if omitted != "backward":
            loss.backward()
        if omitted != "step":
            optimizer.step()
        return loss.item()
    return training_step


@pytest.mark.parametrize("omitted, expected", [
    ("zero_grad", "clear the gradients before each backward pass"),
    ("step", "the weights did not change"),
    ("backward", "the weights did not change"),
])
def test_a_training_step_with_a_part_missing_is_told_which(omitted, expected):
    status, message = _status_and_message("05.1", _training_step_without(omitted))
    assert status == "not yet" and expected in message, message


def test_a_training_step_that_climbs_the_loss_is_told_so():
    def training_step(model, batch, loss_fn, optimizer):
        optimizer.zero_grad()
        loss = -loss_fn(model(batch["X"]), batch["y"])  # gradient ascent
        loss.backward()
        optimizer.step()
        return -loss.item()

    status, message = _status_and_message("05.1", training_step)
    assert status == "not yet" and "it should fall" in message, message


def _validation_loss(mode="right"):
    """The validation pass, right, or with one mistake: 'batch mean', 'train mode', 'gradients'."""
    def validation_loss(model, loader, loss_fn):
        if mode != "train mode":
            model.eval()
        total, count, mean_l = 0.0, 0, []
        with torch.set_grad_enabled(mode == "gradients"):
            for batch in loader:
                loss = loss_fn(model(batch["X"]), batch["y"])
                total, count = total + loss.item() * len(batch["X"]), count + len(batch["X"])
                mean_l.append(loss.item())
        return float(np.mean(mean_l)) if mode == "batch mean" else total / count
    return validation_loss


@pytest.mark.parametrize("mode, expected", [
    ("batch mean", "the mean of the 3 batch means"),
    ("train mode", "call model.eval() first"),
    ("gradients", "inside a torch.no_grad() block"),
])
def test_a_validation_pass_with_a_mistake_is_told_which(mode, expected):
    status, message = _status_and_message("05.2", _validation_loss(mode))
    assert status == "not yet" and expected in message, message
    assert exercises.evaluate("05.2", _validation_loss()).passed


def test_getitem_that_slices_the_wrong_axis_is_told_which_axis():
    class PatchItems(torch.utils.data.Dataset):
        def __init__(self, X_d, y_d, patch_l):
            self.X_d, self.y_d, self.patch_l = X_d, y_d, patch_l

        def __len__(self):
            return len(self.patch_l)

        def __getitem__(self, idx):
            patch = self.patch_l[idx]
            return {"X": self.X_d[patch["audiofile"]][:, patch["start_frame"]:patch["end_frame"]],
                    "y": self.y_d[patch["audiofile"]]}

    status, message = _status_and_message("03.1", PatchItems)
    assert status == "not yet" and "slice the last (time) axis" in message


def test_an_error_raised_by_the_answer_names_its_line_in_the_cell():
    def frame_signal(audio_v, L_n, STEP_n):
        return audio_v[L_n, STEP_n]  # an IndexError on a 1-D array

    status, message = _status_and_message("02.1", frame_signal)
    assert status == "not yet"
    assert "your code raised IndexError" in message and "return audio_v[L_n, STEP_n]" in message


def test_a_function_without_return_is_told_so():
    def count_labels(entry_l, annot_key):
        {}  # noqa: B018 - the student forgot the return

    status, message = _status_and_message("01.1", count_labels)
    assert status == "not yet" and "forget the `return`" in message


def test_an_empty_yaml_text_is_not_done_and_a_broken_one_is_reported():
    assert exercises.evaluate("04.3", "# only a comment\n").status == "not done"
    status, message = _status_and_message("04.3", "model: [unclosed")
    assert status == "not yet" and "not valid YAML" in message


def test_the_accuracy_checker_is_mir_evals_accuracy():
    """mir_eval's multipitch Accuracy is the number the checker expects (the exercise asks for that number), and an
    answer that calls it instead of counting is refused, naming it."""
    from course_utils.exercises import ex06_training_multipitch

    def mir_eval_accuracy(reference_m, estimated_m):
        frequency_hz_v = 440.0 * 2 ** ((np.arange(reference_m.shape[0]) + 48 - 69) / 12)
        time_sec_v = np.arange(reference_m.shape[1]) * 0.01
        return metrics.multipitch_scores(reference_m, estimated_m, time_sec_v, frequency_hz_v)["Accuracy"]

    for seed in (0, 1):
        reference_m, estimated_m = ex06_training_multipitch._roll_pair(seed)
        assert np.isclose(mir_eval_accuracy(reference_m, estimated_m), _solution("06.2")(reference_m, estimated_m))
    refused = exercises.evaluate("06.2", mir_eval_accuracy)
    assert refused.status == "not yet" and "course_utils.metrics.multipitch_scores" in refused.message


def test_the_semi_hard_rule_of_the_exercise_is_triplet_losss_rule():
    """A batch of 2 versions of one work and 4 other works: TripletLoss's loss equals the loss of the negatives that
    the exercise's solution (which passes the checker) picks for each (anchor, positive) pair."""
    semi_hard_negative, margin = _solution("07.2"), 0.3
    for seed in range(5):
        generator = torch.Generator().manual_seed(seed)
        embedding_m = torch.nn.functional.normalize(torch.randn(6, 3, generator=generator), dim=1)
        label_v = torch.tensor([0, 0, 1, 2, 3, 4])
        distance_m = metrics.pairwise_distances(embedding_m).numpy()
        loss_l = []
        for anchor, positive in ((0, 1), (1, 0)):
            d_an_v = distance_m[anchor, 2:]
            negative = semi_hard_negative(distance_m[anchor, positive], d_an_v)
            loss_l.append(max(0.0, distance_m[anchor, positive] - d_an_v[negative] + margin))
        loss = metrics.TripletLoss(margin=margin, mining="semihard")(embedding_m, label_v).item()
        assert np.isclose(loss, np.mean(loss_l), atol=1e-5), seed


def test_hints_come_one_level_at_a_time_and_the_solution_after_them(capsys, monkeypatch):
    monkeypatch.setattr(exercises.checking, "_HINTS_SHOWN_D", {})
    exercises.show_solution("07.2")
    assert "Try the hints first: exercises.hint('07.2')" in capsys.readouterr().out
    hint_l = exercises.EXERCISE_D["07.2"].hint_l
    for level, hint in enumerate(hint_l, start=1):
        printed = exercises.hint("07.2")
        assert printed.startswith(f"Hint {level} of {len(hint_l)} for exercise 07.2: {hint}")
    assert "that was the last hint" in printed
    exercises.show_solution("07.2")
    printed = capsys.readouterr().out
    assert "solutions/07_training_covers.py" in printed and "def semi_hard_negative(d_ap, d_an_v):" in printed


# --- answers that misbehave: they never finish, exit, change their inputs, return a generator


def test_an_answer_that_never_finishes_gets_a_verdict(monkeypatch):
    exercise = exercises.EXERCISE_D["01.1"]
    monkeypatch.setitem(exercises.EXERCISE_D, "01.1", dataclasses.replace(exercise, time_limit_sec=1.0))

    def count_labels(entry_l, annot_key):
        count_d = {}
        while True:  # the student forgot to move on
            try:
                count_d["x"] = 1
            except Exception:  # noqa: S110 - even a student's catch-all cannot swallow the time limit
                pass

    start = time.monotonic()
    status, message = _status_and_message("01.1", count_labels)
    assert status == "not yet" and "your code did not finish in 1 s" in message
    assert time.monotonic() - start < 10


def test_an_answer_that_calls_sys_exit_gets_a_verdict():
    def count_labels(entry_l, annot_key):
        sys.exit("done")

    status, message = _status_and_message("01.1", count_labels)
    assert status == "not yet" and "called sys.exit()" in message


def test_an_answer_that_changes_its_inputs_cannot_change_the_checkers_examples():
    def count_labels(entry_l, annot_key):
        for entry in entry_l:
            entry.pop(annot_key, None)  # the checker's own entries would lose their labels
        entry_l.clear()
        return {}

    assert _status_and_message("01.1", count_labels)[0] == "not yet"
    assert exercises.evaluate("01.1", _solution("01.1")).passed, "the checker's examples are intact"


def test_an_answer_that_returns_a_generator_is_judged_on_its_values():
    solution = _solution("01.2")

    def notes_sounding_at(entry, time_sec):
        yield from solution(entry, time_sec)

    assert exercises.evaluate("01.2", notes_sounding_at).passed


def test_an_unknown_exercise_is_a_key_error_listing_the_exercises():
    with pytest.raises(KeyError, match="01.1"):
        exercises.evaluate("99.9", None)


def _notebooks_whose_checks_use_the_answer():
    """Notebooks where a check cell goes on to use a passed answer on the course data (more than the check line)."""
    found_s = set()
    for notebook_path, index, _ in _exercise_cells().values():
        if len("".join(_cells(notebook_path)[index + 1]["source"]).strip().splitlines()) > 1:
            found_s.add(notebook_path)
    return sorted(found_s)


@pytest.mark.parametrize("notebook_path", _notebooks_whose_checks_use_the_answer(), ids=lambda path: path.stem)
def test_a_notebook_with_its_exercises_solved_runs_and_every_check_passes(notebook_path):
    """The branch that runs a passed answer on the course data is code too: run the notebook (fast mode) with the
    solutions in its exercise cells."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(notebook_path, as_version=4)
    check_index_l = []
    for index, cell in enumerate(notebook.cells):
        match = EXERCISE_HEAD.match(cell.source) if "exercise" in cell.metadata.get("tags", []) else None
        if match:
            cell.source = exercises.solution_source(match.group(1))
            check_index_l.append(index + 1)
    # up to the last cell that names an answer: the cells after it hold no branch on an answer (nbval runs them all,
    # with the stubs); notebook 05's "Going further" trainings, for one, are not run twice
    name_l = [exercise.name for exercise in exercises.EXERCISE_D.values() if exercise.notebook == notebook_path.stem]
    last_index = max(index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
                     and any(re.search(rf"\b{re.escape(name)}\b", cell.source) for name in name_l))
    notebook.cells = notebook.cells[:max(last_index, *check_index_l) + 1]
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(notebook_path.parent)}}).execute()
    for index in check_index_l:
        printed = "".join(output.get("text", "") for output in notebook.cells[index].outputs)
        assert " passed: " in printed, f"{notebook_path.name} cell {index}: {printed}"


def test_an_answer_that_calls_the_package_function_it_should_reproduce_is_refused_naming_it():
    from course_utils.exercises import checking

    @checking.exercise("99.9", "99_test", "a test exercise", "map_of", "write map_of(distance_m, work_v)", ["a hint"],
                       forbidden_l=[metrics.ranking_metrics])
    def _check(map_of):
        distance_m, work_v = np.array([[0.0, 1, 2], [1, 0, 3], [2, 3, 0]]), np.array([0, 0, 1])
        checking.call(map_of, distance_m, work_v)
        metrics.ranking_metrics(distance_m, work_v)  # the checker's own call is not the student's
        return "checked"

    try:
        refused = exercises.evaluate("99.9", lambda d, w: metrics.ranking_metrics(d, w)["MAP"])
        accepted = exercises.evaluate("99.9", lambda d, w: 0.5)
    finally:
        del exercises.EXERCISE_D["99.9"]
    assert refused.status == "not yet" and "course_utils.metrics.ranking_metrics" in refused.message, refused.message
    assert accepted.passed, accepted.message


def test_a_refused_function_behind_a_decorator_is_known_and_the_package_s_own_calls_through_it_are_not_refused():
    from course_utils import task
    from course_utils.exercises import checking

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    X = torch.zeros(1, 2, 2)

    @checking.exercise("99.8", "99_test", "a test exercise", "predict", "write predict(model, X)", ["a hint"],
                       forbidden_l=[task.predict_track])  # decorated by @torch.no_grad()
    def _check(predict):
        checking.call(predict, model, X, copy_arguments=False)
        return "checked"

    patch_l = [{"start_frame": 0, "end_frame": 2}]
    try:
        refused = exercises.evaluate("99.8", lambda model, X: task.predict_track(model, X))
        accepted = exercises.evaluate("99.8", lambda model, X: model(X[None])[0])
        through_the_package = exercises.evaluate(  # the package's own function calls predict_track: not the student
            "99.8", lambda model, X: task.patch_mean_probability(model, X, patch_l, activation=lambda z: z))
    finally:
        del exercises.EXERCISE_D["99.8"]
    assert refused.status == "not yet" and "course_utils.task.predict_track" in refused.message, refused.message
    assert accepted.passed and through_the_package.passed, (accepted.message, through_the_package.message)
