"""How good generated audio is, measured as the field measures it, offline, with the course's own models.

- ``frechet_distance``: the Fréchet distance of two Gaussians (FID [Heusel2017], FAD [Kilgour2019]), and
  ``frechet_audio_distance`` of two sets of embeddings;
- ``kernel_distance``: the kernel distance (KID [Binkowski2018]): the unbiased MMD² with the cubic polynomial
  kernel, averaged over subsets;
- ``nearest_distances``, ``nearest_mismatch`` and ``copies``: each sample's nearest neighbours in a training set, and
  whether it looks copied from one (memorisation);
- ``Judge``: a trained tagger of notebook 05 used as a judge: its embedding of a clip (what its last layer reads,
  averaged over time) and its class probabilities (conditioning accuracy).

Taught in notebooks/11_generation.ipynb.
"""

import numpy as np
import scipy.linalg
import torch

from course_utils import feature, task


def frechet_distance(mu_a, cov_a, mu_b, cov_b):
    """The Fréchet distance (the squared 2-Wasserstein distance) of N(mu_a, cov_a) and N(mu_b, cov_b):
    ||mu_a - mu_b||² + Tr(cov_a + cov_b - 2 (cov_a cov_b)^½). Means (D,), covariances (D, D); a float >= 0."""
    mu_a, mu_b = np.asarray(mu_a, dtype=np.float64), np.asarray(mu_b, dtype=np.float64)
    cov_a, cov_b = np.atleast_2d(cov_a).astype(np.float64), np.atleast_2d(cov_b).astype(np.float64)
    root_m = scipy.linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root_m).all():  # a singular product: move both a little off singularity (as FID does)
        offset_m = np.eye(len(cov_a)) * 1e-6
        root_m = scipy.linalg.sqrtm((cov_a + offset_m) @ (cov_b + offset_m))
    root_m = root_m.real  # round-off can leave tiny imaginary parts
    return float(max(0.0, np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * root_m)))


def frechet_audio_distance(embedding_a, embedding_b):
    """The Fréchet distance of the Gaussians fitted to two sets of embeddings (N, D) and (M, D)."""
    embedding_a, embedding_b = np.asarray(embedding_a, np.float64), np.asarray(embedding_b, np.float64)
    if min(len(embedding_a), len(embedding_b)) < 2:
        raise ValueError("a Fréchet distance needs at least 2 embeddings on each side")
    return frechet_distance(embedding_a.mean(0), np.cov(embedding_a, rowvar=False),
                            embedding_b.mean(0), np.cov(embedding_b, rowvar=False))


def kernel_distance(embedding_a, embedding_b, n_subset=20, subset_size=None, seed=0):
    """KID: the unbiased estimate of the squared MMD between two sets of embeddings (N, D), (M, D) with the kernel
    k(x, y) = (x·y / D + 1)³, averaged over ``n_subset`` random subsets of ``subset_size`` (default: the smaller set;
    with equal counts every subset is then the whole set and the average is one estimate). About 0 when both sets
    come from one distribution (it can be slightly negative), larger when they differ."""
    embedding_a, embedding_b = np.asarray(embedding_a, np.float64), np.asarray(embedding_b, np.float64)
    size = subset_size or min(len(embedding_a), len(embedding_b))
    if size < 2:
        raise ValueError("KID needs at least 2 embeddings on each side")
    rng = np.random.default_rng(seed)
    dim = embedding_a.shape[1]
    estimate_l = []
    for _ in range(n_subset):
        a_m = embedding_a[rng.choice(len(embedding_a), size, replace=False)]
        b_m = embedding_b[rng.choice(len(embedding_b), size, replace=False)]
        k_aa, k_bb, k_ab = ((x @ y.T / dim + 1) ** 3 for x, y in ((a_m, a_m), (b_m, b_m), (a_m, b_m)))
        off = size * (size - 1)
        estimate_l.append((k_aa.sum() - np.trace(k_aa)) / off + (k_bb.sum() - np.trace(k_bb)) / off
                          - 2 * k_ab.mean())
    return float(np.mean(estimate_l))


