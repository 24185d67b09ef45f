"""The numbers that the prose of notebooks 01 to 04 states are computed here, so that the prose stays true when the
code changes (each notebook also checks them in its `check` cells, where the student can see them computed)."""

import json
import re
from pathlib import Path

import librosa
import numpy as np
import scipy.signal

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def _markdown(name):
    """The markdown cells of a notebook, in order: [text, ...]."""
    cell_l = json.loads((NOTEBOOK_DIR / name).read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cell_l if cell["cell_type"] == "markdown"]


def _number_after(text, pattern):
    match = re.search(pattern, text)
    assert match, f"the prose no longer says {pattern!r}: update this test with it"
    return float(match.group(1))


# --- 02: features --------------------------------------------------------------------------------------


def _side_lobe_db(window_v, oversampling=64):
    spectrum_v = np.abs(np.fft.rfft(window_v, oversampling * len(window_v)))
    first_null = int(np.argmax(np.diff(spectrum_v) > 0))
    return 20 * np.log10(spectrum_v[first_null:].max() / spectrum_v[0])


def test_the_window_is_said_to_reduce_spectral_leakage_with_the_right_side_lobes():
    text = next(text for text in _markdown("02_features.ipynb") if text.startswith("## 3. The log-mel"))
    assert "spectral leakage" in text and "false high frequencies" not in text
    hann_db = _number_after(text, r"highest side lobe −(\d+) dB")
    rectangle_db = _number_after(text, r"−\d+ dB instead of −(\d+) dB")
    assert round(-_side_lobe_db(scipy.signal.get_window("hann", 2048))) == hann_db
    assert round(-_side_lobe_db(np.ones(2048))) == rectangle_db


def _semitones_per_band(hz, sr_hz=22050, nb_band=128):
    """Semitones from one mel band's centre to the next at hz, for librosa's mel bands of notebook 02."""
    centre_hz_v = librosa.mel_frequencies(n_mels=nb_band + 2, fmin=0, fmax=sr_hz / 2)
    step_hz = np.interp(hz, centre_hz_v[1:], np.diff(centre_hz_v))
    return 12 * np.log2((hz + step_hz) / hz)


def test_mel_bands_are_said_coarse_at_low_frequency_with_the_computed_numbers():
    markdown_l = _markdown("02_features.ipynb")
    answer = next(text for text in markdown_l if text.startswith("### Check yourself"))
    assert "too coarse at high frequency" not in answer and "too coarse at *low* frequency" in answer
    hz_v = np.geomspace(30, 8000, 2000)
    one_semitone_hz = hz_v[np.argmax(_semitones_per_band(hz_v) < 1)]
    for text in (answer, next(text for text in markdown_l if text.startswith("**The mel filter bank**"))):
        assert round(one_semitone_hz, -1) == _number_after(text, r"below about (\d+) Hz one band")
        assert round(_semitones_per_band(65.4)) == _number_after(text, r"about (\d+) at C2")
    assert all(_semitones_per_band(hz) < 0.5 for hz in (1000, 2000, 4000, 8000))


# --- 04: models ----------------------------------------------------------------------------------------


def _cells(name):
    return json.loads((NOTEBOOK_DIR / name).read_text(encoding="utf-8"))["cells"]


def _text_before_exercise(name, exercise_id):
    """The markdown of a notebook above the cell of an exercise (what the student has read when they start it)."""
    cell_l = _cells(name)
    index = next(i for i, cell in enumerate(cell_l) if "".join(cell["source"]).startswith(f"# Exercise {exercise_id}:"))
    return "\n".join("".join(cell["source"]) for cell in cell_l[:index] if cell["cell_type"] == "markdown")


def test_what_exercises_04_1_and_04_2_need_is_taught_before_them():
    assert "**bias**" in _text_before_exercise("04_model_from_yaml.ipynb", "04.1")
    before = _text_before_exercise("04_model_from_yaml.ipynb", "04.2")
    for term in ("**stride**", "**dilation**", "(*k* − 1) · *d* + 1"):
        assert term in before, f"{term} is used by exercise 04.2 but not taught before it"


def test_the_receptive_fields_and_the_bars_said_in_notebook_04_are_measured():
    from course_utils import feature, model_factory, model_inspect, runtime
    from course_utils.config import load_config
    from course_utils.data import render

    text = next(text for text in _markdown("04_model_from_yaml.ipynb") if text.startswith("The dance-type model hears"))
    second_d = {}
    for name in ("tag_instrument_lms", "tag_genre_lms", "pitch_bittner_hcqt", "cover_melody_hcqt"):
        config = load_config(runtime.project_dir() / "configs" / f"{name}.yaml")
        input_dim = feature.feature_input_dim(config.feature, 2)
        field = model_inspect.receptive_field(model_factory.NetModel(config, input_dim), input_dim)
        second_d[name] = field["frames"] * feature.f_get_hop_sec(config.feature, config.feature.sr_hz)
    assert round(second_d["tag_genre_lms"]) == _number_after(text, r"hears about (\d+) s at once")
    assert round(second_d["tag_instrument_lms"]) == _number_after(text, r"instrument model about (\d+) s")
    assert round(second_d["pitch_bittner_hcqt"], 1) == _number_after(text, r"([\d.]+) s for multi-pitch")
    assert round(second_d["cover_melody_hcqt"], 1) == _number_after(text, r"([\d.]+) s for the melody")
    bar_sec_l = [n_beat * 60 / bpm for dance, n_beat in (("hornpipe", 2), ("reel", 2), ("jig", 2), ("strathspey", 4))
                 for bpm in render.TEMPO_RANGE_BPM_D[dance]]
    assert (round(min(bar_sec_l)), round(max(bar_sec_l))) == (_number_after(text, r"lasts (\d+) to"),
                                                               _number_after(text, r"lasts \d+ to (\d+) s"))


# --- 01: the dataset -----------------------------------------------------------------------------------


def test_exercise_01_2_is_told_that_a_note_is_over_at_its_end():
    before = _text_before_exercise("01_data.ipynb", "01.2")
    assert "not including, its end `time + duration`" in before
