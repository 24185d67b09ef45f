"""Generation of the course's audio: the ``language_model`` and ``flow`` tasks on the latents of notebook 10's
codec and VAE, conditioned on a prompt (the dance type and the instrument).

- ``EncodedDataset``: idx = a window of ``dataset.window_frame`` latent frames of a fiddle track (the RVQ codes
  of a codec, or the means of a VAE), with its prompt: the track's dance type and instrument;
- the language model's tokens (``token_layout``): codes, the delay pattern's hole, then one token per dance type
  and per instrument, and its batch loss (``sequence.lm_batch_loss`` on ``codes_to_tokens``);
- rectified flow [Liu2023; Lipman2023]: ``flow_path`` (the straight path from noise to data and its velocity),
  ``flow_batch_loss`` and ``euler_sample``; the velocity model reads the noisy latent, the time and the prompt
  as channels (``flow_input``);
- ``trained_or_loaded``: a model read from its checkpoint when an earlier notebook saved it with the same config,
  trained (and saved) otherwise;
- ``latent_to_audio``: a latent through the decoder, then Griffin-Lim (``resynthesis``).

Taught in notebooks/11_generation.ipynb.
"""

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from course_utils import bottleneck, checkpoint, codec, dataset, resynthesis, sequence
from course_utils.config import ConfigError, as_config, to_plain

# --- the data: windows of encoded tracks ------------------------------------------------------------------------


class EncodedDataset(codec.ReconstructionDataset):
    """idx = a window of a fiddle track's latent; ``__getitem__`` -> ``{"X": (C, window_frame), "prompt": (2,)}``.

    ``encoder``: a trained model of notebook 10 (``codec.split_at_bottleneck``): a codec gives its codes, X of
    ``dataset.n_stream`` codebooks (long); a VAE its means, X (latent_dim, window) (float). The prompt is
    (dance type index in ``dataset.label_l``, instrument index in ``dataset.instrument_l``). Windows start every
    ``dataset.window_hop`` latent frames. The track's STFT is read as the ``reconstruction`` task reads it
    (``feature_placement``), so a cache of notebook 10 is reused."""

    def __init__(self, hdf5_audio_file, pyjama_annot_file, split, config, encoder=None, **option_d):
        if encoder is None:
            raise dataset.DatasetError("an EncodedDataset needs encoder=<a trained model of notebook 10>")
        self.encoder = encoder
        super().__init__(hdf5_audio_file, pyjama_annot_file, split, config, **option_d)

    def prepare_items(self):
        """Encode every track (after the features are ready), then list the windows."""
        self.window_frame, self.window_hop = int(self.dataset_d["window_frame"]), int(self.dataset_d["window_hop"])
        self.latent_by_key_d = {key: encode_track(self.encoder, self.get_track(key)[0], self.dataset_d.get("n_stream"))
                                for key in self.key_l}
        self.prompt_by_key_d = {entry["filepath"][0]["value"]: prompt_of_entry(entry, self.dataset_d)
                                for entry in self.entry_l}
        self.window_l = [(key, start) for key in self.key_l
                         for start in range(0, self.latent_by_key_d[key].shape[-1] - self.window_frame + 1,
                                            self.window_hop)]
        if not self.window_l:
            raise dataset.DatasetError(f"{self.pyjama_annot_file}, split {self.split}: no track holds a window of "
                                       f"{self.window_frame} latent frames (dataset.window_frame)")

    def select_entries(self, entry_l):
        label_l = self.dataset_d["label_l"]
        kept_l = [entry for entry in entry_l if entry["genre"][0]["value"] in label_l]
        self.skipped_d["tracks of other genres than dataset.label_l"] = len(entry_l) - len(kept_l)
        return super().select_entries(kept_l)

    def __len__(self):
        return len(self.window_l)

    def __getitem__(self, idx):
        key, start = self.window_l[idx]
        return {"X": self.latent_by_key_d[key][..., start:start + self.window_frame],
                "prompt": self.prompt_by_key_d[key]}

    def latent_stats(self):
        """Mean and standard deviation of each latent channel over every frame of the split: two (C,) tensors."""
        all_m = torch.cat([latent.float() for latent in self.latent_by_key_d.values()], dim=-1)
        return all_m.mean(dim=-1), all_m.std(dim=-1)


def balanced_tracks(pyjama_annot_file, split, dataset_d, n_track):
    """``n_track`` fiddle tracks of a split, as many of each dance type of ``dataset_d['label_l']`` (evenly spread
    over that dance's tracks), and their prompts: (keys, long tensor (n_track, 2)). Sets of clips compared by a
    Fréchet distance must hold the same mix of dance types, or the distance measures the mix."""
    from course_utils import annotation

    label_l = list(dataset_d["label_l"])
    if n_track % len(label_l):
        raise ValueError(f"{n_track} tracks cannot hold as many of each of the {len(label_l)} dance types")
    entry_l = [entry for entry in annotation.load_pyjama(pyjama_annot_file)["collection"]["entry"]
               if entry["split"][0]["value"] == split and entry["genre"][0]["value"] in label_l]
    chosen_l = []
    for dance in label_l:
        dance_l = [entry for entry in entry_l if entry["genre"][0]["value"] == dance]
        per_dance = n_track // len(label_l)
        if len(dance_l) < per_dance:
            raise ValueError(f"{pyjama_annot_file}: {len(dance_l)} {dance} tracks in the {split} split, fewer than "
                             f"{per_dance}")
        chosen_l += [dance_l[int(i)] for i in np.linspace(0, len(dance_l) - 1, per_dance).round()]
    return ([entry["filepath"][0]["value"] for entry in chosen_l],
            torch.stack([prompt_of_entry(entry, dataset_d) for entry in chosen_l]))


