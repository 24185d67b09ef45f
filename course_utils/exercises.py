"""Exercises of the notebooks, checked offline in seconds: ``check('02.1', frame_signal)``.

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
import yaml

from course_utils import annotation, feature, metrics, runtime

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


def _exercise(exercise_id, notebook, title, name, task, hint):
    """Register a checker: a function of the answer that returns what was checked or raises Wrong/NotDone."""

    def register(checker):
        EXERCISE_D[exercise_id] = Exercise(exercise_id, notebook, title, name, task, hint, checker)
        return checker

    return register


# --- running the student's code ------------------------------------------------------------------------


def _student_frame(tb):
    """The innermost frame of a traceback that is the student's code (not this module, not a library)."""
    here, library_root_l = os.path.abspath(__file__), [os.path.abspath(p) for p in {sys.prefix, sys.base_prefix}]
    frame = None
    for summary in traceback.extract_tb(tb):
        path = os.path.abspath(summary.filename)
        if path == here or any(path.startswith(root + os.sep) for root in library_root_l):
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


def _call(function, *arg_l, **kwarg_d):
    """Call the student's function; a function that returns None has forgotten its ``return``."""
    if not callable(function):
        raise Wrong(f"expected a function, got {type(function).__name__}")
    value = function(*arg_l, **kwarg_d)
    if value is None:
        raise Wrong("your function returned None: did you forget the `return`?")
    return value


def _as_array(value, what):
    try:
        return np.asarray(value.detach().cpu() if torch.is_tensor(value) else value)
    except Exception:
        raise Wrong(f"{what} should be an array, got {type(value).__name__}") from None


def _as_float(value, what):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a number, got {type(value).__name__}: {value!r}") from None


# --- 01_data ---------------------------------------------------------------------------------------------


_ENTRY_L = [
    {"filepath": [{"value": "a.wav"}], "tag": [{"value": "violin"}, {"value": "cello"}], "genre": [{"value": "reel"}]},
    {"filepath": [{"value": "b.wav"}], "tag": [{"value": "violin"}], "genre": [{"value": "jig"}]},
    {"filepath": [{"value": "c.wav"}], "tag": [{"value": "piano"}, {"value": "piano"}], "genre": [{"value": "reel"}]},
    {"filepath": [{"value": "d.wav"}], "genre": [{"value": "chorale"}]},
]


@_exercise("01.1", "01_data", "count the tracks of each label", "count_labels",
           "write count_labels(entry_l, annot_key): a dict label -> the number of entries that carry that label "
           "in their field annot_key.",
           "an entry's field is a list of {'value': ...} items; an entry that lists a label twice counts once, "
           "an entry without the field counts for no label (entry.get(annot_key, [])).")
def _check_count_labels(count_labels):
    for annot_key, expected_d in (("tag", {"violin": 2, "cello": 1, "piano": 1}),
                                  ("genre", {"reel": 2, "jig": 1, "chorale": 1})):
        answer = _call(count_labels, [dict(entry) for entry in _ENTRY_L], annot_key)
        if not isinstance(answer, dict):
            raise Wrong(f"expected a dict label -> count, got {type(answer).__name__}")
        answer_d = {str(label): count for label, count in answer.items()}
        if set(answer_d) != set(expected_d):
            raise Wrong(f"for annot_key '{annot_key}' your labels are {sorted(answer_d)}, expected "
                        f"{sorted(expected_d)}")
        for label, count in expected_d.items():
            if answer_d[label] != count:
                raise Wrong(f"for annot_key '{annot_key}', label '{label}': you counted {answer_d[label]}, "
                            f"expected {count}")
    return "the counts of 'tag' (a multi-valued field, one entry without it) and of 'genre' are right."


_NOTE_ENTRY = {"pitchmidi": [{"value": 60, "time": 0.0, "duration": 1.0}, {"value": 64, "time": 0.5, "duration": 1.0},
                             {"value": 67, "time": 1.0, "duration": 0.5}, {"value": 72, "time": 2.0, "duration": 0.25}]}


