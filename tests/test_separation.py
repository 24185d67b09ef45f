"""Source separation: the STFT both ways, stems that add up to the mixture, the stems dataset and its
Dataset, masks and scores (course_utils.spectrogram, course_utils.separation, data.recording.record_stems)."""

import h5py
import numpy as np
import pytest
import torch

from course_utils import annotation, audio_store, config, feature, separation, spectrogram
from course_utils.data import build, plan, recording

TINY = plan.Preset("tiny", n_cover_tunes=2, max_versions_per_tune=2, n_single_chorales=1, n_tunes_per_dance=1,
                   chorale_max_sec=4.0, fiddle_max_sec=4.0, sampled_fraction=0.5)
CONFIG = config.as_config({"dataset": {}, "feature": {
    "type": "stft", "sr_hz": 22050, "n_fft": 512, "hop_length": 256, "log_gain": 10.0, "patch_L_frame": 32,
    "patch_STEP_frame": 16}})


@pytest.fixture(scope="module")
def stems_dataset(tmp_path_factory):
    return build.build_dataset(TINY, tmp_path_factory.mktemp("stems"), n_workers=1, progress=False, stems=True)


@pytest.mark.parametrize("start_end", [(0, 3), (5, 20), (30, None)])
def test_the_frames_of_a_patch_are_those_of_the_whole_track(start_end):
    audio_v = np.random.default_rng(0).standard_normal(11025).astype(np.float32)
    whole_m = spectrogram.stft(audio_v, 512, 256)
    start, end = start_end[0], start_end[1] or whole_m.shape[1]
    assert whole_m.shape == (256, spectrogram.n_frames(len(audio_v), 256))
    assert torch.allclose(spectrogram.frames_of(audio_v, start, end, 512, 256), whole_m[:, start:end], atol=1e-5)


def test_the_inverse_stft_gives_back_a_signal_without_energy_at_nyquist():
    time_v = np.arange(22050) / 22050
    audio_v = (np.sin(2 * np.pi * 440 * time_v) + 0.5 * np.sin(2 * np.pi * 3000 * time_v)).astype(np.float32)
    back_v = spectrogram.istft(spectrogram.stft(audio_v, 1024, 512), 1024, 512, len(audio_v)).numpy()
    assert np.abs(back_v - audio_v).max() < 1e-3


def test_recorded_stems_add_up_to_the_mixture_and_the_mixture_is_as_without_stems():
    source_d = {name: np.random.default_rng(seed).standard_normal(8000) for seed, name in enumerate("abc")}
    eq_d = recording.draw_eq(np.random.default_rng(9))
    mix_v, stem_d = recording.record_stems(source_d, np.random.default_rng(1), noise_db=-300, eq_d=eq_d)
    assert np.abs(mix_v - sum(stem_d.values())).max() < 1e-5
    assert np.isclose(np.abs(mix_v).max(), 0.9, atol=1e-4)
    alone_v = recording.room_and_level(sum(source_d.values()), np.random.default_rng(1), noise_db=-300, eq_d=eq_d)
    assert np.abs(alone_v - mix_v).max() < 1e-5


def test_a_stems_dataset_holds_each_voice_of_each_chorale_and_they_add_up(stems_dataset):
    audio_path, pyjama_path = stems_dataset
    assert audio_path.name == "course-tiny-stems_audio.hdf5"
    ds = separation.SeparationDataset(audio_path, pyjama_path, "train", CONFIG, progress=False)
    assert all(entry["genre"][0]["value"] == "chorale" for entry in ds.entry_l), "chorales only"
    with h5py.File(audio_path, "r") as fid:
        for entry in ds.entry_l:
            key = entry["filepath"][0]["value"]
            assert [item["value"] for item in entry["stems"]] == sorted(separation.VOICE_L)
            assert all(audio_store.stem_key(key, voice) in fid for voice in separation.VOICE_L)
    mix_v, stem_m = ds.read_track(ds.key_l[0])
    noise_db = ds.entry_l[0]["render"][0]["value"]["noise_db"]
    assert stem_m.shape == (4, len(mix_v))
    assert np.std(mix_v - stem_m.sum(axis=0)) < 2 * 10 ** (noise_db / 20), "mixture = stems + the noise floor"


