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
           "1 / V there."])
def _check_ideal_ratio_mask(ideal_ratio_mask):
    rng = np.random.default_rng(8)
    for shape in ((4, 6, 5), (2, 3, 7), (3, 1, 1)):
        magnitude_m = rng.exponential(1.0, shape).astype(np.float32) * (rng.random(shape) < 0.7)
        magnitude_m[:, 0, 0] = 0  # a bin where every voice is silent
        answer = as_array(call(ideal_ratio_mask, magnitude_m), "the mask")
        where = f"for magnitudes of shape {shape}"
        if answer.shape != shape:
            raise Wrong(f"{where} the mask has shape {answer.shape}: one mask per voice, the shape of the input")
        if not np.all(np.isfinite(answer)):
            raise Wrong(f"{where} the mask holds NaN or inf in the bins where every voice is silent (0 / 0): give "
                        "each voice an equal share there")
        total = answer.sum(axis=0)
        if not np.allclose(total, 1, atol=1e-4):
            raise Wrong(f"{where} the masks of the voices add up to {float(total.min()):.3f}..{float(total.max()):.3f}"
                        " in some bins: they must add up to 1 (each voice's share of the bin)")
        expected = separation.ideal_ratio_mask(magnitude_m).numpy()
        if not np.allclose(answer, expected, atol=1e-4):
            raise Wrong(f"{where} the mask differs from magnitude / sum of magnitudes by up to "
                        f"{np.abs(answer - expected).max():.3f}")
    return "the ideal ratio masks of 3 made-up sets of voices, silent bins included."


@exercise("08.2", "08_source_separation", "SI-SDR by hand", "si_sdr",
          "write si_sdr(estimate_v, reference_v): the scale-invariant signal-to-distortion ratio in dB. Project "
          "the estimate on the reference (the target: the reference scaled by <estimate, reference> / "
          "<reference, reference>), the error is the estimate minus the target; SI-SDR = 10 log10(|target|^2 / "
          "|error|^2).",
          ["The reference may have another level than the estimate: SI-SDR first finds the multiple of the "
           "reference closest to the estimate, and only the rest counts as distortion.",
           "The best multiple is a dot product over a dot product (a projection), the target that multiple times "
           "the reference.",
           "np.dot gives both dot products; np.sum(v ** 2) the energy of the target and of the error."])
def _check_si_sdr(si_sdr):
    rng = np.random.default_rng(5)
    reference_v = rng.standard_normal(4000)
    for gain, noise in ((1.0, 0.1), (0.3, 0.5), (2.5, 0.01)):
        estimate_v = gain * reference_v + noise * rng.standard_normal(4000)
        value = as_float(call(si_sdr, estimate_v, reference_v), "SI-SDR")
        expected = separation.si_sdr(estimate_v, reference_v)
        where = f"for an estimate = {gain} x reference + noise"
        snr = 10 * np.log10(np.sum(reference_v**2) / np.sum((estimate_v - reference_v) ** 2))
        if gain != 1 and np.isclose(value, snr, atol=0.05):
            raise Wrong(f"{where} you gave {value:.2f} dB, the SNR against the reference as it is: scale the "
                        f"reference to the estimate first (expected {expected:.2f} dB)")
        if not np.isclose(value, expected, atol=0.05):
            raise Wrong(f"{where} you gave {value:.2f} dB, expected {expected:.2f} dB")
    estimate_v = reference_v + 0.05 * rng.standard_normal(4000)
    if not np.isclose(as_float(call(si_sdr, 3 * estimate_v, reference_v), "SI-SDR"),
                      as_float(call(si_sdr, estimate_v, reference_v), "SI-SDR"), atol=0.05):
        raise Wrong("a louder copy of the reference must score as well as the reference itself: that is what "
                    "scale-invariant means")
    return "the SI-SDR of 3 estimates at other levels and noise, and the same score for a louder copy."


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
           "(B, V, F, L) before you compare them. The mean is over every element."])
def _check_masked_mse_loss(masked_mse_loss):
    generator = torch.Generator().manual_seed(2)
    for shape in ((2, 4, 6, 5), (1, 2, 3, 8)):
        mask_logits = 2 * torch.randn(shape, generator=generator)
        y = torch.rand((shape[0], shape[1] + 1, *shape[2:]), generator=generator)
        answer = call(masked_mse_loss, mask_logits, y)
        value = as_float(answer, "the loss")
        expected = float(separation.masked_mse_loss(mask_logits, y))
        where = f"for mask logits of shape {tuple(shape)}"
        if not torch.is_tensor(answer):
            raise Wrong(f"{where} return a tensor (it must be back-propagated), not {type(answer).__name__}")
        masks = separation.masks_of(mask_logits)
        for wrong, why in (
                (((masks - y[:, 1:]) ** 2).mean(), "you compared the masks with the voices: multiply each mask by "
                                                   "the mixture's magnitude y[:, :1] first"),
                (((torch.sigmoid(mask_logits) * y[:, :1] - y[:, 1:]) ** 2).mean(),
                 "your masks are the sigmoid of each logit: here the voices share each bin, a softmax over the "
                 "voice axis (their masks add up to 1)"),
                (((torch.softmax(mask_logits, dim=-1) * y[:, :1] - y[:, 1:]) ** 2).mean(),
                 "your softmax is over the last axis (frames): the voices are axis 1"),
                (((masks * y[:, :1] - y[:, 1:]).abs()).mean(), "you took the absolute difference: square it")):
            if np.isclose(value, float(wrong), rtol=1e-4):
                raise Wrong(f"{where} {why} (expected {expected:.4f})")
        if not np.isclose(value, expected, rtol=1e-4):
            raise Wrong(f"{where} you gave {value:.4f}, expected {expected:.4f}")
    return "the same loss as the course's, for 2 shapes."
