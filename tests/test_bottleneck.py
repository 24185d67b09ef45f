"""course_utils.bottleneck: the VAE's Gaussian latent and the (residual) vector quantiser, as YAML layers, with their
losses, their tricks against collapse, and the clear errors of bad values."""

import math

import pytest
import torch

from course_utils import bottleneck, model_factory
from course_utils.config import ConfigError


def _model(bottleneck_spec, latent_channels=8):
    return {"model": {"name": "TinyAE", "block_l": [{"sequential_l": [{"layer_l": [
        ["Conv1d", {"in_channels": -1, "out_channels": latent_channels, "kernel_size": 1}],
        bottleneck_spec,
        ["Conv1d", {"in_channels": -1, "out_channels": 6, "kernel_size": 1}]]}]}]}}


def test_the_kl_of_a_diagonal_gaussian_is_zero_at_the_prior_and_matches_the_formula():
    mu, logvar = torch.zeros(2, 3, 5), torch.zeros(2, 3, 5)
    assert torch.allclose(bottleneck.kl_divergence_per_dim(mu, logvar), torch.zeros(3))
    mu, logvar = torch.full((1, 2, 1), 1.0), torch.full((1, 2, 1), math.log(4.0))
    expected = 0.5 * (1.0 + 4.0 - 1.0 - math.log(4.0))
    assert torch.allclose(bottleneck.kl_divergence_per_dim(mu, logvar), torch.full((2,), expected))


def test_the_gaussian_latent_samples_in_training_gives_the_mean_in_evaluation_and_keeps_its_kl():
    layer = bottleneck.GaussianLatent(latent_dim=3, free_bits=0.5)
    X = torch.cat([torch.ones(4, 3, 7), torch.zeros(4, 3, 7)], dim=1)  # mu = 1, logvar = 0
    layer.eval()
    assert torch.equal(layer(X), torch.ones(4, 3, 7))
    layer.train()
    torch.manual_seed(0)
    Z = layer(X)
    assert Z.shape == (4, 3, 7) and not torch.equal(Z, torch.ones(4, 3, 7))
    assert torch.allclose(layer.kl_per_dim, torch.full((3,), 0.5))  # 0.5 * mu^2
    assert float(layer.extra_loss) == pytest.approx(1.5)
    X.requires_grad_(True)
    layer(X).sum().backward()
    assert X.grad[:, :3].abs().sum() > 0 and X.grad[:, 3:].abs().sum() > 0, "the gradient reaches mu and sigma"


def test_free_bits_floor_each_dimensions_kl_and_the_warm_up_raises_beta():
    layer = bottleneck.GaussianLatent(latent_dim=2, free_bits=1.0)
    layer(torch.zeros(1, 4, 3))
    assert float(layer.extra_loss) == pytest.approx(2.0), "KL 0 per dimension counts as the floor, 1 nat each"
    layer = bottleneck.GaussianLatent(latent_dim=2, beta=0.5, warmup_steps=4)
    X = torch.cat([torch.ones(1, 2, 3), torch.zeros(1, 2, 3)], dim=1)  # KL 0.5 nat per dimension
    loss_l = [float(layer(X).sum() * 0 + layer.extra_loss) for _ in range(6)]
    assert loss_l == pytest.approx([0.125, 0.25, 0.375, 0.5, 0.5, 0.5])
    layer.eval()
    layer.n_step.zero_()
    layer(X)
    assert float(layer.extra_loss) == pytest.approx(0.5), "validation: the full beta, warm-up or not"


def test_vector_quantisation_picks_the_nearest_code_and_passes_the_gradient_straight_through():
    layer = bottleneck.VectorQuantize(latent_dim=2, codebook_size=3, kmeans_init=False)
    with torch.no_grad():
        layer.codebook[0] = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X = torch.tensor([[[1.0, 9.0], [0.5, 1.0]]], requires_grad=True)  # vectors (1, 0.5) and (9, 1): (B, D, T)
    layer.train()
    Y = layer(X)
    assert torch.equal(Y.detach(), torch.tensor([[[0.0, 10.0], [0.0, 0.0]]]))
    assert layer.codes.tolist() == [[[0, 1]]]
    (Y * torch.arange(4.0).reshape(1, 2, 2)).sum().backward()
    assert torch.equal(X.grad, torch.arange(4.0).reshape(1, 2, 2)), "straight through: the output's gradient"
    expected = (1.0 + 0.25 + 1.0 + 1.0) / 4  # codebook loss: mean squared distance to the codes
    assert float(layer.extra_loss.detach()) == pytest.approx(expected * 1.25)


