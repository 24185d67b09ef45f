"""Training-time augmentation of feature batches: what a model must not rely on, changed at random.

``RandomEQ`` adds a random smooth gain curve along the frequency axis of a batch of log-compressed
spectrograms (log-mel, CQT, HCQT). An equaliser, a microphone or a room multiplies the spectrum by a smooth
curve; after the log it is a smooth curve *added* to every frame, so the augmentation is a sum of a few
slow cosines over the frequency bins, drawn anew for every item of every batch. A model trained with it
cannot tell an instrument by the colour of one recording chain, which is what changes between the sounds
it was trained on and a recording it has never heard (notebook 05 measures it on the held-out renderer).

The features are computed once and cached (``feature_placement``), so the augmentation works on features,
not on audio: recomputing the features of every patch at every epoch would cost more than the training.

``train_collate(config)`` returns the collate function of the training DataLoader: the default collate,
then the config's ``train.augment`` (e.g. ``augment: {random_eq: 3.0}``), or None when there is none.
Taught in notebooks/05_training_tagging.ipynb.
"""

import math

import torch
from torch.utils.data import default_collate

from course_utils.config import ConfigError, as_config

AUGMENT_NAME_L = ("random_eq",)


class RandomEQ:
    """Add a random smooth curve over the frequency axis of a batch of log spectrograms.

    Parameters
    ----------
    max_gain : float, largest gain of the lowest cosine in the feature's log units (the course's log-mel
        ``log(1 + 10000 mel)``: 1 unit is about 4.3 dB where the band is loud); cosine ``k`` (0 = a
        constant, 1 = a tilt, 2 and 3 = bumps) gets up to ``max_gain / (1 + k)``
    n_cosine : number of cosines (smoothness: 4 gives curves with at most 3 turns across the spectrum)

    ``__call__(X)``: X of shape (B, C, F, T) (or (B, F, T)), frequency on axis -2; returns X + curve, the
    curve (B, 1, F, 1) drawn with torch's global generator (seeded by ``runtime.seed_everything``).
    """

    def __init__(self, max_gain, n_cosine=4):
        if not isinstance(max_gain, (int, float)) or isinstance(max_gain, bool) or max_gain < 0:
            raise ConfigError(f"random_eq: the largest gain must be a number >= 0, got {max_gain!r}")
        self.max_gain, self.n_cosine = float(max_gain), int(n_cosine)

    def curves(self, n_item, n_bin):
        """(n_item, n_bin) random smooth curves."""
        order_v = torch.arange(self.n_cosine, dtype=torch.float32)
        basis_m = torch.cos(math.pi * order_v[:, None] * torch.linspace(0, 1, n_bin)[None, :])  # (K, F)
        coefficient_m = (torch.rand(n_item, self.n_cosine) * 2 - 1) * self.max_gain / (1 + order_v)
        return coefficient_m @ basis_m

    def __call__(self, X):
        if X.dim() < 3:
            raise ValueError(f"RandomEQ needs (batch, [channel,] frequency, time) features, got shape {tuple(X.shape)}")
        curve_m = self.curves(X.shape[0], X.shape[-2]).to(X.dtype)
        return X + curve_m.reshape(X.shape[0], *([1] * (X.dim() - 3)), X.shape[-2], 1)


def make_augment(augment_d):
    """The augmentation of a ``train.augment`` section: ``{random_eq: max_gain}`` -> RandomEQ."""
    unknown_l = sorted(set(augment_d) - set(AUGMENT_NAME_L))
    if unknown_l:
        raise ConfigError(f"train.augment: unknown augmentation {unknown_l}; known: {', '.join(AUGMENT_NAME_L)}")
    return RandomEQ(augment_d["random_eq"]) if "random_eq" in augment_d else None


def train_collate(config):
    """Collate function for the training DataLoader of ``config``: batches as ``default_collate`` makes
    them, with ``X`` augmented by ``train.augment``; None when the config asks for no augmentation."""
    augment_d = (as_config(config).get("train") or {}).get("augment")
    if not augment_d:
        return None
    augment = make_augment(dict(augment_d))

    def collate(item_l):
        batch = default_collate(item_l)
        batch["X"] = augment(batch["X"])
        return batch

    return collate
