"""Bottlenecks of auto-encoders, as layers of the YAML vocabulary (``model_factory.COURSE_LAYER_D``):

- ``GaussianLatent``: the bottleneck of a variational auto-encoder (VAE, Kingma and Welling, 2014). Its input holds
  a mean and a log-variance per latent dimension (2 x ``latent_dim`` channels); in training it draws
  ``z = mu + sigma * eps`` (the **reparameterisation trick**: the randomness is in ``eps``, so the gradient flows
  to ``mu`` and ``sigma``), in evaluation it gives ``mu``. It keeps the KL divergence to the prior N(0, I) of its
  last input, per latent dimension (``kl_per_dim``), weighted by ``beta`` with two guards against posterior
  collapse: **KL warm-up** (beta raised from 0) and **free bits** (a floor per dimension below which the KL costs
  nothing);
- ``VectorQuantize``: vector quantisation (VQ-VAE, van den Oord et al., 2017): each latent vector is replaced by the
  nearest of ``codebook_size`` learned codes, the gradient copied straight through, with the codebook and
  commitment losses; with ``n_codebook`` > 1 a **residual** quantiser (SoundStream, Zeghidour et al., 2021): each
  codebook codes what the previous ones left. Two tricks keep every code in use: the codes start as k-means
  centres of latent vectors (``kmeans_init``: several batches by ``codec.initialise_codebooks``, else the first
  training batch), and a code that no vector chose for ``expire_after`` training batches is replaced by a vector
  of the current batch (dead-code expiry).

Both take (B, C, ...) tensors, the channel axis holding the latent vector, and keep what a loss needs in
``extra_loss`` (a tensor, after each forward). ``perplexity`` and ``code_usage`` say how many codes a codebook
really uses. Taught in notebooks/10_autoencoders.ipynb.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def _whole(value, name, minimum):
    """A ValueError unless ``value`` is a whole number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return value


def _nonnegative(value, name):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


def _check_channels(X, expected, layer, hint):
    if X.dim() < 2 or X.shape[1] != expected:
        raise ValueError(f"{layer} expects {expected} channels on axis 1 and got a tensor of shape {list(X.shape)}: "
                         f"{hint}")


def _as_vectors(X):
    """(B, C, ...) -> (N, C): every position's latent vector, and the function that puts (N, C) back."""
    moved = X.movedim(1, -1)
    return moved.reshape(-1, X.shape[1]), lambda vector_m: vector_m.reshape(moved.shape).movedim(-1, 1)


def kl_divergence_per_dim(mu, logvar):
    """KL( N(mu, exp(logvar)) || N(0, 1) ) of each latent dimension, in nats, averaged over every other axis:
    (B, D, ...) tensors -> (D,). Per element: 0.5 * (mu^2 + exp(logvar) - 1 - logvar)."""
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
    return kl.movedim(1, -1).reshape(-1, mu.shape[1]).mean(dim=0)


