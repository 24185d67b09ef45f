"""Solutions of the exercises of notebooks/11_generation.ipynb."""

import numpy as np
import scipy.linalg
import torch


def causal_mask(n_step):
    """The additive attention mask (n_step, n_step): 0 where step i may attend to step j (j <= i), -inf where j is in
    its future."""
    future_m = torch.ones(n_step, n_step, dtype=torch.bool).triu(diagonal=1)  # True strictly above the diagonal
    return torch.zeros(n_step, n_step).masked_fill(future_m, float("-inf"))


def sample_next_token(logit_m, temperature, top_k, generator):
    """One token per row of logit_m (B, V): drawn from softmax(logit_m / temperature) among the top_k largest logits
    only (top_k None: among all the tokens). Returns a long tensor (B,)."""
    scaled_m = logit_m / temperature  # a temperature below 1 sharpens the distribution, above 1 flattens it
    if top_k is not None:
        kth_v = scaled_m.topk(top_k, dim=-1).values[:, -1:]  # (B, 1): the k-th largest logit of each row
        scaled_m = scaled_m.masked_fill(scaled_m < kth_v, float("-inf"))  # the others get probability 0
    probability_m = torch.softmax(scaled_m, dim=-1)  # renormalised over the kept tokens
    return torch.multinomial(probability_m, 1, generator=generator)[:, 0]  # one draw per row: (B, 1) -> (B,)


def flow_path(data, noise, t):
    """The point x_t of the straight path from noise (t = 0) to data (t = 1), and its velocity: returns (x_t,
    velocity), both shaped like data (B, C, T); t has shape (B,)."""
    t = t.reshape(-1, 1, 1)  # one time per item of the batch, broadcast over its channels and frames
    x_t = (1 - t) * noise + t * data
    return x_t, data - noise  # the velocity dx_t/dt is the same at every t


def frechet_distance(mu_a, cov_a, mu_b, cov_b):
    """The Fréchet distance of N(mu_a, cov_a) and N(mu_b, cov_b): ||mu_a - mu_b||^2 + Tr(cov_a + cov_b - 2 (cov_a
    cov_b)^(1/2)), a float."""
    root_m = scipy.linalg.sqrtm(cov_a @ cov_b).real  # the matrix square root; round-off leaves tiny imaginary parts
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * root_m))
