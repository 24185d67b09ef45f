"""Exercises of notebooks/10_autoencoders.ipynb, with their checkers; solutions in solutions/."""

import math

import numpy as np
import torch

from course_utils import bottleneck
from course_utils.exercises.checking import Wrong, as_float, call, exercise


def _tensor_answer(value, what, shape):
    if not torch.is_tensor(value):
        raise Wrong(f"{what}: return a tensor (the loss is back-propagated), not {type(value).__name__}")
    if tuple(value.shape) != tuple(shape):
        raise Wrong(f"{what} has shape {tuple(value.shape)}, expected {tuple(shape)}")
    return value


# --- 10.1 the reparameterisation trick ---------------------------------------------------------------------------


@exercise("10.1", "10_autoencoders", "the reparameterisation trick", "reparameterise",
          "write reparameterise(mu, logvar): mu and logvar (same shape) are the mean and the log-variance "
          "log(sigma^2) of a Gaussian per element. Return one sample z of N(mu, sigma^2) per element, computed so that "
          "the gradient reaches mu and logvar: all the randomness in a standard normal noise eps, z a function of mu, "
          "sigma and eps.",
          ["Sampling is not differentiable, but a shift and a scale are: draw the noise from N(0, 1), which has no "
           "parameter, then move it to mean mu and standard deviation sigma.",
           "logvar is the log of the variance: sigma is the exponential of half of it.",
           "torch.randn_like(mu) gives one standard normal number per element of mu."],
          forbidden_l=[bottleneck.GaussianLatent.forward, torch.distributions.Normal.rsample])
def _check_reparameterise(reparameterise):
    mu = torch.tensor([2.0, -1.0]).repeat_interleave(6000).reshape(2, 6000)
    logvar = torch.tensor([math.log(0.25), math.log(4.0)]).repeat_interleave(6000).reshape(2, 6000)
    mu.requires_grad_(True)
    logvar.requires_grad_(True)
    z = _tensor_answer(call(reparameterise, mu, logvar, copy_arguments=False), "your sample", (2, 6000))
    if torch.allclose(z.detach(), mu.detach()):
        raise Wrong("your sample is mu itself: no noise was added (that is what the model gives in evaluation, not "
                    "a sample)")
    if not z.requires_grad:
        raise Wrong("your sample carries no gradient: drawn by a sampler (torch.normal, Normal(...).sample()), it "
                    "has no path back to mu and logvar. Write z as mu plus sigma times a noise drawn apart")
    mu_grad, logvar_grad = torch.autograd.grad(z.sum(), (mu, logvar), allow_unused=True)
    if mu_grad is None or logvar_grad is None or not torch.allclose(mu_grad, torch.ones_like(mu)) \
            or logvar_grad.abs().sum() == 0:
        raise Wrong("the gradient does not reach mu and logvar as it should (dz/dmu must be 1 and dz/dlogvar "
                    "non-zero): a sampler such as torch.normal gives them a zero gradient. Write z = mu + sigma * eps "
                    "with eps drawn apart")
    _check_sample_statistics(z.detach(), mu.detach())
    if torch.equal(z.detach(), call(reparameterise, mu.detach(), logvar.detach()).detach()):
        raise Wrong("two calls gave the same sample: draw a new noise at each call (no torch.manual_seed inside)")
    return "samples of N(mu, exp(logvar)) for two Gaussians (12,000 draws), with dz/dmu = 1 and a gradient to logvar."


