"""course_utils.features.chroma: the chroma as a feature type of the table (shapes, times, the pitch class heard,
its layout, patches on the fly) and the same numbers as the cover baselines' chroma; every bad input."""

import numpy as np
import pytest
import torch

from course_utils import covers, dataset, feature
from course_utils.config import ConfigError
from course_utils.features import chroma

from .helpers import SR_HZ, sine_track, write_audio_hdf5, write_pyjama

CHROMA_FEATURE = {"type": "chroma", "hop_length": 2048, "sr_hz": SR_HZ, "patch_L_frame": 8, "patch_STEP_frame": 4}


def _two_notes(duration_sec=4.0):
    """An A (440 Hz) for the first half, then an E (329.63 Hz): (n_samples,) float32."""
    half_n = int(duration_sec * SR_HZ / 2)
    return np.concatenate([sine_track(duration_sec / 2, 440.0)[:half_n], sine_track(duration_sec / 2, 329.63)])


def test_chroma_feature_shape_times_and_the_pitch_class_heard():
    audio_v = _two_notes()
    data_3m, time_sec_v = feature.f_get_chroma(audio_v, SR_HZ, CHROMA_FEATURE)
    n_frames = 1 + audio_v.size // 2048
    assert data_3m.shape == (1, 12, n_frames) and data_3m.dtype == np.float32
    np.testing.assert_allclose(time_sec_v, np.arange(n_frames) * 2048 / SR_HZ)
    pitch_class_l = [chroma.PITCH_CLASS_L[i] for i in data_3m[0].argmax(axis=0)]
    assert pitch_class_l[5] == "A" and pitch_class_l[-5] == "E", pitch_class_l
    assert data_3m.max() == pytest.approx(1.0), "each frame divided by its largest value"


def test_the_chroma_feature_is_the_cover_baselines_chroma():
    audio_v = _two_notes(3.0)
    np.testing.assert_array_equal(feature.f_get_feature(audio_v, SR_HZ, CHROMA_FEATURE)[0][0],
                                  chroma.chroma_sequence(audio_v, SR_HZ, 2048))
    assert covers.PITCH_CLASS_L is chroma.PITCH_CLASS_L


def test_the_chroma_layout_in_the_table():
    assert feature.f_get_n_bins(CHROMA_FEATURE) == 12 and feature.f_get_hop_n(CHROMA_FEATURE) == 2048
    assert feature.f_get_n_frames(SR_HZ * 3, CHROMA_FEATURE) == 1 + SR_HZ * 3 // 2048
    assert feature.feature_input_dim(CHROMA_FEATURE, 4) == [4, 1, 12, 8]
    alpha = (2 ** (2 / 36) - 1) / (2 ** (2 / 36) + 1)
    longest_n = SR_HZ / (alpha * 32.703)  # the lowest CQT filter of librosa's chroma_cqt: C1
    assert feature.f_get_context_frames(CHROMA_FEATURE, SR_HZ) == int(np.ceil(longest_n / 2 / 2048)) + 2


@pytest.mark.parametrize("tuning_d, tolerance", [({}, 1e-2), ({"tuning": 0.0}, 1e-3)], ids=["estimated", "stated"])
def test_chroma_patches_on_the_fly_are_those_of_the_whole_track(tmp_path, tuning_d, tolerance):
    """Estimated from each excerpt, the tuning may move a little (the patches of the E alone); stated, it cannot."""
    track_d = {f"t{i}.wav": _two_notes(6.0 + i) for i in range(2)}
    entry_l = [{"filepath": [{"value": key}], "genre": [{"value": "g"}], "split": [{"value": "train"}]}
               for key in track_d]
    audio = write_audio_hdf5(tmp_path / "toy_audio.hdf5", track_d)
    pyjama = write_pyjama(tmp_path / "toy.pyjama", entry_l)
    config = {"dataset": {"problem": "multiclass", "annot_key": "genre"}, "feature": {**CHROMA_FEATURE, **tuning_d}}
    memory, fly = (dataset.TagDataset(audio, pyjama, "train", config, feature_placement=name, progress=False)
                   for name in ("memory", "on_the_fly"))
    assert len(memory) == len(fly) > 2
    for idx in (0, len(memory) // 2, len(memory) - 1):
        error = torch.linalg.norm(fly[idx]["X"] - memory[idx]["X"]) / torch.linalg.norm(memory[idx]["X"])
        assert error < tolerance, f"chroma on the fly differs by {error:.1e} at patch {idx}"


def test_bad_chroma_inputs_are_rejected():
    audio_v = _two_notes(2.0)
    with pytest.raises(ConfigError, match="'hop_length' is missing"):
        feature.f_get_chroma(audio_v, SR_HZ, {"type": "chroma"})
    with pytest.raises(ValueError, match="hop_length"):
        feature.f_get_chroma(audio_v, SR_HZ, {"hop_length": 0})
    with pytest.raises(ValueError, match="the audio is at 44100 Hz"):
        feature.f_get_chroma(audio_v, 44100, CHROMA_FEATURE)
    with pytest.raises(ValueError):
        feature.f_get_chroma(np.full(SR_HZ, np.nan, dtype=np.float32), SR_HZ, {"hop_length": 2048})