@_exercise("01.2", "01_data", "which notes sound at a time", "notes_sounding_at",
           "write notes_sounding_at(entry, time_sec): the sorted list of the MIDI pitches of the entry's 'pitchmidi' "
           "notes that sound at time_sec.",
           "a note {'value', 'time', 'duration'} sounds from `time` up to, but not including, `time + duration`.")
def _check_notes_sounding_at(notes_sounding_at):
    for time_sec, expected_l in ((0.25, [60]), (0.75, [60, 64]), (1.0, [64, 67]), (1.5, []), (1.75, []),
                                 (2.1, [72])):
        answer = _call(notes_sounding_at, {"pitchmidi": [dict(note) for note in _NOTE_ENTRY["pitchmidi"]]}, time_sec)
        try:
            answer_l = sorted(int(pitch) for pitch in answer)
        except (TypeError, ValueError):
            raise Wrong(f"expected a list of MIDI pitches, got {answer!r}") from None
        if answer_l != expected_l:
            raise Wrong(f"at {time_sec} s you gave {answer_l}, expected {expected_l}")
        if list(answer) != answer_l:
            raise Wrong(f"at {time_sec} s your list {list(answer)} is not sorted")
    return "right at 6 times, including the exact end of a note (not sounding) and the start of another (sounding)."


# --- 02_features -----------------------------------------------------------------------------------------


@_exercise("02.1", "02_features", "frame analysis by hand", "frame_signal",
           "write frame_signal(audio_v, L_n, STEP_n): the frames of a signal as an array (n_frames, L_n), frame i "
           "= audio_v[i * STEP_n : i * STEP_n + L_n], only whole frames, no padding.",
           "n_frames = 1 + (len(audio_v) - L_n) // STEP_n; build the rows with a loop or a list comprehension, "
           "then np.stack.")
def _check_frame_signal(frame_signal):
    import librosa

    rng = np.random.default_rng(0)
    case_l = [(np.arange(12.0), 4, 2), (np.arange(11.0), 4, 3), (rng.standard_normal(1000), 256, 100)]
    for audio_v, L_n, STEP_n in case_l:
        answer = _as_array(_call(frame_signal, audio_v.copy(), L_n, STEP_n), "the frames")
        expected = librosa.util.frame(audio_v, frame_length=L_n, hop_length=STEP_n, axis=0)
        where = f"for {len(audio_v)} samples, L_n = {L_n}, STEP_n = {STEP_n}"
        if answer.shape == expected.shape[::-1] and answer.shape != expected.shape:
            raise Wrong(f"{where} the shape is {answer.shape}, expected {expected.shape}: one row per frame "
                        "(transpose)")
        if answer.shape != expected.shape:
            raise Wrong(f"{where} the shape is {answer.shape}, expected {expected.shape} (n_frames, L_n)")
        bad_v = np.flatnonzero(~np.all(np.isclose(answer, expected), axis=1))
        if bad_v.size:
            raise Wrong(f"{where} frame {bad_v[0]} should start at sample {bad_v[0] * STEP_n} "
                        f"({expected[bad_v[0], :3]}...), yours is {answer[bad_v[0], :3]}...")
    return "the same frames as librosa.util.frame on 3 signals (a last partial frame is dropped)."


@_exercise("02.2", "02_features", "the patches of a track", "patches_by_hand",
           "write patches_by_hand(total_len, patch_len, patch_hopsize): the list of (start_frame, end_frame) "
           "patches of feature.f_get_patches, end excluded, including its last patch for the tail.",
           "starts at 0, patch_hopsize, ... while a whole patch fits; if the last patch ends before total_len, "
           "add one more patch that ends exactly at total_len.")