def _check_sample_statistics(z, mu):
    """Wrong with the mistake named, if the rows of z (draws of N(2, 0.5^2) and N(-1, 2^2)) are not such draws."""
    if not torch.isfinite(z).all():
        raise Wrong("your sample holds NaN or inf: sigma is exp(logvar / 2), always > 0 (the square root of a "
                    "log-variance, which can be negative, is NaN)")
    mean_v, std_v = z.mean(dim=1), z.std(dim=1)
    expected_std_v = torch.tensor([0.5, 2.0])
    if std_v.max() < 1e-6 or (z - mu).std(dim=1).max() < 1e-6:
        raise Wrong("every element moved by the same amount: one noise value was shared by all; draw one eps per "
                    "element (torch.randn_like(mu))")
    noise_m = (z - mu) / torch.tensor([[0.5], [2.0]])  # each row's noise, standardised: independent draws
    if torch.corrcoef(noise_m)[0, 1].abs() > 0.2:
        raise Wrong("the two rows (two Gaussians) got the same noise: one eps per element, not one per column "
                    "shared by the rows (torch.randn_like(mu), the shape of mu)")
    for wrong_std_v, why in ((torch.tensor([0.25, 4.0]), "sigma is exp(logvar / 2): you used exp(logvar), the "
                                                          "variance, as the standard deviation"),
                             (torch.tensor([math.log(4.0), math.log(4.0)]), "logvar is the log of the variance, not "
                                                                            "the standard deviation: sigma = "
                                                                            "exp(logvar / 2)"),
                             (torch.tensor([0.0625, 16.0]), "you squared the variance: sigma = exp(logvar / 2)")):
        if torch.allclose(std_v, wrong_std_v, rtol=0.08) and not torch.allclose(wrong_std_v, expected_std_v):
            raise Wrong(f"the samples of N(2, 0.5^2) and N(-1, 2^2) have standard deviations "
                        f"{std_v[0]:.3f} and {std_v[1]:.3f}: {why}")
    uniform_mean_v = mu[:, 0] + 0.5 * expected_std_v
    if torch.allclose(mean_v, uniform_mean_v, atol=0.08) and torch.allclose(std_v, expected_std_v / 12**0.5, rtol=0.1):
        raise Wrong("your noise is uniform in [0, 1) (torch.rand_like): draw eps from the standard normal "
                    "(torch.randn_like)")
    if not torch.allclose(mean_v, mu[:, 0], atol=0.1) or not torch.allclose(std_v, expected_std_v, rtol=0.06):
        raise Wrong(f"draws of N(2, 0.5^2) and N(-1, 2^2) should have means 2 and -1 and standard deviations 0.5 and "
                    f"2; yours have means {mean_v[0]:.3f} and {mean_v[1]:.3f}, standard deviations {std_v[0]:.3f} and "
                    f"{std_v[1]:.3f}")


# --- 10.2 the KL divergence of a diagonal Gaussian ------------------------------------------------------------------


@exercise("10.2", "10_autoencoders", "the KL divergence of a diagonal Gaussian by hand", "kl_to_standard_normal",
          "write kl_to_standard_normal(mu, logvar): mu and logvar (B, D) describe one diagonal Gaussian "
          "N(mu, exp(logvar)) per item of the batch. Return its KL divergence to the prior N(0, I) in nats, summed "
          "over the D latent dimensions and averaged over the B items: a 0-d tensor.",
          ["For one dimension, KL(N(m, s^2) || N(0, 1)) has a closed form in m, s^2 and log(s^2): no sampling.",
           "Per dimension it is one half of (m^2 + s^2 - 1 - log s^2): 0 when m = 0 and s = 1. Here s^2 is "
           "exp(logvar).",
           "Sum the (B, D) terms over dim=1 (the dimensions of one latent vector), then take the mean over the batch."],
          forbidden_l=[bottleneck.kl_divergence_per_dim, torch.distributions.kl.kl_divergence])
def _check_kl(kl_to_standard_normal):
    generator = torch.Generator().manual_seed(10)
    for shape in ((4, 3), (2, 5), (6, 1)):
        mu = torch.randn(shape, generator=generator)
        logvar = torch.randn(shape, generator=generator)
        answer = call(kl_to_standard_normal, mu, logvar)
        where = f"for mu and logvar of shape {shape}"
        if not torch.is_tensor(answer):
            raise Wrong(f"{where} return a tensor (the KL is a term of the loss, back-propagated), not "
                        f"{type(answer).__name__}")
        if answer.dim() != 0:
            raise Wrong(f"{where} your KL has shape {tuple(answer.shape)}: sum over the latent dimensions (dim=1) and "
                        "average over the batch, to a 0-d tensor")
        value = as_float(answer, "the KL")
        expected = float(_kl_terms(mu, logvar).sum(dim=1).mean())
        for wrong, why in _kl_mistakes(mu, logvar):
            if np.isclose(value, wrong, rtol=1e-4) and not np.isclose(wrong, expected, rtol=1e-4):
                raise Wrong(f"{where} {why} (expected {expected:.4f}, got {value:.4f})")
        if not np.isclose(value, expected, rtol=1e-4):
            raise Wrong(f"{where} you gave {value:.4f}, expected {expected:.4f}")
    if float(call(kl_to_standard_normal, torch.zeros(3, 4), torch.zeros(3, 4))) != 0.0:
        raise Wrong("the KL of N(0, I) to itself must be 0")
    return "the closed-form KL to N(0, I) for 3 batches, and 0 for the prior itself."


