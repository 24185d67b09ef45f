"""Wrong answers to the exercises of notebook 11 (generation): each is rejected ("not yet") with a message that names
the mistake.

``WRONG_ANSWER_L``: (exercise id, the mistake, the answer as a student would write it, fragments the checker's message
must hold)."""

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from course_utils import exercises, fidelity, generation, sequence

pytestmark = [pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:Casting complex values to real:numpy.exceptions.ComplexWarning")]

# --- 11.1: the causal mask


def _mask_lower_triangle(n_step):
    return torch.full((n_step, n_step), float("-inf")).tril(diagonal=-1)


def _mask_diagonal_hidden(n_step):
    return torch.full((n_step, n_step), float("-inf")).triu()


def _mask_values_swapped(n_step):
    return torch.full((n_step, n_step), float("-inf")).tril()


def _mask_boolean(n_step):
    return torch.ones(n_step, n_step, dtype=torch.bool).triu(diagonal=1)


def _mask_zero_one(n_step):
    return torch.tril(torch.ones(n_step, n_step))


def _mask_ones_in_future(n_step):
    return torch.triu(torch.ones(n_step, n_step), diagonal=1)


def _mask_large_negative(n_step):
    return torch.zeros(n_step, n_step).masked_fill(torch.ones(n_step, n_step).triu(1).bool(), -1e9)


def _mask_zero_times_inf(n_step):
    return torch.triu(torch.ones(n_step, n_step), diagonal=1) * float("-inf")


def _mask_plus_inf(n_step):
    return torch.zeros(n_step, n_step).masked_fill(torch.ones(n_step, n_step).triu(1).bool(), float("inf"))


def _mask_numpy(n_step):
    return np.triu(np.full((n_step, n_step), -np.inf), k=1)


def _mask_batch_axis(n_step):
    return torch.full((n_step, n_step), float("-inf")).triu(diagonal=1)[None]


def _mask_integer(n_step):
    return torch.tril(torch.ones(n_step, n_step, dtype=torch.long)) - 1


def _mask_library(n_step):
    return torch.nn.Transformer.generate_square_subsequent_mask(n_step)


def _mask_package(n_step):
    return sequence.causal_mask(n_step)


# --- 11.2: sampling the next token


def _kept_logits(logit_m, top_k, fill=float("-inf")):
    """logit_m with every logit but the top_k largest of each row set to ``fill`` (None: all kept)."""
    if top_k is None:
        return logit_m
    kth_v = logit_m.topk(top_k, dim=-1).values[:, -1:]
    return logit_m.masked_fill(logit_m < kth_v, fill)


def _sample(logit_m, temperature, top_k, generator):
    probability_m = torch.softmax(_kept_logits(logit_m / temperature, top_k), dim=-1)
    return torch.multinomial(probability_m, 1, generator=generator)[:, 0]


def _sample_column(logit_m, temperature, top_k, generator):
    probability_m = torch.softmax(_kept_logits(logit_m / temperature, top_k), dim=-1)
    return torch.multinomial(probability_m, 1, generator=generator)


def _sample_float(logit_m, temperature, top_k, generator):
    return _sample(logit_m, temperature, top_k, generator).float()


def _sample_greedy(logit_m, temperature, top_k, generator):
    return _kept_logits(logit_m / temperature, top_k).argmax(dim=-1)


def _sample_temperature_multiplied(logit_m, temperature, top_k, generator):
    probability_m = torch.softmax(_kept_logits(logit_m * temperature, top_k), dim=-1)
    return torch.multinomial(probability_m, 1, generator=generator)[:, 0]


def _sample_no_temperature(logit_m, temperature, top_k, generator):
    return _sample(logit_m, 1.0, top_k, generator)


def _sample_positions(logit_m, temperature, top_k, generator):
    value_m, _ = (logit_m / temperature).topk(top_k or logit_m.shape[-1], dim=-1)
    return torch.multinomial(torch.softmax(value_m, dim=-1), 1, generator=generator)[:, 0]  # not mapped back


def _sample_smallest(logit_m, temperature, top_k, generator):
    if top_k is None:
        return _sample(logit_m, temperature, top_k, generator)
    scaled_m = logit_m / temperature
    kth_v = scaled_m.topk(top_k, dim=-1, largest=False).values[:, -1:]
    probability_m = torch.softmax(scaled_m.masked_fill(scaled_m > kth_v, float("-inf")), dim=-1)
    return torch.multinomial(probability_m, 1, generator=generator)[:, 0]


def _sample_masked_with_zero(logit_m, temperature, top_k, generator):
    probability_m = torch.softmax(_kept_logits(logit_m / temperature, top_k, fill=0.0), dim=-1)
    return torch.multinomial(probability_m, 1, generator=generator)[:, 0]


def _sample_kth_dropped(logit_m, temperature, top_k, generator):
    scaled_m = logit_m / temperature
    if top_k is not None:
        kth_v = scaled_m.topk(top_k, dim=-1).values[:, -1:]
        scaled_m = scaled_m.masked_fill(scaled_m <= kth_v, float("-inf"))  # drops the k-th itself
    return torch.multinomial(torch.softmax(scaled_m, dim=-1), 1, generator=generator)[:, 0]


def _sample_top_k_ignored(logit_m, temperature, top_k, generator):
    return _sample(logit_m, temperature, None, generator)


def _sample_one_uniform_for_all_rows(logit_m, temperature, top_k, generator):
    probability_m = torch.softmax(_kept_logits(logit_m / temperature, top_k), dim=-1)
    u = torch.rand(1, generator=generator)  # one number for the whole batch
    return (probability_m.cumsum(dim=-1) < u).sum(dim=-1).clamp(max=logit_m.shape[-1] - 1)


def _sample_first_row_for_all(logit_m, temperature, top_k, generator):
    probability_m = torch.softmax(_kept_logits(logit_m / temperature, top_k), dim=-1)
    return torch.multinomial(probability_m[0], len(logit_m), replacement=True, generator=generator)


def _sample_softmax_over_batch(logit_m, temperature, top_k, generator):
    probability_m = torch.softmax(_kept_logits(logit_m / temperature, top_k), dim=0)
    return torch.multinomial(probability_m, 1, generator=generator)[:, 0]


def _sample_not_renormalised(logit_m, temperature, top_k, generator):
    probability_m = torch.softmax(logit_m / temperature, dim=-1)  # the full softmax, then cut
    kept_m, index_m = probability_m.topk(top_k or logit_m.shape[-1], dim=-1)
    u = torch.rand(len(logit_m), 1, generator=generator)
    position_v = (kept_m.cumsum(dim=-1) < u).sum(dim=-1).clamp(max=kept_m.shape[-1] - 1)  # the rest on the last kept
    return index_m.gather(1, position_v[:, None])[:, 0]


def _sample_global_random_state(logit_m, temperature, top_k, generator):
    probability_m = torch.softmax(_kept_logits(logit_m / temperature, top_k), dim=-1)
    return torch.multinomial(probability_m, 1)[:, 0]


def _sample_own_generator(logit_m, temperature, top_k, generator):
    return _sample(logit_m, temperature, top_k, torch.Generator().manual_seed(0))


def _sample_top_k_always(logit_m, temperature, top_k, generator):
    scaled_m = logit_m / temperature
    kth_v = scaled_m.topk(top_k, dim=-1).values[:, -1:]  # fails for top_k None
    return torch.multinomial(torch.softmax(scaled_m.masked_fill(scaled_m < kth_v, float("-inf")), dim=-1), 1,
                             generator=generator)[:, 0]


def _sample_package(logit_m, temperature, top_k, generator):
    return sequence.sample_next_token(logit_m, temperature, top_k, generator=generator)


# --- 11.3: the straight path of rectified flow


def _path_velocity_reversed(data, noise, t):
    t = t.reshape(-1, 1, 1)
    return (1 - t) * noise + t * data, noise - data


def _path_t_on_noise(data, noise, t):
    t = t.reshape(-1, 1, 1)
    return t * noise + (1 - t) * data, data - noise


def _path_t_not_reshaped(data, noise, t):
    return (1 - t) * noise + t * data, data - noise


def _path_t_one_axis_added(data, noise, t):
    t = t[:, None]
    return (1 - t) * noise + t * data, data - noise


def _path_one_t_for_all(data, noise, t):
    t = t[0]  # the first item's time for the whole batch
    return (1 - t) * noise + t * data, data - noise


def _path_no_one_minus_t(data, noise, t):
    t = t.reshape(-1, 1, 1)
    return noise + t * data, data - noise


def _path_square_roots(data, noise, t):
    t = t.reshape(-1, 1, 1)
    return torch.sqrt(1 - t) * noise + torch.sqrt(t) * data, data - noise


def _path_velocity_travelled(data, noise, t):
    t = t.reshape(-1, 1, 1)
    x_t = (1 - t) * noise + t * data
    return x_t, x_t - noise


def _path_velocity_divided_by_t(data, noise, t):
    t = t.reshape(-1, 1, 1)
    x_t = (1 - t) * noise + t * data
    return x_t, (x_t - noise) / t


def _path_velocity_left(data, noise, t):
    t = t.reshape(-1, 1, 1)
    x_t = (1 - t) * noise + t * data
    return x_t, data - x_t


def _path_velocity_is_noise(data, noise, t):
    t = t.reshape(-1, 1, 1)
    return (1 - t) * noise + t * data, noise


def _path_order_swapped(data, noise, t):
    t = t.reshape(-1, 1, 1)
    return data - noise, (1 - t) * noise + t * data


def _path_x_t_only(data, noise, t):
    t = t.reshape(-1, 1, 1)
    return (1 - t) * noise + t * data


def _path_package(data, noise, t):
    return generation.flow_path(data, noise, t)


# --- 11.4: the Fréchet distance


def _frechet(mu_a, cov_a, mu_b, cov_b, root_m=None, mean_term=None, factor=2.0):
    root_m = scipy.linalg.sqrtm(cov_a @ cov_b).real if root_m is None else root_m
    mean_term = np.sum((mu_a - mu_b) ** 2) if mean_term is None else mean_term
    return float(mean_term + np.trace(cov_a + cov_b - factor * root_m))


def _frechet_entrywise_sqrt(mu_a, cov_a, mu_b, cov_b):
    return _frechet(mu_a, cov_a, mu_b, cov_b, root_m=np.sqrt(cov_a @ cov_b))


def _frechet_product_of_roots(mu_a, cov_a, mu_b, cov_b):
    return _frechet(mu_a, cov_a, mu_b, cov_b, root_m=scipy.linalg.sqrtm(cov_a).real @ scipy.linalg.sqrtm(cov_b).real)


def _frechet_entrywise_product(mu_a, cov_a, mu_b, cov_b):
    return _frechet(mu_a, cov_a, mu_b, cov_b, root_m=scipy.linalg.sqrtm(cov_a * cov_b).real)


def _frechet_no_root(mu_a, cov_a, mu_b, cov_b):
    return _frechet(mu_a, cov_a, mu_b, cov_b, root_m=cov_a @ cov_b)


def _frechet_no_factor_two(mu_a, cov_a, mu_b, cov_b):
    return _frechet(mu_a, cov_a, mu_b, cov_b, factor=1.0)


def _frechet_plus_root(mu_a, cov_a, mu_b, cov_b):
    return _frechet(mu_a, cov_a, mu_b, cov_b, factor=-2.0)


def _frechet_no_mean_term(mu_a, cov_a, mu_b, cov_b):
    return _frechet(mu_a, cov_a, mu_b, cov_b, mean_term=0.0)


def _frechet_norm_not_squared(mu_a, cov_a, mu_b, cov_b):
    return _frechet(mu_a, cov_a, mu_b, cov_b, mean_term=np.linalg.norm(mu_a - mu_b))


def _frechet_root_of_traces(mu_a, cov_a, mu_b, cov_b):
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
                 - 2 * math.sqrt(np.trace(cov_a) * np.trace(cov_b)))


