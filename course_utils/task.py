"""What a task is, in one place: its Dataset class, its loss, its activation, how a whole track is predicted,
how the test split is scored, and the splits it is trained and tested on (set B included).

Every config names its task with ``dataset.problem`` (``task_of``):

- ``multiclass`` (e.g. dance type): ``TagDataset``, cross-entropy, softmax averaged over a track's patches,
  accuracy and macro-recall;
- ``multilabel`` (e.g. instruments): ``TagDataset``, binary cross-entropy, sigmoid averaged over a track's
  patches, ROC-AUC and AP;
- ``segment`` (e.g. chords): ``TagDataset``, binary cross-entropy per frame, ROC-AUC;
- ``pitch`` (multi-pitch, the melody): ``PitchDataset``, binary cross-entropy per (pitch, frame) with the positives
  weighted (``pitch_pos_weight``), the salience of a whole track, mir_eval's multi-pitch scores. The original
  course's pitch configs name no problem (``do_f0_annot``): they are read as ``pitch``;
- ``cover``: ``CoverDataset``, the triplet loss, an embedding per track, MAP, MR1, P@1;
- ``separation``: ``separation.SeparationDataset`` (the stems), the masked MSE of the magnitudes, SDR and SI-SDR
  of whole tracks;
- ``contrastive`` (self-supervised pretraining): ``contrastive.CropDataset`` (two views of a track, no label
  read), the NT-Xent loss (``contrastive.pretrain``); scored by probes (``course_utils.probe``);
- ``reconstruction`` (auto-encoders, VAE, neural codecs): ``codec.ReconstructionDataset`` (y = X), the squared error
  (plus the bottleneck's losses, ``codec.reconstruction_batch_loss``), ``codec.reconstruction_scores``;
- ``language_model`` and ``flow`` (generation): ``generation.EncodedDataset`` (windows of a codec's codes or a VAE's
  latents, with a prompt), the cross-entropy of the next token (``sequence.lm_batch_loss``) or the squared error of
  the velocity (``generation.flow_batch_loss``); scored by ``sequence.token_nll`` and ``course_utils.fidelity``.

``split_datasets`` builds the splits of a config, with ``"B"``: the test split played by the held-out renderer
(``renderers.HELDOUT_RENDERER``). Used by the training notebooks (05-09), the benchmarks and
``course_utils.tools.train_original``. Adding a task is one entry of ``TASK_D`` (docs/extending.md).
"""

import copy
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import accuracy_score, average_precision_score, balanced_accuracy_score, roc_auc_score

from course_utils import annotation, dataset, feature, metrics
from course_utils.config import as_config


@dataclass(frozen=True)
class Task:
    """One task: how its data, loss, predictions and scores are made (each a function of the config or the model).

    dataset_class : the ``Dataset`` of its items, ``dataset_class(hdf5_audio_file, pyjama_file, split, config)``
    make_loss : (config, train_ds) -> loss module, ``loss(model(X), y)`` (``train_ds`` may be None: a loss that
        needs the training split, e.g. the weight of the positives, then takes its default)
    activation : logits -> what is scored (probabilities; the embedding itself for covers)
    score : (model, test Dataset, config) -> dict of the field's metrics on whole tracks
    collate_fn : the DataLoader's collate (None: torch's default)
    build_option_d : the dataset files it reads (``build.ensure_dataset`` options: the stems, the cover collection)
    """

    name: str
    dataset_class: type
    make_loss: object
    activation: object
    score: object
    collate_fn: object = None
    build_option_d: dict = None


# --- whole tracks ---------------------------------------------------------------------------------------


@torch.no_grad()
def predict_track(model, X, patch_l=None, batch_size=64):
    """The model's output for a whole track X (C, F, T) or (1, T) (no batch axis), in eval mode, without gradients,
    on the model's device: on the whole track at once (``patch_l`` None: fully convolutional models, or models that
    pool over time), or patch by patch (``ds.track_patches(key)``, ``batch_size`` patches per pass). Returns a tensor
    on the CPU: the output without its batch axis, or one output per patch, stacked (n_patch, ...); activations
    (sigmoid, softmax) are left to the caller."""
    was_training = model.training
    model.eval()
    parameter = next(model.parameters())
    device = parameter.device
    X = torch.as_tensor(X).to(parameter.dtype)  # float64 or int arrays: the model's precision
    try:
        if patch_l is None:
            return model(X[None].to(device))[0].cpu()
        patch_X = torch.stack([X[..., p["start_frame"]:p["end_frame"]] for p in patch_l])
        return torch.cat([model(patch_X[i:i + batch_size].to(device)).cpu()
                          for i in range(0, len(patch_X), batch_size)])
    finally:
        model.train(was_training)