def _check_patches_by_hand(patches_by_hand):
    for total_len, patch_len, patch_hopsize in ((10, 4, 2), (11, 4, 2), (64, 64, 32), (100, 64, 32), (300, 64, 64)):
        answer = _call(patches_by_hand, total_len, patch_len, patch_hopsize)
        try:
            answer_l = [(int(p["start_frame"]), int(p["end_frame"])) if isinstance(p, dict) else (int(p[0]), int(p[1]))
                        for p in answer]
        except (TypeError, KeyError, IndexError, ValueError):
            raise Wrong(f"expected a list of (start_frame, end_frame) pairs, got {answer!r}") from None
        expected_l = [(p["start_frame"], p["end_frame"]) for p in feature.f_get_patches(total_len, patch_len,
                                                                                        patch_hopsize)]
        where = f"for total_len = {total_len}, patch_len = {patch_len}, patch_hopsize = {patch_hopsize}"
        if answer_l == expected_l:
            continue
        if answer_l == expected_l[:-1]:
            raise Wrong(f"{where} frames {answer_l[-1][1]} to {total_len - 1} are in no patch: add the last patch "
                        f"{expected_l[-1]}")
        if any(end - start != patch_len for start, end in answer_l):
            raise Wrong(f"{where} every patch must be {patch_len} frames long; you gave {answer_l}")
        raise Wrong(f"{where} you gave {answer_l}, expected {expected_l}")
    return "the same patches as feature.f_get_patches on 5 cases, tails included."


# --- 03_dataset ------------------------------------------------------------------------------------------


def _patch_items_data():
    X_d = {"a": torch.arange(2 * 3 * 10, dtype=torch.float32).reshape(2, 3, 10),
           "b": -torch.arange(2 * 3 * 7, dtype=torch.float32).reshape(2, 3, 7)}
    y_d = {"a": torch.tensor([1.0, 0.0, 1.0]), "b": torch.tensor([0.0, 1.0, 0.0])}
    patch_l = [{"audiofile": key, **patch} for key in ("a", "b")
               for patch in feature.f_get_patches(X_d[key].shape[-1], 4, 3)]
    return X_d, y_d, patch_l


@_exercise("03.1", "03_dataset", "__getitem__ of a patch dataset", "PatchItems",
           "write PatchItems.__getitem__(idx_patch): {'X': the frames of its patch, 'y': its track's label}.",
           "patch = self.patch_l[idx_patch] gives the track (patch['audiofile']) and the frames "
           "[patch['start_frame'], patch['end_frame']): X = self.X_d[track][..., start:end].")
def _check_patch_items(PatchItems):
    X_d, y_d, patch_l = _patch_items_data()
    try:
        items = PatchItems(X_d, y_d, patch_l)
    except TypeError as error:
        raise Wrong(f"PatchItems(X_d, y_d, patch_l) failed: {error}; keep the __init__ of the stub") from None
    if len(items) != len(patch_l):
        raise Wrong(f"len() is {len(items)}, expected {len(patch_l)}, one item per patch")
    for idx_patch, patch in enumerate(patch_l):
        item = items[idx_patch]
        if item is None:
            raise Wrong("__getitem__ returned None: did you forget the `return`?")
        if not isinstance(item, dict) or not {"X", "y"} <= set(item):
            raise Wrong(f"item {idx_patch} should be a dict with keys 'X' and 'y', got {item!r:.80}")
        key, s, e = patch["audiofile"], patch["start_frame"], patch["end_frame"]
        expected_X, X = X_d[key][..., s:e], item["X"]
        where = f"item {idx_patch} (track '{key}', frames {s} to {e - 1})"
        if not torch.is_tensor(X) or tuple(X.shape) != tuple(expected_X.shape):
            shape = tuple(X.shape) if hasattr(X, "shape") else type(X).__name__
            raise Wrong(f"{where}: X has shape {shape}, expected {tuple(expected_X.shape)}: slice the last (time) "
                        "axis, X[..., start:end]")
        if not torch.equal(X, expected_X):
            raise Wrong(f"{where}: X has the right shape but not the frames of the patch (wrong track or frames?)")
        if not torch.is_tensor(item["y"]) or not torch.equal(item["y"], y_d[key]):
            raise Wrong(f"{where}: y is {item['y']!r}, expected the track's label {y_d[key]!r}")
    return f"the {len(patch_l)} items of 2 tracks (tails included) have the right X and y."


