"""What a pretrained encoder is worth: linear probes on its frozen embeddings, against the same encoder trained from
scratch, with a chosen share of the training labels.

- ``label_subset``: the labelled tracks of a split when only a fraction of its labels is known (every class, or
  every instrument, kept at least once);
- ``patch_embeddings``: the frozen encoder's embedding of every patch of chosen tracks;
- ``Probe`` / ``choose_probe`` / ``probe_scores``: a logistic regression per label (tags) or over the classes
  (dance type) on those embeddings, standardised; a track's probabilities are the mean over its patches, scored as
  ``course_utils.task`` scores the supervised models (ROC-AUC, accuracy);
- ``scratch_classifier`` / ``train_from_scratch``: the same encoder, freshly initialised, with a linear layer on
  top: the supervised baseline trained on the same labelled tracks;
- ``label_efficiency``: both, and the probe on an untrained encoder, for several fractions of the labels, scored
  on the test split as built (A) and played by the held-out renderer (B);
- ``with_feature``: a task's config reading the encoder's feature.

Taught in notebooks/09_self_supervised.ipynb.
"""

import copy
import math

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.utils.data import Subset

from course_utils import feature, model_factory, task, train
from course_utils.config import as_config


def with_feature(task_config, encoder_config):
    """A copy of ``task_config`` (its dataset, labels and training) reading ``encoder_config``'s feature section."""
    config = copy.deepcopy(as_config(task_config))
    config.feature = copy.deepcopy(as_config(encoder_config).feature)
    return config


def track_label_matrix(ds):
    """(n_track, n_class) 0/1 matrix of the tracks of a tag Dataset: its multi-label targets, or one-hot classes."""
    target_l = [ds.get_target(key).numpy() for key in ds.key_l]
    if np.ndim(target_l[0]) == 0:
        return np.eye(len(ds.labelname_l), dtype=int)[np.array(target_l, dtype=int)]
    return np.array(target_l).astype(int)


def label_subset(ds, fraction, seed=0):
    """The keys of the tracks whose labels are known when only ``fraction`` (0 < fraction <= 1) of ``ds``'s are.

    Tracks are drawn at random (``seed``); first one track for every class or instrument that the split holds
    (a probe cannot learn a class it never saw), then more until ``ceil(fraction * n_track)``. So a small
    fraction may give a few more tracks than asked: the notebooks report the number of labelled tracks.
    Returns a list of keys in the order of ``ds.key_l``.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    label_m = track_label_matrix(ds)
    order_v = np.random.default_rng(seed).permutation(len(ds.key_l))
    chosen_s = set()
    for n_class in np.flatnonzero(label_m.sum(axis=0) > 0):
        if not any(label_m[i, n_class] for i in chosen_s):
            chosen_s.add(next(int(i) for i in order_v if label_m[i, n_class]))
    for i in order_v:
        if len(chosen_s) >= math.ceil(fraction * len(ds.key_l)):
            break
        chosen_s.add(int(i))
    return [ds.key_l[i] for i in sorted(chosen_s)]


@torch.no_grad()
def patch_embeddings(encoder, ds, key_l=None, batch_size=256):
    """The encoder's embedding of every patch of the tracks ``key_l`` (default: all) of ``ds``, in eval mode.

    Returns
    -------
    embedding_m : np.ndarray (n_patch, D)
    track_v : np.ndarray (n_patch,) int, the index in ``key_l`` of each patch's track
    """
    key_l = ds.key_l if key_l is None else key_l
    embedding_l, track_l = [], []
    for n_track, key in enumerate(key_l):
        output_m = task.predict_track(encoder, ds.get_track(key)[0], ds.track_patches(key), batch_size)
        embedding_l.append(output_m.numpy())
        track_l.append(np.full(len(output_m), n_track))
    return np.concatenate(embedding_l), np.concatenate(track_l)


class Probe:
    """A linear probe: standardised embeddings, then logistic regression per label (``multilabel``: a label that
    the training tracks hold always or never gets that constant probability) or over the classes
    (``multiclass``). ``predict_proba(embedding_m)`` -> (n, n_class)."""

    def __init__(self, problem, n_class, regularisation=1.0):
        self.problem, self.n_class, self.regularisation = problem, int(n_class), float(regularisation)

    def _model(self):
        return make_pipeline(StandardScaler(), LogisticRegression(C=self.regularisation, max_iter=2000))

    def fit(self, embedding_m, label_m):
        """embedding_m (n, D); label_m (n, n_class) 0/1 (multilabel) or (n,) class indices (multiclass)."""
        if self.problem == "multiclass":
            self.model_l = [self._model().fit(embedding_m, label_m)]
            return self
        self.model_l = [self._model().fit(embedding_m, label_m[:, n]) if 0 < label_m[:, n].sum() < len(label_m)
                        else float(label_m[0, n]) for n in range(self.n_class)]
        return self

    def predict_proba(self, embedding_m):
        if self.problem == "multiclass":
            model = self.model_l[0]
            prob_m = np.zeros((len(embedding_m), self.n_class))
            prob_m[:, model.classes_] = model.predict_proba(embedding_m)
            return prob_m
        return np.stack([model.predict_proba(embedding_m)[:, 1] if not isinstance(model, float)
                         else np.full(len(embedding_m), model) for model in self.model_l], axis=1)


def _patch_targets(ds, key_l, track_v):
    target_l = [ds.get_target(key).numpy() for key in key_l]
    return np.array([target_l[n] for n in track_v])


def probe_track_probabilities(encoder, probe, ds):
    """Per track of ``ds``: the probe's probabilities averaged over its patches (n_track, n_class), and the targets."""
    embedding_m, track_v = patch_embeddings(encoder, ds)
    patch_prob_m = probe.predict_proba(embedding_m)
    prob_m = np.stack([patch_prob_m[track_v == n].mean(axis=0) for n in range(len(ds.key_l))])
    return prob_m, np.array([ds.get_target(key).numpy() for key in ds.key_l])


