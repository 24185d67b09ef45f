"""course_utils.codec: the reconstruction task (its Dataset, its losses, a model cut at its bottleneck, whole tracks,
the bit rate, the PCA baseline), on small files written by the tests."""

import numpy as np
import pytest
import torch

from course_utils import bottleneck, codec, model_factory, task, train
from course_utils.config import ConfigError, as_config
from course_utils.dataset import DatasetError

from .helpers import sine_track, write_audio_hdf5, write_pyjama

FEATURE_D = {"sr_hz": 22050, "type": "stft", "n_fft": 256, "hop_length": 64, "log_gain": 10.0, "patch_L_frame": 16,
             "patch_STEP_frame": 16}


def _layer_l(bottleneck_spec, latent_channels):
    encoder_l = [["Squeeze", {"dim": [1]}],
                 ["Conv1d", {"in_channels": -1, "out_channels": 16, "kernel_size": 4, "stride": 2, "padding": 1}],
                 ["Activation", "ELU"],
                 ["Conv1d", {"in_channels": -1, "out_channels": latent_channels, "kernel_size": 1}]]
    decoder_l = [["ConvTranspose1d", {"in_channels": -1, "out_channels": 16, "kernel_size": 4, "stride": 2,
                                      "padding": 1}],
                 ["Activation", "ELU"], ["Conv1d", {"in_channels": -1, "out_channels": 128, "kernel_size": 1}],
                 ["UnSqueeze", {"dim": 1}]]
    return encoder_l + ([bottleneck_spec] if bottleneck_spec else []) + decoder_l


def _config(bottleneck_spec=None, latent_channels=4, **dataset_d):
    return as_config({"dataset": {"problem": "reconstruction", **dataset_d}, "feature": FEATURE_D,
                      "train": {"batch_size": 4, "learning_rate": 0.01, "max_epoch": 3, "patience": 3},
                      "model": {"name": "TinyAE", "block_l": [{"sequential_l": [{"layer_l": _layer_l(
                          bottleneck_spec, latent_channels)}]}]}})


@pytest.fixture
def tones(tmp_path):
    """6 tracks of 1 s, tones of several pitches, 4 in train, 1 in valid, 1 in test."""
    track_d, entry_l = {}, []
    for i, split in enumerate(["train"] * 4 + ["valid", "test"]):
        key = f"tone{i}.wav"
        track_d[key] = sine_track(1.0, 220.0 * (1 + i / 4)) + 0.5 * sine_track(1.0, 440.0 * (1 + i / 4))
        entry_l.append({"filepath": [{"value": key}], "split": [{"value": split}], "work_id": [{"value": key}]})
    return write_audio_hdf5(tmp_path / "tones_audio.hdf5", track_d), write_pyjama(tmp_path / "tones.pyjama", entry_l)


def test_the_reconstruction_task_gives_patches_whose_target_is_the_input(tones):
    ds = task.make_datasets(_config(), *tones, split_l=("train",), progress=False)["train"]
    assert task.task_of(_config()) == "reconstruction" and type(ds).__name__ == "ReconstructionDataset"
    item = ds[0]
    assert item["X"].shape == (1, 128, 16) and torch.equal(item["X"], item["y"])
    assert isinstance(task.make_loss(_config()), torch.nn.MSELoss)


def test_max_track_keeps_tracks_spread_over_the_split_and_says_how_many_it_left(tones, capsys):
    ds = codec.ReconstructionDataset(*tones, "train", _config(max_track=2))
    assert ds.key_l == ["tone0.wav", "tone3.wav"]
    assert "left out: 2 tracks beyond dataset.max_track 2" in capsys.readouterr().out
    with pytest.raises(DatasetError, match="max_track must be a whole number >= 1, got 0"):
        codec.ReconstructionDataset(*tones, "train", _config(max_track=0), progress=False)


def test_a_feature_without_a_way_back_to_sound_is_refused(tones):
    config = _config()
    config.feature = {"sr_hz": 22050, "type": "lms", "nb_band": 32, "L_n": 512, "STEP_n": 256, "patch_L_frame": 8,
                      "patch_STEP_frame": 8}
    with pytest.raises(DatasetError, match="reads the STFT"):
        codec.ReconstructionDataset(*tones, "train", config, progress=False)