def prompt_of_entry(entry, dataset_d):
    """(dance type index, instrument index) of a fiddle track's entry: a long tensor (2,)."""
    genre, tag_l = entry["genre"][0]["value"], [tag["value"] for tag in entry["tag"]]
    instrument_l = list(dataset_d["instrument_l"])
    if len(tag_l) != 1 or tag_l[0] not in instrument_l:
        raise dataset.DatasetError(f"{entry['filepath'][0]['value']}: a prompt names one instrument of "
                                   f"dataset.instrument_l {instrument_l}; the track has {tag_l}")
    return torch.tensor([list(dataset_d["label_l"]).index(genre), instrument_l.index(tag_l[0])])


@torch.no_grad()
def encode_track(encoder, X, n_stream=None):
    """The latent of a whole track's feature X (C, F, T): a codec's codes (n_stream, T / 2) (long), or a VAE's
    means (latent_dim, T / 2), on the CPU. The frames are padded to a multiple of 16 and the latent cut back."""
    X = torch.as_tensor(X, dtype=torch.float32)
    n_frame = X.shape[-1]
    device = next(encoder.parameters()).device
    latent = codec.encode(encoder, F.pad(X, (0, -n_frame % 16))[None].to(device))[0]
    n_latent = (n_frame + 1) // 2
    layer = codec.bottleneck_of(encoder)
    if isinstance(layer, bottleneck.VectorQuantize):
        return layer.codes[: n_stream or layer.n_active, 0, :n_latent].cpu()
    return latent[:, :n_latent].cpu()


def model_input_dim(config, batch_size):
    """The input shape of a generation config's model, batch axis included. A language model reads every token of
    a window but the last (teacher forcing): over codes [B, n_stream, 2 + window_frame + n_stream - 2] (the prompt,
    the delay pattern), over notes [B, 1, window_token] (the prompt and the window but its last token); a flow model
    [B, latent_dim + 1 + n_label + n_instrument, window_frame]."""
    config = as_config(config)
    dataset_d = config.dataset
    if dataset_d.get("problem") == "flow":
        n_channel = int(dataset_d["latent_dim"]) + 1 + len(dataset_d["label_l"]) + len(dataset_d["instrument_l"])
        return [batch_size, n_channel, int(dataset_d["window_frame"])]
    if dataset_d.get("problem") != "language_model":
        raise ConfigError(f"model_input_dim: dataset.problem is {dataset_d.get('problem')!r}, not language_model or "
                          "flow (other tasks: feature.feature_input_dim)")
    if "window_token" in dataset_d:
        return [batch_size, 1, int(dataset_d["window_token"])]
    n_stream = int(dataset_d["n_stream"])
    return [batch_size, n_stream, 2 + int(dataset_d["window_frame"]) + n_stream - 2]


# --- the language model's tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenLayout:
    """The vocabulary of the language model over codes: ``codebook_size`` codes, then the delay pattern's hole
    (``empty``), then one prompt token per dance type and one per instrument (``vocab_size`` in all)."""

    codebook_size: int
    n_label: int
    n_instrument: int

    @property
    def empty(self):
        return self.codebook_size

    @property
    def vocab_size(self):
        return self.codebook_size + 1 + self.n_label + self.n_instrument

    def prompt_tokens(self, prompt_m):
        """(B, 2) (dance, instrument) indices -> (B, 2) tokens."""
        prompt_m = torch.as_tensor(prompt_m).long()
        return torch.stack([prompt_m[:, 0] + self.codebook_size + 1,
                            prompt_m[:, 1] + self.codebook_size + 1 + self.n_label], dim=1)


def token_layout(config):
    """The ``TokenLayout`` of a language-model config (``dataset.codebook_size``, ``label_l``, ``instrument_l``)."""
    dataset_d = as_config(config).dataset
    return TokenLayout(int(dataset_d["codebook_size"]), len(dataset_d["label_l"]), len(dataset_d["instrument_l"]))


def codes_to_tokens(layout, code_m, prompt_m):
    """Codes (B, K, T) and prompts (B, 2) -> tokens (B, K, 2 + T + K - 1): the prompt, then the delay pattern."""
    return sequence.with_prompt(sequence.delay_pattern(code_m.long(), layout.empty), layout.prompt_tokens(prompt_m))