def patch_mean_probability(model, X, patch_l, activation=torch.sigmoid):
    """A track's tags: the mean over its patches of the model's probabilities, np.ndarray (n_label,).

    X : the track's feature (C, F, T) or (1, T); patch_l : its patches (``feature.f_get_patches``)."""
    return activation(predict_track(model, X, patch_l)).mean(dim=0).numpy()


def track_probabilities(model, ds, activation=torch.sigmoid):
    """Per track: the mean over its patches of the model's probabilities, and the targets.

    Returns
    -------
    prob_m : np.ndarray (n_track, n_label) in the order of ``ds.key_l``
    target_m : np.ndarray, the whole-track targets stacked (n_track, n_label) or (n_track,)
    """
    prob_l = [patch_mean_probability(model, ds.get_track(key)[0], ds.track_patches(key), activation)
              for key in ds.key_l]
    return np.array(prob_l), np.array([ds.get_target(key).numpy() for key in ds.key_l])


def salience(model, X):
    """The probability of each (pitch, frame) of a whole track's feature X (C, F, T), in one pass (the pitch models
    are fully convolutional): np.ndarray (n_bins, T)."""
    return torch.sigmoid(predict_track(model, X))[0].numpy()


def track_salience(model, ds, key):
    """``salience`` of a track of a Dataset, and its reference piano roll: two np.ndarray (n_bins, T)."""
    X, roll_m = ds.get_track(key)
    return salience(model, X), roll_m.numpy()


def track_embeddings(model, ds):
    """(N, D) embeddings of the N tracks of a Dataset, each computed on the whole track at once."""
    return torch.stack([predict_track(model, ds.get_track(key)[0]) for key in ds.key_l])


# --- scores on whole tracks -------------------------------------------------------------------------------


def present_labels(target_m):
    """Labels that both occur and not occur in the targets (n_track, n_label): ROC-AUC needs both classes."""
    target_m = np.asarray(target_m)
    return (target_m.sum(axis=0) > 0) & (target_m.sum(axis=0) < len(target_m))


def multiclass_scores(model, ds, config=None):
    """Accuracy and macro-recall (balanced accuracy) of the track-level decision."""
    prob_m, target_v = track_probabilities(model, ds, _softmax)
    return {"accuracy": accuracy_score(target_v, prob_m.argmax(axis=1)),
            "macro-recall": balanced_accuracy_score(target_v, prob_m.argmax(axis=1))}


def tag_scores(prob_m, target_m):
    """(macro ROC-AUC, macro AP) of track probabilities (n_track, n_label) against 0/1 targets, over the labels that
    both occur and not occur in the targets."""
    present_v = present_labels(target_m)
    return (float(roc_auc_score(target_m[:, present_v], prob_m[:, present_v], average="macro")),
            float(average_precision_score(target_m[:, present_v], prob_m[:, present_v], average="macro")))


def multilabel_scores(model, ds, config=None):
    """Macro ROC-AUC and AP over the labels present in the split."""
    roc_auc, ap = tag_scores(*track_probabilities(model, ds, torch.sigmoid))
    return {"ROC-AUC": roc_auc, "AP": ap}


def segment_scores(model, ds, config=None):
    """Frame labels, averaged over the patches and frames of a track, scored per label (macro ROC-AUC)."""
    prob_m, target_m = track_probabilities(model, ds, torch.sigmoid)
    prob_m, target_m = prob_m.mean(axis=-1), target_m.mean(axis=-1) > 0.5
    present_v = present_labels(target_m)
    return {"ROC-AUC": roc_auc_score(target_m[:, present_v], prob_m[:, present_v], average="macro")}


