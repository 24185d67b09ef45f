"""Exercises of notebooks/08_source_separation.ipynb, with their checkers; solutions in solutions/."""

import numpy as np
import torch

from course_utils import separation
from course_utils.exercises.checking import Wrong, as_array, as_float, call, exercise


@exercise("08.1", "08_source_separation", "the ideal ratio mask by hand", "ideal_ratio_mask",
          "write ideal_ratio_mask(stem_magnitude_m): from the magnitudes of the voices, shape (V, F, T), the mask "
          "of each voice, same shape: its magnitude divided by the sum of all voices' magnitudes in that bin and "
          "frame; where every voice is silent, give each voice an equal share.",
          ["A mask is a share: in each time-frequency bin, how much of what sounds there belongs to this voice. "
           "The shares of all voices add up to 1.",
           "Sum the magnitudes over the voice axis (axis 0), keeping that axis so that the division broadcasts.",
           "A bin where the sum is 0 would divide by 0: choose those bins with a boolean mask (sum == 0) and put "
           "1 / V there."],
          forbidden_l=[separation.ideal_ratio_mask])
def _check_ideal_ratio_mask(ideal_ratio_mask):
    rng = np.random.default_rng(8)
    for shape in ((4, 6, 5), (2, 3, 7), (3, 1, 1)):
        magnitude_m = rng.exponential(1.0, shape).astype(np.float32) * (rng.random(shape) < 0.7)
        magnitude_m[:, 0, 0] = 0  # a bin where every voice is silent
        answer = as_array(call(ideal_ratio_mask, magnitude_m), "the mask")
        where = f"for magnitudes of shape {shape}"
        if answer.shape != shape:
            raise Wrong(f"{where} the mask has shape {answer.shape}: one mask per voice, the shape of the input")
        _raise_if_a_known_mask_mistake(answer.astype(np.float64), magnitude_m.astype(np.float64), where)
        expected = separation.ideal_ratio_mask(magnitude_m).numpy()
        if not np.allclose(answer, expected, atol=1e-4):
            raise Wrong(f"{where} the mask differs from magnitude / sum of magnitudes by up to "
                        f"{np.abs(answer - expected).max():.3f}")
    return "the ideal ratio masks of 3 made-up sets of voices, silent bins included."


def _share(part_m, total_m, n_voice):
    """part / total where total > 0, 1 / n_voice elsewhere (the rule of the exercise, with any part and total)."""
    return np.where(total_m > 0, part_m / np.where(total_m > 0, total_m, 1.0), 1.0 / n_voice)


def _raise_if_a_known_mask_mistake(answer, magnitude_m, where):
    """Wrong naming the mistake, if the mask ``answer`` (V, F, T) is one of the usual wrong ones."""
    if not np.all(np.isfinite(answer)):
        raise Wrong(f"{where} the mask holds NaN or inf in the bins where every voice is silent (0 / 0): give "
                    "each voice an equal share there (1/V)")
    for axis, name in ((1, "frequency"), (2, "time")):
        if (not np.allclose(answer.sum(axis=0), 1, atol=1e-4)
                and np.mean(np.isclose(answer.sum(axis=axis), 1, atol=1e-4)) > 0.9):
            raise Wrong(f"{where} your masks add up to 1 over axis {axis} ({name}): the voices are axis 0, divide "
                        "by the sum over the voices")
    n_voice, silent_m = len(magnitude_m), magnitude_m.sum(axis=0) == 0  # (F, T)
    silent_total_v = answer.sum(axis=0)[silent_m]
    if not np.allclose(silent_total_v, 1, atol=1e-4):
        raise Wrong(f"{where} in the bins where every voice is silent your masks add up to "
                    f"{float(silent_total_v.max()):.3g}: give each voice 1/V there, an equal share (the shares of a "
                    "bin add up to 1)")
    sounding_m = ~silent_m
    right_m = _share(magnitude_m, magnitude_m.sum(axis=0, keepdims=True), n_voice)[:, sounding_m]
    candidate_l = [
        (_share(magnitude_m, magnitude_m.max(axis=0, keepdims=True), n_voice),
         "you divided by the loudest voice's magnitude (the max over the voices): divide by the sum of the voices' "
         "magnitudes, so that the shares of a bin add up to 1"),
        (_share(magnitude_m**2, (magnitude_m**2).sum(axis=0, keepdims=True), n_voice),
         "you shared the energies (squared magnitudes), a Wiener-like mask: the ideal ratio mask of this exercise "
         "shares the magnitudes themselves"),
    ]
    for wrong_m, why in candidate_l:
        if (np.allclose(answer[:, sounding_m], wrong_m[:, sounding_m], atol=1e-4)
                and not np.allclose(wrong_m[:, sounding_m], right_m, atol=1e-4)):
            raise Wrong(f"{where} {why}")
    is_binary = np.all((answer[:, sounding_m] < 1e-4) | (answer[:, sounding_m] > 1 - 1e-4))
    if is_binary and not np.all((right_m < 1e-4) | (right_m > 1 - 1e-4)):
        raise Wrong(f"{where} your masks are 0 or 1 (each bin to one voice, a binary mask): the ratio mask shares "
                    "the bin, each voice in proportion to its magnitude")
    total_m = answer.sum(axis=0)
    if not np.allclose(total_m, 1, atol=1e-4):
        raise Wrong(f"{where} the masks of the voices add up to {float(total_m.min()):.3f}..{float(total_m.max()):.3f}"
                    " in some bins: they must add up to 1 (each voice's share of the bin)")


