"""course_utils.resynthesis: sound back from a magnitude (with a phase, or by Griffin-Lim), Opus at a low bit rate,
and the multi-resolution STFT distance."""

import numpy as np
import pytest
import torch

from course_utils import resynthesis
from course_utils.features import stft

from .helpers import sine_track

FEATURE_D = {"n_fft": 1024, "hop_length": 256, "log_gain": 10.0}


def _chord(duration_sec=1.0):
    return sine_track(duration_sec, 220.0) + sine_track(duration_sec, 330.0, amplitude=0.2)


def test_the_distance_is_zero_for_the_same_sound_and_grows_with_the_damage():
    audio_v = _chord()
    noise_v = np.random.default_rng(0).standard_normal(len(audio_v)).astype(np.float32)
    assert resynthesis.multi_resolution_stft_distance(audio_v, audio_v) == pytest.approx(0.0, abs=1e-6)
    small = resynthesis.multi_resolution_stft_distance(audio_v, audio_v + 0.001 * noise_v)
    large = resynthesis.multi_resolution_stft_distance(audio_v, audio_v + 0.05 * noise_v)
    assert 0 < small < large
    assert resynthesis.multi_resolution_stft_distance(audio_v, audio_v[:-100]) < small, "compared over the shorter"
    with pytest.raises(ValueError, match="two mono signals"):
        resynthesis.multi_resolution_stft_distance(audio_v[None], audio_v)


def test_with_its_own_phase_a_magnitude_gives_the_signal_back():
    audio_v = _chord()
    spec_m = stft.stft(audio_v, 1024, 256)
    X = stft.log_magnitude(spec_m, 10.0)[None]
    back_v = resynthesis.to_audio(X, FEATURE_D, len(audio_v), phase_m=spec_m)
    assert np.abs(back_v - audio_v).max() < 1e-3
    with pytest.raises(ValueError, match="the phase's STFT has shape"):
        resynthesis.to_audio(X, FEATURE_D, len(audio_v), phase_m=spec_m[:, :5])


def test_griffin_lim_finds_a_phase_that_gives_a_close_magnitude():
    audio_v = _chord()
    X = stft.log_magnitude(stft.stft(audio_v, 1024, 256), 10.0)[None]
    random_phase_v = stft.istft(stft.magnitude_of_log(X[0], 10.0) * torch.exp(
        2j * torch.pi * torch.rand(X[0].shape, generator=torch.Generator().manual_seed(1))), 1024, 256,
        len(audio_v)).numpy()
    found_v = resynthesis.to_audio(X, FEATURE_D, len(audio_v), n_iter=32)
    assert found_v.shape == audio_v.shape and found_v.dtype == np.float32
    distance = resynthesis.multi_resolution_stft_distance(audio_v, found_v)
    assert distance < 0.5 * resynthesis.multi_resolution_stft_distance(audio_v, random_phase_v)
    assert np.array_equal(found_v, resynthesis.to_audio(X, FEATURE_D, len(audio_v), n_iter=32)), "seeded"
    assert resynthesis.to_audio(X, FEATURE_D, X.shape[-1] * 256, n_iter=2).shape == (X.shape[-1] * 256,), "any length"


def test_opus_at_its_lowest_rate_keeps_the_length_and_says_its_bit_rate():
    audio_v = _chord(3.0) + 0.01 * np.random.default_rng(0).standard_normal(3 * 22050).astype(np.float32)
    decoded_v, kbps = resynthesis.opus_round_trip(audio_v, 22050, compression_level=1.0)
    assert decoded_v.shape == audio_v.shape and decoded_v.dtype == np.float32
    assert 2.0 < kbps < 9.0, kbps
    _, higher_kbps = resynthesis.opus_round_trip(audio_v, 22050, compression_level=0.95)
    assert higher_kbps > kbps
    assert resynthesis.multi_resolution_stft_distance(audio_v, decoded_v) < 3.0
    with pytest.raises(ValueError, match="compression_level must be in"):
        resynthesis.opus_round_trip(audio_v, 22050, compression_level=2.0)
    with pytest.raises(ValueError, match="a mono signal"):
        resynthesis.opus_round_trip(np.zeros((2, 100), dtype=np.float32), 22050)