def nearest_mismatch(query_m, reference_m, k=1, chunk=16):
    """For each token sequence of ``query_m`` (N, ...), the share of positions where it differs from its nearest
    sequence of ``reference_m`` (M, ...) (a Hamming distance, 0: a copy): (N,); with ``k`` > 1, the ``k`` smallest,
    sorted: (N, k)."""
    query_m, reference_m = torch.as_tensor(query_m).flatten(1), torch.as_tensor(reference_m).flatten(1)
    part_l = [(query_m[i:i + chunk, None] != reference_m[None]).float().mean(-1).topk(k, largest=False).values.numpy()
              for i in range(0, len(query_m), chunk)]
    nearest_m = np.concatenate(part_l)
    return nearest_m[:, 0] if k == 1 else nearest_m


def nearest_distances(query_m, reference_m, k=1):
    """Euclidean distance of each row of ``query_m`` (N, D) to its nearest row of ``reference_m`` (M, D): (N,); with
    ``k`` > 1, the ``k`` smallest, sorted: (N, k)."""
    query_m, reference_m = np.asarray(query_m, np.float64), np.asarray(reference_m, np.float64)
    squared_m = (query_m**2).sum(1)[:, None] + (reference_m**2).sum(1)[None, :] - 2 * query_m @ reference_m.T
    nearest_m = np.sqrt(np.maximum(np.sort(squared_m, axis=1)[:, :k], 0.0))
    return nearest_m[:, 0] if k == 1 else nearest_m


def copies(nearest_m, ratio=0.5):
    """Which samples look copied from one training item: their nearest training item is less than ``ratio`` times as
    far as the second nearest [Carlini2023] (a sample merely typical of a dense region is near many items, a copy
    near one). ``nearest_m``: (N, 2), the two smallest distances of each sample. Returns a bool array (N,)."""
    nearest_m = np.asarray(nearest_m)
    return nearest_m[:, 0] < ratio * nearest_m[:, 1]


class Judge:
    """A trained classifier of the course (a ``NetModel`` of notebook 05 and its config) used to judge audio clips.

    ``embed(audio_l)``: (N, C) the input of its last ``Conv1d`` (the features its read-out sees), averaged over the
    frames of each clip; ``probabilities(audio_l)``: (N, n_out) its activation averaged over each clip's patches
    (as ``task.patch_mean_probability``). The clips are mono float arrays at ``config.feature.sr_hz``."""

    def __init__(self, model, config):
        self.model, self.config = model.eval(), config
        conv_l = [module for module in model.modules() if isinstance(module, torch.nn.Conv1d)]
        if not conv_l:
            raise ValueError(f"{model.name}: a Judge reads the input of the model's last Conv1d; the model has none")
        self._features = None
        conv_l[-1].register_forward_pre_hook(self._keep_input)
        self.activation = task.get_task(config).activation

    def _keep_input(self, module, arg_l):
        self._features = arg_l[0].detach()

    def _patches(self, audio_v):
        X = feature.f_get_feature(audio_v, self.config.feature.sr_hz, self.config.feature)[0]
        if X.shape[-1] < self.config.feature.patch_L_frame:
            raise ValueError(f"a clip of {len(audio_v) / self.config.feature.sr_hz:.1f} s is shorter than one patch "
                             f"of the judge {self.model.name} ({self.config.feature.patch_L_frame} frames)")
        patch_l = feature.f_get_patches(X.shape[-1], self.config.feature.patch_L_frame,
                                        self.config.feature.patch_STEP_frame)
        return torch.from_numpy(np.stack([X[..., p["start_frame"]:p["end_frame"]] for p in patch_l])).float()

    @torch.no_grad()
    def _run(self, audio_v):
        device = next(self.model.parameters()).device
        output = self.model(self._patches(audio_v).to(device))
        return self.activation(output).mean(0).cpu().numpy(), self._features.mean(dim=(0, -1)).cpu().numpy()

    def embed(self, audio_l):
        return np.stack([self._run(audio_v)[1] for audio_v in audio_l])

    def probabilities(self, audio_l):
        return np.stack([self._run(audio_v)[0] for audio_v in audio_l])
