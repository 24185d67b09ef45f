"""Source separation of the chorale voices: the dataset, masks, the separated waveforms and their scores.

The course data can do what recorded music cannot: every chorale of a stems dataset
(``data.build.ensure_dataset(preset, folder, stems=True)``) comes with each voice's audio alone, recorded in the
same chain as the mixture, so that the mixture is the sum of its stems plus a noise floor. A model reads the
mixture's log-magnitude STFT (``features.stft``) and predicts one **mask** per voice, values in [0, 1] that
multiply the mixture's magnitude and add up to 1 over the voices (``masks_of``); the voice's waveform comes back
with the mixture's phase (``separate_track``). ``ideal_ratio_mask`` is the oracle (the stems known),
``harmonic_mask`` a non-learned baseline that knows the score's notes. Scores: SDR (BSS Eval's
``bss_eval_sources``, by ``fast_bss_eval``) and SI-SDR. A **conditioned** model (``feature.condition_voice_l``,
after the C-U-Net of Meseguer-Brocal and Peeters, 2019) has one output and is told which voice to separate: one
more input plane per voice, all ones for the voice asked for (``with_voice_planes``).

Taught in notebooks/08_source_separation.ipynb.
"""

import os

import fast_bss_eval
import numpy as np
import torch
from torch.utils.data import Dataset

from course_utils import annotation, audio_store, feature
from course_utils.config import ConfigError
from course_utils.features import stft

VOICE_L = ("Soprano", "Alto", "Tenor", "Bass")


def audible_voices(stem_m):
    """(V,) bool: the stems (V, n_samples) whose peak is above 1e-4 (-80 dB); a silent stem (a voice that rests
    throughout) has no defined score."""
    return np.abs(np.asarray(stem_m)).max(axis=1) > 1e-4


