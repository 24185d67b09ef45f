"""Auto-encoders of the course's audio, and what their bottleneck keeps: the ``reconstruction`` task.

- ``ReconstructionDataset``: idx = a patch of a track's log-magnitude STFT (``features.stft``), ``y`` = the patch
  itself (an auto-encoder's target is its input); ``dataset.max_track`` keeps at most that many tracks of the split;
- the batch loss ``train.fit`` trains them with, ``reconstruction_batch_loss``: the squared error plus what the
  bottleneck adds (beta times the KL of a ``bottleneck.GaussianLatent``, the codebook and commitment losses of a
  ``bottleneck.VectorQuantize``), and ``CodeCounter``: the codes chosen in each training epoch;
- a vector quantiser's codebooks started from k-means on several batches (``initialise_codebooks``);
- a model cut at its bottleneck (``split_at_bottleneck``, ``encode``, ``decode``), run on whole tracks
  (``reconstruct_track``, ``distance_table``) and on audio (``round_trip``); its bit rate (``bit_rate``);
- ``PCABaseline``: the non-learned auto-encoder of the same size (a PCA of windows of frames).

The sound back from a magnitude, and the distances it is judged by, are in ``course_utils.resynthesis``.
Taught in notebooks/10_autoencoders.ipynb.
"""

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA

from course_utils import bottleneck, dataset, task
from course_utils.config import ConfigError


class ReconstructionDataset(dataset.PatchDataset):
    """The ``reconstruction`` task: idx = a patch; X = its log-magnitude STFT (1, F, L); y = X.

    ``config['dataset']``: ``max_track`` (optional): at most that many tracks of the split, evenly spread over it
    (the others counted in ``skipped_d``): a CPU budget. ``feature.type`` must be ``stft`` (the one feature whose
    sound comes back, ``resynthesis``)."""

    def select_entries(self, entry_l):
        if self.feature_d["type"] != "stft":
            raise dataset.DatasetError(f"a ReconstructionDataset reads the STFT (feature.type: stft), whose sound "
                                       f"comes back; got '{self.feature_d['type']}'")
        max_track = self.dataset_d.get("max_track")
        if max_track is None or len(entry_l) <= max_track:
            return entry_l
        if isinstance(max_track, bool) or not isinstance(max_track, int) or max_track < 1:
            raise dataset.DatasetError(f"dataset.max_track must be a whole number >= 1, got {max_track!r}")
        kept_l = [entry_l[int(i)] for i in np.linspace(0, len(entry_l) - 1, max_track).round()]
        self.skipped_d[f"tracks beyond dataset.max_track {max_track}"] = len(entry_l) - len(kept_l)
        return kept_l

    def make_target(self, entry, time_sec_v):
        return torch.zeros(0)

    def get_y(self, key, start_frame, end_frame):
        return self.get_X(key, start_frame, end_frame)


# --- a model cut at its bottleneck -------------------------------------------------------------------------------


def split_at_bottleneck(model):
    """(encoder layers, the bottleneck layer, decoder layers) of a ``NetModel`` with exactly one ``GaussianLatent`` or
    ``VectorQuantize`` layer and no skip connection; the layers as (path, module) pairs in forward order."""
    layer_l = [(path, module) for path, _, module in model._layer_l]
    found_l = [i for i, (_, module) in enumerate(layer_l) if isinstance(module, tuple(bottleneck.LAYER_D.values()))]
    if len(found_l) != 1:
        raise ConfigError(f"{model.name} has {len(found_l)} bottleneck layers (GaussianLatent or VectorQuantize): "
                          "encode and decode need exactly one")
    if any(type(module).__name__ in ("StoreAs", "CatWith") for _, module in layer_l):
        raise ConfigError(f"{model.name} has skip connections (StoreAs / CatWith): they would carry the input past "
                          "the bottleneck; an auto-encoder has none")
    return layer_l[:found_l[0]], layer_l[found_l[0]][1], layer_l[found_l[0] + 1:]


def _run(layer_l, X):
    for path, module in layer_l:
        try:
            X = module(X)
        except (RuntimeError, ValueError) as error:
            raise RuntimeError(f"{path} ({type(module).__name__}), input of shape {list(X.shape)}: {error}") from error
    return X


@torch.no_grad()
def encode(model, X):
    """The latent of X (B, C, F, T) in eval mode: the VAE's mean, or the quantised vectors of a VQ (its codes in
    ``split_at_bottleneck(model)[1].codes``), (B, D, T')."""
    encoder_l, latent_layer, _ = split_at_bottleneck(model)
    model.eval()
    return latent_layer(_run(encoder_l, X))


@torch.no_grad()
def decode(model, Z):
    """The model's output (its reconstruction) from a latent Z (B, D, T'), in eval mode."""
    _, _, decoder_l = split_at_bottleneck(model)
    model.eval()
    return _run(decoder_l, Z)


