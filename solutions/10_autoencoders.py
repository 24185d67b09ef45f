"""Solutions of the exercises of notebooks/10_autoencoders.ipynb."""

import torch


def reparameterise(mu, logvar):
    """A sample z ~ N(mu, exp(logvar)) through which the gradient reaches mu and logvar: z = mu + sigma * eps."""
    sigma = torch.exp(0.5 * logvar)  # logvar is log(sigma^2): half of it is log(sigma)
    eps = torch.randn_like(mu)  # all the randomness, one draw per element, no gradient needed
    return mu + sigma * eps


def kl_to_standard_normal(mu, logvar):
    """KL( N(mu, exp(logvar)) || N(0, I) ) in nats: summed over the latent dimensions, averaged over the batch."""
    kl_m = 0.5 * (mu**2 + torch.exp(logvar) - 1 - logvar)  # (B, D): one term per dimension
    return kl_m.sum(dim=1).mean()


def quantise(z, codebook, beta):
    """Vector quantisation of z (N, D) with a codebook (K, D): (straight-through output (N, D), codebook loss + beta *
    commitment loss, index of the chosen code (N,))."""
    distance_m = torch.cdist(z, codebook) ** 2  # (N, K) squared distances
    index_v = distance_m.argmin(dim=1)
    z_q = codebook[index_v]
    codebook_loss = torch.mean((z_q - z.detach()) ** 2)  # moves the codes towards the encoder's vectors
    commitment_loss = torch.mean((z - z_q.detach()) ** 2)  # keeps the encoder near its codes
    z_st = z + (z_q - z).detach()  # the value of z_q, the gradient of z
    return z_st, codebook_loss + beta * commitment_loss, index_v


def codebook_perplexity(index_v, codebook_size):
    """exp of the entropy of the codes' frequencies: how many codes are used, counted as if used equally."""
    count_v = torch.bincount(index_v.flatten(), minlength=codebook_size).double()
    p_v = count_v / count_v.sum()
    p_v = p_v[p_v > 0]  # an unused code adds 0 to the entropy (0 log 0 = 0)
    return float(torch.exp(-(p_v * torch.log(p_v)).sum()))
