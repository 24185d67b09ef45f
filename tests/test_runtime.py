
import numpy as np
import pytest
import torch

from course_utils import runtime


def test_the_test_run_always_has_a_mode_set():
    # conftest.py sets COURSE_FAST_MODE=1 unless the caller chose a mode (e.g. COURSE_FAST_MODE=0 pytest notebooks)
    import os
    assert os.environ.get(runtime.FAST_MODE_VARIABLE, "") != ""


def test_project_dir_outside_the_course(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runtime, "__file__", str(tmp_path / "pkg" / "runtime.py"))
    with pytest.raises(FileNotFoundError, match="cannot find the course folder"):
        runtime.project_dir()


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("YES", True),
                                             ("0", False), ("", False), ("no", False)])
def test_fast_mode_values(monkeypatch, value, expected):
    monkeypatch.setenv(runtime.FAST_MODE_VARIABLE, value)
    assert runtime.is_fast_mode() is expected


def test_fast_mode_unset_is_default_mode(monkeypatch):
    monkeypatch.delenv(runtime.FAST_MODE_VARIABLE, raising=False)
    assert runtime.is_fast_mode() is False


def test_fast_mode_rejects_a_typo(monkeypatch):
    monkeypatch.setenv(runtime.FAST_MODE_VARIABLE, "fsat")
    with pytest.raises(ValueError, match="COURSE_FAST_MODE='fsat'"):
        runtime.is_fast_mode()


def test_get_device_returns_a_usable_device():
    device = runtime.get_device()
    assert isinstance(device, torch.device)
    assert torch.ones(2, device=device).sum().item() == 2


def test_get_device_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert runtime.get_device() == torch.device("cpu")


def test_seed_everything_makes_draws_repeatable():
    runtime.seed_everything(3)
    first = (np.random.rand(), torch.rand(1).item())
    generator = runtime.seed_everything(3)
    assert (np.random.rand(), torch.rand(1).item()) == first
    assert isinstance(generator, torch.Generator)


@pytest.mark.parametrize("bad_seed", [-1, 1.5, "3", True])
def test_seed_everything_rejects_bad_seeds(bad_seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        runtime.seed_everything(bad_seed)


def test_project_dir_is_found_from_a_subfolder(monkeypatch):
    root = runtime.project_dir()
    assert (root / "configs").is_dir()
    monkeypatch.chdir(root / "notebooks")
    assert runtime.project_dir() == root


def test_dataset_preset_follows_the_mode(monkeypatch):
    monkeypatch.setenv(runtime.FAST_MODE_VARIABLE, "1")
    assert runtime.dataset_preset() == "small"
    monkeypatch.setenv(runtime.FAST_MODE_VARIABLE, "0")
    assert runtime.dataset_preset() == "full"


def test_stable_seed_is_the_same_everywhere():
    assert runtime.stable_seed(0, "split", "w1") == runtime.stable_seed("0", "split", "w1")
    assert runtime.stable_seed(0, "split", "w1") != runtime.stable_seed(1, "split", "w1")
    assert runtime.stable_seed("x") == 0x2D711642  # first 8 hex digits of sha256("x"): fixed forever


def test_training_seed_reads_course_seed(monkeypatch):
    monkeypatch.delenv(runtime.SEED_VARIABLE, raising=False)
    assert runtime.training_seed() == 0
    monkeypatch.setenv(runtime.SEED_VARIABLE, " 2 ")
    assert runtime.training_seed() == 2
    monkeypatch.setenv(runtime.SEED_VARIABLE, "two")
    with pytest.raises(ValueError, match="COURSE_SEED='two' is not a non-negative integer"):
        runtime.training_seed()


def test_a_notebook_saves_its_results_as_data_and_readme_s_table_is_written_from_them(tmp_path, monkeypatch):
    """Results as data: each run's record (runtime.save_results), mean ± sd over the seeds (benchmarks.results),
    README's table rewritten between its markers, no number copied by hand."""
    from benchmarks import results

    monkeypatch.setattr(runtime, "project_dir", lambda: tmp_path)
    monkeypatch.setattr(results, "RESULTS_DIR", tmp_path / "data" / "results")
    monkeypatch.setenv(runtime.FAST_MODE_VARIABLE, "0")
    for seed, (roc_auc, sdr_db) in enumerate([(0.850, 4.10), (0.870, 4.30)]):
        monkeypatch.setenv(runtime.SEED_VARIABLE, str(seed))
        path = runtime.save_results("05_training_tagging", {"instruments: ROC-AUC on B": roc_auc, "SDR (dB)": sdr_db})
        assert path == tmp_path / "data" / "results" / f"05_training_tagging-default-seed{seed}.json"
    with pytest.raises(ValueError, match=r"\['loss'\] are not numbers"):
        runtime.save_results("05_training_tagging", {"loss": float("nan")})
    record_ld = results.saved_records()
    assert [record["seed"] for record in record_ld["05_training_tagging"]] == [0, 1]
    _, n_run, cell_d, failure_l = results.combine_records(record_ld["05_training_tagging"])
    assert n_run == 2 and failure_l == []
    assert cell_d == {"instruments: ROC-AUC on B": "0.860 ± 0.014", "SDR (dB)": "4.20 ± 0.14"}
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{results.README_BEGIN}\nold table, 0.999\n{results.README_END}\nafter\n")
    results.write_readme(record_ld, readme)
    text = readme.read_text()
    assert "0.999" not in text and text.startswith("intro\n") and text.endswith("after\n")
    assert ("| `05_training_tagging` | nan | 2 | instruments: ROC-AUC on B: 0.860 ± 0.014<br>SDR (dB): 4.20 ± 0.14 |"
            in text)


def test_fast_mode_checkpoints_never_overwrite_the_default_modes(monkeypatch):
    monkeypatch.setenv(runtime.FAST_MODE_VARIABLE, "0")
    default_path = runtime.checkpoint_path("tag_instrument_lms")
    monkeypatch.setenv(runtime.FAST_MODE_VARIABLE, "1")
    fast_path = runtime.checkpoint_path("tag_instrument_lms")
    assert default_path != fast_path and default_path.name == fast_path.name == "tag_instrument_lms.pt"
    assert fast_path.parent == default_path.parent / "fast" and default_path.parent.name == "checkpoints"