@torch.no_grad()
def reconstruct_track(model, X, multiple=16):
    """The reconstruction of a whole track's feature X (C, F, T), in eval mode: the model is fully convolutional, so
    the track goes through at once, its frames padded with zeros to a multiple of ``multiple`` (the product of the
    encoder's strides) and the output cut back to T. Returns a tensor (C, F, T) on the CPU."""
    X = torch.as_tensor(X, dtype=torch.float32)
    n_frame = X.shape[-1]
    padded = F.pad(X, (0, -n_frame % multiple))
    return task.predict_track(model, padded)[..., :n_frame]


@torch.no_grad()
def initialise_codebooks(model, loader, device=None, n_batch=8):
    """k-means initialisation of a model's ``VectorQuantize`` from the latent vectors of ``n_batch`` batches of
    ``loader`` (more vectors than codes: a codebook fitted on as many vectors as it has codes would hold each of them
    and leave nothing to the next codebooks). Nothing to do when the layer has ``kmeans_init: false``. Returns the
    number of vectors used."""
    vq_layer = bottleneck_of(model)
    if not isinstance(vq_layer, bottleneck.VectorQuantize) or not vq_layer.kmeans_init:
        return 0
    encoder_l = split_at_bottleneck(model)[0]
    device = device if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    vector_l = []
    for idx_batch, batch in enumerate(loader):
        if idx_batch == n_batch:
            break
        Z = _run(encoder_l, batch["X"].to(device))
        vector_l.append(Z.movedim(1, -1).reshape(-1, Z.shape[1]))
    vq_layer.initialise(torch.cat(vector_l))
    model.train(was_training)
    return sum(len(vector_m) for vector_m in vector_l)


def fit_autoencoder(model, config, split_d, device, generator=None, fast_mode=False, counter=None, train_ds=None):
    """Train an auto-encoder of notebook 10 (AE, VAE or codec) on ``split_d['train']`` (or ``train_ds``) with
    ``train.fit`` and ``reconstruction_batch_loss``, validated on a quarter of ``split_d['valid']``; a vector
    quantiser's codebooks first started by k-means on 8 batches. ``counter``: a class such as ``CodeCounter``, made
    for the number of training batches. Returns (``fit``'s history, the counter or None)."""
    from course_utils import train  # train stands on task, which this module's Dataset stands on

    valid_ds = torch.utils.data.Subset(split_d["valid"], range(0, len(split_d["valid"]), 4))
    loader_d = train.make_loaders({"train": train_ds or split_d["train"], "valid": valid_ds}, config,
                                  generator=generator, fast_mode=fast_mode)
    counter = counter(len(loader_d["train"])) if counter else None
    initialise_codebooks(model, loader_d["train"], device)
    history = train.fit(model, loader_d["train"], loader_d["valid"], None, config, device=device, fast_mode=fast_mode,
                        batch_loss=reconstruction_batch_loss(device, code_counter=counter))
    return history, counter


def bit_rate(vq_layer, latent_frames_per_sec):
    """Bits per second of the codes of a ``VectorQuantize`` at its depth ``n_active``: codebooks x bits per code x
    latent vectors per second (one latent vector per latent frame)."""
    return vq_layer.bits_per_vector * latent_frames_per_sec


# --- the losses ---------------------------------------------------------------------------------------------------


def bottleneck_of(model):
    """The bottleneck layer of a model (``GaussianLatent`` or ``VectorQuantize``), or None (a plain auto-encoder)."""
    found_l = [module for module in model.modules() if isinstance(module, tuple(bottleneck.LAYER_D.values()))]
    return found_l[0] if found_l else None


def reconstruction_batch_loss(device, code_counter=None):
    """The batch loss of every auto-encoder of the course, for ``train.fit``: the mean squared error of the output
    against ``y`` (the input), plus the bottleneck's ``extra_loss``: nothing for a plain auto-encoder, beta times the
    KL for a VAE (``bottleneck.GaussianLatent``: its beta, warm-up and free bits are in the YAML), the codebook and
    commitment losses for a vector quantiser. ``code_counter``: a ``CodeCounter`` that records the codes of every
    training batch. A function ``(model, batch) -> loss``."""

    def batch_loss(model, batch):
        X, y = batch["X"].to(device), batch["y"].to(device)
        loss = F.mse_loss(model(X), y)
        layer = bottleneck_of(model)
        if code_counter is not None and model.training and isinstance(layer, bottleneck.VectorQuantize):
            code_counter.add(layer)
        return loss if layer is None else loss + layer.extra_loss

    return batch_loss


