"""course_utils.kept: the course's pitch and instrument models scored on audio given as arrays (original or decoded),
and codec.round_trip (audio through an auto-encoder and Griffin-Lim), on small files written by the tests."""

import numpy as np
import pytest
import torch

from course_utils import codec, dataset, kept, model_factory
from course_utils.config import as_config

from .helpers import sine_track, write_audio_hdf5, write_pyjama

HCQT_D = {"sr_hz": 22050, "type": "hcqt", "h_l": [1, 2], "fmin": 32.7, "n_octaves": 6, "bins_per_semitone": 1,
          "hop_length": 512, "patch_L_frame": 16, "patch_STEP_frame": 16}
LMS_D = {"sr_hz": 22050, "type": "lms", "nb_band": 32, "L_n": 1024, "STEP_n": 512, "patch_L_frame": 8,
         "patch_STEP_frame": 8}


class _Constant(torch.nn.Module):
    """A model whose logits are ``value`` everywhere, shaped as a pitch model's (B, 1, F, T) or a tagger's (B, n)."""

    def __init__(self, value, n_tag=None):
        super().__init__()
        self.value, self.n_tag = value, n_tag
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, X):
        shape = (len(X), self.n_tag) if self.n_tag else (len(X), 1, X.shape[2], X.shape[3])
        return torch.full(shape, self.value) + 0 * self.weight


@pytest.fixture
def notes(tmp_path):
    """4 test tracks of 2 s: a tone (A3 or A4) with its note, tagged flute or organ."""
    track_d, entry_l = {}, []
    for i in range(4):
        key, midi = f"note{i}.wav", 57 + 12 * (i % 2)
        track_d[key] = sine_track(2.0, 440.0 * 2 ** ((midi - 69) / 12))
        entry_l.append({"filepath": [{"value": key}], "split": [{"value": "test"}], "work_id": [{"value": key}],
                        "tag": [{"value": "flute" if i % 2 else "organ"}],
                        "pitchmidi": [{"value": midi, "time": 0.0, "duration": 2.0}]})
    return write_audio_hdf5(tmp_path / "n_audio.hdf5", track_d), write_pyjama(tmp_path / "n.pyjama", entry_l)


def test_first_seconds_cuts_each_track(notes):
    audio_d, sr_hz = kept.first_seconds(notes[0], ["note0.wav", "note3.wav"], 0.5)
    assert sr_hz == 22050 and list(audio_d) == ["note0.wav", "note3.wav"]
    assert all(audio_v.shape == (11025,) and audio_v.dtype == np.float32 for audio_v in audio_d.values())
    assert kept.first_seconds(notes[0], ["note1.wav"], 10.0)[0]["note1.wav"].shape == (44100,), "shorter: whole"


@pytest.mark.filterwarnings("ignore:Estimate frequencies are all empty")
def test_pitch_accuracy_of_a_model_that_says_every_pitch_or_none(notes):
    config = as_config({"dataset": {"problem": "pitch", "annot_key": "pitchmidi"}, "feature": HCQT_D})
    target_ds = dataset.PitchDataset(*notes, "test", config, feature_placement="on_the_fly", progress=False)
    audio_d, _ = kept.first_seconds(notes[0], target_ds.key_l, 1.0)
    everything = kept.pitch_accuracy(_Constant(5.0), config, audio_d, target_ds, threshold=0.5, relative=False)
    assert everything == pytest.approx(1 / 72, rel=0.05), "one note among 72 pitches in every frame"
    assert kept.pitch_accuracy(_Constant(-5.0), config, audio_d, target_ds, threshold=0.5, relative=False) == 0.0
    assert kept.pitch_accuracy(_Constant(-5.0), config, audio_d, target_ds, threshold=0.5) == 0.0, "relative: floor 0.5"
    salience_l, roll_l = kept.pitch_pairs(_Constant(5.0), config, audio_d, target_ds)
    assert len(salience_l) == 4 and all(s.shape == r.shape == (72, 44) for s, r in zip(salience_l, roll_l, strict=True))
    assert all(r.sum() == 44 for r in roll_l), "one note in every frame of the first second"


def test_instrument_roc_auc_of_a_model_that_knows_nothing_is_a_half(notes):
    config = as_config({"dataset": {"problem": "multilabel", "annot_key": "tag", "label_l": ["flute", "organ"]},
                        "feature": LMS_D})
    target_ds = dataset.TagDataset(*notes, "test", config, feature_placement="on_the_fly", progress=False)
    audio_d, _ = kept.first_seconds(notes[0], target_ds.key_l, 1.0)
    assert kept.instrument_roc_auc(_Constant(0.0, n_tag=2), config, audio_d, target_ds) == pytest.approx(0.5)


def test_a_round_trip_through_an_untrained_auto_encoder_gives_audio_of_the_same_length():
    torch.manual_seed(0)
    feature_d = {"sr_hz": 22050, "type": "stft", "n_fft": 256, "hop_length": 64, "log_gain": 10.0,
                 "patch_L_frame": 16, "patch_STEP_frame": 16}
    config = {"feature": feature_d, "model": {"name": "Tiny", "block_l": [{"sequential_l": [{"layer_l": [
        ["Squeeze", {"dim": [1]}], ["Conv1d", {"in_channels": -1, "out_channels": 4, "kernel_size": 4, "stride": 2,
                                               "padding": 1}],
        ["ConvTranspose1d", {"in_channels": -1, "out_channels": 128, "kernel_size": 4, "stride": 2, "padding": 1}],
        ["UnSqueeze", {"dim": 1}]]}]}]}}
    model = model_factory.NetModel(config, [2, 1, 128, 16])
    audio_v = sine_track(0.5, 330.0)
    back_v = codec.round_trip(model, audio_v, as_config(feature_d), multiple=2, n_iter=4)
    assert back_v.shape == audio_v.shape and back_v.dtype == np.float32 and np.isfinite(back_v).all()