@exercise("08.2", "08_source_separation", "SI-SDR by hand", "si_sdr",
          "write si_sdr(estimate_v, reference_v): the scale-invariant signal-to-distortion ratio in dB. Project "
          "the estimate on the reference (the target: the reference scaled by <estimate, reference> / "
          "<reference, reference>), the error is the estimate minus the target; SI-SDR = 10 log10(|target|^2 / "
          "|error|^2).",
          ["The reference may have another level than the estimate: SI-SDR first finds the multiple of the "
           "reference closest to the estimate, and only the rest counts as distortion.",
           "The best multiple is a dot product over a dot product (a projection), the target that multiple times "
           "the reference.",
           "np.dot gives both dot products; np.sum(v ** 2) the energy of the target and of the error."],
          forbidden_l=[separation.si_sdr, separation.separation_scores])
def _check_si_sdr(si_sdr):
    rng = np.random.default_rng(5)
    reference_v = rng.standard_normal(4000)
    for gain, noise in ((1.0, 0.1), (0.5, 1.0), (0.3, 0.5), (2.5, 0.01)):
        estimate_v = gain * reference_v + noise * rng.standard_normal(4000)
        value = as_float(call(si_sdr, estimate_v, reference_v), "SI-SDR")
        expected = separation.si_sdr(estimate_v, reference_v)
        where = f"for an estimate = {gain} x reference + noise"
        for wrong, why in _si_sdr_mistakes(estimate_v, reference_v):
            if np.isclose(value, wrong, atol=0.05) and not np.isclose(wrong, expected, atol=0.05):
                raise Wrong(f"{where} you gave {value:.2f}: {why} (expected {expected:.2f} dB)")
        if not np.isclose(value, expected, atol=0.05):
            raise Wrong(f"{where} you gave {value:.2f} dB, expected {expected:.2f} dB")
    estimate_v = reference_v + 0.05 * rng.standard_normal(4000)
    if not np.isclose(as_float(call(si_sdr, 3 * estimate_v, reference_v), "SI-SDR"),
                      as_float(call(si_sdr, estimate_v, reference_v), "SI-SDR"), atol=0.05):
        raise Wrong("a louder copy of the reference must score as well as the reference itself: that is what "
                    "scale-invariant means")
    return "the SI-SDR of 4 estimates at other levels and noise, and the same score for a louder copy."


def _si_sdr_mistakes(estimate_v, reference_v):
    """(value, why) of the usual wrong versions of SI-SDR."""
    target_v = np.dot(estimate_v, reference_v) / np.dot(reference_v, reference_v) * reference_v
    error_energy = np.sum((estimate_v - target_v) ** 2)
    ratio = np.sum(target_v**2) / error_energy
    unscaled_v = np.dot(estimate_v, reference_v) * reference_v
    return [
        (10 * np.log10(np.sum(reference_v**2) / np.sum((estimate_v - reference_v) ** 2)),
         "the SNR against the reference as it is: scale the reference to the estimate first"),
        (20 * np.log10(ratio), "twice the SI-SDR: you took 20 log10 of a ratio of energies; energies (squared "
                               "signals) take 10 log10 (20 log10 is for a ratio of amplitudes)"),
        (10 * np.log(ratio), "you took the natural logarithm: decibels use log10"),
        (-10 * np.log10(ratio), "your ratio is upside down (the error's energy over the target's): SI-SDR is the "
                                "target's energy over the error's, higher is better"),
        (10 * np.log10(np.sum(unscaled_v**2) / np.sum((estimate_v - unscaled_v) ** 2)),
         "your gain is <estimate, reference> alone: divide it by <reference, reference> (the projection on the "
         "reference)"),
        (10 * np.log10(np.sum(estimate_v**2) / error_energy),
         "your numerator is the energy of the estimate: SI-SDR takes the energy of the target (the scaled "
         "reference), the part of the estimate that the reference explains"),
        (ratio, "that is the ratio of energies itself, not in dB: take 10 log10 of it"),
    ]