@_exercise("03.2", "03_dataset", "a multi-label target", "multilabel_target",
           "write multilabel_target(entry, annot_key, labelname_l): a float32 vector (len(labelname_l),) with 1 "
           "for each label the entry carries, 0 elsewhere.",
           "np.zeros(len(labelname_l), dtype=np.float32), then a 1 at labelname_l.index(item['value']) for each "
           "item of entry[annot_key]; float32 because BCEWithLogitsLoss compares it with the model's logits.")
def _check_multilabel_target(multilabel_target):
    labelname_l = ["cello", "clarinet", "flute", "piano", "violin"]
    for entry in _ENTRY_L[:3]:
        answer = _as_array(_call(multilabel_target, dict(entry), "tag", list(labelname_l)), "the target")
        expected = annotation.f_get_multilabel_target(entry, "tag", labelname_l)
        tags = [item["value"] for item in entry["tag"]]
        if answer.shape != expected.shape:
            raise Wrong(f"for tags {tags} the shape is {answer.shape}, expected {expected.shape} (one value per label)")
        if not np.array_equal(answer.astype(float), expected.astype(float)):
            raise Wrong(f"for tags {tags} and labels {labelname_l} you gave {answer.tolist()}, expected "
                        f"{expected.tolist()}")
        if answer.dtype != np.float32:
            raise Wrong(f"the values are right but the dtype is {answer.dtype}; the loss needs float32")
    return "the same vectors as annotation.f_get_multilabel_target, float32, a repeated tag counted once."


@_exercise("03.3", "03_dataset", "a collate for whole tracks", "pad_collate",
           "write pad_collate(item_l): a batch of items of different lengths (idx = a track): {'X': (B, ..., "
           "T_max) zero-padded at the end of time, 'n_frames': int64 (B,) the true lengths, 'y': the stacked y}.",
           "T_max = max(item['X'].shape[-1] ...); torch.nn.functional.pad(X, (0, T_max - T)) pads the last axis "
           "at its end; torch.stack puts the batch axis first.")
def _check_pad_collate(pad_collate):
    from course_utils.dataset import track_collate

    item_l = [{"X": torch.randn(1, 4, n_frames), "y": torch.tensor(label)}
              for n_frames, label in ((5, 0), (9, 2), (7, 1))]
    answer, expected = _call(pad_collate, [dict(item) for item in item_l]), track_collate(item_l)
    if not isinstance(answer, dict) or not {"X", "n_frames", "y"} <= set(answer):
        raise Wrong(f"expected a dict with keys 'X', 'n_frames' and 'y', got {answer!r:.80}")
    X = answer["X"]
    if not torch.is_tensor(X) or tuple(X.shape) != tuple(expected["X"].shape):
        shape = tuple(X.shape) if hasattr(X, "shape") else type(X).__name__
        raise Wrong(f"for tracks of 5, 9 and 7 frames, X has shape {shape}, expected {tuple(expected['X'].shape)}")
    if not torch.equal(X, expected["X"]):
        raise Wrong("X has the right shape but wrong values: each track's frames first, then zeros up to T_max")
    if [int(n) for n in answer["n_frames"]] != [5, 9, 7]:
        raise Wrong(f"n_frames is {answer['n_frames']!r}, expected the true lengths [5, 9, 7]")
    if not torch.is_tensor(answer["n_frames"]) or answer["n_frames"].dtype != torch.int64:
        raise Wrong("n_frames has the right values; make it an int64 tensor: torch.tensor([...])")
    if not torch.is_tensor(answer["y"]) or not torch.equal(answer["y"], expected["y"]):
        raise Wrong(f"y is {answer['y']!r}, expected {expected['y']!r} (torch.stack of the items' y)")
    return "the same batch as dataset.track_collate for 3 tracks of 5, 9 and 7 frames."


# --- 04_model_from_yaml ----------------------------------------------------------------------------------


def _hcqt_config():
    from course_utils.config import load_config

    return load_config(runtime.project_dir() / "configs" / "pitch_bittner_hcqt.yaml")