def pitch_scores(model, ds, config=None, threshold=0.5):
    """mir_eval multi-pitch Precision, Recall and Accuracy of whole tracks, the salience thresholded at
    ``threshold``, averaged over tracks."""
    frequency_hz_v = feature.f_get_pitch_grid_hz(ds.feature_d)
    score_l = []
    for key in ds.key_l:
        salience_m, roll_m = track_salience(model, ds, key)
        score_l.append(metrics.multipitch_scores(roll_m, salience_m > threshold, ds.time_sec_v(key), frequency_hz_v))
    return {name: float(np.mean([score_d[name] for score_d in score_l])) for name in ("Precision", "Recall",
                                                                                       "Accuracy")}


def pitch_pos_weight(ds, cap=10.0):
    """The weight of the positive cells in the multi-pitch loss: (1 - r) / r for the share r of active
    (pitch, frame) cells over the tracks of ``ds`` (a ``PitchDataset`` or a ``ConcatDataset`` of them), at
    most ``cap``: a float for ``BCEWithLogitsLoss(pos_weight=...)`` (notebook 06, exercise 06.1)."""
    part_l = ds.datasets if isinstance(ds, torch.utils.data.ConcatDataset) else [ds]
    positive_rate = float(np.mean([part.get_target(key).float().mean().item() for part in part_l
                                   for key in part.key_l]))
    return min(cap, (1 - positive_rate) / positive_rate)


def cover_scores(model, ds, config=None):
    """Ranking metrics (MAP, MR1, MRR, P@1, P@10) of whole-track embeddings: each track queries all others."""
    work_v = np.array([ds.get_target(key) for key in ds.key_l])
    return metrics.ranking_metrics(metrics.pairwise_distances(track_embeddings(model, ds)).numpy(), work_v)


def _softmax(logit_m):
    return torch.softmax(logit_m, dim=1)


def _triplet_loss(config, train_ds=None):
    settings = as_config(config).get("train") or {}
    return metrics.TripletLoss(margin=settings.get("margin", 0.3), mining=settings.get("mining", "semihard"))


def _pitch_loss(config, train_ds=None):
    """Binary cross-entropy with the positives weighted by ``pitch_pos_weight(train_ds, cap=train.pos_weight)``
    (default cap 10: notebook 06); unweighted without a training split or with ``train.pos_weight: false`` (a
    melody, one pitch a frame, as notebook 07's extractor trains)."""
    cap = (as_config(config).get("train") or {}).get("pos_weight", 10.0)
    if train_ds is None or cap is False:
        return torch.nn.BCEWithLogitsLoss()
    return torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pitch_pos_weight(train_ds, cap=float(cap))))


def _separation_loss(config, train_ds=None):
    from course_utils import separation

    return _LossOfFunction(separation.masked_mse_loss)


def _contrastive_loss(config, train_ds=None):
    from course_utils import contrastive

    return contrastive.NTXentLoss(contrastive.pretrain_settings(config).temperature)


