"""Exercises 11.3 and 11.4 of notebooks/11_generation.ipynb (rectified flow's path, the Fréchet distance), with their
checkers; 11.1 and 11.2 in ex11_generation; solutions in solutions/."""

import math

import numpy as np
import scipy.linalg
import torch

from course_utils import fidelity, generation
from course_utils.exercises.checking import Wrong, as_float, call, exercise

# --- 11.3 rectified flow: the straight path and its velocity ---------------------------------------------------------


@exercise("11.3", "11_generation", "the straight path of rectified flow and its velocity", "flow_path",
          "write flow_path(data, noise, t): data and noise are (B, C, T) batches, t (B,) one time in [0, 1] per item. "
          "Return (x_t, velocity), both shaped like data: x_t the point at time t of the straight line from the "
          "noise (at t = 0) to the data (at t = 1), item b at its own time t[b]; velocity the derivative of x_t with "
          "respect to t (what the model learns to predict).",
          ["x_t is a weighted mix of the noise and the data: which weight must be 1 and which 0 at t = 0, and at "
           "t = 1? The weights change linearly with t.",
           "t has one value per item of the batch, (B,); data is (B, C, T). Broadcasting lines up the last axes: give "
           "t two axes of size 1 after its own, so that item b is scaled by t[b] over all its channels and frames.",
           "Along a straight line travelled from t = 0 to t = 1, the velocity is the same at every t: the end minus "
           "the start."],
          forbidden_l=[generation.flow_path])
def _check_flow_path(flow_path):
    generator = torch.Generator().manual_seed(11)
    # B = C = T first: a t broadcast along the wrong axis runs without an error there, and is named
    for shape, t_v, what in (((3, 3, 3), [0.0, 0.4, 1.0], "B = C = T = 3"),
                             ((4, 2, 5), [0.25, 0.0, 0.6, 0.9], "B, C, T = 4, 2, 5")):
        data = torch.randn(shape, generator=generator) + 2.0
        noise = torch.randn(shape, generator=generator)
        t = torch.tensor(t_v)
        where = f"for data of shape {shape} ({what}) and t = {t_v}"
        answer = call(flow_path, data, noise, t)
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            raise Wrong(f"{where} return two things: (x_t, velocity)")
        x_t, velocity = _flow_tensor(answer[0], "x_t", shape, where), _flow_tensor(answer[1], "velocity", shape, where)
        expected_x_t, expected_velocity = generation.flow_path(data, noise, t)
        if _close(x_t, expected_velocity) and _close(velocity, expected_x_t):
            raise Wrong(f"{where} you returned (velocity, x_t): return (x_t, velocity), in that order")
        if not torch.isfinite(x_t).all():
            raise Wrong(f"{where} x_t holds NaN or inf: x_t mixes the noise and the data, no division")
        if not _close(x_t, expected_x_t):
            for wrong, why in _path_mistakes(data, noise, t):
                if wrong is not None and _close(x_t, wrong) and not _close(wrong, expected_x_t):
                    raise Wrong(f"{where} {why}")
            time_v = _time_on_path(x_t, data, noise)
            if time_v is not None:
                raise Wrong(f"{where} your x_t lies on the straight path, but item b is at time "
                            f"{[round(float(time), 3) for time in time_v]} instead of t = {t_v}: "
                            + ("every item went to the same time; each item b goes to its own t[b]: reshape t to "
                               "(B, 1, 1)" if torch.allclose(time_v, time_v[:1], atol=1e-3) else
                               "weigh the noise by 1 - t[b] and the data by t[b]"))
            item = int((x_t - expected_x_t).abs().flatten(1).max(dim=1).values.argmax())
            raise Wrong(f"{where} x_t of item {item} (t = {t_v[item]}) is not (1 - t) noise + t data: the point of "
                        "the straight path from the noise (t = 0) to the data (t = 1)")
        if not torch.isfinite(velocity).all():
            raise Wrong(f"{where} your velocity holds NaN or inf where t = 0: you divided by t; the velocity of a "
                        "straight path is the same at every t (the data minus the noise), no division")
        if not _close(velocity, expected_velocity):
            for wrong, why in _velocity_mistakes(data, noise, expected_x_t):
                if _close(velocity, wrong):
                    raise Wrong(f"{where} {why}")
            raise Wrong(f"{where} the velocity is not the derivative of x_t with respect to t")
    return "x_t and the velocity of 3 batches, each item at its own time t, from t = 0 (the noise) to 1 (the data)."


def _flow_tensor(value, name, shape, where):
    if not torch.is_tensor(value):
        raise Wrong(f"{where} {name}: return a tensor, not {type(value).__name__}")
    if tuple(value.shape) != tuple(shape):
        raise Wrong(f"{where} {name} has shape {tuple(value.shape)}, expected {shape}, the shape of data"
                    + (": t (B,) must get two axes of size 1, (B, 1, 1), to scale each item of the batch"
                       if name == "x_t" else ""))
    return value.detach().float()