@_exercise("04.1", "04_model_from_yaml", "a YAML file for a CQT-only model", "cqt_only_yaml",
           "write cqt_only_yaml, the YAML text of a multi-pitch model that reads the CQT only (h = 1) instead of "
           "the 6-channel HCQT of configs/pitch_bittner_hcqt.yaml: its feature and model sections.",
           "copy both sections of pitch_bittner_hcqt.yaml and change one line: the harmonics h_l. The -1 "
           "parameters (in_channels, num_features) adapt the first layers to one input channel.")
def _check_cqt_only_yaml(cqt_only_yaml):
    from course_utils.config import ConfigError
    from course_utils.model_factory import NetModel

    if not isinstance(cqt_only_yaml, str):
        raise Wrong(f"expected the YAML text (a str), got {type(cqt_only_yaml).__name__}")
    try:
        config = yaml.safe_load(cqt_only_yaml)
    except yaml.YAMLError as error:
        raise Wrong(f"the text is not valid YAML: {error}") from None
    if config is None:
        raise NotDone
    if not isinstance(config, dict) or not {"feature", "model"} <= set(config):
        found = list(config) if isinstance(config, dict) else repr(config)
        raise Wrong(f"the YAML needs a 'feature' and a 'model' section, it has {found}")
    hcqt_config, feature_d = _hcqt_config(), config["feature"]
    if feature_d.get("type") != "hcqt" or list(feature_d.get("h_l", [])) != [1]:
        raise Wrong(f"feature.type should stay hcqt with h_l: [1] (one channel, the CQT); you have type "
                    f"{feature_d.get('type')!r}, h_l {feature_d.get('h_l')!r}")
    for key in ("fmin", "n_octaves", "bins_per_semitone", "hop_length", "sr_hz", "patch_L_frame"):
        if feature_d.get(key) != hcqt_config.feature[key]:
            raise Wrong(f"feature.{key} is {feature_d.get(key)!r}, the HCQT model has {hcqt_config.feature[key]!r}: "
                        "keep it, so that both models are compared on the same pitch grid and patches")
    try:
        input_dim = feature.feature_input_dim(feature_d, 2)
        model = NetModel(config, input_dim)
    except (ConfigError, ValueError) as error:
        raise Wrong(f"NetModel could not build it: {error}") from None
    hcqt_input_dim = feature.feature_input_dim(hcqt_config.feature, 2)
    hcqt_model = NetModel(hcqt_config, hcqt_input_dim)
    if list(model.output_dim) != list(hcqt_model.output_dim):
        raise Wrong(f"the output is {model.output_dim}, the HCQT model's is {hcqt_model.output_dim}: both must "
                    "give one logit per pitch bin and frame")
    n_param, n_hcqt_param = (sum(p.numel() for p in m.parameters()) for m in (model, hcqt_model))
    return (f"input {input_dim} -> output {model.output_dim}, {n_param:,} parameters against {n_hcqt_param:,} for "
            f"the HCQT model: {n_hcqt_param - n_param:,} fewer, all in the first layers (the 5 harmonic channels "
            "that are gone).")


@_exercise("04.2", "04_model_from_yaml", "count the parameters of a convolution", "conv2d_n_params",
           "write conv2d_n_params(in_channels, out_channels, kernel_size, bias=True): the number of trainable "
           "parameters of torch.nn.Conv2d with these arguments (kernel_size an int or a pair).",
           "each output channel has one kernel of in_channels x kh x kw weights, plus one bias when bias=True.")
def _check_conv2d_n_params(conv2d_n_params):
    for in_channels, out_channels, kernel_size, bias in ((6, 16, (5, 5), True), (16, 8, (25, 3), True),
                                                         (1, 4, 3, True), (8, 1, (1, 1), False)):
        layer = torch.nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias)
        expected = sum(p.numel() for p in layer.parameters())
        answer = _as_float(_call(conv2d_n_params, in_channels, out_channels, kernel_size, bias=bias),
                           "the number of parameters")
        where = f"Conv2d({in_channels}, {out_channels}, kernel_size={kernel_size}, bias={bias})"
        if answer == expected:
            continue
        if bias and answer == expected - out_channels:
            raise Wrong(f"{where} has {expected} parameters, you gave {answer:.0f}: the {out_channels} biases "
                        "(one per output channel) are missing")
        if not bias and answer == expected + out_channels:
            raise Wrong(f"{where} has {expected} parameters, you gave {answer:.0f}: bias=False has no bias")
        raise Wrong(f"{where} has {expected} parameters, you gave {answer:.0f}")
    return "right for 4 convolutions, with and without bias, square and tall kernels."


