"""Self-supervised pretraining (course_utils.contrastive) and linear probes (course_utils.probe), notebook 09."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import contrastive, probe
from course_utils.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
SSL_CONFIG_L = ("ssl_contrastive_lms.yaml", "ssl_contrastive_tempogram.yaml")


# --- NT-Xent -------------------------------------------------------------------------------------------------


def test_nt_xent_matches_its_definition():
    torch.manual_seed(0)
    z_a, z_b, temperature = torch.randn(3, 5), torch.randn(3, 5), 0.5
    z_m = torch.nn.functional.normalize(torch.cat([z_a, z_b]), dim=1)
    similarity_m = z_m @ z_m.T / temperature
    loss_l = []
    for i in range(6):
        partner = (i + 3) % 6
        other_v = torch.tensor([similarity_m[i, j] for j in range(6) if j != i])
        loss_l.append(-(similarity_m[i, partner] - torch.logsumexp(other_v, dim=0)))
    assert contrastive.nt_xent_loss(z_a, z_b, temperature).item() == pytest.approx(torch.stack(loss_l).mean().item(),
                                                                                   rel=1e-5)


def test_nt_xent_is_chance_when_every_view_looks_alike_and_near_zero_when_partners_are_found():
    same_m = torch.ones(4, 3)
    assert contrastive.nt_xent_loss(same_m, same_m).item() == pytest.approx(math.log(2 * 4 - 1), rel=1e-5)
    distinct_m = torch.eye(4)
    assert contrastive.nt_xent_loss(distinct_m, distinct_m, temperature=0.05).item() < 1e-6


def test_nt_xent_refuses_batches_of_different_shapes():
    with pytest.raises(ValueError, match="two \\(B, D\\) batches"):
        contrastive.nt_xent_loss(torch.zeros(4, 3), torch.zeros(5, 3))


# --- views ----------------------------------------------------------------------------------------------------


def test_no_view_change_leaves_any_feature_unchanged_negative_values_included():
    X = torch.randn(2, 1, 16, 8)  # a tempogram has negative values: nothing may clip them
    assert torch.equal(contrastive.make_views({})(X), X)


def test_gain_changes_the_mel_energy_by_the_gain():
    torch.manual_seed(0)
    mel = torch.rand(4, 1, 8, 5) + 0.01
    X = torch.log1p(contrastive.LOG_MEL_SCALE * mel)
    changed_mel = torch.expm1(contrastive.FeatureViews(gain_db=6)(X)) / contrastive.LOG_MEL_SCALE
    ratio_db_m = 10 * torch.log10(changed_mel / mel)
    assert torch.allclose(ratio_db_m, ratio_db_m[:, :1, :1, :1].expand_as(ratio_db_m), atol=1e-3)  # one gain per item
    assert ratio_db_m.abs().max() <= 6 + 1e-3 and ratio_db_m[:, 0, 0, 0].std() > 0


def test_band_shift_moves_the_spectrum_along_the_mel_axis():
    X = torch.zeros(1, 1, 10, 3)
    X[..., 4, :] = 5.0
    torch.manual_seed(1)
    shifted = contrastive.FeatureViews(band_shift=2)(X.repeat(16, 1, 1, 1))
    peak_v = shifted[:, 0, :, 0].argmax(dim=1)
    assert set(peak_v.tolist()) <= {2, 3, 4, 5, 6} and len(set(peak_v.tolist())) > 1


def test_lag_stretch_moves_a_tempogram_peak_by_the_tempo_factor():
    X = torch.zeros(1, 100, 2)
    X[:, 40, :] = 1.0
    stretched = contrastive._stretch_axis(X, 1.1)
    assert stretched[0, :, 0].argmax().item() == 44
    assert torch.equal(contrastive._stretch_axis(X, 1.0), X)


def test_views_are_checked_by_name_and_value():
    with pytest.raises(ConfigError, match="unknown view change \\['pitch'\\]"):
        contrastive.make_views({"pitch": 2})
    with pytest.raises(ConfigError, match="gain_db must be a number >= 0"):
        contrastive.make_views({"gain_db": -1})


# --- crops, model, pretraining ----------------------------------------------------------------------------------


class ToyTracks:
    """Tracks (1, F, T) that differ by their spectrum: a Dataset-like object with ``key_l`` and ``get_track``."""

    def __init__(self, n_track=24, n_band=16, length_l=None, seed=0):
        generator = torch.Generator().manual_seed(seed)
        length_l = length_l or [40] * n_track
        self.key_l = [f"track{n}" for n in range(len(length_l))]
        self.X_d = {key: (torch.rand(1, n_band, 1, generator=generator) * 4).expand(1, n_band, length)
                    + 0.3 * torch.rand(1, n_band, length, generator=generator)
                    for key, length in zip(self.key_l, length_l, strict=True)}

    def get_track(self, key):
        return self.X_d[key], None


def test_track_crops_are_two_crops_of_one_track_and_short_tracks_are_counted():
    tracks = ToyTracks(length_l=[40, 9, 30])
    crops = contrastive.TrackCrops(tracks, 8, n_item_per_track=2)
    assert crops.n_short == 1 and len(crops) == 4
    item = crops[1]
    assert item["X_a"].shape == item["X_b"].shape == (1, 16, 8)
    track = tracks.X_d["track2"]
    for X in (item["X_a"], item["X_b"]):
        assert any(torch.equal(X, track[..., start:start + 8]) for start in range(30 - 8 + 1))
    with pytest.raises(ValueError, match="no track is longer than a crop of 50 frames"):
        contrastive.TrackCrops(tracks, 50)


def test_the_renderer_swap_gives_two_views_by_two_renderers_of_the_tracks_both_hold():
    first, second = ToyTracks(n_track=3, seed=0), ToyTracks(n_track=4, seed=1)  # 'track3' is in the second only
    crops = contrastive.TrackCrops([first, second], 8)
    assert len(crops) == 3
    torch.manual_seed(0)
    for idx in range(3):
        item, key = crops[idx], f"track{idx}"
        source_l = []
        for X in (item["X_a"], item["X_b"]):
            source_l.append({name for name, tracks in (("first", first), ("second", second))
                             if any(torch.equal(X, tracks.X_d[key][..., s:s + 8]) for s in range(40 - 8 + 1))})
        assert source_l in ([{"first"}, {"second"}], [{"second"}, {"first"}]), source_l
    with pytest.raises(ValueError, match="share no track"):
        other = ToyTracks(n_track=2)
        other.key_l = ["x", "y"]
        contrastive.TrackCrops([first, other], 8)


TOY_CONFIG = {"model": {"name": "Toy", "block_l": [{"sequential_l": [{"layer_l": [
    ["Squeeze", {"dim": [1]}],
    ["Conv1d", {"in_channels": -1, "out_channels": 16, "kernel_size": 3, "padding": "same"}],
    ["Activation", "ReLU"],
    ["Mean", {"dim": 2}]]}]}]},
    "pretrain": {"batch_size": 8, "learning_rate": 0.01, "max_epoch": 15, "temperature": 0.2, "projection_dim": 8,
                 "n_item_per_track": 2, "views": {"random_eq": 0.5}}}


def test_pretraining_learns_to_find_the_partner_view():
    torch.manual_seed(0)
    settings = contrastive.pretrain_settings(TOY_CONFIG)
    model = contrastive.ContrastiveModel(TOY_CONFIG, [8, 1, 16, 8], settings.projection_dim)
    history = contrastive.pretrain(model, contrastive.TrackCrops(ToyTracks(), 8, 2),
                                   contrastive.TrackCrops(ToyTracks(n_track=8, seed=1), 8), settings)
    chance = math.log(2 * settings.batch_size - 1)
    assert len(history["train_loss"]) == 15
    assert history["train_loss"][-1] < 0.5 * chance and history["valid_loss"][-1] < 0.5 * chance, history
    assert model.encoder(torch.zeros(3, 1, 16, 8)).shape == (3, 16)


def test_an_encoder_without_pooling_and_a_batch_larger_than_the_data_are_refused():
    no_pool = {"model": {"block_l": [{"sequential_l": [{"layer_l": [["Squeeze", {"dim": [1]}]]}]}]}}
    with pytest.raises(ConfigError, match="end its model with a pooling over time"):
        contrastive.ContrastiveModel(no_pool, [2, 1, 16, 8], 4)
    settings = contrastive.pretrain_settings({**TOY_CONFIG, "pretrain": {**TOY_CONFIG["pretrain"], "batch_size": 64}})
    model = contrastive.ContrastiveModel(TOY_CONFIG, [8, 1, 16, 8], 8)
    with pytest.raises(ValueError, match="batch_size 64 is larger than the 48 training items"):
        contrastive.pretrain(model, contrastive.TrackCrops(ToyTracks(), 8, 2), contrastive.TrackCrops(ToyTracks(), 8),
                             settings)
    with pytest.raises(ConfigError, match="pretrain: temperature missing"):
        contrastive.pretrain_settings({"pretrain": {"batch_size": 8, "learning_rate": 0.01, "max_epoch": 1,
                                                    "projection_dim": 4}})


def test_the_renderer_swap_names_two_training_renderers_or_none():
    base_d = dict(TOY_CONFIG["pretrain"])
    assert contrastive.pretrain_settings({"pretrain": base_d}).renderer_swap == []
    for swap_l in (["merlin", "synth"], ["synth"]):
        with pytest.raises(ConfigError, match="merlin is held out"):
            contrastive.pretrain_settings({"pretrain": {**base_d, "renderer_swap": swap_l}})


def test_a_loss_that_is_not_a_number_stops_pretraining_and_says_where_to_look():
    tracks = ToyTracks()
    tracks.X_d["track3"] = torch.full_like(tracks.X_d["track3"], float("nan"))
    settings = contrastive.pretrain_settings({"pretrain": {**TOY_CONFIG["pretrain"], "batch_size": 24,
                                                           "n_item_per_track": 1}})
    model = contrastive.ContrastiveModel(TOY_CONFIG, [8, 1, 16, 8], 8)
    with pytest.raises(FloatingPointError, match="the inputs of this batch hold NaN or inf"):
        contrastive.pretrain(model, contrastive.TrackCrops(tracks, 8), contrastive.TrackCrops(ToyTracks(), 8), settings)


@pytest.mark.parametrize("name", SSL_CONFIG_L)
def test_the_course_encoders_build_and_embed_a_patch(name):
    config = load_config(ROOT / "configs" / name)
    from course_utils import feature

    settings = contrastive.pretrain_settings(config, fast_mode=True)
    input_dim = feature.feature_input_dim(config.feature, 2)
    model = contrastive.ContrastiveModel(config, input_dim, settings.projection_dim)
    assert model(torch.zeros(input_dim)).shape == (2, settings.projection_dim)
    contrastive.make_views(settings.views)


# --- probes ----------------------------------------------------------------------------------------------------


class ToyLabelled:
    """``label_subset``'s view of a tag Dataset: key_l, labelname_l and get_target."""

    def __init__(self, target_l, labelname_l):
        self.key_l = [f"k{n}" for n in range(len(target_l))]
        self.target_d = dict(zip(self.key_l, [torch.as_tensor(t) for t in target_l], strict=True))
        self.labelname_l = labelname_l

    def get_target(self, key):
        return self.target_d[key]