def probe_scores(encoder, probe, ds):
    """The probe's test scores on whole tracks: ``{'ROC-AUC', 'AP'}`` for tags, ``{'accuracy'}`` for classes."""
    prob_m, target_m = probe_track_probabilities(encoder, probe, ds)
    if probe.problem == "multiclass":
        return {"accuracy": float(accuracy_score(target_m, prob_m.argmax(axis=1)))}
    roc_auc, ap = task.tag_scores(prob_m, target_m)
    return {"ROC-AUC": roc_auc, "AP": ap}


def scratch_classifier(encoder_config, input_dim, n_out):
    """The encoder of ``encoder_config`` with fresh weights and a linear layer to ``n_out`` logits:
    ``nn.Sequential(encoder, Linear(D, n_out))``, trained like any course model (``train.fit``)."""
    encoder = model_factory.NetModel(encoder_config, input_dim)
    return nn.Sequential(encoder, nn.Linear(encoder.output_dim[1], int(n_out)))


def train_from_scratch(encoder_config, task_config, split_d, key_l, generator=None, fast_mode=False, device=None):
    """The supervised baseline: ``scratch_classifier`` trained by ``train.fit`` (``task_config``'s train section, its
    augmentation, early stopping on the whole validation split) on the patches of the labelled tracks ``key_l`` of
    ``split_d['train']``. Returns the model with its best weights."""
    key_s = set(key_l)
    train_ds = split_d["train"]
    labelled = Subset(train_ds, [i for i, patch in enumerate(train_ds.patch_l) if patch["audiofile"] in key_s])
    loader_d = train.make_loaders({"train": labelled, "valid": split_d["valid"]}, task_config, generator=generator,
                                  fast_mode=fast_mode)
    model = scratch_classifier(encoder_config, feature.feature_input_dim(task_config.feature, 32),
                               len(train_ds.labelname_l))
    model = model.to(device) if device is not None else model
    train.fit(model, loader_d["train"], loader_d["valid"], task.make_loss(task_config), task_config, device=device,
              fast_mode=fast_mode)
    return model


def choose_probe(encoder, split_d, key_l, problem, regularisation_l):
    """The probe on the labelled tracks ``key_l`` whose regularisation (from ``regularisation_l``, C of the logistic
    regression: smaller is stronger) scores best on the whole validation split ``split_d['valid']``, as the models
    trained from scratch choose their epoch on it. Returns (probe, chosen regularisation)."""
    metric = task.HEADLINE_METRIC_D[problem]
    embedding_m, track_v = patch_embeddings(encoder, split_d["train"], key_l)
    target_m = _patch_targets(split_d["train"], key_l, track_v)
    best = None
    for regularisation in regularisation_l:
        fitted = Probe(problem, len(split_d["train"].labelname_l), regularisation).fit(embedding_m, target_m)
        score = probe_scores(encoder, fitted, split_d["valid"])[metric]
        if best is None or score > best[0]:
            best = (score, fitted, regularisation)
    return best[1], best[2]


def label_efficiency(encoder_d, encoder_config, task_config, split_d, fraction_l, regularisation_l=(1.0,), seed=0,
                     generator=None, fast_mode=False, device=None):
    """What labels buy with and without pretraining.

    For each fraction of the training labels (``label_subset``), a probe on each frozen encoder of ``encoder_d``
    (name -> encoder, e.g. pretrained and untrained; its regularisation chosen on the validation split by
    ``choose_probe``) and the encoder trained from scratch on the same tracks, each scored on ``split_d['test']``
    (A) and ``split_d['B']`` (``task.HELDOUT_SPLIT``: the held-out renderer; ``task.split_datasets`` builds both).

    Returns a list of ``{'fraction', 'n_track', <name>: (A, B), ..., 'from scratch': (A, B)}``, the metric being
    ROC-AUC (tags) or accuracy (classes).
    """
    problem = task_config.dataset.problem
    metric = task.HEADLINE_METRIC_D[problem]
    row_l = []
    for fraction in fraction_l:
        key_l = label_subset(split_d["train"], fraction, seed)
        row = {"fraction": fraction, "n_track": len(key_l)}
        for name, encoder in encoder_d.items():
            fitted, _ = choose_probe(encoder, split_d, key_l, problem, regularisation_l)
            row[name] = tuple(probe_scores(encoder, fitted, split_d[part])[metric]
                              for part in ("test", task.HELDOUT_SPLIT))
        model = train_from_scratch(encoder_config, task_config, split_d, key_l, generator, fast_mode, device)
        row["from scratch"] = tuple(float(task.test_scores(model, task_config, split_d[part])[metric])
                                    for part in ("test", task.HELDOUT_SPLIT))
        row_l.append(row)
    return row_l