class _LossOfFunction(torch.nn.Module):
    """A loss function ``f(output, y)`` as a module (what ``fit`` and ``.to(device)`` expect)."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, output, y):
        return self.function(output, y)


def _separation_scores(model, ds, config=None):
    from course_utils import separation

    return separation.model_scores(model, ds, config)


def _reconstruction_scores(model, ds, config=None):
    from course_utils import codec

    return codec.reconstruction_scores(model, ds, config)


def _dataset_class(module_name, class_name):
    """A Dataset class of a module that imports this one (loaded when a Dataset is made)."""

    def make(*arg_l, **kwarg_d):
        import importlib

        return getattr(importlib.import_module(f"course_utils.{module_name}"), class_name)(*arg_l, **kwarg_d)

    make.__qualname__ = f"{module_name}.{class_name}"
    return make


def _scored_elsewhere(how):
    def score(model, ds, config=None):
        raise NotImplementedError(how)

    return score


TASK_D = {
    "multiclass": Task("multiclass", dataset.TagDataset, lambda config, train_ds=None: torch.nn.CrossEntropyLoss(),
                       _softmax, multiclass_scores),
    "multilabel": Task("multilabel", dataset.TagDataset, lambda config, train_ds=None: torch.nn.BCEWithLogitsLoss(),
                       torch.sigmoid, multilabel_scores),
    "segment": Task("segment", dataset.TagDataset, lambda config, train_ds=None: torch.nn.BCEWithLogitsLoss(),
                    torch.sigmoid, segment_scores),
    "pitch": Task("pitch", dataset.PitchDataset, _pitch_loss, torch.sigmoid, pitch_scores),
    "cover": Task("cover", dataset.CoverDataset, _triplet_loss, lambda embedding: embedding, cover_scores,
                  dataset.cover_collate, {"covers": True}),
    "separation": Task("separation", _dataset_class("separation", "SeparationDataset"), _separation_loss,
                       lambda mask_logits: mask_logits, _separation_scores, None, {"stems": True}),
    "contrastive": Task("contrastive", _dataset_class("contrastive", "CropDataset"), _contrastive_loss,
                        lambda projection: projection, _scored_elsewhere(
        "a contrastive encoder is scored by probes on its embeddings: probe.label_efficiency (notebook 09)")),
    "reconstruction": Task("reconstruction", _dataset_class("codec", "ReconstructionDataset"),
                           lambda config, train_ds=None: torch.nn.MSELoss(), lambda output: output,
                           _reconstruction_scores),
    "language_model": Task("language_model", _dataset_class("generation", "EncodedDataset"),
                           lambda config, train_ds=None: torch.nn.CrossEntropyLoss(), lambda logit: logit.softmax(-1),
                           _scored_elsewhere("sequence.token_nll and fidelity (notebook 11)")),
    "flow": Task("flow", _dataset_class("generation", "EncodedDataset"), lambda config, train_ds=None:
                 torch.nn.MSELoss(), lambda velocity: velocity, _scored_elsewhere("fidelity (notebook 11)")),
}


HEADLINE_METRIC_D = {"multiclass": "accuracy", "multilabel": "ROC-AUC"}  # the one score a tag task is reported by


def task_of(config):
    """The name of a config's task (a key of ``TASK_D``): its ``dataset.problem``. The original course's pitch
    configs name none and have ``do_f0_annot``: ``pitch``. Any other config without a problem is an error."""
    dataset_d = as_config(config).get("dataset") or {}
    problem = dataset_d.get("problem")
    if problem is None and "do_f0_annot" in dataset_d:
        return "pitch"
    if problem not in TASK_D:
        said = "names no task" if problem is None else f"has dataset.problem {problem!r}, not a task of the course"
        raise dataset.DatasetError(f"the config {said}: set dataset.problem to one of {', '.join(TASK_D)} "
                                   "(course_utils.task.TASK_D)")
    return problem


def get_task(config):
    """The ``Task`` of a config."""
    return TASK_D[task_of(config)]


def make_datasets(config, data_file, pyjama_file, split_l=annotation.SPLIT_L, **dataset_kwarg_d):
    """split -> Dataset of the config's task (keyword arguments go to the Dataset, e.g. ``feature_placement``)."""
    dataset_class = get_task(config).dataset_class
    return {split: dataset_class(data_file, pyjama_file, split, config, **dataset_kwarg_d) for split in split_l}


HELDOUT_SPLIT = "B"  # the test split played by the held-out renderer: sound no training set holds


def split_datasets(config, preset, data_dir, heldout=True, split_l=annotation.SPLIT_L, build_option_d=None,
                   **dataset_kwarg_d):
    """The splits of the config's task on the course dataset: split -> Dataset.

    ``train``, ``valid`` and ``test`` of the preset (the test split is "A": played by the training renderers), and
    with ``heldout``, ``"B"`` (``HELDOUT_SPLIT``): the same test tracks played by ``renderers.HELDOUT_RENDERER``,
    a sample library in no training set (rendered on first use). The files are the task's (``Task.build_option_d``:
    the stems for separation, the cover collection for covers) unless ``build_option_d`` says otherwise, e.g.
    ``{"covers": True}`` for a melody extractor scored on the covers. Keyword arguments go to the Datasets (e.g.
    ``feature_placement``). The one builder of the splits: notebooks 05-09, ``probe`` and the benchmarks use it.
    """
    from course_utils.data import build, renderers  # imported here: the data package loads music21 (seconds)

    the_task = get_task(config)
    option_d = {**(the_task.build_option_d or {}), **(build_option_d or {})}
    file_pair = build.ensure_dataset(preset, data_dir, **option_d)
    split_d = {split: the_task.dataset_class(*file_pair, split, config, **dataset_kwarg_d) for split in split_l}
    if heldout:
        heldout_pair = build.ensure_dataset(preset, data_dir, split="test", renderer=renderers.HELDOUT_RENDERER,
                                            **option_d)
        split_d[HELDOUT_SPLIT] = the_task.dataset_class(*heldout_pair, "test", config, **dataset_kwarg_d)
    return split_d