class CodeCounter:
    """How often each code of each codebook of a ``VectorQuantize`` is chosen in training, epoch by epoch (an epoch:
    ``n_batch_per_epoch`` training batches, ``len(train_loader)``). ``count_l``: per epoch, counts (n_codebook,
    codebook_size); ``usage()`` (n_epoch, n_codebook): the share of each codebook's codes chosen at least once in the
    epoch (with quantizer dropout, over the batches that used the codebook); ``perplexity()`` likewise."""

    def __init__(self, n_batch_per_epoch):
        self.n_batch_per_epoch, self.n_batch, self.count_l = int(n_batch_per_epoch), 0, []

    def add(self, layer):
        if self.n_batch % self.n_batch_per_epoch == 0:
            self.count_l.append(torch.zeros(layer.n_codebook, layer.codebook_size, dtype=torch.long))
        for level, code_v in enumerate(layer.codes.detach().cpu()):
            self.count_l[-1][level] += torch.bincount(code_v.flatten(), minlength=layer.codebook_size)
        self.n_batch += 1

    def usage(self):
        return np.array([(count_m > 0).double().mean(dim=1).numpy() for count_m in self.count_l])

    def perplexity(self):
        return np.array([[bottleneck.perplexity_of_counts(count_v) if count_v.sum() else 0.0 for count_v in count_m]
                         for count_m in self.count_l])


# --- the non-learned baseline -------------------------------------------------------------------------------------


class PCABaseline:
    """An auto-encoder without learning: a PCA of windows of ``window`` frames of the log-magnitude (each window a
    vector of window x F numbers) to ``n_component`` numbers. With the window equal to the model's time stride and
    ``n_component`` its latent size, it keeps as many numbers per second as the model's latent.

    ``fit(X_l)`` on the training tracks' features (C, F, T); ``reconstruct(X)`` of a whole track (C, F, T)."""

    def __init__(self, n_component, window, max_vector=20000, seed=0):
        self.n_component, self.window, self.max_vector, self.seed = int(n_component), int(window), max_vector, seed

    def _windows(self, X):
        X = torch.as_tensor(X, dtype=torch.float32)
        padded = F.pad(X, (0, -X.shape[-1] % self.window))
        n_window = padded.shape[-1] // self.window
        return padded.reshape(*padded.shape[:-1], n_window, self.window).movedim(-2, 0).reshape(n_window, -1).numpy()

    def fit(self, X_l):
        window_m = np.concatenate([self._windows(X) for X in X_l])
        rng = np.random.default_rng(self.seed)
        if len(window_m) > self.max_vector:
            window_m = window_m[rng.choice(len(window_m), self.max_vector, replace=False)]
        self.pca = PCA(self.n_component, random_state=self.seed).fit(window_m)
        return self

    def reconstruct(self, X):
        X = torch.as_tensor(X, dtype=torch.float32)
        window_m = self.pca.inverse_transform(self.pca.transform(self._windows(X)))
        n_window = len(window_m)
        shape = (n_window, *X.shape[:-1], self.window)
        return torch.from_numpy(window_m.reshape(shape)).movedim(0, -2).reshape(*X.shape[:-1], -1)[..., :X.shape[-1]]


def model_reconstruction(model, multiple=16):
    """The function X -> the model's reconstruction of a whole track (``reconstruct_track``), as
    ``distance_scores`` takes it (a ``PCABaseline``'s is its ``reconstruct``)."""
    return lambda X: reconstruct_track(model, X, multiple)


def distance_scores(reconstruct, ds, key_l=None):
    """How far the reconstructions ``reconstruct(X)`` of whole tracks of ``ds`` (``key_l``, default all) are from X:
    the mean squared error of the log-magnitude (``MSE``) and its ratio to the track's own variance around its mean
    spectrum (``relative MSE``: 1 for a reconstruction that is the track's mean spectrum), averaged over tracks."""
    return distance_table({"": reconstruct}, ds, key_l)[""]


def distance_table(reconstruct_d, ds, key_l=None):
    """``distance_scores`` of several reconstructions (name -> function X -> its reconstruction), each track's feature
    read once: name -> {'MSE', 'relative MSE'}."""
    error_ld = {name: [] for name in reconstruct_d}
    for key in ds.key_l if key_l is None else key_l:
        X = ds.get_track(key)[0]
        variance = float(((X - X.mean(dim=-1, keepdim=True)) ** 2).mean())
        for name, reconstruct in reconstruct_d.items():
            error_ld[name].append(float(((torch.as_tensor(reconstruct(X)) - X) ** 2).mean()))
            error_ld[name].append(error_ld[name][-1] / variance)
    return {name: {"MSE": float(np.mean(error_l[0::2])), "relative MSE": float(np.mean(error_l[1::2]))}
            for name, error_l in error_ld.items()}


def round_trip(model, audio_v, param_feature, multiple=16, n_iter=32):
    """A waveform through the model and back, as a codec would send it: its ``stft`` feature (``param_feature``),
    the model's reconstruction (through its codes), then Griffin-Lim (``resynthesis.to_audio``: no phase is sent).
    Returns float32 audio of the same length."""
    from course_utils import feature, resynthesis

    X, _ = feature.f_get_feature(np.asarray(audio_v, dtype=np.float32), param_feature["sr_hz"], param_feature)
    return resynthesis.to_audio(reconstruct_track(model, X, multiple), param_feature, len(audio_v), n_iter=n_iter)


def reconstruction_scores(model, ds, config=None, multiple=16):
    """The ``reconstruction`` task's scores (``task.test_scores``): ``distance_scores`` of the model's
    reconstructions of every track of ``ds``."""
    return distance_scores(model_reconstruction(model, multiple), ds)