@pytest.mark.parametrize("spec, latent_channels", [
    (None, 4), (["GaussianLatent", {"latent_dim": 4, "beta": 0.01, "warmup_steps": 4, "free_bits": 0.1}], 8),
    (["VectorQuantize", {"latent_dim": 4, "codebook_size": 8, "n_codebook": 2, "expire_after": 2}], 4)])
def test_each_auto_encoder_trains_with_fit_and_is_scored_on_whole_tracks(tones, spec, latent_channels):
    torch.manual_seed(0)
    config = _config(spec, latent_channels)
    split_d = task.make_datasets(config, *tones, progress=False)
    model = model_factory.NetModel(config, [4, 1, 128, 16])
    loader_d = train.make_loaders(split_d, config)
    n_vector = codec.initialise_codebooks(model, loader_d["train"], n_batch=3)
    assert n_vector == (3 * 4 * 8 if spec is not None and spec[0] == "VectorQuantize" else 0)
    counter = codec.CodeCounter(len(loader_d["train"]))
    history = train.fit(model, loader_d["train"], loader_d["valid"], None, config,
                        batch_loss=codec.reconstruction_batch_loss("cpu", code_counter=counter))
    assert history["train_loss"][-1] < history["train_loss"][0]
    layer = codec.bottleneck_of(model)
    if isinstance(layer, bottleneck.GaussianLatent):
        assert int(layer.n_step) == (history["best_epoch"] + 1) * len(loader_d["train"])  # the best epoch's state
        assert layer.current_beta == 0.01
    if isinstance(layer, bottleneck.VectorQuantize):
        assert counter.usage().shape == (3, 2) and 0 < counter.usage().min() <= 1
        assert (counter.perplexity() >= 1).all() and (counter.perplexity() <= 8).all()
    score_d = task.test_scores(model, config, split_d["test"])
    assert set(score_d) == {"MSE", "relative MSE"} and score_d["MSE"] > 0
    X = split_d["test"].get_track(split_d["test"].key_l[0])[0]
    assert codec.reconstruct_track(model, X, multiple=2).shape == X.shape


def test_a_model_cut_at_its_bottleneck_encodes_and_decodes_as_the_whole_model():
    torch.manual_seed(0)
    spec = ["VectorQuantize", {"latent_dim": 4, "codebook_size": 8, "n_codebook": 2}]
    model = model_factory.NetModel(_config(spec), [2, 1, 128, 16])
    X = torch.rand(3, 1, 128, 16)
    model.train()
    model(X)  # k-means init on a training batch
    model.eval()
    Z = codec.encode(model, X)
    vq = codec.split_at_bottleneck(model)[1]
    assert Z.shape == (3, 4, 8) and vq.codes.shape == (2, 3, 8)
    assert torch.allclose(codec.decode(model, Z), model(X), atol=1e-5)
    assert torch.allclose(codec.decode(model, vq.decode_codes(vq.codes)), model(X), atol=1e-5)
    assert codec.bit_rate(vq, latent_frames_per_sec=50.0) == pytest.approx(2 * 3 * 50.0)
    with pytest.raises(ConfigError, match="0 bottleneck layers"):
        codec.split_at_bottleneck(model_factory.NetModel(_config(), [2, 1, 128, 16]))


def test_the_pca_baseline_keeps_its_size_and_is_exact_when_it_keeps_everything():
    rng = np.random.default_rng(0)
    X_l = [torch.from_numpy(rng.random((1, 6, n), dtype=np.float32)) for n in (40, 33)]
    exact = codec.PCABaseline(n_component=12, window=2).fit(X_l)
    assert torch.allclose(exact.reconstruct(X_l[1]), X_l[1], atol=1e-4)
    small = codec.PCABaseline(n_component=2, window=2).fit(X_l)
    assert small.reconstruct(X_l[1]).shape == X_l[1].shape
    assert float((small.reconstruct(X_l[1]) - X_l[1]).pow(2).mean()) > 1e-3
    assert codec.distance_scores(exact.reconstruct, _FakeTracks(X_l))["relative MSE"] < 1e-6
    mean_score_d = codec.distance_scores(lambda X: X.mean(dim=-1, keepdim=True).expand_as(X), _FakeTracks(X_l))
    assert mean_score_d["relative MSE"] == pytest.approx(1.0)


class _FakeTracks:
    """What distance_scores reads of a Dataset: key_l and get_track."""

    def __init__(self, X_l):
        self.X_d = {f"t{i}": X for i, X in enumerate(X_l)}
        self.key_l = list(self.X_d)

    def get_track(self, key):
        return self.X_d[key], None