# --- 05_training_tagging ---------------------------------------------------------------------------------


@_exercise("05.1", "05_training_tagging", "macro recall by hand", "macro_recall",
           "write macro_recall(y_true, y_pred): the recall of each class that y_true holds (the fraction of its "
           "items predicted as that class), averaged over those classes.",
           "for each class c in np.unique(y_true): mean(y_pred[y_true == c] == c); then the mean of these.")
def _check_macro_recall(macro_recall):
    from sklearn.metrics import balanced_accuracy_score

    rng = np.random.default_rng(1)
    case_l = [(np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 2]), np.array([0, 0, 0, 0, 0, 0, 0, 0, 2, 1])),
              (rng.integers(0, 5, 40), rng.integers(0, 5, 40))]
    for y_true, y_pred in case_l:
        answer = _as_float(_call(macro_recall, y_true.copy(), y_pred.copy()), "the macro recall")
        expected, accuracy = balanced_accuracy_score(y_true, y_pred), float(np.mean(y_true == y_pred))
        if np.isclose(answer, expected):
            continue
        if np.isclose(answer, accuracy):
            raise Wrong(f"you gave {answer:.3f}, the accuracy (each item counts once); the macro recall, where each "
                        f"class counts once, is {expected:.3f} for y_true {y_true.tolist()}")
        raise Wrong(f"for y_true {y_true.tolist()} and y_pred {y_pred.tolist()} you gave {answer:.3f}, expected "
                    f"{expected:.3f}")
    return "the same values as sklearn.metrics.balanced_accuracy_score, on an unbalanced case where accuracy differs."


def _early_stopping_reference(valid_loss_l, patience):
    from course_utils.train import EarlyStopping

    stopper = EarlyStopping(patience)
    for epoch, value in enumerate(valid_loss_l):
        stopper.step(value, epoch)
        if stopper.should_stop:
            return stopper.best_epoch, epoch
    return stopper.best_epoch, None


@_exercise("05.2", "05_training_tagging", "early stopping by hand", "early_stopping",
           "write early_stopping(valid_loss_l, patience): (best_epoch, stop_epoch), the epoch (0-based) of the "
           "lowest validation loss, and the epoch after which training stops because `patience` epochs in a row "
           "did not improve on the best (None if it never stops).",
           "keep the best loss and count the epochs since it improved; a loss equal to the best is no "
           "improvement; stop at the epoch where that count reaches patience.")
def _check_early_stopping(early_stopping):
    for valid_loss_l, patience in (([1.0, 0.8, 0.9, 0.85, 0.95, 0.7], 3), ([1.0, 0.9, 0.8], 2),
                                   ([0.5, 0.5, 0.5, 0.4], 2), ([0.9, 0.7, 0.8, 0.6, 0.65, 0.66, 0.5], 2)):
        answer = _call(early_stopping, list(valid_loss_l), patience)
        try:
            best_epoch, stop_epoch = answer
        except (TypeError, ValueError):
            raise Wrong(f"expected a pair (best_epoch, stop_epoch), got {answer!r}") from None
        expected = _early_stopping_reference(valid_loss_l, patience)
        if (best_epoch, stop_epoch) != expected:
            raise Wrong(f"for losses {valid_loss_l} and patience {patience} you gave ({best_epoch}, {stop_epoch}), "
                        f"expected {expected}")
    return "the same (best, stop) epochs as train.EarlyStopping on 4 curves, ties included."


# --- 06_training_multipitch ------------------------------------------------------------------------------


