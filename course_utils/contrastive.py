"""Self-supervised pretraining: learn an encoder from unlabelled audio by telling two views of one excerpt apart
from the views of every other excerpt of the batch (contrastive learning, SimCLR [Chen2020], CLMR [Spijkervet2021]).

The pieces, each small:

- ``TrackCrops``: a Dataset whose item ``idx`` is one track and returns two random crops of its feature (two
  *views*), never its labels;
- ``FeatureViews``: what changes between the two views besides the crop, drawn anew per item, on the cached
  log-mel features (``log(1 + 10000 mel)``): a gain, a random EQ curve (``augment.RandomEQ``), a noise floor and
  a shift along the mel axis (a rough pitch shift);
- ``nt_xent_loss``: the normalised temperature-scaled cross-entropy: each view must pick its partner among the
  2B - 1 other views of the batch;
- ``ContrastiveModel``: the encoder built from the config's ``model`` section (the course's YAML vocabulary, its
  output one embedding per patch) and a projection head (``pretrain.projection_dim``) on which the loss is taken;
- ``pretrain``: the loop, with the loss per epoch on training and validation crops.

The encoder's embedding (not the projection) is what the probes of ``course_utils.probe`` read.
Taught in notebooks/09_self_supervised.ipynb.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from course_utils import augment, dataset, model_factory, train
from course_utils.config import ConfigError, as_config

VIEW_NAME_L = ("gain_db", "random_eq", "noise_db", "band_shift", "lag_stretch")
LOG_MEL_SCALE = 10000.0  # the course's log-mel: log(1 + 10000 mel) (feature.f_get_lms)


def nt_xent_loss(z_a, z_b, temperature=0.1):
    """NT-Xent of two batches of projections, each (B, D) with row i of ``z_a`` and of ``z_b`` two views of item i.

    The 2B projections are normalised to unit length; their cosine similarities divided by ``temperature``
    are the logits of a (2B - 1)-way classification per view, whose right answer is its partner view.
    Returns the mean cross-entropy (a scalar tensor): log(2B - 1) at chance, 0 when every partner is found
    with certainty.
    """
    if z_a.shape != z_b.shape or z_a.dim() != 2:
        raise ValueError(f"nt_xent_loss needs two (B, D) batches of the same shape, got {tuple(z_a.shape)} and "
                         f"{tuple(z_b.shape)}")
    n_item = z_a.shape[0]
    z_m = F.normalize(torch.cat([z_a, z_b]), dim=1)
    logit_m = z_m @ z_m.T / temperature
    logit_m = logit_m.masked_fill(torch.eye(2 * n_item, dtype=torch.bool, device=z_m.device), -math.inf)
    partner_v = torch.cat([torch.arange(n_item, 2 * n_item), torch.arange(n_item)]).to(z_m.device)
    return F.cross_entropy(logit_m, partner_v)


class TrackCrops(Dataset):
    """Two random crops of ``patch_L_frame`` frames of one track per item; no label is ever read.

    Parameters
    ----------
    feature_ds : a course Dataset (``TagDataset``, ...) whose tracks' features are read with ``get_track``, or a
        list of such Datasets holding the same tracks played by other renderers (the **renderer swap**: each view
        is then the track as played by one of them, the two views by two different ones). Tracks shorter than two
        frames more than a crop are left out (and counted in ``n_short``)
    patch_L_frame : frames per crop (the encoder's patch)
    n_item_per_track : items per track in one epoch (each a new pair of crops)

    ``__getitem__(idx)`` -> ``{'X_a', 'X_b'}``, two tensors (C, F, patch_L_frame) of track ``idx % n_track``,
    the crops (and renderers) drawn with torch's global generator; ``key_l`` holds the tracks kept.
    """

    def __init__(self, feature_ds, patch_L_frame, n_item_per_track=1):
        self.patch_L_frame, self.n_item_per_track = int(patch_L_frame), int(n_item_per_track)
        ds_l = feature_ds if isinstance(feature_ds, (list, tuple)) else [feature_ds]
        key_l = [key for key in ds_l[0].key_l if all(key in ds.key_l for ds in ds_l[1:])]
        if not key_l:
            raise ValueError("the renderings given to TrackCrops share no track: give Datasets of the same split")
        rendering_ll = [[ds.get_track(key)[0] for ds in ds_l] for key in key_l]  # per track, one X per rendering
        long_l = [min(X.shape[-1] for X in X_l) >= self.patch_L_frame + 2 for X_l in rendering_ll]
        self.key_l = [key for key, is_long in zip(key_l, long_l, strict=True) if is_long]
        self.X_ll = [X_l for X_l, is_long in zip(rendering_ll, long_l, strict=True) if is_long]
        self.n_short = len(rendering_ll) - len(self.X_ll)
        if not self.X_ll:
            raise ValueError(f"no track is longer than a crop of {patch_L_frame} frames: lower feature.patch_L_frame")

    @property
    def X_l(self):
        """The first rendering of every track kept, (C, F, T) each."""
        return [X_l[0] for X_l in self.X_ll]

    def __len__(self):
        return len(self.X_ll) * self.n_item_per_track

    def crop(self, X):
        """A random crop (C, F, patch_L_frame) of a track's feature X (C, F, T)."""
        start = int(torch.randint(0, X.shape[-1] - self.patch_L_frame + 1, ()))
        return X[..., start:start + self.patch_L_frame]

    def __getitem__(self, idx):
        X_l = self.X_ll[idx % len(self.X_ll)]
        if len(X_l) == 1:
            return {"X_a": self.crop(X_l[0]), "X_b": self.crop(X_l[0])}
        first, second = torch.randperm(len(X_l))[:2].tolist()  # two different renderers
        return {"X_a": self.crop(X_l[first]), "X_b": self.crop(X_l[second])}


class UnlabelledFeatures(dataset.PatchDataset):
    """The features of every track of a split, no label read (the target of a track is empty): what the contrastive
    crops are cut from. The same reading, placement and patches as every dataset of the course."""

    def make_target(self, entry, time_sec_v):
        return torch.zeros(0)

    def get_y(self, key, start_frame, end_frame):
        return torch.zeros(0)


class CropDataset(TrackCrops):
    """The Dataset of the ``contrastive`` task (``task.TASK_D``): ``TrackCrops`` of the features of a split's tracks
    (``UnlabelledFeatures``), crops of ``feature.patch_L_frame`` frames, ``n_item_per_track`` pairs per track and
    epoch. Keyword arguments go to the feature dataset (e.g. ``feature_placement``, ``progress``)."""

    def __init__(self, hdf5_audio_file, pyjama_annot_file, split, config, n_item_per_track=1, **dataset_kwarg_d):
        self.feature_ds = UnlabelledFeatures(hdf5_audio_file, pyjama_annot_file, split, config, **dataset_kwarg_d)
        super().__init__(self.feature_ds, config["feature"]["patch_L_frame"], n_item_per_track)


class FeatureViews:
    """Random changes of a batch of patches (B, C, F, T), one draw per item: what the embedding must ignore.

    Parameters (each 0: not applied)
    ----------
    gain_db : largest gain in dB (uniform in [-gain_db, gain_db]), applied to the mel energies (log-mel only)
    random_eq : largest gain of ``augment.RandomEQ`` (a smooth curve over the F axis, in the feature's log units)
    noise_db : a white noise floor at a level drawn in [-noise_db - 20, -20] dB of the patch's mean mel energy
        (log-mel only)
    band_shift : largest shift along the mel axis in bands (up or down, edges repeated): a rough pitch shift
    lag_stretch : largest relative tempo change of a tempogram (its lag axis F stretched by a factor drawn in
        [1 - lag_stretch, 1 + lag_stretch], linear interpolation): the rhythm kept, its exact tempo not
    """

    def __init__(self, gain_db=0.0, random_eq=0.0, noise_db=0.0, band_shift=0, lag_stretch=0.0):
        self.gain_db, self.noise_db, self.band_shift = float(gain_db), float(noise_db), int(band_shift)
        self.lag_stretch = float(lag_stretch)
        self.random_eq = augment.RandomEQ(random_eq) if random_eq else None

    def __call__(self, X):
        if self.gain_db or self.noise_db or self.band_shift:
            X = self.change_mel(X)
        if self.random_eq is not None:
            X = self.random_eq(X)
        if self.lag_stretch:
            factor_v = 1 + (torch.rand(X.shape[0]) * 2 - 1) * self.lag_stretch
            X = torch.stack([_stretch_axis(item, float(factor)) for item, factor in zip(X, factor_v, strict=True)])
        return X

    def change_mel(self, X):
        """Gain, noise floor and band shift of log-mel patches X (B, C, F, T), ``log(1 + 10000 mel)``."""
        mel = torch.expm1(X.clamp(min=0)) / LOG_MEL_SCALE
        n_item = X.shape[0]
        if self.gain_db:
            gain_db_v = (torch.rand(n_item) * 2 - 1) * self.gain_db
            mel = mel * (10 ** (gain_db_v / 10)).reshape(-1, 1, 1, 1)
        if self.noise_db:
            level_db_v = -20 - torch.rand(n_item) * self.noise_db
            floor_v = mel.mean(dim=(1, 2, 3)) * 10 ** (level_db_v / 10)
            mel = mel + floor_v.reshape(-1, 1, 1, 1) * torch.rand_like(mel) * 2
        if self.band_shift:
            mel = shift_bands(mel, torch.randint(-self.band_shift, self.band_shift + 1, (n_item,)))
        return torch.log1p(LOG_MEL_SCALE * mel)


def shift_bands(X, shift_v):
    """Each item of X (B, C, F, T) moved by ``shift_v[b]`` bands along F (positive: up), the edge band repeated
    into the gap."""
    index_m = (torch.arange(X.shape[-2])[None, :] - shift_v[:, None]).clamp(0, X.shape[-2] - 1)  # (B, F)
    return torch.gather(X, 2, index_m[:, None, :, None].expand_as(X))


def _stretch_axis(X, factor):
    """X (C, F, T) read along F at positions f / factor (linear interpolation, the last bin repeated): a pattern
    at bin f moves to bin f * factor (a tempogram's lag axis: the tempo divided by ``factor``)."""
    position_v = (torch.arange(X.shape[-2], dtype=torch.float32) / factor).clamp(max=X.shape[-2] - 1)
    low_v = position_v.floor().long()
    high_v = (low_v + 1).clamp(max=X.shape[-2] - 1)
    weight_v = (position_v - low_v).reshape(-1, 1)
    return X[..., low_v, :] * (1 - weight_v) + X[..., high_v, :] * weight_v


def make_views(view_d):
    """The ``FeatureViews`` of a ``pretrain.views`` section, e.g. ``{gain_db: 6, random_eq: 3.0}``."""
    view_d = dict(view_d or {})
    unknown_l = sorted(set(view_d) - set(VIEW_NAME_L))
    if unknown_l:
        raise ConfigError(f"pretrain.views: unknown view change {unknown_l}; known: {', '.join(VIEW_NAME_L)}")
    for name, value in view_d.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"pretrain.views.{name} must be a number >= 0, got {value!r}")
    return FeatureViews(**view_d)