class GaussianLatent(nn.Module):
    """The VAE's bottleneck: (B, 2 * latent_dim, ...) -> (B, latent_dim, ...). YAML:
    ``[GaussianLatent, {latent_dim: 16, beta: 0.01, warmup_steps: 300, free_bits: 0.05}]``.

    The first ``latent_dim`` channels are the mean, the others the log-variance (clamped to [-10, 10]). Training:
    ``mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)``; evaluation: ``mu``. After each forward: ``mu``,
    ``logvar``, ``kl_per_dim`` (D,) (nats, averaged over the batch and positions) and ``extra_loss`` for the batch
    loss (``codec.reconstruction_batch_loss``): beta times the sum over dimensions of ``max(free_bits, KL_d)``.
    **Free bits**: below ``free_bits`` nats a dimension's KL costs nothing, so the model has no reason to shut it.
    **KL warm-up**: in training, beta grows linearly from 0 to ``beta`` over the first ``warmup_steps`` batches
    (``n_step`` counts them), so the decoder learns to use the latent before the KL squeezes it; in evaluation
    (a validation loss) the KL is always weighed by ``beta``.
    """

    def __init__(self, latent_dim, beta=1.0, warmup_steps=0, free_bits=0.0):
        super().__init__()
        self.latent_dim = _whole(latent_dim, "GaussianLatent latent_dim", 1)
        self.beta = _nonnegative(beta, "GaussianLatent beta (the weight of the KL)")
        self.warmup_steps = _whole(warmup_steps, "GaussianLatent warmup_steps (training batches; 0: none)", 0)
        self.free_bits = _nonnegative(free_bits, "GaussianLatent free_bits (nats per dimension)")
        self.register_buffer("n_step", torch.tensor(0))
        self.mu = self.logvar = self.kl_per_dim = self.extra_loss = None

    @property
    def current_beta(self):
        """The KL's weight now: ``beta``, or less during the warm-up."""
        if not self.warmup_steps:
            return self.beta
        return self.beta * min(1.0, int(self.n_step) / self.warmup_steps)

    def forward(self, X):
        half = X.shape[1] // 2 if X.dim() > 1 else "?"
        _check_channels(X, 2 * self.latent_dim, "GaussianLatent",
                        f"a mean and a log-variance per latent dimension, 2 x latent_dim ({self.latent_dim}); set the "
                        f"encoder's last out_channels to {2 * self.latent_dim} or latent_dim to {half}")
        self.mu, logvar = X[:, :self.latent_dim], X[:, self.latent_dim:]
        self.logvar = logvar.clamp(-10.0, 10.0)
        self.kl_per_dim = kl_divergence_per_dim(self.mu, self.logvar)
        if self.training:
            self.n_step += 1
        weight = self.current_beta if self.training else self.beta  # validation: the same loss at every epoch
        self.extra_loss = weight * self.kl_per_dim.clamp(min=self.free_bits).sum()
        if not self.training:
            return self.mu
        return self.mu + torch.exp(0.5 * self.logvar) * torch.randn_like(self.mu)

    def extra_repr(self):
        return (f"latent_dim={self.latent_dim}, beta={self.beta}, warmup_steps={self.warmup_steps}, "
                f"free_bits={self.free_bits}")


def nearest_code(vector_m, codebook_m):
    """Index of the nearest code (squared Euclidean distance) of each vector: (N, D), (K, D) -> (N,) int64."""
    distance_m = (vector_m.pow(2).sum(1, keepdim=True) - 2 * vector_m @ codebook_m.T
                  + codebook_m.pow(2).sum(1)[None, :])
    return distance_m.argmin(dim=1)


def kmeans(vector_m, n_cluster, n_iter=10, generator=None):
    """k-means centres (n_cluster, D) of vectors (N, D), seeded by k-means++ (each new centre drawn with a probability
    proportional to its squared distance from the nearest centre so far); a centre that loses every vector takes a
    random vector again. With fewer vectors than clusters, the vectors are drawn with replacement plus a little
    noise."""
    n_vector = len(vector_m)
    if n_vector < n_cluster:
        centre_m = vector_m[torch.randint(n_vector, (n_cluster,), generator=generator)]
        return centre_m + 1e-3 * (vector_m.std() + 1e-6) * torch.randn(centre_m.shape, generator=generator)
    pick_l = [int(torch.randint(n_vector, (), generator=generator))]
    distance_v = (vector_m - vector_m[pick_l[0]]).pow(2).sum(1)
    for _ in range(n_cluster - 1):
        weight_v = distance_v if distance_v.sum() > 0 else torch.ones_like(distance_v)
        pick_l.append(int(torch.multinomial(weight_v, 1, generator=generator)))
        distance_v = torch.minimum(distance_v, (vector_m - vector_m[pick_l[-1]]).pow(2).sum(1))
    centre_m = vector_m[pick_l].clone()
    for _ in range(n_iter):
        index_v = nearest_code(vector_m, centre_m)
        count_v = torch.bincount(index_v, minlength=n_cluster).to(vector_m.dtype)
        sum_m = torch.zeros_like(centre_m).index_add_(0, index_v, vector_m)
        empty_v = count_v == 0
        centre_m = torch.where(empty_v[:, None], centre_m, sum_m / count_v.clamp(min=1)[:, None])
        if empty_v.any():
            centre_m[empty_v] = vector_m[torch.randint(n_vector, (int(empty_v.sum()),), generator=generator)]
    return centre_m