def _frechet_traces_of_roots(mu_a, cov_a, mu_b, cov_b):
    root_a, root_b = scipy.linalg.sqrtm(cov_a).real, scipy.linalg.sqrtm(cov_b).real
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
                 - 2 * np.trace(root_a) * np.trace(root_b))


def _frechet_sum_of_entries(mu_a, cov_a, mu_b, cov_b):
    root_m = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(np.sum((mu_a - mu_b) ** 2) + np.sum(cov_a + cov_b - 2 * root_m))


def _frechet_square_root_of_all(mu_a, cov_a, mu_b, cov_b):
    return math.sqrt(max(0.0, _frechet(mu_a, cov_a, mu_b, cov_b)))


def _frechet_complex(mu_a, cov_a, mu_b, cov_b):
    root_m = scipy.linalg.sqrtm(cov_a @ cov_b)  # complex when round-off leaves imaginary parts
    return np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * root_m)


def _frechet_package(mu_a, cov_a, mu_b, cov_b):
    return fidelity.frechet_distance(mu_a, cov_a, mu_b, cov_b)


WRONG_ANSWER_L = [
    ("11.1", "the lower triangle hidden", _mask_lower_triangle, ["hides the past", "torch.triu, not torch.tril"]),
    ("11.1", "the diagonal hidden too", _mask_diagonal_hidden, ["hides the diagonal too", "attend to itself"]),
    ("11.1", "0 and -inf swapped", _mask_values_swapped, ["the two values are swapped"]),
    ("11.1", "a boolean mask", _mask_boolean, ["your mask is boolean", "additive float mask"]),
    ("11.1", "a multiplicative 0/1 mask", _mask_zero_one, ["multiplicative 0/1 mask"]),
    ("11.1", "1 in the future", _mask_ones_in_future, ["holds 1 in the future"]),
    ("11.1", "-1e9 for -inf", _mask_large_negative, ["large negative number", "float('-inf')"]),
    ("11.1", "0 * inf", _mask_zero_times_inf, ["NaN", "0 * inf"]),
    ("11.1", "+inf for -inf", _mask_plus_inf, ["+inf"]),
    ("11.1", "a NumPy array", _mask_numpy, ["return a torch tensor", "ndarray"]),
    ("11.1", "a batch axis added", _mask_batch_axis, ["shape (1, 4, 4), expected (4, 4)"]),
    ("11.1", "an integer mask", _mask_integer, ["dtype torch.int64", "cannot hold -inf"]),
    ("11.1", "torch's ready-made mask", _mask_library,
     ["torch.nn.modules.transformer.Transformer.generate_square_subsequent_mask"]),
    ("11.1", "the package's own function", _mask_package, ["course_utils.sequence.causal_mask"]),
    ("11.2", "tokens (B, 1)", _sample_column, ["shape (16000, 1)", "[:, 0]"]),
    ("11.2", "float tokens", _sample_float, ["dtype torch.float32", "long"]),
    ("11.2", "greedy", _sample_greedy, ["greedy decoding"]),
    ("11.2", "the logits multiplied by the temperature", _sample_temperature_multiplied,
     ["you multiplied the logits by it; divide them"]),
    ("11.2", "no temperature", _sample_no_temperature, ["the temperature changed nothing"]),
    ("11.2", "positions in the top-k for tokens", _sample_positions, ["positions in the sorted list", "map each draw"]),
    ("11.2", "the k smallest logits", _sample_smallest, ["the 3 smallest logits"]),
    ("11.2", "the others at 0, not -inf", _sample_masked_with_zero, ["is not among the 3 largest logits", "-inf"]),
    ("11.2", "the k-th largest dropped (> for >=)", _sample_kth_dropped, ["you kept 2 tokens per row, not 3"]),
    ("11.2", "top_k ignored", _sample_top_k_ignored, ["you drew among all the tokens"]),
    ("11.2", "one random number for the whole batch", _sample_one_uniform_for_all_rows,
     ["one random number was shared by every row"]),
    ("11.2", "every row drawn from the first row's probabilities", _sample_first_row_for_all,
     ["the probabilities of the first row"]),
    ("11.2", "the softmax over the batch", _sample_softmax_over_batch, ["over the batch (dim=0)"]),
    ("11.2", "the full softmax cut, not renormalised", _sample_not_renormalised,
     ["not renormalised over the top_k", "add up to 1"]),
    ("11.2", "the generator ignored", _sample_global_random_state, ["seeded alike", "generator=generator"]),
    ("11.2", "a generator of its own", _sample_own_generator, ["seeded differently", "do not make or seed"]),
    ("11.2", "top_k None not supported", _sample_top_k_always, ["with top_k=None", "None means no cut"]),
    ("11.2", "the package's own function", _sample_package, ["course_utils.sequence.sample_next_token"]),
    ("11.3", "the velocity reversed", _path_velocity_reversed, ["points from the data to the noise"]),
    ("11.3", "t weighs the noise", _path_t_on_noise, ["goes from the data (t = 0) to the noise"]),
    ("11.3", "t not reshaped: along time", _path_t_not_reshaped, ["along the last axis (time)", "(B, 1, 1)"]),
    ("11.3", "t[:, None]: along the channels", _path_t_one_axis_added, ["along the channels", "(B, 1, 1)"]),
    ("11.3", "one t for the whole batch", _path_one_t_for_all, ["every item went to the same time"]),
    ("11.3", "noise + t data", _path_no_one_minus_t, ["the noise's weight is 1 - t"]),
    ("11.3", "a diffusion path", _path_square_roots, ["square roots", "variance-preserving"]),
    ("11.3", "the way travelled for the velocity", _path_velocity_travelled, ["the way travelled so far"]),
    ("11.3", "the velocity divided by t", _path_velocity_divided_by_t, ["NaN", "divided by t"]),
    ("11.3", "the way left for the velocity", _path_velocity_left, ["the way left to go"]),
    ("11.3", "the noise for the velocity", _path_velocity_is_noise, ["you returned the noise"]),
    ("11.3", "(velocity, x_t)", _path_order_swapped, ["return (x_t, velocity), in that order"]),
    ("11.3", "x_t only", _path_x_t_only, ["return two things"]),
    ("11.3", "the package's own function", _path_package, ["course_utils.generation.flow_path"]),
    ("11.4", "np.sqrt for the matrix square root", _frechet_entrywise_sqrt,
     ["square root of each entry", "scipy.linalg.sqrtm"]),
    ("11.4", "the product of the square roots", _frechet_product_of_roots, ["only when the covariances commute"]),
    ("11.4", "cov_a * cov_b", _frechet_entrywise_product, ["the matrix product is cov_a @ cov_b"]),
    ("11.4", "no square root", _frechet_no_root, ["left out the square root"]),
    ("11.4", "no factor 2", _frechet_no_factor_two, ["the factor 2 is missing"]),
    ("11.4", "+ 2 (cov_a cov_b)^(1/2)", _frechet_plus_root, ["is subtracted"]),
    ("11.4", "no mean term", _frechet_no_mean_term, ["the distance of the means is missing"]),
    ("11.4", "the norm of the means' difference, not squared", _frechet_norm_not_squared, ["not its square"]),
    ("11.4", "the square root of the product of the traces", _frechet_root_of_traces,
     ["square root of the product of the traces"]),
    ("11.4", "the product of the traces of the square roots", _frechet_traces_of_roots,
     ["multiplied the traces of the two square roots"]),
    ("11.4", "every entry summed, not the trace", _frechet_sum_of_entries, ["summed every entry", "np.trace"]),
    ("11.4", "the square root of the whole", _frechet_square_root_of_all, ["square root of the whole"]),
    ("11.4", "the imaginary round-off kept", _frechet_complex, ["complex number", ".real"]),
    ("11.4", "the package's own function", _frechet_package, ["course_utils.fidelity.frechet_distance"]),
]