class ContrastiveModel(nn.Module):
    """The encoder of the config's ``model`` section (output: one embedding (B, D) per patch) and a projection head
    (Linear, ReLU, Linear to ``projection_dim``). ``forward(X)`` -> the projection (B, projection_dim);
    ``encoder(X)`` -> the embedding (B, D) the probes read."""

    def __init__(self, config, input_dim, projection_dim):
        super().__init__()
        self.encoder = model_factory.NetModel(config, input_dim)
        self.input_dim = self.encoder.input_dim  # 4-D: fit trains it in channels-last memory format
        if len(self.encoder.output_dim) != 2:
            raise ConfigError(f"the encoder {self.encoder.name} outputs {self.encoder.output_dim}: a contrastive "
                              "encoder gives one embedding per patch, (B, D); end its model with a pooling over "
                              "time, e.g. [Mean, {dim: 2}]")
        n_embedding = self.encoder.output_dim[1]
        self.projection = nn.Sequential(nn.Linear(n_embedding, n_embedding), nn.ReLU(),
                                        nn.Linear(n_embedding, int(projection_dim)))

    def forward(self, X):
        return self.projection(self.encoder(X))


def pretrain_settings(config, fast_mode=False):
    """The ``pretrain`` section with its ``fast`` overrides in fast mode; every key it needs checked."""
    section_d = dict(as_config(config).get("pretrain") or {})
    if fast_mode:
        section_d.update(section_d.get("fast") or {})
    missing_l = [key for key in ("batch_size", "learning_rate", "max_epoch", "temperature", "projection_dim")
                 if section_d.get(key) is None]
    if missing_l:
        raise ConfigError(f"pretrain: {', '.join(missing_l)} missing (see configs/ssl_contrastive_lms.yaml)")
    section_d.setdefault("n_item_per_track", 1)
    section_d.setdefault("views", {})
    section_d.setdefault("renderer_swap", [])
    from course_utils.data import renderers  # imported here: the data package loads music21 (seconds)

    unknown_l = [name for name in section_d["renderer_swap"] if name not in renderers.TRAINING_RENDERER_L]
    if unknown_l or len(section_d["renderer_swap"]) == 1:
        raise ConfigError(f"pretrain.renderer_swap: {section_d['renderer_swap']}: name two or more of the training "
                          f"renderers ({', '.join(renderers.TRAINING_RENDERER_L)}), or none; "
                          f"{renderers.HELDOUT_RENDERER} is held out (it is B)")
    return as_config(section_d, "pretrain")