def renderer_dataset(config, preset, data_dir, split, renderer_l, **dataset_kwarg_d):
    """The ``split`` of the config's task played by the renderers ``renderer_l`` (the same notes, whoever plays
    them), as one Dataset: to train without a renderer, or to test on one alone (leave one library out).

    The preset's own files hold the training renderers (``renderers.TRAINING_RENDERER_L``, picked with
    ``dataset.renderer_l``); any other renderer plays the split in its own files (``build.ensure_dataset(preset,
    data_dir, split=..., renderer=...)``, rendered on first use). Several renderers: a ``ConcatDataset``.
    """
    from course_utils.data import build, renderers  # imported here: the data package loads music21 (seconds)

    part_l = []
    preset_renderer_l = [name for name in renderer_l if name in renderers.TRAINING_RENDERER_L]
    dataset_class = get_task(config).dataset_class
    if preset_renderer_l:
        part_config = copy.deepcopy(as_config(config))
        part_config.dataset["renderer_l"] = preset_renderer_l
        part_l.append(dataset_class(*build.ensure_dataset(preset, data_dir), split, part_config, **dataset_kwarg_d))
    for name in renderer_l:
        if name not in renderers.TRAINING_RENDERER_L:
            part_l.append(dataset_class(*build.ensure_dataset(preset, data_dir, split=split, renderer=name), split,
                                        config, **dataset_kwarg_d))
    if not part_l:
        raise ValueError(f"renderer_l is empty: name at least one renderer ({', '.join(renderers.RENDERER_D)})")
    return part_l[0] if len(part_l) == 1 else torch.utils.data.ConcatDataset(part_l)


def make_loss(config, train_ds=None):
    """The loss the course trains for the config's task: cross-entropy, BCE with logits (for pitch, its positives
    weighted by ``pitch_pos_weight(train_ds)``), the triplet loss of ``train.margin``, the masked MSE of separation,
    NT-Xent. ``train_ds``: the training split (None: a loss that needs it takes its default)."""
    return get_task(config).make_loss(config, train_ds)


def train_model(config, split_d, device=None, generator=None, fast_mode=False, checkpoint_path=None,
                **fit_option_d):
    """The chain every trained model of the course follows, in one place: the YAML model of the config, the
    DataLoaders of ``split_d['train']`` and ``split_d['valid']`` (the task's collate), the task's loss (with the
    training split: ``make_loss``) and ``train.fit`` (``fit_option_d``: e.g. ``valid_score_fn``).

    Returns (the trained model on ``device``, its best weights loaded; the history of ``fit``)."""
    from course_utils import model_factory, runtime, train  # train and the model factory stand on this module

    device = torch.device(device) if device is not None else runtime.get_device()
    batch_size = train.train_settings(config, fast_mode).batch_size
    model = model_factory.NetModel(config, feature.feature_input_dim(as_config(config).feature, batch_size))
    loader_d = train.make_loaders({split: split_d[split] for split in ("train", "valid")}, config,
                                  generator=generator, collate_fn=get_task(config).collate_fn, fast_mode=fast_mode)
    history = train.fit(model.to(device), loader_d["train"], loader_d["valid"],
                        make_loss(config, split_d["train"]).to(device), config, device=device,
                        checkpoint_path=checkpoint_path, fast_mode=fast_mode, **fit_option_d)
    return model, history


def test_scores(model, config, test_ds, **option_d):
    """The task's standard metrics on whole tracks of ``test_ds`` (e.g. ``threshold`` for multi-pitch)."""
    return get_task(config).score(model, test_ds, config, **option_d)
