"""The recipes of docs/extending.md, each followed for a toy one: a feature type, a task, a layer and a renderer,
added by one entry in their table (and the function it needs), then used end to end."""

import ast
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import dataset, feature, model_factory, placement, task
from course_utils.config import ConfigError
from course_utils.data import build, plan, recording, renderers

from .helpers import sine_track, write_audio_hdf5, write_pyjama

ROOT = Path(__file__).resolve().parents[1]


# --- a feature type --------------------------------------------------------------------------------------


def f_get_rms(audio_v, sr_hz, param):
    """Frame energy: (1, 1, n_frames) root mean square of frames of L_n samples every STEP_n, centred."""
    hop_n, window_n = int(param.STEP_n), int(param.L_n)
    padded_v = np.pad(audio_v, window_n // 2)
    n_frames = 1 + audio_v.size // hop_n
    rms_v = np.array([np.sqrt(np.mean(padded_v[i * hop_n:i * hop_n + window_n] ** 2)) for i in range(n_frames)])
    return rms_v[np.newaxis, np.newaxis].astype(np.float32), np.arange(n_frames) * hop_n / sr_hz


RMS_TYPE = feature.FeatureType(compute=f_get_rms, hop_n=lambda param: int(param.require("STEP_n")),
                               n_bins=lambda param: 1, n_channels=lambda param: 1,
                               context_frames=lambda param, sr_hz: math.ceil(param.L_n / 2 / param.STEP_n) + 1)
RMS_FEATURE = {"type": "rms", "L_n": 1024, "STEP_n": 512, "sr_hz": 22050, "patch_L_frame": 16, "patch_STEP_frame": 8}


@pytest.fixture
def toy_files(tmp_path):
    """Four tracks of sines (two loud, two soft), labelled by loudness and duration."""
    track_d = {f"t{i}.wav": sine_track(1.5 + 0.5 * i, 440.0, amplitude=0.5 if i % 2 else 0.05) for i in range(4)}
    entry_l = [{"filepath": [{"value": key}], "genre": [{"value": "loud" if i % 2 else "soft"}],
                "split": [{"value": "train" if i < 2 else "test"}], "duration_sec": [{"value": 1.5 + 0.5 * i}]}
               for i, key in enumerate(track_d)]
    return write_audio_hdf5(tmp_path / "toy_audio.hdf5", track_d), write_pyjama(tmp_path / "toy.pyjama", entry_l)


def test_a_new_feature_type_is_one_table_entry(toy_files, tmp_path, monkeypatch):
    monkeypatch.setitem(feature.FEATURE_TYPE_D, "rms", RMS_TYPE)
    audio, pyjama = toy_files
    config = {"dataset": {"problem": "multiclass", "annot_key": "genre"}, "feature": RMS_FEATURE}
    by_placement_d = {name: dataset.TagDataset(audio, pyjama, "train", config, feature_placement=name,
                                               feature_cache_dir=tmp_path / "cache", progress=False)
                      for name in placement.FEATURE_PLACEMENT_L}
    reference = by_placement_d["memory"]
    for ds in by_placement_d.values():
        assert len(ds) == len(reference)
        torch.testing.assert_close(ds[len(ds) - 1]["X"], reference[len(ds) - 1]["X"], atol=1e-5, rtol=1e-4)
    assert tuple(reference[0]["X"].shape) == (1, 1, 16)
    assert feature.feature_input_dim(RMS_FEATURE, 4) == [4, 1, 1, 16]
    model = model_factory.NetModel({"model": {"block_l": [{"sequential_l": [{"layer_l": [
        ["Flatten", {"start_dim": 1}], ["Linear", {"in_features": -1, "out_features": 2}]]}]}]}},
        feature.feature_input_dim(RMS_FEATURE, 4))
    assert model(reference[0]["X"][None]).shape == (1, 2)


# --- a task ----------------------------------------------------------------------------------------------


class DurationDataset(dataset.PatchDataset):
    """A toy regression task: each patch's target is its track's duration in seconds."""

    def make_target(self, entry, time_sec_v):
        return torch.tensor([float(entry["duration_sec"][0]["value"])])

    def get_y(self, key, start_frame, end_frame):
        return self.get_target(key)


def duration_scores(model, ds, config=None):
    """Mean absolute error (s) of the mean over each track's patches."""
    error_l = [abs(task.patch_mean_probability(model, ds.get_track(key)[0], ds.track_patches(key), lambda z: z)[0]
                   - ds.get_target(key).item()) for key in ds.key_l]
    return {"MAE (s)": float(np.mean(error_l))}


def test_a_new_task_is_one_table_entry(toy_files, monkeypatch):
    monkeypatch.setitem(task.TASK_D, "duration", task.Task("duration", DurationDataset,
                                                           lambda config, train_ds=None: nn.MSELoss(), lambda z: z,
                                                           duration_scores))
    audio, pyjama = toy_files
    layer_l = [["Flatten", {"start_dim": 1}], ["Linear", {"in_features": -1, "out_features": 1}]]
    config = {"dataset": {"problem": "duration"}, "feature": dict(RMS_FEATURE, type="lms", nb_band=8),
              "train": {"batch_size": 4, "learning_rate": 0.05, "max_epoch": 3, "patience": 3},
              "model": {"block_l": [{"sequential_l": [{"layer_l": layer_l}]}]}}
    assert task.task_of(config) == "duration"
    dataset_d = task.make_datasets(config, audio, pyjama, split_l=("train", "test"), progress=False)
    model, history = task.train_model(config, {"train": dataset_d["train"], "valid": dataset_d["train"]}, "cpu")
    assert len(history["train_loss"]) == 3 and isinstance(model, model_factory.NetModel)
    assert set(task.test_scores(model, config, dataset_d["test"])) == {"MAE (s)"}
    with pytest.raises(dataset.DatasetError, match="dataset.problem 'tempo', not a task of the course"):
        task.task_of({"dataset": {"problem": "tempo"}})


# --- a layer ---------------------------------------------------------------------------------------------


class Scale(nn.Module):
    """Multiply by one learned number (initially ``init``)."""

    def __init__(self, init=1.0):
        super().__init__()
        self.gain = nn.Parameter(torch.tensor(float(init)))

    def forward(self, X):
        return self.gain * X


def test_a_new_layer_is_one_table_entry(monkeypatch):
    monkeypatch.setitem(model_factory.COURSE_LAYER_D, "Scale", Scale)
    spec_d = {"model": {"block_l": [{"sequential_l": [{"layer_l": [["Scale", {"init": 2.0}]]}]}]}}
    model = model_factory.NetModel(spec_d, [1, 3])
    assert torch.equal(model(torch.ones(1, 3)), 2 * torch.ones(1, 3)) and "Scale" in model_factory.layer_types()
    spec_d["model"]["block_l"][0]["sequential_l"][0]["layer_l"][0] = ["Scale", {"gain": 2.0}]
    with pytest.raises(ConfigError, match="Scale has no parameter 'gain'"):
        model_factory.NetModel(spec_d, [1, 3])


# --- a renderer ------------------------------------------------------------------------------------------


def _play_sines(note_l, duration_sec, rng, render_d):
    """Each note a sine at its pitch, then the recording chain every renderer shares."""
    sr_hz = recording.SR_HZ
    mix_v = np.zeros(int(round(duration_sec * sr_hz)))
    for note in note_l:
        start = int(note["time"] * sr_hz)
        time_sec_v = np.arange(min(int(note["duration"] * sr_hz), mix_v.size - start)) / sr_hz
        mix_v[start:start + time_sec_v.size] += note["gain"] * np.sin(2 * np.pi * 440 * 2 ** ((note["midi"] - 69) / 12)
                                                                      * time_sec_v)
    return recording.room_and_level(mix_v, rng, sr_hz, render_d["reverb_rt60_sec"], render_d["reverb_wet"],
                                    render_d["noise_db"], render_d["eq"])


def test_a_new_renderer_is_one_table_entry(tmp_path, monkeypatch):
    monkeypatch.setitem(renderers.RENDERER_D, "sines", renderers.Renderer("sines", "test sines", "sine waves",
                                                                          _play_sines, trained_on=False))
    tiny = plan.Preset("tiny", n_cover_tunes=1, max_versions_per_tune=2, n_single_chorales=0, n_tunes_per_dance=1,
                       chorale_max_sec=3.0, fiddle_max_sec=3.0)
    split = plan.plan_tracks(tiny)[0]["split"]
    audio_path, pyjama_path = build.build_dataset(tiny, tmp_path, n_workers=1, progress=False, split=split,
                                                  renderer="sines")
    entry_l = dataset.annotation.load_pyjama(pyjama_path)["collection"]["entry"]
    assert entry_l and {entry["renderer"][0]["value"] for entry in entry_l} == {"sines"}
    assert {entry["render"][0]["value"]["renderer"] for entry in entry_l} == {"test sines"}
    assert "'sines' (sine waves)" in renderers.field_description()


def test_no_renderer_name_is_written_outside_the_registry():
    """plan, render and build ask the registry (docs and the dataset's version label aside)."""
    for module in ("plan.py", "render.py", "build.py"):
        tree = ast.parse((ROOT / "course_utils" / "data" / module).read_text(encoding="utf-8"))
        docstring_l = {id(node.body[0].value) for node in ast.walk(tree) if isinstance(
            node, ast.Module | ast.FunctionDef | ast.ClassDef) and node.body and isinstance(node.body[0], ast.Expr)}
        literal_l = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                     and isinstance(node.value, str) and id(node) not in docstring_l]
        for name in renderers.RENDERER_D:
            assert not [text for text in literal_l if text == name], f"{module} writes the renderer name {name!r}"


