"""Wrong answers to the exercises of notebook 10 (auto-encoders): each is rejected ("not yet") with a message that names
the mistake.

``WRONG_ANSWER_L``: (exercise id, the mistake, the answer as a student would write it, fragments the checker's message
must hold)."""

import math

import pytest
import torch

from course_utils import bottleneck, exercises

pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

# --- 10.1: the reparameterisation trick


def _sample_variance_as_sigma(mu, logvar):
    return mu + torch.exp(logvar) * torch.randn_like(mu)


def _sample_logvar_as_sigma(mu, logvar):
    return mu + logvar * torch.randn_like(mu)


def _sample_torch_normal(mu, logvar):
    return torch.normal(mu, torch.exp(0.5 * logvar))


def _sample_distribution(mu, logvar):
    return torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).sample()


def _sample_no_noise(mu, logvar):
    return mu + 0 * logvar


def _sample_one_eps(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn(())


def _sample_eps_shared_by_rows(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape[-1])  # one eps per column, the same for every row


def _sample_uniform(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.rand_like(mu)


def _sample_sqrt_logvar(mu, logvar):
    return mu + torch.sqrt(logvar) * torch.randn_like(mu)


def _sample_seeded(mu, logvar):
    torch.manual_seed(0)
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def _sample_rsample(mu, logvar):
    return torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).rsample()


def _sample_package(mu, logvar):
    return bottleneck.GaussianLatent(latent_dim=mu.shape[1])(torch.cat([mu, logvar], dim=1))


# --- 10.2: the KL divergence of a diagonal Gaussian


def _kl_terms(mu, logvar):
    return 0.5 * (mu**2 + torch.exp(logvar) - 1 - logvar)


def _kl_no_half(mu, logvar):
    return 2 * _kl_terms(mu, logvar).sum(dim=1).mean()


def _kl_mean_over_dims(mu, logvar):
    return _kl_terms(mu, logvar).mean()


def _kl_sum_over_batch(mu, logvar):
    return _kl_terms(mu, logvar).sum()


def _kl_plus_logvar(mu, logvar):
    return (0.5 * (mu**2 + torch.exp(logvar) - 1 + logvar)).sum(dim=1).mean()


def _kl_no_minus_one(mu, logvar):
    return (0.5 * (mu**2 + torch.exp(logvar) - logvar)).sum(dim=1).mean()


def _kl_variance_squared(mu, logvar):
    return (0.5 * (mu**2 + torch.exp(logvar) ** 2 - 1 - logvar)).sum(dim=1).mean()


def _kl_std_for_variance(mu, logvar):
    return (0.5 * (mu**2 + torch.exp(0.5 * logvar) - 1 - logvar)).sum(dim=1).mean()


def _kl_reverse(mu, logvar):
    return (0.5 * (torch.exp(-logvar) * (1 + mu**2) - 1 + logvar)).sum(dim=1).mean()


def _kl_per_item(mu, logvar):
    return _kl_terms(mu, logvar).sum(dim=1)


def _kl_float(mu, logvar):
    return float(_kl_terms(mu, logvar).sum(dim=1).mean())


def _kl_package(mu, logvar):
    return bottleneck.kl_divergence_per_dim(mu, logvar).sum()


# --- 10.3: vector quantisation


def _nearest(z, codebook):
    return (torch.cdist(z, codebook) ** 2).argmin(dim=1)


def _vq(z, codebook, beta, index_v=None, output=None, loss=None):
    index_v = _nearest(z, codebook) if index_v is None else index_v
    z_q = codebook[index_v]
    default_loss = torch.mean((z_q - z.detach()) ** 2) + beta * torch.mean((z - z_q.detach()) ** 2)
    return (z + (z_q - z).detach() if output is None else output(z, z_q),
            default_loss if loss is None else loss(z, z_q), index_v)


def _vq_farthest(z, codebook, beta):
    return _vq(z, codebook, beta, index_v=torch.cdist(z, codebook).argmax(dim=1))


def _vq_l1(z, codebook, beta):
    return _vq(z, codebook, beta, index_v=torch.cdist(z, codebook, p=1).argmin(dim=1))


def _vq_index_kept_dim(z, codebook, beta):
    index_v = torch.cdist(z, codebook).argmin(dim=1, keepdim=True)
    return _vq(z, codebook, beta, index_v=index_v[:, 0])[:2] + (index_v,)


def _vq_no_straight_through(z, codebook, beta):
    return _vq(z, codebook, beta, output=lambda z, z_q: z_q)


def _vq_straight_through_backwards(z, codebook, beta):
    return _vq(z, codebook, beta, output=lambda z, z_q: z_q - (z_q - z).detach())


def _vq_no_stop_gradient(z, codebook, beta):
    return _vq(z, codebook, beta, loss=lambda z, z_q: (1 + beta) * torch.mean((z_q - z) ** 2))


def _vq_beta_on_codebook(z, codebook, beta):
    return _vq(z, codebook, beta, loss=lambda z, z_q: beta * torch.mean((z_q - z.detach()) ** 2)
               + torch.mean((z - z_q.detach()) ** 2))


def _vq_commitment_only(z, codebook, beta):
    return _vq(z, codebook, beta, loss=lambda z, z_q: beta * torch.mean((z - z_q.detach()) ** 2))


def _vq_sum(z, codebook, beta):
    return _vq(z, codebook, beta, loss=lambda z, z_q: torch.sum((z_q - z.detach()) ** 2)
               + beta * torch.sum((z - z_q.detach()) ** 2))


def _vq_codes_detached_in_both(z, codebook, beta):
    return _vq(z, codebook, beta, loss=lambda z, z_q: (1 + beta) * torch.mean((z - z_q.detach()) ** 2))


def _vq_codes_not_detached_in_commitment(z, codebook, beta):
    return _vq(z, codebook, beta, loss=lambda z, z_q: torch.mean((z_q - z.detach()) ** 2)
               + beta * torch.mean((z - z_q) ** 2))


def _vq_squared_norm_per_vector(z, codebook, beta):
    return _vq(z, codebook, beta, loss=lambda z, z_q: ((z_q - z.detach()) ** 2).sum(dim=1).mean()
               + beta * ((z - z_q.detach()) ** 2).sum(dim=1).mean())


def _vq_package(z, codebook, beta):
    return _vq(z, codebook, beta, index_v=bottleneck.nearest_code(z, codebook))


# --- 10.4: the perplexity


def _frequencies(index_v, size):
    count_v = torch.bincount(index_v.flatten(), minlength=size).double()
    return count_v / count_v.sum()


def _perplexity_entropy(index_v, size):
    p_v = _frequencies(index_v, size)
    p_v = p_v[p_v > 0]
    return float(-(p_v * p_v.log()).sum())


def _perplexity_bits(index_v, size):
    return _perplexity_entropy(index_v, size) / math.log(2)


def _perplexity_exp_of_bits(index_v, size):
    return math.exp(_perplexity_bits(index_v, size))


def _perplexity_codes_used(index_v, size):
    return len(torch.unique(index_v))


def _perplexity_share_used(index_v, size):
    return len(torch.unique(index_v)) / size


def _perplexity_zero_terms_kept(index_v, size):
    p_v = _frequencies(index_v, size)
    return float(torch.exp(-(p_v * p_v.log()).sum()))


def _perplexity_counts(index_v, size):
    count_v = torch.bincount(index_v.flatten(), minlength=size).double()
    count_v = count_v[count_v > 0]
    return float(torch.exp(-(count_v * count_v.log()).sum()))


def _perplexity_normalised(index_v, size):
    return math.exp(_perplexity_entropy(index_v, size)) / size


def _perplexity_package(index_v, size):
    return bottleneck.perplexity(index_v, size)


WRONG_ANSWER_L = [
    ("10.1", "the variance as sigma", _sample_variance_as_sigma, ["exp(logvar), the variance"]),
    ("10.1", "logvar as sigma", _sample_logvar_as_sigma, ["not the standard deviation"]),
    ("10.1", "torch.normal: no gradient", _sample_torch_normal, ["gradient does not reach mu"]),
    ("10.1", "a sampler without gradient", _sample_distribution, ["carries no gradient"]),
    ("10.1", "no noise", _sample_no_noise, ["no noise"]),
    ("10.1", "one eps for every element", _sample_one_eps, ["one eps per element"]),
    ("10.1", "one eps per column, shared by the rows", _sample_eps_shared_by_rows, ["the same noise",
                                                                                     "one eps per element"]),
    ("10.1", "uniform noise", _sample_uniform, ["uniform", "torch.randn_like"]),
    ("10.1", "the square root of logvar", _sample_sqrt_logvar, ["NaN", "exp(logvar / 2)"]),
    ("10.1", "seeded inside", _sample_seeded, ["the same sample"]),
    ("10.1", "torch's ready-made rsample", _sample_rsample, ["torch.distributions.normal.Normal.rsample"]),
    ("10.1", "the package's own layer", _sample_package, ["course_utils.bottleneck.GaussianLatent.forward"]),
    ("10.2", "no factor one half", _kl_no_half, ["one half"]),
    ("10.2", "mean over the dimensions", _kl_mean_over_dims, ["averaged over the latent dimensions"]),
    ("10.2", "sum over the batch", _kl_sum_over_batch, ["summed over the batch"]),
    ("10.2", "+ log-variance", _kl_plus_logvar, ["minus log(sigma^2)"]),
    ("10.2", "the -1 left out", _kl_no_minus_one, ["-1"]),
    ("10.2", "the variance squared", _kl_variance_squared, ["squared it"]),
    ("10.2", "the standard deviation for the variance", _kl_std_for_variance, ["not the standard deviation"]),
    ("10.2", "the other direction", _kl_reverse, ["the other direction"]),
    ("10.2", "one KL per item", _kl_per_item, ["0-d tensor"]),
    ("10.2", "a float for a tensor", _kl_float, ["return a tensor"]),
    ("10.2", "the package's own function", _kl_package, ["course_utils.bottleneck.kl_divergence_per_dim"]),
    ("10.3", "the farthest code", _vq_farthest, ["argmax"]),
    ("10.3", "the L1 distance", _vq_l1, ["squared Euclidean"]),
    ("10.3", "an index of shape (N, 1)", _vq_index_kept_dim, ["one code per vector", "(6, 1)"]),
    ("10.3", "no straight-through", _vq_no_straight_through, ["straight", "to the codes only"]),
    ("10.3", "straight-through the wrong way round", _vq_straight_through_backwards, ["yours is z itself"]),
    ("10.3", "no stop-gradient in the losses", _vq_no_stop_gradient, ["the whole loss moves the encoder"]),
    ("10.3", "beta on the codebook loss", _vq_beta_on_codebook, ["beta weighs the wrong term"]),
    ("10.3", "the commitment loss alone", _vq_commitment_only, ["commitment term alone"]),
    ("10.3", "sum for mean", _vq_sum, ["summed", "mean"]),
    ("10.3", "codes detached in both terms", _vq_codes_detached_in_both, ["the whole loss moves the encoder"]),
    ("10.3", "the codes not held fixed in the commitment loss", _vq_codes_not_detached_in_commitment,
     ["commitment loss also moves the codes"]),
    ("10.3", "the squared norm per vector", _vq_squared_norm_per_vector,
     ["summed over the D dimensions", "F.mse_loss"]),
    ("10.3", "the package's own nearest code", _vq_package, ["course_utils.bottleneck.nearest_code"]),
    ("10.4", "the entropy itself", _perplexity_entropy, ["you returned the entropy: the perplexity is exp"]),
    ("10.4", "the entropy in bits", _perplexity_bits, ["in bits"]),
    ("10.4", "exp of the entropy in bits", _perplexity_exp_of_bits, ["use one base"]),
    ("10.4", "the number of codes used", _perplexity_codes_used, ["counted the codes used"]),
    ("10.4", "the share of codes used", _perplexity_share_used, ["share of the codes used"]),
    ("10.4", "0 log 0 kept", _perplexity_zero_terms_kept, ["NaN", "leave the unused codes out"]),
    ("10.4", "counts for frequencies", _perplexity_counts, ["used the counts"]),
    ("10.4", "divided by the codebook size", _perplexity_normalised, ["divided by the codebook size"]),
    ("10.4", "the package's own function", _perplexity_package, ["course_utils.bottleneck.perplexity"]),
]


@pytest.mark.parametrize("exercise_id, mistake, answer, expected_fragment_l", WRONG_ANSWER_L,
                         ids=[f"{row[0]} {row[1]}" for row in WRONG_ANSWER_L])
def test_a_wrong_answer_is_rejected_naming_the_mistake(exercise_id, mistake, answer, expected_fragment_l):
    result = exercises.evaluate(exercise_id, answer)
    assert result.status == "not yet", f"{mistake}: {result.message}"
    assert "Traceback" not in result.message
    for fragment in expected_fragment_l:
        assert fragment in result.message, f"{mistake}: '{fragment}' not in: {result.message}"


def test_six_or_more_wrong_answers_per_exercise():
    for exercise_id in ("10.1", "10.2", "10.3", "10.4"):
        n_wrong = sum(row[0] == exercise_id for row in WRONG_ANSWER_L)
        assert n_wrong >= 6, f"{exercise_id}: {n_wrong} wrong answers"