@pytest.mark.parametrize("exercise_id, mistake, answer, expected_fragment_l", WRONG_ANSWER_L,
                         ids=[f"{row[0]} {row[1]}" for row in WRONG_ANSWER_L])
def test_a_wrong_answer_is_rejected_naming_the_mistake(exercise_id, mistake, answer, expected_fragment_l):
    result = exercises.evaluate(exercise_id, answer)
    assert result.status == "not yet", f"{mistake}: {result.message}"
    assert "Traceback" not in result.message
    for fragment in expected_fragment_l:
        assert fragment in result.message, f"{mistake}: '{fragment}' not in: {result.message}"


def test_eight_or_more_wrong_answers_per_exercise():
    for exercise_id in ("11.1", "11.2", "11.3", "11.4"):
        n_wrong = sum(row[0] == exercise_id for row in WRONG_ANSWER_L)
        assert n_wrong >= 8, f"{exercise_id}: {n_wrong} wrong answers"


def test_right_answers_written_otherwise_pass():
    """Other right ways than the solutions': the checkers judge what an answer gives, not how."""

    def causal_mask(n_step):
        return torch.full((n_step, n_step), float("-inf")).triu(diagonal=1)

    def sample_gumbel_max(logit_m, temperature, top_k, generator):  # the Gumbel-max trick, > 0 noise
        scaled_m = _kept_logits(logit_m / temperature, top_k)
        uniform_m = torch.rand(scaled_m.shape, generator=generator).clamp(min=1e-12)
        return (scaled_m - torch.log(-torch.log(uniform_m))).argmax(dim=-1)

    def sample_sorted(logit_m, temperature, top_k, generator):  # topk's values, then mapped back to the tokens
        value_m, index_m = (logit_m / temperature).topk(top_k or logit_m.shape[-1], dim=-1)
        position_m = torch.multinomial(torch.softmax(value_m, dim=-1), 1, generator=generator)
        return index_m.gather(1, position_m).squeeze(1)

    def flow_path(data, noise, t):
        t = t[:, None, None]
        return noise + t * (data - noise), data - noise

    def frechet_symmetric(mu_a, cov_a, mu_b, cov_b):  # Tr((A^½ B A^½)^½), a symmetric matrix's square root
        root_a = scipy.linalg.sqrtm(cov_a).real
        eigenvalue_v = np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)
        return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * np.sqrt(eigenvalue_v).sum())

    for exercise_id, answer in (("11.1", causal_mask), ("11.2", sample_gumbel_max), ("11.2", sample_sorted),
                                ("11.2", _sample), ("11.3", flow_path), ("11.4", frechet_symmetric),
                                ("11.4", _frechet)):
        result = exercises.evaluate(exercise_id, answer)
        assert result.passed, result.message