def _roll_pair(seed=0, shape=(12, 40)):
    rng = np.random.default_rng(seed)
    reference_m = rng.random(shape) < 0.15
    estimated_m = reference_m.copy()
    estimated_m[rng.random(shape) < 0.1] ^= True  # some misses and some false alarms
    return reference_m.astype(np.float32), estimated_m.astype(np.float32)


@_exercise("06.1", "06_training_multipitch", "frame-level accuracy by hand", "accuracy_by_hand",
           "write accuracy_by_hand(reference_roll_m, estimated_roll_m): mir_eval's multi-pitch Accuracy of two 0/1 "
           "piano rolls (pitch, frame) on the same grid: TP / (TP + FP + FN), counted over every frame.",
           "TP: active in both; FP: active in the estimate only; FN: active in the reference only. Sum each "
           "over the whole roll before dividing.")
def _check_accuracy_by_hand(accuracy_by_hand):
    for seed in (0, 1):
        reference_m, estimated_m = _roll_pair(seed)
        answer = _as_float(_call(accuracy_by_hand, reference_m.copy(), estimated_m.copy()), "the accuracy")
        reference_b, estimated_b = reference_m > 0, estimated_m > 0
        tp, fp, fn = (np.sum(reference_b & estimated_b), np.sum(~reference_b & estimated_b),
                      np.sum(reference_b & ~estimated_b))
        expected = tp / (tp + fp + fn)
        if np.isclose(answer, expected):
            continue
        for name, value in (("precision", tp / (tp + fp)), ("recall", tp / (tp + fn)),
                            ("F-measure", 2 * tp / (2 * tp + fp + fn))):
            if np.isclose(answer, value):
                raise Wrong(f"you gave {answer:.4f}, the {name}; the accuracy is TP / (TP + FP + FN) = {expected:.4f}")
        raise Wrong(f"you gave {answer:.4f}, expected {expected:.4f} (TP {tp}, FP {fp}, FN {fn})")
    return "the same value as mir_eval's multi-pitch Accuracy on two rolls."


def _roll_notes_reference(roll_m, time_sec_v, midi_v):
    hop_sec = float(time_sec_v[1] - time_sec_v[0])
    note_l = []
    for row, midi in zip(np.asarray(roll_m) > 0, midi_v, strict=True):
        edge_v = np.diff(np.concatenate([[0], row.astype(int), [0]]))
        for start, end in zip(np.flatnonzero(edge_v == 1), np.flatnonzero(edge_v == -1), strict=True):
            note_l.append((float(time_sec_v[start]), float(time_sec_v[end - 1]) + hop_sec, int(midi)))
    return sorted(note_l, key=lambda note: (note[0], note[2]))


@_exercise("06.2", "06_training_multipitch", "from a piano roll to notes", "roll_to_notes",
           "write roll_to_notes(roll_m, time_sec_v, midi_v): the notes of a 0/1 piano roll (pitch, frame): one "
           "(onset_sec, offset_sec, midi) per run of consecutive active frames of a pitch, sorted by onset then "
           "pitch. A run from frame s to frame e (included) lasts from time_sec_v[s] to time_sec_v[e] + hop.",
           "hop = time_sec_v[1] - time_sec_v[0]; in each row, a run starts where a frame is on and the previous "
           "is off (or it is the first frame); np.diff of the row padded with a 0 at both ends finds the edges.")