@pytest.mark.parametrize("renderer", ["synth", "timgm", "merlin"])
def test_the_stems_of_every_renderer_add_up_to_its_mixture(stems_dataset, tmp_path, renderer):
    split = annotation.load_pyjama(stems_dataset[1])["collection"]["entry"][0]["split"][0]["value"]
    audio_path, pyjama_path = build.build_dataset(TINY, tmp_path, n_workers=1, progress=False, split=split,
                                                  renderer=renderer, stems=True)
    ds = separation.SeparationDataset(audio_path, pyjama_path, split, CONFIG, progress=False)
    for entry, key in zip(ds.entry_l, ds.key_l, strict=True):
        assert entry["renderer"][0]["value"] == renderer
        mix_v, stem_m = ds.read_track(key)
        noise_db = entry["render"][0]["value"]["noise_db"]
        assert np.std(mix_v - stem_m.sum(axis=0)) < 2 * 10 ** (noise_db / 20), f"{renderer}, {key}"


def test_an_item_is_a_patch_of_the_mixture_and_the_magnitudes_of_mixture_and_voices(stems_dataset):
    ds = separation.SeparationDataset(*stems_dataset, "train", CONFIG, progress=False)
    item = ds[len(ds) - 1]
    assert item["X"].shape == (1, 256, 32) and item["y"].shape == (5, 256, 32)
    mix_v, stem_m = ds.read_track(item["key"])
    start = item["start_frame"]
    whole_m = spectrogram.stft(stem_m[2], 512, 256).abs()[:, start:start + 32]
    assert torch.allclose(item["y"][3], whole_m, atol=1e-4)
    assert torch.allclose(item["X"][0], torch.log1p(10 * spectrogram.stft(mix_v, 512, 256).abs()[:, start:start + 32]),
                          atol=1e-4)


def test_a_dataset_without_stems_is_refused_with_how_to_build_one(tmp_path):
    audio_path, pyjama_path = build.build_dataset(plan.Preset("nostems", 1, 2, 0, 1, 3.0, 3.0), tmp_path, n_workers=1,
                                                  progress=False)
    with pytest.raises(ValueError, match="stems=True"):
        separation.SeparationDataset(audio_path, pyjama_path, "train", CONFIG, progress=False)


def test_a_config_that_does_not_read_the_stft_is_refused_by_name(stems_dataset):
    wrong = config.as_config({"dataset": {}, "feature": dict(CONFIG.feature, type="lms")})
    with pytest.raises(config.ConfigError, match="feature.type: stft.*'lms'"):
        separation.SeparationDataset(*stems_dataset, "train", wrong, progress=False)


def test_the_ideal_ratio_mask_shares_each_bin_and_separates_disjoint_voices():
    magnitude_m = torch.zeros(2, 4, 3)
    magnitude_m[0, :2], magnitude_m[1, 2:] = 1.0, 2.0
    magnitude_m[:, 0, 0] = 0
    mask_m = separation.ideal_ratio_mask(magnitude_m)
    assert torch.allclose(mask_m.sum(0), torch.ones(4, 3))
    assert mask_m[0, 1, 1] == 1 and mask_m[1, 3, 2] == 1 and mask_m[0, 0, 0] == 0.5


def test_si_sdr_ignores_the_gain_and_the_scores_mark_a_silent_voice():
    rng = np.random.default_rng(0)
    reference_v = rng.standard_normal(8000)
    estimate_v = reference_v + 0.1 * rng.standard_normal(8000)
    assert np.isclose(separation.si_sdr(3 * estimate_v, reference_v), separation.si_sdr(estimate_v, reference_v))
    assert 19 < separation.si_sdr(estimate_v, reference_v) < 21
    score_d = separation.separation_scores(np.stack([estimate_v, estimate_v]), np.stack([reference_v, 0 * reference_v]))
    assert 19 < score_d["sdr"][0] < 25 and np.isnan(score_d["sdr"][1]) and np.isnan(score_d["si_sdr"][1])


def test_the_harmonic_mask_gives_a_voice_the_bins_of_its_notes():
    entry = {"pitchmidi": [{"value": 69, "time": 0.0, "duration": 1.0, "voice": "Soprano"},
                           {"value": 45, "time": 0.0, "duration": 1.0, "voice": "Bass"}]}
    mask_m = separation.harmonic_mask(entry, ["Soprano", "Bass"], (256, 50), 22050, 512, 256)
    bin_440 = int(round(440 / (22050 / 512)))
    assert mask_m.shape == (2, 256, 50) and np.allclose(mask_m.sum(0), 1)
    assert mask_m[0, bin_440, 10] == 0.5, "440 Hz: the soprano's f0 and the bass's 4th harmonic"
    assert mask_m[1, int(round(110 / (22050 / 512))), 10] == 1, "110 Hz: the bass alone"
    assert mask_m[0, 0, 10] == 0.5, "0 Hz: no note there, an equal share"