def _close(a, b):
    return bool(torch.allclose(a, b, rtol=1e-4, atol=1e-5))


def _time_on_path(x_t, data, noise):
    """The time (B,) of each item of x_t if each lies on the straight path from its noise to its data (x_t = noise +
    time (data - noise)), else None."""
    direction = data - noise
    time_v = ((x_t - noise) * direction).flatten(1).sum(dim=1) / direction.pow(2).flatten(1).sum(dim=1)
    on_path = noise + time_v.reshape(-1, 1, 1) * direction
    return time_v if _close(x_t, on_path) else None


def _path_mistakes(data, noise, t):
    """(x_t, why) of the usual wrong paths (None where the shapes do not allow that mistake)."""
    n_batch, n_channel, n_frame = data.shape
    t_b = t.reshape(-1, 1, 1)

    def mix(weight):
        return (1 - weight) * noise + weight * data

    return [
        (t_b * noise + (1 - t_b) * data, "your path goes from the data (t = 0) to the noise (t = 1): it starts at the "
                                         "noise (x_0 = noise) and ends at the data (x_1 = data); the data's weight "
                                         "is t"),
        (mix(t.reshape(1, 1, -1)) if n_batch == n_frame else None,
         "t was spread along the last axis (time), one t per frame, which broadcasting does with a (B,) t: item b "
         "must be scaled by t[b] over all its channels and frames; reshape t to (B, 1, 1)"),
        (mix(t.reshape(1, -1, 1)) if n_batch == n_channel else None,
         "t was spread along the channels (t[:, None] is (B, 1), which lines up with the last two axes): item b "
         "must be scaled by t[b]; reshape t to (B, 1, 1)"),
        (noise + t_b * data, "at t = 1 x_t must be the data alone (and at t = 0 the noise alone): the noise's "
                             "weight is 1 - t"),
        ((1 - t_b) * noise + data, "at t = 0 x_t must be the noise alone (and at t = 1 the data alone): the data's "
                                   "weight is t"),
        (torch.sqrt(1 - t_b) * noise + torch.sqrt(t_b) * data,
         "your weights have square roots: that is a variance-preserving (diffusion) path; rectified flow's path is "
         "the straight line, weights 1 - t and t"),
    ]


def _velocity_mistakes(data, noise, x_t):
    """(velocity, why) of the usual wrong velocities."""
    return [
        (noise - data, "your velocity points from the data to the noise: the path runs from the noise to the data, "
                       "its velocity is the data minus the noise"),
        (x_t - noise, "x_t - noise is t (data - noise), the way travelled so far: the velocity is the derivative of "
                      "x_t with respect to t, the same at every t"),
        (data - x_t, "data - x_t is (1 - t)(data - noise), the way left to go: the velocity is the derivative of x_t "
                     "with respect to t, the same at every t"),
        (data, "you returned the data (what a model predicting the clean data learns): the velocity is the data "
               "minus the noise"),
        (noise, "you returned the noise (what a diffusion model predicting the noise learns): the velocity is the "
                "data minus the noise"),
    ]


# --- 11.4 the Fréchet distance ---------------------------------------------------------------------------------


@exercise("11.4", "11_generation", "the Fréchet distance of two Gaussians by hand", "frechet_distance",
          "write frechet_distance(mu_a, cov_a, mu_b, cov_b): the means (D,) and covariances (D, D), NumPy arrays, "
          "of two Gaussians. Return their Fréchet distance (what FID and FAD report), a float: the squared "
          "Euclidean distance of the means plus the trace of cov_a + cov_b - 2 (cov_a cov_b)^(1/2), where the power "
          "1/2 is the matrix square root of the matrix product of the covariances.",
          ["Two parts: how far apart the means are (squared, no square root), and how different the spreads are (a "
           "trace). Both are 0 when the two Gaussians are the same.",
           "(cov_a cov_b)^(1/2) is a matrix R with R @ R equal to the matrix product cov_a @ cov_b: not the square "
           "root of each entry, and not the product of the two covariances' square roots (the same only when the "
           "covariances commute).",
           "scipy.linalg.sqrtm gives the matrix square root; round-off can leave tiny imaginary parts in it: keep "
           "its real part (.real). np.trace sums the diagonal."],
          forbidden_l=[fidelity.frechet_distance, fidelity.frechet_audio_distance])