def test_a_residual_quantiser_codes_what_the_previous_codebooks_left():
    torch.manual_seed(0)
    layer = bottleneck.VectorQuantize(latent_dim=4, codebook_size=16, n_codebook=3)
    X = torch.randn(8, 4, 32)
    layer.train()
    layer(X)  # k-means on the first training batch, codebook after codebook
    layer.eval()
    error_l = []
    for depth in (1, 2, 3):
        layer.n_active = depth
        Y = layer(X)
        assert layer.codes.shape == (depth, 8, 32)
        assert torch.allclose(layer.decode_codes(layer.codes), Y, atol=1e-5)
        error_l.append(float((Y - X).pow(2).mean()))
    assert error_l[0] > error_l[1] > error_l[2], error_l
    assert layer.bits_per_vector == 3 * 4
    layer.n_active = 4
    with pytest.raises(ValueError, match="n_active is 4: use 1 to n_codebook"):
        layer(X)


def test_kmeans_init_and_dead_code_expiry_keep_the_codes_in_use():
    torch.manual_seed(0)
    X = torch.randn(16, 2, 64) * 0.1 + 5.0  # far from the N(0, 1) codes: without the tricks, one code takes all
    usage_d = {}
    for tricks in (False, True):
        layer = bottleneck.VectorQuantize(latent_dim=2, codebook_size=32, kmeans_init=tricks,
                                          expire_after=2 if tricks else 0)
        layer.train()
        for _ in range(3):
            layer(X)
        layer.eval()
        layer(X)
        usage_d[tricks] = bottleneck.code_usage(layer.codes, 32)
    assert usage_d[False] < 0.1 and usage_d[True] > 0.9, usage_d


def test_perplexity_and_usage_of_a_codebook():
    assert bottleneck.perplexity(torch.tensor([3, 3, 3]), 8) == pytest.approx(1.0)
    assert bottleneck.perplexity(torch.arange(8).repeat(5), 8) == pytest.approx(8.0)
    assert bottleneck.perplexity(torch.tensor([0, 0, 1, 1]), 4) == pytest.approx(2.0)
    assert bottleneck.code_usage(torch.tensor([0, 1, 1, 5]), 8) == pytest.approx(3 / 8)


def test_kmeans_finds_separated_clusters():
    torch.manual_seed(0)
    centre_m = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    vector_m = centre_m.repeat(50, 1) + 0.1 * torch.randn(150, 2)
    found_m = bottleneck.kmeans(vector_m, 3, n_iter=20)
    assert torch.cdist(found_m, centre_m).min(dim=0).values.max() < 0.2
    assert bottleneck.kmeans(vector_m[:2], 5).shape == (5, 2), "fewer vectors than codes: drawn again"


@pytest.mark.parametrize("spec, latent_channels, fragment", [
    (["VectorQuantize", {"latent_dim": 8, "codebook_size": 0}], 8, "codebook_size (codes per codebook) must be a whole "
                                                                   "number >= 2, got 0"),
    (["VectorQuantize", {"latent_dim": 8, "codebook_size": 16, "n_codebook": 0}], 8, "n_codebook must be"),
    (["VectorQuantize", {"latent_dim": 8, "codebook_size": 16.5}], 8, "got 16.5"),
    (["VectorQuantize", {"latent_dim": 8, "codebook_size": 16, "kmeans_init": "yes"}], 8, "true or false"),
    (["VectorQuantize", {"latent_dim": 8, "codebook_size": 16, "commitment": -0.5}], 8, "commitment must be a number"),
    (["VectorQuantize", {"latent_dim": 16, "codebook_size": 16}], 8,
     "VectorQuantize expects 16 channels on axis 1 and got a tensor of shape [1, 8, 5]"),
    (["VectorQuantize", {"latent_dim": -1, "codebook_size": 16}], 8, "'latent_dim: -1' cannot be inferred"),
    (["VectorQuantize", {"latent_dim": 8, "codebook_sise": 16}], 8, "Did you mean 'codebook_size'?"),
    (["GaussianLatent", {"latent_dim": 8}], 8, "2 x latent_dim (8); set the encoder's last out_channels to 16 or "
                                               "latent_dim to 4"),
    (["GaussianLatent", {"latent_dim": 0}], 16, "latent_dim must be a whole number >= 1"),
    (["GaussianLatent", {"latent_dim": 4, "free_bits": -0.1}], 8, "free_bits (nats per dimension) must be a number"),
    (["GaussianLatent", {"latent_dim": 4, "warmup_steps": 2.5}], 8, "warmup_steps (training batches; 0: none) must be"),
])
def test_bad_bottleneck_values_are_refused_with_the_layer_path(spec, latent_channels, fragment):
    with pytest.raises(ConfigError) as error:
        model_factory.NetModel(_model(spec, latent_channels), [2, 6, 5])
    assert "block_l[0].sequential_l[0].layer_l[1]" in str(error.value)
    assert fragment in str(error.value)


def test_the_bottlenecks_build_from_yaml():
    for spec, latent_channels in ((["VectorQuantize", {"latent_dim": 8, "codebook_size": 16, "n_codebook": 2}], 8),
                                  (["GaussianLatent", {"latent_dim": 4, "free_bits": 0.1}], 8)):
        model = model_factory.NetModel(_model(spec, latent_channels), [2, 6, 5])
        assert model(torch.randn(3, 6, 5)).shape == (3, 6, 5)
    assert {"GaussianLatent", "VectorQuantize"} <= set(model_factory.layer_types())