def test_label_subset_keeps_every_class_and_the_fraction():
    ds = ToyLabelled([0] * 50 + [1] * 45 + [2] * 5, ["a", "b", "c"])
    subset_l = probe.label_subset(ds, 0.03, seed=0)
    assert len(subset_l) == 3 and {ds.get_target(key).item() for key in subset_l} == {0, 1, 2}
    assert len(probe.label_subset(ds, 0.1, seed=0)) == 10
    assert probe.label_subset(ds, 1.0) == ds.key_l
    assert probe.label_subset(ds, 0.1, seed=3) == probe.label_subset(ds, 0.1, seed=3)
    with pytest.raises(ValueError, match="fraction must be in \\(0, 1\\]"):
        probe.label_subset(ds, 0)


def test_label_subset_covers_every_instrument_of_multilabel_targets():
    rng = np.random.default_rng(0)
    target_l = [(rng.random(4) < 0.3).astype(np.float32) for _ in range(60)]
    target_l[7] = np.array([0, 0, 0, 1], dtype=np.float32)  # the only track with the last instrument
    for target in target_l[:7] + target_l[8:]:
        target[3] = 0
    subset_l = probe.label_subset(ToyLabelled(target_l, list("abcd")), 0.02, seed=1)
    assert "k7" in subset_l