def _check_frechet_distance(frechet_distance):
    rotation = np.array([[2.5, 1.5, 0.0], [1.5, 2.5, 0.0], [0.0, 0.0, 1.0]])  # eigenvalues 4 and 1, turned 45 degrees
    sample_rng = np.random.default_rng(0)
    sample_a, sample_b = sample_rng.normal(size=(3, 4)), sample_rng.normal(size=(3, 4)) + 1.0
    case_l = [
        (np.array([1.0, 0.0, -1.0]), np.array([[4.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]]),
         np.array([0.0, 2.0, -1.0]), rotation,
         "two 3-D Gaussians whose covariances do not commute"),
        (sample_a.mean(0), np.cov(sample_a, rowvar=False), sample_b.mean(0), np.cov(sample_b, rowvar=False),
         "two 4-D Gaussians fitted to 3 points each (singular covariances)"),
        (np.array([1.0, 0.0, -1.0]), rotation, np.array([1.0, 0.0, -1.0]), rotation, "a Gaussian and itself"),
    ]
    for mu_a, cov_a, mu_b, cov_b, what in case_l:
        answer = call(frechet_distance, mu_a, cov_a, mu_b, cov_b)
        where = f"for {what}"
        if np.iscomplexobj(np.asarray(answer)):
            raise Wrong(f"{where} your distance is a complex number ({complex(np.asarray(answer).item())}): "
                        "scipy.linalg.sqrtm leaves tiny imaginary parts from round-off; keep the real part of the "
                        "square root (.real) and return a float")
        value = as_float(answer, "the distance")
        expected = fidelity.frechet_distance(mu_a, cov_a, mu_b, cov_b)
        if math.isnan(value):
            raise Wrong(f"{where} your distance is NaN: np.sqrt of a matrix takes the square root of each entry (NaN "
                        "for a negative one), not the matrix square root; use scipy.linalg.sqrtm")
        if np.isclose(value, expected, rtol=1e-4, atol=1e-6):
            continue
        for wrong, why in _frechet_mistakes(mu_a, cov_a, mu_b, cov_b):
            if np.isclose(value, wrong, rtol=1e-4, atol=1e-6) and not np.isclose(wrong, expected, rtol=1e-4, atol=1e-4):
                raise Wrong(f"{where} {why} (expected {expected:.4f}, got {value:.4f})")
        raise Wrong(f"{where} you gave {value:.4f}, expected {expected:.4f}")
    return ("the Fréchet distance of covariances that do not commute, of singular ones (with round-off), and 0 for a "
            "Gaussian and itself.")


def _frechet_mistakes(mu_a, cov_a, mu_b, cov_b):
    """(value, why) of the usual wrong versions (NaN where a version cannot be computed)."""
    sqrtm = scipy.linalg.sqrtm

    def spread(root_m):
        return float(np.trace(cov_a + cov_b).real - 2 * np.trace(root_m).real)

    with np.errstate(invalid="ignore"):
        root_m, entry_root_m = sqrtm(cov_a @ cov_b).real, np.sqrt(cov_a @ cov_b)
    mean_term, spread_term = float(np.sum((mu_a - mu_b) ** 2)), spread(root_m)
    trace_a, trace_b = float(np.trace(cov_a)), float(np.trace(cov_b))
    return [
        (mean_term + spread(entry_root_m), "np.sqrt takes the square root of each entry: the matrix square root, "
                                           "a matrix R with R @ R = cov_a @ cov_b, is scipy.linalg.sqrtm"),
        (mean_term + spread(sqrtm(cov_a).real @ sqrtm(cov_b).real),
         "you multiplied the square roots of the two covariances: sqrtm(cov_a) @ sqrtm(cov_b) equals (cov_a "
         "cov_b)^(1/2) only when the covariances commute, and these do not; take the square root of the product "
         "cov_a @ cov_b"),
        (mean_term + spread(sqrtm(cov_a * cov_b).real), "cov_a * cov_b is the product of each entry: the matrix "
                                                        "product is cov_a @ cov_b"),
        (mean_term + spread(cov_a @ cov_b), "you left out the square root of the product: the trace holds "
                                            "2 (cov_a cov_b)^(1/2)"),
        (mean_term + trace_a + trace_b - 2 * math.sqrt(trace_a * trace_b),
         "you took the square root of the product of the traces: the trace of a matrix square root is not that; "
         "take the matrix square root of cov_a @ cov_b, then its trace"),
        (mean_term + trace_a + trace_b - 2 * float(np.trace(sqrtm(cov_a).real) * np.trace(sqrtm(cov_b).real)),
         "you multiplied the traces of the two square roots: take the matrix square root of the product "
         "cov_a @ cov_b, then its trace"),
        (mean_term + 0.5 * (spread_term + trace_a + trace_b), "the factor 2 is missing: the trace holds "
                                                              "cov_a + cov_b - 2 (cov_a cov_b)^(1/2)"),
        (spread_term, "the distance of the means is missing: add the squared distance ||mu_a - mu_b||^2"),
        (math.sqrt(mean_term) + spread_term, "you added the distance of the means, not its square: "
                                             "||mu_a - mu_b||^2 (the sum of the squared differences)"),
        (mean_term + trace_a + trace_b + 2 * float(np.trace(root_m)), "the square root's term is subtracted: "
                                                                      "- 2 (cov_a cov_b)^(1/2)"),
        (mean_term + float(np.sum(cov_a + cov_b - 2 * root_m)), "you summed every entry of the matrix: take its "
                                                                "trace (the sum of its diagonal, np.trace)"),
        (math.sqrt(max(0.0, mean_term + spread_term)), "you took the square root of the whole: the Fréchet distance "
                                                       "that FID and FAD report is the squared one, no outer root"),
    ]