@exercise("08.3", "08_source_separation", "the loss of a mask model", "masked_mse_loss",
          "write masked_mse_loss(mask_logits, y): the mean squared difference between each voice's estimated "
          "magnitude and its true magnitude. The estimate of a voice is its mask times the mixture's magnitude; "
          "the masks are the softmax of the logits over the voice axis (separation.masks_of, or torch.softmax). "
          "mask_logits (B, V, F, L); y (B, 1 + V, F, L): the mixture's magnitude first, then each voice's. "
          "Return a 0-d tensor.",
          ["Three steps: logits to masks, masks to estimated magnitudes, estimates against the truth. Which axis "
           "of mask_logits holds the voices?",
           "Slicing y with a range keeps the axis (y[:, :1] has shape (B, 1, F, L)), so that one mixture "
           "multiplies the masks of every voice by broadcasting.",
           "Print the shape of each tensor you make: the estimates and the voices' magnitudes must both be "
           "(B, V, F, L) before you compare them. The mean is over every element."],
          forbidden_l=[separation.masked_mse_loss])
def _check_masked_mse_loss(masked_mse_loss):
    generator = torch.Generator().manual_seed(2)
    for shape in ((3, 3, 4, 5), (2, 4, 6, 5), (1, 2, 3, 8)):  # first B = V: a lost voice axis broadcasts wrongly
        mask_logits = 2 * torch.randn(shape, generator=generator)
        y = torch.rand((shape[0], shape[1] + 1, *shape[2:]), generator=generator)
        answer = call(masked_mse_loss, mask_logits, y)
        where = f"for mask logits of shape {tuple(shape)}"
        if not torch.is_tensor(answer):
            raise Wrong(f"{where} return a tensor (it must be back-propagated), not {type(answer).__name__}")
        if answer.dim() != 0:
            raise Wrong(f"{where} your loss has shape {tuple(answer.shape)}: return a 0-d tensor, the mean over "
                        "every element (batch, voices, bins and frames)")
        value, expected = as_float(answer, "the loss"), float(separation.masked_mse_loss(mask_logits, y))
        for wrong, why in _masked_mse_mistakes(mask_logits, y):
            if np.isclose(value, wrong, rtol=1e-4) and not np.isclose(wrong, expected, rtol=1e-4):
                raise Wrong(f"{where} {why} (expected {expected:.4f})")
        if not np.isclose(value, expected, rtol=1e-4):
            raise Wrong(f"{where} you gave {value:.4f}, expected {expected:.4f}")
    return "the same loss as the course's, for 3 shapes."


def _masked_mse_mistakes(mask_logits, y):
    """(value, why) of the usual wrong versions of the loss."""
    masks, mixture, voices = separation.masks_of(mask_logits), y[:, :1], y[:, 1:]
    squared = (masks * mixture - voices) ** 2
    wrong_l = [
        (((masks - voices) ** 2).mean(), "you compared the masks with the voices: multiply each mask by the "
                                         "mixture's magnitude y[:, :1] first"),
        (((torch.sigmoid(mask_logits) * mixture - voices) ** 2).mean(),
         "your masks are the sigmoid of each logit: here the voices share each bin, a softmax over the voice axis "
         "(their masks add up to 1)"),
        (((torch.softmax(mask_logits, dim=-1) * mixture - voices) ** 2).mean(),
         "your softmax is over the last axis (frames): the voices are axis 1"),
        ((masks * mixture - voices).abs().mean(), "you took the absolute difference: square it"),
        (squared.sum(), "you summed the squared differences: take their mean (a loss that does not grow with the "
                        "batch or the spectrogram)"),
        (((masks * mixture - y[:, :-1]) ** 2).mean(), "your voices are y[:, :-1], the mixture and all voices but "
                                                      "the last: the mixture is channel 0, the voices y[:, 1:]"),
        (((mask_logits * mixture - voices) ** 2).mean(), "you multiplied the mixture by the logits themselves: "
                                                         "turn the logits into masks first, a softmax over the voices"),
        (squared.mean().sqrt(), "you took the square root of the mean (RMSE): the loss is the mean squared "
                                "difference itself"),
    ]
    if mask_logits.shape[0] == mask_logits.shape[1]:  # y[:, 0] (B, F, L) broadcasts as if the batch were voices
        wrong_l.append((((masks * y[:, 0] - voices) ** 2).mean(),
                        "y[:, 0] has lost its channel axis (B, F, L), so it broadcast against the voices: y[:, :1] "
                        "keeps it, (B, 1, F, L)"))
    return [(float(wrong), why) for wrong, why in wrong_l]