def _check_roll_to_notes(roll_to_notes):
    roll_m = np.zeros((4, 10), dtype=np.float32)
    roll_m[0, 0:3] = 1
    roll_m[0, 5:6] = 1
    roll_m[2, 2:10] = 1
    roll_m[3, 9] = 1
    time_sec_v, midi_v = np.arange(10) * 0.1, np.array([60, 61, 62, 63])
    _, random_m = _roll_pair(2, (5, 30))
    for roll, times, midis in ((roll_m, time_sec_v, midi_v), (random_m, np.arange(30) * 0.05, np.arange(48, 53))):
        answer = _call(roll_to_notes, roll.copy(), times.copy(), midis.copy())
        expected_l = _roll_notes_reference(roll, times, midis)
        try:
            answer_l = [(float(onset), float(offset), int(midi)) for onset, offset, midi in answer]
        except (TypeError, ValueError):
            raise Wrong(f"expected a list of (onset_sec, offset_sec, midi), got {answer!r:.80}") from None
        if len(answer_l) != len(expected_l):
            raise Wrong(f"you found {len(answer_l)} notes, expected {len(expected_l)}: {expected_l[:6]}...")
        for mine, right in zip(answer_l, expected_l, strict=True):
            if mine[2] != right[2] or not np.allclose(mine[:2], right[:2]):
                raise Wrong(f"you gave the note {mine}, expected {right} (notes sorted by onset, then pitch)")
    return "the right notes of 2 rolls: runs at the first and the last frame, one-frame notes, sorted."


# --- 07_training_covers ----------------------------------------------------------------------------------


@_exercise("07.1", "07_training_covers", "semi-hard mining", "semi_hard_negative",
           "write semi_hard_negative(d_ap, d_an_v): the index of the negative that semi-hard mining picks, given "
           "the anchor-positive distance d_ap and the anchor's distances to the negatives d_an_v.",
           "the closest negative that is still farther than the positive (d_an > d_ap); when none is, the farthest "
           "negative (as metrics.TripletLoss).")
def _check_semi_hard_negative(semi_hard_negative):
    for d_ap, d_an_v, expected in ((0.5, [0.3, 0.9, 0.6, 1.2], 2), (1.0, [0.3, 0.9], 1), (0.2, [0.5, 0.4, 0.1], 1),
                                   (0.6, [0.6, 0.7, 0.65], 2)):
        answer = _as_float(_call(semi_hard_negative, d_ap, np.array(d_an_v)), "the index")
        if answer == expected:
            continue
        where = f"for d_ap = {d_ap} and d_an_v = {d_an_v}"
        if answer == int(np.argmin(d_an_v)):
            raise Wrong(f"{where} you picked {answer:.0f}, the hardest negative (closer than the positive, often a "
                        f"labelling error or noise); semi-hard picks {expected}")
        raise Wrong(f"{where} you picked {answer:.0f}, expected {expected}")
    return "the same negatives as metrics.TripletLoss on 4 cases (no semi-hard negative, a tie with d_ap)."


@_exercise("07.2", "07_training_covers", "mean average precision by hand", "mean_average_precision",
           "write mean_average_precision(distance_m, work_v): each item queries all the others ranked by increasing "
           "distance; AP = the mean over its relevant items (same work) of the precision at their ranks; MAP = the "
           "mean of AP over the queries.",
           "for a query: order = the other items sorted by distance; relevant = work_v[order] == work_v[query]; "
           "ranks = np.flatnonzero(relevant) + 1; AP = mean(arange(1, len(ranks) + 1) / ranks).")
def _check_mean_average_precision(mean_average_precision):
    rng = np.random.default_rng(3)
    for work_v in (np.array([0, 0, 1, 1, 2, 2]), np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 3])):
        point_m = rng.standard_normal((len(work_v), 4)) + work_v[:, None] * 0.5
        distance_m = np.linalg.norm(point_m[:, None] - point_m[None], axis=-1)
        answer = _as_float(_call(mean_average_precision, distance_m.copy(), work_v.copy()), "the MAP")
        expected_d = metrics.ranking_metrics(distance_m, work_v)
        if np.isclose(answer, expected_d["MAP"]):
            continue
        for name in ("MRR", "P@1"):
            if np.isclose(answer, expected_d[name]):
                raise Wrong(f"you gave {answer:.4f}, the {name} (only the first relevant item counts); the MAP "
                            f"counts every relevant item: {expected_d['MAP']:.4f}")
        raise Wrong(f"for works {work_v.tolist()} you gave {answer:.4f}, expected {expected_d['MAP']:.4f} (is the "
                    "query itself left out of its ranking?)")
    return "the same MAP as metrics.ranking_metrics on 2 sets of works (with 2 and 3 versions)."