class SeparationDataset(Dataset):
    """Source separation. idx = a patch of a track; X = the mixture's log-magnitude STFT (1, F, L);
    y = magnitudes (1 + V, F, L): the mixture's first, then each voice's (``dataset.voice_l``, default the four).

    Conditioned (``feature.condition_voice_l``: the voices a model can be asked for): idx = a (patch, voice)
    pair, V items per patch (idx // V the patch, idx % V the voice); X = (1 + V, F, L), the log-magnitude then
    one plane per voice, ones for the voice asked for (``with_voice_planes``); y = (2, F, L), the mixture's
    magnitude and that voice's; the item also names the voice.

    The magnitudes of a patch are computed from the samples it covers (``features.stft.frames_of``), read from the
    file when the item is asked for: nothing but the file's handle is held in memory (the stems are five times
    the audio of a mixture). ``config``: ``feature.type`` 'stft', ``dataset.voice_l`` optional.
    """

    def __init__(self, hdf5_audio_file, pyjama_annot_file, split, config, progress=True):
        super().__init__()
        self.feature_d, self.split = config["feature"], split
        if self.feature_d["type"] != "stft":
            raise ConfigError(f"a SeparationDataset reads the STFT (feature.type: stft), got "
                              f"'{self.feature_d['type']}'")
        self.voice_l = list(config["dataset"].get("voice_l", VOICE_L))
        self.condition_voice_l = list(self.feature_d.get("condition_voice_l", None) or [])
        if self.condition_voice_l and self.condition_voice_l != self.voice_l:
            raise ConfigError(f"feature.condition_voice_l {self.condition_voice_l} and dataset.voice_l {self.voice_l} "
                              "differ: a conditioned model is asked for the dataset's voices, in the same order; "
                              "give the same list to both (or leave dataset.voice_l out)")
        self.hdf5_audio_file, self.pyjama_annot_file = str(hdf5_audio_file), str(pyjama_annot_file)
        entry_l = annotation.f_get_split_entry_l(annotation.load_pyjama(pyjama_annot_file)["collection"]["entry"],
                                                 split, pyjama_annot_file=self.pyjama_annot_file)
        self.entry_l = [entry for entry in entry_l
                        if set(self.voice_l) <= {item["value"] for item in entry.get("stems", [])}]
        if not self.entry_l:
            raise ValueError(f"{pyjama_annot_file}: no track of the '{split}' split has the stems {self.voice_l}; "
                             "build a stems dataset: data.build.ensure_dataset(preset, folder, stems=True)")
        self.key_l = [entry["filepath"][0]["value"] for entry in self.entry_l]
        self.n_fft, self.hop = int(self.feature_d["n_fft"]), int(self.feature_d["hop_length"])
        self._fid, self._pid = None, None
        self.n_sample_d, self.patch_l = {}, []
        for key in self.key_l:
            self.n_sample_d[key] = self._dataset(key).shape[0]
            patch_l = feature.f_get_patches(stft.n_frames(self.n_sample_d[key], self.hop),
                                            self.feature_d["patch_L_frame"], self.feature_d["patch_STEP_frame"])
            self.patch_l += [{"audiofile": key, **patch} for patch in patch_l]
        if progress:
            print(f"SeparationDataset({split}): {len(self.key_l)} tracks, {len(self.patch_l)} patches, voices "
                  f"{self.voice_l}" + (f"; left out: {len(entry_l) - len(self.entry_l)} tracks without those stems"
                                       if len(entry_l) > len(self.entry_l) else ""))

    def _dataset(self, key):
        """The HDF5 dataset of a key (the file opened once per process: h5py handles do not survive a fork)."""
        if self._fid is None or self._pid != os.getpid():
            self._fid, self._pid = audio_store.open_audio_file(self.hdf5_audio_file), os.getpid()
        if key not in self._fid:
            raise KeyError(f"{self.hdf5_audio_file}: no audio under '{key}' (named in {self.pyjama_annot_file}); "
                           "the two files do not belong together: build the stems dataset again")
        return self._fid[key]

    def read_track(self, key):
        """The whole track: (mixture (n,), stems (V, n)), float32, at the dataset's rate."""
        mix_v = self._samples(key, 0, self.n_sample_d[key])
        return mix_v, np.stack([self._samples(audio_store.stem_key(key, voice), 0, self.n_sample_d[key])
                                for voice in self.voice_l])

    def _samples(self, key, lo, hi):
        return _Int16Samples(self._dataset(key))[lo:hi]

    def __len__(self):
        return len(self.patch_l) * (len(self.condition_voice_l) or 1)

    def __getitem__(self, idx):
        if not 0 <= idx < len(self):
            raise IndexError(f"SeparationDataset({self.split}) has {len(self)} items, asked for {idx}")
        n_condition = len(self.condition_voice_l)
        patch = self.patch_l[idx // n_condition if n_condition else idx]
        voice_l = [self.voice_l[idx % n_condition]] if n_condition else self.voice_l
        key, start, end = patch["audiofile"], patch["start_frame"], patch["end_frame"]
        y = torch.stack([stft.frames_of(_Int16Samples(self._dataset(source_key)), start, end, self.n_fft,
                                               self.hop).abs()
                         for source_key in [key] + [audio_store.stem_key(key, voice) for voice in voice_l]])
        X = stft.log_magnitude(y[:1], float(self.feature_d["log_gain"]))
        if n_condition:
            X = with_voice_planes(X[None], idx % n_condition, n_condition)[0]
            return {"X": X, "y": y, "key": key, "start_frame": start, "voice": voice_l[0]}
        return {"X": X, "y": y, "key": key, "start_frame": start}


class _Int16Samples:
    """An int16 HDF5 dataset read as float32 in [-1, 1), slice by slice (only the samples asked for are read)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return self.dataset.shape[0]

    def __getitem__(self, index):
        return self.dataset[index].astype(np.float32) / 32768.0


def with_voice_planes(X, voice_index, n_voice):
    """Tell a conditioned model which voice to separate: X (B, C, F, L) -> (B, C + n_voice, F, L), one more plane
    per voice, all ones for ``voice_index`` and zeros for the others (the voice id as a one-hot vector, spread
    over the spectrogram so that a convolution reads it everywhere)."""
    planes = torch.zeros(X.shape[0], n_voice, *X.shape[2:], dtype=X.dtype, device=X.device)
    planes[:, voice_index] = 1
    return torch.cat([X, planes], dim=1)


def masks_of(mask_logits, voice_dim=1):
    """The masks of the model's logits: a softmax over the voices, so that, like the ideal ratio mask, the voices
    share each bin (their masks add up to 1). (B, V, F, L) -> same shape, in [0, 1]. A single mask (V = 1: a
    conditioned model, asked for one voice) has nothing to share a bin with: a sigmoid."""
    if mask_logits.shape[voice_dim] == 1:
        return torch.sigmoid(mask_logits)
    return torch.softmax(mask_logits, dim=voice_dim)


def masked_mse_loss(mask_logits, y):
    """The training loss: the mean squared difference between each voice's estimated magnitude (its mask times the
    mixture's) and its true magnitude, over voices, bins and frames; squared, so that the loud bins, which make
    most of a voice's energy (and of its SDR), count most.

    mask_logits : (B, V, F, L); y : (B, 1 + V, F, L), the mixture's magnitude first (``SeparationDataset``);
    V = 1 for a conditioned model."""
    return ((masks_of(mask_logits) * y[:, :1] - y[:, 1:]) ** 2).mean()


def ideal_ratio_mask(stem_magnitude_m):
    """The oracle mask of each voice: its magnitude over the sum of all voices' in each bin, (V, F, T) -> (V, F, T)
    in [0, 1], the masks adding up to 1 (an equal share where every voice is silent). A float32 tensor."""
    stem_magnitude_m = torch.as_tensor(stem_magnitude_m, dtype=torch.float32)
    total_m = stem_magnitude_m.sum(dim=0, keepdim=True)
    share_m = stem_magnitude_m / torch.where(total_m > 0, total_m, torch.ones_like(total_m))
    return torch.where(total_m > 0, share_m, torch.full_like(share_m, 1.0 / len(stem_magnitude_m)))


def separate_track(model, mix_v, feature_d, device="cpu", mask_fn=None):
    """Separate a whole track: the model's masks on the mixture's magnitude, the mixture's phase, inverse STFT.

    mix_v : (n_samples,) float; the model reads the log-magnitude (1, 1, F, T) padded in time to a multiple of
    the patch length it was trained on (``feature_d['patch_L_frame']``: a U-Net halves time again and again).
    A conditioned model (``feature_d['condition_voice_l']``) is asked for each voice in turn (one pass per voice).
    ``mask_fn``: logits -> masks (default ``masks_of``). Returns (V, n_samples) float32 numpy.
    """
    n_fft, hop = int(feature_d["n_fft"]), int(feature_d["hop_length"])
    spec_m = stft.stft(mix_v, n_fft, hop)
    n_frame = spec_m.shape[-1]
    X = stft.log_magnitude(spec_m, float(feature_d["log_gain"]))
    X = torch.nn.functional.pad(X, (0, -n_frame % int(feature_d["patch_L_frame"])))[None, None].to(device)
    n_condition = len(feature_d.get("condition_voice_l", None) or [])
    model.eval()
    with torch.no_grad():
        if n_condition:
            mask_m = torch.cat([(mask_fn or masks_of)(model(with_voice_planes(X, voice_index, n_condition))).cpu()[0]
                                for voice_index in range(n_condition)])
        else:
            mask_m = (mask_fn or masks_of)(model(X)).cpu()[0]
    return apply_masks(mask_m[:, :, :n_frame], spec_m, n_fft, hop, len(mix_v))


def apply_masks(mask_m, spec_m, n_fft, hop, n_samples):
    """Waveforms (V, n_samples) from masks (V, F, T) applied to the mixture's complex spectrogram (F, T): each
    masked magnitude takes the mixture's phase."""
    return stft.istft(torch.as_tensor(mask_m) * spec_m[None], n_fft, hop, n_samples).numpy()


def harmonic_mask(entry, voice_l, spec_shape, sr_hz, n_fft, hop, n_harmonic=12, width_bin=1.5):
    """A non-learned baseline that knows the score: each voice's mask holds the bins near the harmonics of its
    notes (``n_harmonic`` of them, ``width_bin`` bins each side) where they sound; overlaps shared equally; bins
    that no voice claims go to every voice equally. Returns (V, F, T) float32."""
    n_bin, n_frame = spec_shape
    claim_m = np.zeros((len(voice_l), n_bin, n_frame), dtype=np.float32)
    bin_hz = sr_hz / n_fft
    for note in entry["pitchmidi"]:
        if note.get("voice") not in voice_l:
            continue
        f0_hz = 440.0 * 2 ** ((note["value"] - 69) / 12)
        t0, t1 = int(round(note["time"] * sr_hz / hop)), int(round((note["time"] + note["duration"]) * sr_hz / hop))
        for k in range(1, n_harmonic + 1):
            centre = k * f0_hz / bin_hz
            lo, hi = int(np.floor(centre - width_bin)), int(np.ceil(centre + width_bin)) + 1
            if lo >= n_bin:
                break
            claim_m[voice_l.index(note["voice"]), max(lo, 0):min(hi, n_bin), max(t0, 0):min(t1 + 1, n_frame)] = 1
    total_m = claim_m.sum(axis=0, keepdims=True)
    return np.where(total_m > 0, claim_m / np.maximum(total_m, 1), 1.0 / len(voice_l)).astype(np.float32)


def si_sdr(estimate_v, reference_v):
    """Scale-invariant SDR in dB (Le Roux et al., 2019): the reference scaled to best fit the estimate is the
    target, the rest the error; (n,) arrays -> float."""
    reference_v, estimate_v = np.asarray(reference_v, np.float64), np.asarray(estimate_v, np.float64)
    target_v = np.dot(estimate_v, reference_v) / (np.dot(reference_v, reference_v) + 1e-12) * reference_v
    return float(10 * np.log10((np.sum(target_v**2) + 1e-12) / (np.sum((estimate_v - target_v) ** 2) + 1e-12)))


def median_scores(ds, estimate_fn, n_track=None):
    """Scores of separations of the first ``n_track`` tracks of a ``SeparationDataset`` (None: all): name -> {'sdr':
    (V,), 'si_sdr': (V,)}, the **median** over the tracks, per voice (a median: one track where a voice is almost
    silent gives a score far below the others). ``estimate_fn(ds, key)`` -> name -> (V, n_samples) estimates."""
    score_ld = {}
    for key in ds.key_l[:n_track]:
        _, stem_m = ds.read_track(key)
        for name, estimate_m in estimate_fn(ds, key).items():
            score_ld.setdefault(name, []).append(separation_scores(estimate_m, stem_m))
    return {name: {metric: np.nanmedian([d[metric] for d in score_l], axis=0) for metric in ("sdr", "si_sdr")}
            for name, score_l in score_ld.items()}


def model_scores(model, ds, config=None, n_track=None):
    """The ``separation`` task's test scores (``task.test_scores``): the model's SDR and SI-SDR per voice, median
    over the tracks, and their means over the voices (dB): a dict."""
    device = next(model.parameters()).device

    def estimate(ds, key):
        return {"model": separate_track(model, ds.read_track(key)[0], ds.feature_d, device)}

    score_d = median_scores(ds, estimate, n_track)["model"]
    return {**score_d, "SDR": float(np.mean(score_d["sdr"])), "SI-SDR": float(np.mean(score_d["si_sdr"]))}


def separation_scores(estimate_m, reference_m):
    """Per voice: SDR and SI-SDR, in dB. The SDR is BSS Eval's ``bss_eval_sources`` with a 512-tap distortion
    filter over the whole track, computed by ``fast_bss_eval`` in float32 (1.7 times faster than float64, within
    0.001 dB): the same values as ``mir_eval.separation.bss_eval_sources`` and museval's ``bss_eval(...,
    bsseval_sources_version=True)`` within 0.005 dB, 8 to 9 times faster (``benchmarks/bss_eval_agreement.py``);
    museval's default (the 'images' variant of SiSEC 2018) differs by up to 3.7 dB on the course's chorales.
    estimate_m, reference_m: (V, n_samples). Returns a dict of (V,) arrays. A silent voice (a stem of zeros) has
    no defined score: NaN."""
    estimate_m, reference_m = np.asarray(estimate_m, np.float32), np.asarray(reference_m, np.float32)
    sdr_v = np.full(len(reference_m), np.nan)
    audible_v = audible_voices(reference_m)
    if audible_v.any():
        sdr_v[audible_v] = fast_bss_eval.sdr(reference_m[audible_v], estimate_m[audible_v], filter_length=512,
                                             clamp_db=60)
    si_sdr_v = np.array([si_sdr(estimate_v, reference_v) if audible else np.nan
                         for estimate_v, reference_v, audible in zip(estimate_m, reference_m, audible_v, strict=True)])
    return {"sdr": sdr_v, "si_sdr": si_sdr_v}