def lm_codes_batch_loss(layout, device):
    """``train.fit``'s batch loss of the language model over codes (teacher forcing, nats per code)."""
    return sequence.lm_batch_loss(device, 2, layout.codebook_size,
                                  prepare=lambda batch: codes_to_tokens(layout, batch["X"], batch["prompt"]))


# --- rectified flow ----------------------------------------------------------------------------------------------


def flow_path(data, noise, t):
    """The straight path of rectified flow from noise (t = 0) to data (t = 1): x_t = (1 - t) noise + t data, and
    its velocity dx_t/dt = data - noise (what the model learns to predict). data, noise (B, ...); t (B,) in [0, 1].
    Returns (x_t, velocity), both shaped like data."""
    t = torch.as_tensor(t, dtype=data.dtype, device=data.device).reshape(-1, *[1] * (data.dim() - 1))
    return (1 - t) * noise + t * data, data - noise


def flow_input(x_t, t, prompt_m, n_label, n_instrument):
    """The velocity model's input (B, C + 1 + n_label + n_instrument, T): the noisy latent (B, C, T), the time as a
    constant channel and the prompt one-hot, each a constant channel."""
    n_batch, _, n_frame = x_t.shape
    one_hot = torch.cat([F.one_hot(prompt_m[:, 0], n_label), F.one_hot(prompt_m[:, 1], n_instrument)], dim=1)
    t_plane = torch.as_tensor(t, dtype=x_t.dtype, device=x_t.device).reshape(n_batch, 1, 1).expand(-1, 1, n_frame)
    return torch.cat([x_t, t_plane, one_hot.to(x_t)[..., None].expand(-1, -1, n_frame)], dim=1)


def flow_batch_loss(device, mean_v, std_v, n_label, n_instrument):
    """``train.fit``'s batch loss of rectified flow: the latent standardised by the training split's ``mean_v`` and
    ``std_v`` (C,), a time t ~ U(0, 1) and a noise per item, the squared error of the predicted velocity."""
    mean_v, std_v = mean_v.to(device)[:, None], std_v.to(device)[:, None]

    def batch_loss(model, batch):
        data = (batch["X"].to(device).float() - mean_v) / std_v
        noise, t = torch.randn_like(data), torch.rand(len(data), device=device)
        x_t, velocity = flow_path(data, noise, t)
        return F.mse_loss(model(flow_input(x_t, t, batch["prompt"].to(device), n_label, n_instrument)), velocity)

    return batch_loss


@torch.no_grad()
def euler_sample(model, prompt_m, n_channel, n_frame, mean_v, std_v, n_label, n_instrument, n_step=32,
                 generator=None):
    """Latents (B, n_channel, n_frame) drawn by rectified flow: noise, then ``n_step`` Euler steps
    x <- x + v(x, t) / n_step from t = 0 to 1, un-standardised (``mean_v``, ``std_v``)."""
    model.eval()
    device = next(model.parameters()).device
    prompt_m = torch.as_tensor(prompt_m).long().to(device)
    x = torch.randn(len(prompt_m), n_channel, n_frame, generator=generator).to(device)
    for step in range(n_step):
        t = torch.full((len(prompt_m),), step / n_step, device=device)
        x = x + model(flow_input(x, t, prompt_m, n_label, n_instrument)) / n_step
    return (x * std_v.to(device)[:, None] + mean_v.to(device)[:, None]).cpu()


# --- models, saved and read back -------------------------------------------------------------------------------


def trained_or_loaded(checkpoint_path, config, train_fn, device="cpu"):
    """The model of ``checkpoint_path`` when a checkpoint there was saved from the same config (e.g. by an earlier
    notebook), else ``train_fn()`` (-> a trained model), saved there. Returns (model on device, "loaded" or
    "trained")."""
    if checkpoint_path.exists() and checkpoint_path.with_suffix(".yaml").exists():
        try:
            model, saved_config = checkpoint.load_checkpoint(checkpoint_path, device)
        except (ConfigError, RuntimeError, ValueError) as error:
            print(f"{checkpoint_path.name}: not read ({error}); training it again")
        else:
            if to_plain(saved_config) == to_plain(config):
                return model, "loaded"
    model = train_fn()
    checkpoint.save_checkpoint(checkpoint_path, model, copy.deepcopy(config))
    return model.to(device), "trained"


@torch.no_grad()
def latent_to_audio(model, latent, config, n_iter=32):
    """Audio (n_samples,) from a latent (C, T') of a notebook-10 model: codes (long, K x T') are looked up in the
    codebooks (``bottleneck.VectorQuantize.decode_codes``), the decoder gives a log-magnitude, Griffin-Lim a sound."""
    layer = codec.bottleneck_of(model)
    device = next(model.parameters()).device
    latent = torch.as_tensor(latent)
    if not latent.is_floating_point():
        latent = layer.decode_codes(latent[:, None].to(device))  # (K, 1, T') -> (1, D, T')
    else:
        latent = latent[None].float().to(device)
    magnitude = codec.decode(model, latent)[0].cpu()
    hop = config.feature.hop_length
    return resynthesis.to_audio(magnitude, config.feature, magnitude.shape[-1] * hop, n_iter=n_iter)