# --- a placement -----------------------------------------------------------------------------------------


class HalfPrecision(placement.InMemory):
    """A toy placement: every feature kept in memory in float16 (half the RAM), given back as float32."""

    name = "half"

    def add_track(self, key, source_fid):
        time_sec_v = super().add_track(key, source_fid)
        self.X_d[key] = self.X_d[key].half()
        return time_sec_v

    def get_X(self, key, start_frame, end_frame):
        return super().get_X(key, start_frame, end_frame).float()


def test_a_new_placement_is_one_table_entry(toy_files, monkeypatch):
    monkeypatch.setitem(placement.PLACEMENT_D, "half", HalfPrecision)
    assert "half" in dataset.FEATURE_PLACEMENT_L  # the names are the table's: nothing else to change
    audio, pyjama = toy_files
    config = {"dataset": {"problem": "multiclass", "annot_key": "genre"},
              "feature": dict(RMS_FEATURE, type="lms", nb_band=8)}
    half, full = (dataset.TagDataset(audio, pyjama, "train", config, feature_placement=name, progress=False)
                  for name in ("half", "memory"))
    assert half[0]["X"].dtype == torch.float32 and half.placement.X_d[half.key_l[0]].dtype == torch.float16
    torch.testing.assert_close(half[len(half) - 1]["X"], full[len(full) - 1]["X"], atol=1e-2, rtol=1e-3)
    with pytest.raises(ValueError, match="feature_placement must be one of memory, disk, on_the_fly, half"):
        dataset.TagDataset(audio, pyjama, "train", config, feature_placement="gpu", progress=False)