def perplexity(index_v, codebook_size):
    """exp of the entropy (nats) of the codes' frequencies: the number of equally used codes that would give the
    same entropy (1: one code for everything; ``codebook_size``: all used equally)."""
    return perplexity_of_counts(torch.bincount(torch.as_tensor(index_v).flatten(), minlength=codebook_size))


def perplexity_of_counts(count_v):
    """``perplexity`` from the number of times each code was chosen (codebook_size,)."""
    p_v = torch.as_tensor(count_v).double()
    p_v = p_v[p_v > 0] / p_v.sum()
    return float(torch.exp(-(p_v * p_v.log()).sum()))


def code_usage(index_v, codebook_size):
    """Share of the codebook's codes chosen at least once among the indices ``index_v`` (e.g. over an epoch)."""
    return float((torch.bincount(torch.as_tensor(index_v).flatten(), minlength=codebook_size) > 0).double().mean())


class VectorQuantize(nn.Module):
    """Vector quantisation of every latent vector, residual with ``n_codebook`` > 1: (B, latent_dim, ...) -> the same
    shape, each vector replaced by the sum of one code of each codebook. YAML:
    ``[VectorQuantize, {latent_dim: 64, codebook_size: 1024, n_codebook: 8}]``.

    Parameters
    ----------
    latent_dim : size of a latent vector (the incoming channels)
    codebook_size : codes per codebook (``log2(codebook_size)`` bits per code)
    n_codebook : codebooks; each codes the residual the previous ones left (1: plain VQ)
    commitment : weight of the commitment loss (how strongly the encoder is pulled to its codes; 0.25 in VQ-VAE)
    kmeans_init : the codes start as k-means centres of latent vectors (codebook after codebook, on the residuals):
        those of ``codec.initialise_codebooks`` (several batches), else of the first training batch; otherwise they
        are drawn from N(0, 1)
    expire_after : a code that no vector chose for this many training batches (in which its codebook was used) is
        replaced by a random vector of the current batch (0: never)
    quantizer_dropout : in training, each batch uses the first k codebooks only, k drawn in 1..n_codebook, so that
        every depth decodes (one model for every bit rate, as SoundStream)

    ``n_active`` (default ``n_codebook``) is the depth used in evaluation: fewer codebooks, fewer bits. After each
    forward: ``codes`` (depth, B, ...) int64, and ``extra_loss``, the codebook loss plus ``commitment`` times the
    commitment loss, summed over the codebooks used. The output is the straight-through estimate: the value of the
    codes, the gradient of the encoder's output.
    """

    def __init__(self, latent_dim, codebook_size, n_codebook=1, commitment=0.25, kmeans_init=True, expire_after=0,
                 quantizer_dropout=False):
        super().__init__()
        self.latent_dim = _whole(latent_dim, "VectorQuantize latent_dim", 1)
        self.codebook_size = _whole(codebook_size, "VectorQuantize codebook_size (codes per codebook)", 2)
        self.n_codebook = _whole(n_codebook, "VectorQuantize n_codebook", 1)
        self.commitment = _nonnegative(commitment, "VectorQuantize commitment")
        self.expire_after = _whole(expire_after, "VectorQuantize expire_after (training batches; 0: never)", 0)
        for name, value in (("kmeans_init", kmeans_init), ("quantizer_dropout", quantizer_dropout)):
            if not isinstance(value, bool):
                raise ValueError(f"VectorQuantize {name} must be true or false, got {value!r}")
        self.kmeans_init, self.quantizer_dropout = kmeans_init, quantizer_dropout
        self.codebook = nn.Parameter(torch.randn(n_codebook, codebook_size, latent_dim))
        self.register_buffer("initialised", torch.tensor(not kmeans_init))
        self.register_buffer("idle_m", torch.zeros(n_codebook, codebook_size, dtype=torch.long))
        self.n_active = self.n_codebook
        self.codes = self.extra_loss = None

    @property
    def bits_per_vector(self):
        """Bits of one latent vector at the current depth: ``n_active * log2(codebook_size)``."""
        return self.n_active * math.log2(self.codebook_size)

    def forward(self, X):
        _check_channels(X, self.latent_dim, "VectorQuantize",
                        f"latent_dim is {self.latent_dim}: set the encoder's last out_channels to {self.latent_dim}, "
                        "or latent_dim to the encoder's")
        vector_m, put_back = _as_vectors(X)
        if self.training and not bool(self.initialised):
            self.initialise(vector_m.detach())
        depth = self._depth()
        residual_m, quantized_m = vector_m, torch.zeros_like(vector_m)
        loss, index_l = X.new_zeros(()), []
        for level in range(depth):
            index_v = nearest_code(residual_m.detach(), self.codebook[level])
            chosen_m = self.codebook[level][index_v]
            loss = loss + F.mse_loss(chosen_m, residual_m.detach()) + self.commitment * F.mse_loss(
                residual_m, chosen_m.detach())
            if self.training and self.expire_after:
                self._expire(level, index_v, residual_m.detach())
            quantized_m = quantized_m + chosen_m
            residual_m = residual_m - chosen_m.detach()
            index_l.append(index_v)
        self.extra_loss = loss
        self.codes = torch.stack(index_l).reshape(depth, X.shape[0], *X.shape[2:])
        return put_back(vector_m + (quantized_m - vector_m).detach())  # straight through: codes' value, z's gradient

    def _depth(self):
        if self.training:
            if not self.quantizer_dropout:
                return self.n_codebook
            return int(torch.randint(1, self.n_codebook + 1, ()))
        if not 1 <= self.n_active <= self.n_codebook:
            raise ValueError(f"VectorQuantize n_active is {self.n_active}: use 1 to n_codebook ({self.n_codebook})")
        return int(self.n_active)

    @torch.no_grad()
    def initialise(self, vector_m):
        """Each codebook's codes as k-means centres of latent vectors (N, latent_dim), codebook after codebook on
        what the previous ones leave: done on the first training batch unless called before with more vectors
        (``codec.initialise_codebooks``: with fewer vectors than codes per codebook, the first codebook holds every
        vector and leaves the next ones nothing to learn from)."""
        residual_m = vector_m
        for level in range(self.n_codebook):
            self.codebook[level] = kmeans(residual_m, self.codebook_size)
            residual_m = residual_m - self.codebook[level][nearest_code(residual_m, self.codebook[level])]
        self.initialised.fill_(True)

    @torch.no_grad()
    def _expire(self, level, index_v, residual_m):
        idle_v = self.idle_m[level]
        idle_v += 1
        idle_v[index_v] = 0
        dead_v = torch.nonzero(idle_v >= self.expire_after).flatten()
        if len(dead_v):
            self.codebook[level][dead_v] = residual_m[torch.randint(len(residual_m), (len(dead_v),))]
            idle_v[dead_v] = 0

    def decode_codes(self, code_m):
        """The quantised latent of codes (depth, B, ...) -> (B, latent_dim, ...): the sum of each codebook's code."""
        quantized = sum(self.codebook[level][code_m[level]] for level in range(len(code_m)))
        return quantized.movedim(-1, 1)

    def extra_repr(self):
        return (f"latent_dim={self.latent_dim}, codebook_size={self.codebook_size}, n_codebook={self.n_codebook}, "
                f"commitment={self.commitment}, kmeans_init={self.kmeans_init}, expire_after={self.expire_after}, "
                f"quantizer_dropout={self.quantizer_dropout}")


LAYER_D = {"GaussianLatent": GaussianLatent, "VectorQuantize": VectorQuantize}  # registered in model_factory