def test_a_whole_track_goes_through_a_fully_convolutional_model():
    model = torch.nn.Conv2d(1, 4, 3, padding=1)
    audio_v = np.random.default_rng(0).standard_normal(22050).astype(np.float32) * 0.1
    estimate_m = separation.separate_track(model, audio_v, CONFIG.feature)
    assert estimate_m.shape == (4, 22050) and estimate_m.dtype == np.float32


def test_the_masks_share_each_bin_and_the_loss_is_zero_for_the_ideal_masks():
    generator = torch.Generator().manual_seed(0)
    stem_magnitude_m = torch.rand(2, 4, 8, 6, generator=generator)  # (B, V, F, L)
    masks = separation.masks_of(torch.randn(2, 4, 8, 6, generator=generator))
    assert torch.allclose(masks.sum(dim=1), torch.ones(2, 8, 6)) and masks.min() >= 0
    y = torch.cat([stem_magnitude_m.sum(dim=1, keepdim=True), stem_magnitude_m], dim=1)  # phases aligned: |sum| = sum
    ideal_logits = torch.log(torch.stack([separation.ideal_ratio_mask(m) for m in stem_magnitude_m]))
    assert float(separation.masked_mse_loss(ideal_logits, y)) < 1e-10
    assert float(separation.masked_mse_loss(torch.zeros_like(ideal_logits), y)) > 1e-3


CONDITIONED = config.as_config({"dataset": {},
                                "feature": dict(CONFIG.feature, condition_voice_l=list(separation.VOICE_L))})


def test_a_conditioned_item_is_a_patch_and_a_voice_told_by_its_planes(stems_dataset):
    plain = separation.SeparationDataset(*stems_dataset, "train", CONFIG, progress=False)
    ds = separation.SeparationDataset(*stems_dataset, "train", CONDITIONED, progress=False)
    assert len(ds) == 4 * len(plain)
    assert feature.feature_input_dim(CONDITIONED.feature, 2) == [2, 5, 256, 32]
    item, whole = ds[4 * 3 + 2], plain[3]  # patch 3, the tenor
    assert item["voice"] == "Tenor" and item["X"].shape == (5, 256, 32) and item["y"].shape == (2, 256, 32)
    assert torch.equal(item["X"][0], whole["X"][0])
    assert torch.equal(item["X"][1:].sum(dim=(1, 2)), torch.tensor([0.0, 0.0, 256 * 32, 0.0]))
    assert torch.allclose(item["y"], whole["y"][[0, 3]])
    with pytest.raises(IndexError, match=f"has {len(ds)} items"):
        ds[len(ds)]


def test_a_conditioned_dataset_asked_for_other_voices_than_its_own_is_refused(stems_dataset):
    wrong = config.as_config({"dataset": {"voice_l": ["Soprano", "Bass"]}, "feature": CONDITIONED.feature})
    with pytest.raises(config.ConfigError, match="condition_voice_l.*differ"):
        separation.SeparationDataset(*stems_dataset, "train", wrong, progress=False)


def test_a_single_mask_is_a_sigmoid_and_a_conditioned_model_is_asked_for_each_voice():
    logits = torch.randn(2, 1, 8, 6)
    assert torch.equal(separation.masks_of(logits), torch.sigmoid(logits))
    asked_l = []

    class SopranoOnly(torch.nn.Module):  # the mask of the voice asked for: 1 for the soprano, 0 for the others
        def forward(self, X):
            asked_l.append(int(X[0, 1:, 0, 0].argmax()))
            return torch.where(X[:, 1:2] > 0, 30.0, -30.0)

    model = SopranoOnly()
    audio_v = (0.1 * np.sin(2 * np.pi * 440 * np.arange(22050) / 22050)).astype(np.float32)  # nothing at Nyquist
    estimate_m = separation.separate_track(model, audio_v, CONDITIONED.feature)
    assert asked_l == [0, 1, 2, 3] and estimate_m.shape == (4, 22050)
    assert np.abs(estimate_m[0] - audio_v).max() < 1e-3 and np.abs(estimate_m[1:]).max() < 1e-3