def _kl_terms(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar)


def _kl_mistakes(mu, logvar):
    """(value, why) of the usual wrong versions."""
    terms = _kl_terms(mu, logvar)
    return [(float(v), why) for v, why in (
        (2 * terms.sum(dim=1).mean(), "you left out the factor one half"),
        (terms.mean(), "you averaged over the latent dimensions too: sum over them (the KL of a vector is the sum of "
                       "its dimensions'), average over the batch only"),
        (terms.sum(), "you summed over the batch too: average over the items, sum over the dimensions only"),
        (terms.sum(dim=0).mean(), "you summed over the batch (dim=0) and averaged over the dimensions: the other "
                                  "way round"),
        ((0.5 * (mu**2 + logvar.exp() - 1 + logvar)).sum(dim=1).mean(), "the sign of the log-variance term: it is "
                                                                         "minus log(sigma^2)"),
        ((0.5 * (mu**2 + logvar.exp() - logvar)).sum(dim=1).mean(), "you left out the -1 (the KL of the prior to "
                                                                    "itself must be 0)"),
        ((0.5 * (mu**2 + (2 * logvar).exp() - 1 - logvar)).sum(dim=1).mean(), "exp(logvar) is already the variance: "
                                                                               "you squared it"),
        ((0.5 * (mu**2 + (0.5 * logvar).exp() - 1 - logvar)).sum(dim=1).mean(), "the term is the variance "
                                                                                 "exp(logvar), not the standard "
                                                                                 "deviation exp(logvar / 2)"),
        ((0.5 * (mu + logvar.exp() - 1 - logvar)).sum(dim=1).mean(), "the mean enters squared: mu^2"),
        ((0.5 * ((-logvar).exp() * (1 + mu**2) - 1 + logvar)).sum(dim=1).mean(), "that is KL(prior || posterior), "
                                                                                  "the other direction: the VAE's "
                                                                                  "term is KL(q || prior)"),
    )]


# --- 10.3 vector quantisation, straight-through, commitment -------------------------------------------------------


@exercise("10.3", "10_autoencoders", "vector quantisation with the straight-through estimator and the commitment loss",
          "quantise",
          "write quantise(z, codebook, beta): z (N, D) are the encoder's vectors, codebook (K, D) the codes. Return "
          "(z_st, loss, index): index (N,) the nearest code of each vector (squared Euclidean distance); z_st (N, D) "
          "with the value of the chosen codes but the gradient of z (the straight-through estimator); loss the "
          "codebook loss, the squared differences between the chosen codes and the vectors held fixed averaged over "
          "every element (as F.mse_loss), plus beta times the commitment loss, the same with the codes held fixed "
          "(a 0-d tensor).",
          ["Nearest code: a (N, K) table of squared distances, and the smallest of each row. Choosing (argmin) has "
           "no gradient: the decoder's gradient must be copied around it.",
           "Hold a tensor fixed with .detach(): z + (something).detach() has the value of z + something and the "
           "gradient of z alone. Choose the something that makes the value the code.",
           "Two losses, the same distance, a different tensor detached in each: the codebook loss moves only the "
           "codes (detach the vectors), the commitment loss moves only the encoder (detach the codes); beta weighs "
           "the commitment loss."],
          forbidden_l=[bottleneck.nearest_code, bottleneck.VectorQuantize.forward])
def _check_quantise(quantise):
    codebook = torch.tensor([[2.0, 2.0], [0.0, 3.0], [-4.0, 0.0], [5.0, -5.0]])
    z = torch.tensor([[0.0, 0.0], [1.5, 1.0], [-3.0, 1.0], [4.0, -4.5], [0.5, 2.5], [-2.5, -0.5]])
    expected_index_v = torch.tensor([0, 0, 2, 3, 1, 2])  # (0, 0): nearest (2, 2) by squared distance, (0, 3) by L1
    z_in, codebook_in = z.clone().requires_grad_(True), codebook.clone().requires_grad_(True)
    answer = call(quantise, z_in, codebook_in, 0.25, copy_arguments=False)
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        raise Wrong("return three things: (z_st, loss, index)")
    z_st, loss, index_v = answer
    _check_index(torch.as_tensor(index_v), z, codebook, expected_index_v)
    z_st = _tensor_answer(z_st, "z_st", z.shape)
    if not torch.allclose(z_st.detach(), codebook[expected_index_v]):
        raise Wrong("z_st must have the value of the chosen codes (codebook[index]); "
                    + ("yours is z itself: the straight-through output is z + (z_q - z).detach(), not "
                       "z_q - (z_q - z).detach()" if torch.allclose(z_st.detach(), z) else "yours differs"))
    _check_straight_through(z_st, z_in, codebook_in)
    loss = _tensor_answer(loss, "the loss", ())
    _check_vq_loss(loss, z_in, codebook_in, codebook[expected_index_v] - z, 0.25, expected_index_v)
    return ("nearest codes by squared distance, the straight-through gradient, and the codebook and commitment losses "
            "with the right tensor held fixed in each.")