class NTXentLoss(nn.Module):
    """``nt_xent_loss`` at the temperature of ``pretrain.temperature``, as a module: ``loss(z_a, z_b)``."""

    def __init__(self, temperature=0.1):
        super().__init__()
        self.temperature = float(temperature)

    def forward(self, z_a, z_b):
        return nt_xent_loss(z_a, z_b, self.temperature)


def views_batch_loss(views, loss_fn, device):
    """The batch loss of contrastive pretraining, for ``train.fit``: ``loss_fn`` (NT-Xent) of the projections of the
    two crops of each item (``{'X_a', 'X_b'}``, no label) after ``views`` changed each of them (on the CPU, where
    the views draw their random numbers), on ``device``. A function ``(model, batch) -> loss``."""

    def batch_loss(model, batch):
        return loss_fn(model(views(batch["X_a"]).to(device)), model(views(batch["X_b"]).to(device)))

    return batch_loss


def pretrain(model, train_crops, valid_crops, settings, device=None, generator=None, checkpoint_path=None,
             config=None):
    """Train ``model`` (a ``ContrastiveModel``) on pairs of views for ``settings.max_epoch`` epochs: ``train.fit``
    with the views' batch loss, every epoch kept (``keep_last``: the contrastive loss has no labels to overfit).

    train_crops, valid_crops : ``TrackCrops`` (batches of ``settings.batch_size`` tracks, the last incomplete
        batch dropped: NT-Xent needs the whole batch as negatives)
    settings : ``pretrain_settings(config, fast_mode)`` (``compile`` and ``channels_last`` as in a train section)
    checkpoint_path, config : the last epoch's model saved there with ``config`` (optional)
    Returns a history ``{'train_loss': [...], 'valid_loss': [...]}`` (mean NT-Xent per epoch); a NaN loss stops
    with a message that says whether the crops or the learning rate are to blame. The model ends with the
    weights of its last epoch.
    """
    device = device if device is not None else next(model.parameters()).device
    train_loader = DataLoader(train_crops, batch_size=settings.batch_size, shuffle=True, drop_last=True,
                              generator=generator)
    valid_loader = DataLoader(valid_crops, batch_size=min(settings.batch_size, len(valid_crops)), drop_last=True)
    if len(train_loader) == 0:
        raise ValueError(f"pretrain.batch_size {settings.batch_size} is larger than the {len(train_crops)} training "
                         "items: lower it, or raise pretrain.n_item_per_track")
    fit_section_d = {key: settings[key] for key in train.TRAIN_KEY_D if settings.get(key) is not None}
    fit_settings = train.train_settings({"train": {**fit_section_d, "patience": settings.max_epoch}})
    history = train.fit(model, train_loader, valid_loader, None, config or {"pretrain": settings.to_dict()},
                        device=device, checkpoint_path=checkpoint_path, keep_last=True, settings=fit_settings,
                        batch_loss=views_batch_loss(make_views(settings.views), NTXentLoss(settings.temperature),
                                                    device))
    return {"train_loss": history["train_loss"], "valid_loss": history["valid_loss"]}