def test_probe_separates_separable_embeddings_and_handles_labels_it_never_saw():
    rng = np.random.default_rng(0)
    class_v = np.repeat([0, 1, 2], 20)
    embedding_m = rng.normal(size=(60, 4)) + 4 * np.eye(4)[class_v]
    multiclass = probe.Probe("multiclass", 4).fit(embedding_m, class_v)
    prob_m = multiclass.predict_proba(embedding_m)
    assert prob_m.shape == (60, 4) and np.all(prob_m[:, 3] == 0) and np.mean(prob_m.argmax(1) == class_v) == 1
    label_m = np.stack([class_v == 0, class_v == 1, np.zeros(60, bool)], axis=1).astype(int)
    multilabel = probe.Probe("multilabel", 3).fit(embedding_m, label_m)
    prob_m = multilabel.predict_proba(embedding_m)
    assert np.all(prob_m[:, 2] == 0) and np.mean((prob_m[:, :2] > 0.5) == label_m[:, :2]) == 1


def test_scratch_classifier_is_the_encoder_with_a_linear_layer():
    model = probe.scratch_classifier(TOY_CONFIG, [2, 1, 16, 8], 5)
    assert model(torch.zeros(2, 1, 16, 8)).shape == (2, 5)
    config = probe.with_feature({"dataset": {"problem": "multiclass"}, "feature": {"type": "tempogram"}},
                                {"feature": {"type": "lms", "nb_band": 128}})
    assert config.feature.type == "lms" and config.dataset.problem == "multiclass"