def _check_index(index_v, z, codebook, expected_index_v):
    if tuple(index_v.shape) != (len(z),):
        raise Wrong(f"index has shape {tuple(index_v.shape)}, expected ({len(z)},): one code per vector (the distance "
                    "table is (N, K): take the argmin over the codes, dim=1)")
    if torch.equal(index_v, torch.cdist(z, codebook).argmax(dim=1)):
        raise Wrong("you chose the farthest code (argmax): the nearest is the argmin of the distances")
    if torch.equal(index_v, torch.cdist(z, codebook, p=1).argmin(dim=1)):
        raise Wrong("the vector (0, 0) got code (0, 3), its nearest by the sum of absolute differences: use the "
                    "squared Euclidean distance, under which (2, 2) is nearer")
    if not torch.equal(index_v.long(), expected_index_v):
        raise Wrong(f"the nearest codes are {expected_index_v.tolist()}, you gave {index_v.tolist()}")


def _check_straight_through(z_st, z_in, codebook_in):
    upstream = torch.arange(float(z_st.numel())).reshape(z_st.shape)
    z_grad, codebook_grad = torch.autograd.grad(z_st, (z_in, codebook_in), upstream, retain_graph=True,
                                                allow_unused=True)
    if z_grad is None or not torch.allclose(z_grad, upstream):
        raise Wrong("the gradient of z_st does not reach z unchanged: the decoder's gradient must be copied straight "
                    "through the quantiser to the encoder (z + (z_q - z).detach())"
                    + ("; yours is codebook[index], whose gradient goes to the codes only"
                       if codebook_grad is not None and codebook_grad.abs().sum() > 0 else ""))
    if codebook_grad is not None and codebook_grad.abs().sum() > 0:
        raise Wrong("the gradient of z_st also reaches the codebook: the output's gradient goes to the encoder only; "
                    "the codes learn from the codebook loss")


def _check_vq_loss(loss, z_in, codebook_in, difference_m, beta, index_v):
    distance = float(difference_m.pow(2).mean())
    value = float(loss.detach())
    for wrong, why in ((distance, "your loss has no commitment term (or no codebook term): add beta times the "
                                  "commitment loss to the codebook loss"),
                       (beta * distance, "your loss is the commitment term alone: the codes also need the codebook "
                                         "loss"),
                       ((1 + beta) * float(difference_m.pow(2).sum()), "you summed the squared distances: take their "
                                                                        "mean"),
                       ((1 + beta) * float(difference_m.pow(2).sum(dim=1).mean()),
                        "you summed over the D dimensions of each vector (the squared norm of the VQ-VAE paper), then "
                        "averaged over the vectors: this exercise asks for the mean over every element, as "
                        "F.mse_loss gives"),
                       ((1 + beta) * float(difference_m.norm(dim=1).mean()), "you took the distance, not its square")):
        if np.isclose(value, wrong, rtol=1e-4):
            raise Wrong(f"{why} (expected {(1 + beta) * distance:.4f}, got {value:.4f})")
    if not np.isclose(value, (1 + beta) * distance, rtol=1e-4):
        raise Wrong(f"the loss should be {(1 + beta) * distance:.4f} (codebook + beta x commitment), got {value:.4f}")
    z_grad, codebook_grad = torch.autograd.grad(loss, (z_in, codebook_in), allow_unused=True)
    z_grad = torch.zeros_like(z_in) if z_grad is None else z_grad
    codebook_grad = torch.zeros_like(codebook_in) if codebook_grad is None else codebook_grad
    expected_z_grad = -2 * beta * difference_m / difference_m.numel()
    if torch.allclose(z_grad, -2 * (1 + beta) * difference_m / difference_m.numel()):
        raise Wrong("the whole loss moves the encoder: in the codebook loss, hold the vectors fixed (z.detach()), and "
                    "in the commitment loss the codes (z_q.detach())")
    if torch.allclose(z_grad, expected_z_grad / beta):
        raise Wrong("beta weighs the wrong term: the commitment loss (the codes held fixed) gets beta, the codebook "
                    "loss does not")
    if not torch.allclose(z_grad, expected_z_grad, atol=1e-6):
        raise Wrong("the loss's gradient to z is not beta times that of the commitment loss: detach the codes in the "
                    "commitment loss and the vectors in the codebook loss")
    if codebook_grad.abs().sum() == 0:
        raise Wrong("the loss does not move the codes: in the codebook loss, detach the vectors, not the codes")
    expected_codebook_grad = torch.zeros_like(codebook_in).index_add_(
        0, index_v, 2 * difference_m / difference_m.numel())
    if torch.allclose(codebook_grad, (1 + beta) * expected_codebook_grad):
        raise Wrong("the commitment loss also moves the codes: hold the codes fixed in it (z_q.detach()); only the "
                    "codebook loss moves them")
    if not torch.allclose(codebook_grad, expected_codebook_grad, atol=1e-6):
        raise Wrong("the loss's gradient to the codes is not that of the codebook loss alone: detach the vectors in "
                    "the codebook loss and the codes in the commitment loss")