# --- a chapter -------------------------------------------------------------------------------------------


def test_a_new_chapter_follows_the_recipe_and_the_course_s_rules_hold_it(tmp_path, monkeypatch, capsys):
    """docs/extending.md, "Adding a chapter", followed for a toy chapter: the rules every notebook passes (the same
    test functions) pass on it, its exercise is checked and its solution shown, and it runs; without its "Going
    further" section the rules refuse it."""
    import nbformat
    from nbclient import NotebookClient

    from course_utils import exercises, runtime

    from . import chapter_toy, test_colab, test_notebooks_clean, test_references

    first_cell = test_colab._first_code_cell(test_colab.NOTEBOOK_PATH_L[0])
    repository = test_colab.launch.repository_in_cell(first_cell.source)
    (tmp_path / "notebooks").mkdir()
    path = tmp_path / "notebooks" / f"{chapter_toy.TOY_NAME}.ipynb"
    nbformat.write(chapter_toy.toy_notebook(repository), path)
    without_going_further = chapter_toy.toy_notebook(repository, going_further=False)
    for rule in (test_notebooks_clean.test_notebook_is_committed_clean,
                 test_notebooks_clean.test_the_student_path_is_short_and_the_rest_goes_further,
                 test_notebooks_clean.test_cells_that_assert_are_tagged_check,
                 test_references.test_every_citation_is_in_the_bibliography_and_in_the_notebooks_further_reading,
                 test_references.test_every_glossary_link_lands_on_a_term,
                 test_references.test_each_notebook_header_gives_prerequisites_study_and_compute_time):
        rule(path)
    assert test_colab._first_code_cell(path).source == first_cell.source

    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / f"{chapter_toy.TOY_NAME}.py").write_text(chapter_toy.SOLUTION_SOURCE)
    monkeypatch.setattr(runtime, "project_dir", lambda: tmp_path)
    monkeypatch.setitem(exercises.EXERCISE_D, "99.1", None)  # removed again by monkeypatch after the test
    chapter_toy.register()
    namespace_d = {}
    exec(chapter_toy.SOLUTION_SOURCE, namespace_d)
    assert exercises.evaluate("99.1", namespace_d["sum_by_hand"]).passed
    exec(nbformat.read(path, as_version=4).cells[4].source, namespace_d)
    assert exercises.evaluate("99.1", namespace_d["sum_by_hand"]).status == "not done"
    exercises.show_solution("99.1", force=True)
    assert "total += value" in capsys.readouterr().out

    executed = nbformat.read(path, as_version=4)  # run as a student would, its exercise registered as on import
    executed.cells.insert(2, nbformat.v4.new_code_cell("from tests import chapter_toy\nchapter_toy.register()"))
    NotebookClient(executed, timeout=120, resources={"metadata": {"path": str(ROOT)}}).execute()
    assert "is not done yet" in executed.cells[6].outputs[0]["text"]
    nbformat.write(without_going_further, path)
    with pytest.raises(AssertionError, match="one '## Going further' section"):
        test_notebooks_clean.test_the_student_path_is_short_and_the_rest_goes_further(path)