# --- 10.4 codebook usage: the perplexity -----------------------------------------------------------------------


@exercise("10.4", "10_autoencoders", "codebook usage (perplexity) by hand", "codebook_perplexity",
          "write codebook_perplexity(index_v, codebook_size): index_v holds the code chosen for each vector (int64, "
          "any shape), codebook_size the number of codes. Return the perplexity of the codes' frequencies, exp of "
          "their entropy in nats, a number: 1 when one code is used for everything, codebook_size when all are used "
          "equally.",
          ["Count how often each code is chosen (unused codes count 0), and turn the counts into frequencies that add "
           "up to 1.",
           "The entropy is minus the sum of p log p over the codes; an unused code contributes 0 (0 log 0 is taken as "
           "0, but computing it gives NaN).",
           "torch.bincount(index_v.flatten(), minlength=codebook_size) gives the counts."],
          forbidden_l=[bottleneck.perplexity])
def _check_perplexity(codebook_perplexity):
    case_l = [(torch.tensor([5, 5, 5, 9]), 10, "codes 5, 5, 5, 9 of 10"),
              (torch.tensor([[0, 0], [1, 2]]), 16, "codes 0, 0, 1, 2 of 16"),
              (torch.arange(8).repeat(3), 8, "8 codes used equally"), (torch.full((5,), 3), 8, "one code for all")]
    for index_v, size, what in case_l:
        value = as_float(call(codebook_perplexity, index_v, size), "the perplexity")
        count_v = torch.bincount(index_v.flatten(), minlength=size).double()
        p_v = count_v[count_v > 0] / count_v.sum()
        entropy = float(-(p_v * p_v.log()).sum())
        expected = math.exp(entropy)
        if math.isnan(value):
            raise Wrong(f"for {what} you gave NaN: an unused code has p = 0, and 0 * log 0 is NaN in floating point; "
                        "leave the unused codes out of the sum (their term is 0)")
        for wrong, why in ((entropy, "you returned the entropy: the perplexity is exp of it"),
                           (entropy / math.log(2), "you returned the entropy in bits: the perplexity is 2 to its power "
                                                   "(or exp of the entropy in nats)"),
                           (math.exp(entropy / math.log(2)), "you took exp of the entropy in bits: use one base, "
                                                             "exp of nats or 2 to the bits"),
                           (float(len(p_v)), "you counted the codes used: the perplexity weighs them by how often "
                                             "they are chosen"),
                           (len(p_v) / size, "you gave the share of the codes used, not the perplexity"),
                           (expected / size, "you divided by the codebook size: the perplexity is a number of codes"),
                           (math.exp(float(-(count_v[count_v > 0] * count_v[count_v > 0].log()).sum())),
                            "you used the counts: divide them by their sum, the frequencies")):
            if np.isclose(value, wrong, rtol=1e-4) and not np.isclose(wrong, expected, rtol=1e-4):
                raise Wrong(f"for {what} ({why}) you gave {value:.4f}, expected {expected:.4f}")
        if not np.isclose(value, expected, rtol=1e-4):
            raise Wrong(f"for {what} you gave {value:.4f}, expected {expected:.4f}")
    return "the perplexity of 4 sets of codes: all used equally, one for all, and two uneven ones."
