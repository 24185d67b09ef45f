"""Exercises 11.1 and 11.2 of notebooks/11_generation.ipynb (the causal mask, sampling the next token), with their
checkers; 11.3 and 11.4 in ex11_generation_flow_fidelity; solutions in solutions/."""

import torch

from course_utils import sequence
from course_utils.exercises.checking import Wrong, call, exercise

# --- 11.1 the causal mask ------------------------------------------------------------------------------------------


@exercise("11.1", "11_generation", "the causal attention mask", "causal_mask",
          "write causal_mask(n_step): the additive attention mask of a causal model, a float tensor (n_step, n_step) "
          "added to the attention scores before their softmax: 0 where step i may attend to step j (j <= i: itself "
          "and its past), -inf where j is in its future (j > i).",
          ["Row i is the step that reads, column j the step it reads. Which entries of the square are its future: "
           "above or below the diagonal? The diagonal itself, a step reading itself, is allowed.",
           "A score plus -inf becomes a weight exp(-inf) = 0 after the softmax; a score plus 0 is unchanged. Start "
           "from a square of -inf (or of zeros) and clear (or fill) one triangle of it; beware that 0 * inf is NaN.",
           "torch.triu(M, diagonal=1) keeps the entries of M strictly above the diagonal and puts 0 elsewhere; "
           "torch.full((n, n), value) fills a square; float('-inf') is minus infinity."],
          forbidden_l=[sequence.causal_mask, torch.nn.Transformer.generate_square_subsequent_mask])
def _check_causal_mask(causal_mask):
    for n_step in (4, 1, 7):
        answer = call(causal_mask, n_step)
        where = f"for n_step = {n_step}"
        if not torch.is_tensor(answer):
            raise Wrong(f"{where} return a torch tensor (it is added to the attention scores), not "
                        f"{type(answer).__name__}")
        if tuple(answer.shape) != (n_step, n_step):
            raise Wrong(f"{where} your mask has shape {tuple(answer.shape)}, expected ({n_step}, {n_step}): one row "
                        "per step that reads, one column per step read (no batch axis)")
        if answer.dtype == torch.bool:
            raise Wrong(f"{where} your mask is boolean: this exercise asks for the additive float mask, 0 where a "
                        "step may attend and -inf where it may not (what a True means in a boolean mask differs from "
                        "one library to the next)")
        if not answer.is_floating_point():
            raise Wrong(f"{where} your mask has dtype {answer.dtype}: an integer cannot hold -inf; return a float "
                        "tensor")
        answer = answer.detach().cpu().float()
        if torch.isnan(answer).any():
            raise Wrong(f"{where} your mask holds NaN: 0 * inf is NaN (multiplying a 0/1 triangle by -inf gives NaN "
                        "where it is 0); fill the future with -inf instead (masked_fill, torch.where, or torch.full "
                        "then torch.triu)")
        expected = sequence.causal_mask(n_step)
        if torch.equal(answer, expected):
            continue
        for wrong, why in _mask_mistakes(n_step):
            if torch.equal(answer, wrong) and not torch.equal(wrong, expected):
                raise Wrong(f"{where} {why}\nexpected:\n{expected}\nyou gave:\n{answer}")
        future_m = torch.ones(n_step, n_step, dtype=torch.bool).triu(diagonal=1)
        finite_negative = answer[future_m]
        if (answer[~future_m] == 0).all() and torch.isfinite(finite_negative).all() and (finite_negative < -1e3).all():
            raise Wrong(f"{where} the future gets {float(finite_negative.max()):g}, a large negative number: it "
                        "only nearly removes the future (and overflows in half precision); use -inf exactly, "
                        "float('-inf')")
        raise Wrong(f"{where} expected 0 on and below the diagonal and -inf above it:\n{expected}\nyou gave:\n{answer}")
    return "the causal mask of 1, 4 and 7 steps: 0 on and below the diagonal, -inf above it."


def _mask_mistakes(n_step):
    """(mask, why) of the usual wrong masks."""
    inf = float("-inf")
    future_m = torch.ones(n_step, n_step, dtype=torch.bool).triu(diagonal=1)
    zero_m = torch.zeros(n_step, n_step)
    return [
        (zero_m.masked_fill(future_m.T, inf), "your mask hides the past (-inf below the diagonal) and shows the "
                                              "future: row i is the step that reads, and its future is the columns "
                                              "j > i, above the diagonal (torch.triu, not torch.tril)"),
        (zero_m.masked_fill(future_m | torch.eye(n_step, dtype=torch.bool), inf),
         "your mask hides the diagonal too: a step may attend to itself (j = i), only j > i is hidden (diagonal=1); "
         "with its whole row at -inf, the first step's softmax is NaN"),
        (zero_m.masked_fill(~future_m, inf), "the two values are swapped: 0 (attend) on and below the diagonal, -inf "
                                             "(hidden) above it"),
        (zero_m.masked_fill(future_m, float("inf")), "the future gets +inf: a weight exp(+inf) is infinite, the "
                                                     "softmax NaN; the hidden steps get -inf, exp(-inf) = 0"),
        ((~future_m).float(), "yours is a multiplicative 0/1 mask (1 where a step may attend): this one is added to "
                              "the scores, 0 where a step may attend and -inf where it may not"),
        (future_m.float(), "your mask holds 1 in the future: adding 1 to a score does not hide its step (it even "
                           "raises its weight); the future gets -inf, and 0 stays where a step may attend"),
    ]


# --- 11.2 sampling the next token: temperature and top-k ---------------------------------------------------------


# 4 rows of logits over 8 tokens, no two equal in a row, each row's top 3 elsewhere
_TOKEN_LOGIT_M = torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0, 1.5, -0.5, 0.8],
                               [-0.5, 0.0, 1.5, 2.0, 0.8, -1.0, 1.0, 0.5],
                               [0.5, -1.0, 0.0, 0.8, 1.0, -0.5, 2.0, 1.5],
                               [1.0, 2.0, -0.5, 1.5, 0.5, 0.8, 0.0, -1.0]])
_N_DRAW = 4000  # draws per row of _TOKEN_LOGIT_M: the logits are repeated, (4 x 4000, 8)


@exercise("11.2", "11_generation", "sampling the next token with temperature and top-k", "sample_next_token",
          "write sample_next_token(logit_m, temperature, top_k, generator): logit_m (B, V) holds the logits of the "
          "next token for each of B sequences. Return one token per row (a long tensor (B,)), drawn at random from "
          "softmax(logit_m / temperature) (temperature > 0) restricted to the top_k largest logits of the row: the "
          "other tokens have probability 0, the kept ones share the whole probability. top_k None keeps every "
          "token. Draw with the torch.Generator given (generator), so that a seeded generator repeats the draws.",
          ["Three steps per row: scale the logits by the temperature, hide every token but the top_k most likely, "
           "then draw one token from the softmax of what is left. A temperature below 1 must sharpen the "
           "distribution, above 1 flatten it.",
           "Hiding a token is giving it a logit of -inf: exp(-inf) = 0, and the softmax of the rest adds up to 1 "
           "again. logit_m.topk(top_k, dim=-1) gives the top_k largest values of each row (and their positions).",
           "torch.multinomial(probability_m, 1, generator=generator) draws one index per row of a (B, V) matrix: it "
           "returns (B, 1), one column too many."],
          forbidden_l=[sequence.sample_next_token])
def _check_sample_next_token(sample_next_token):
    for temperature, top_k, seed in ((0.5, 3, 1), (2.0, None, 2), (1.0, 1, 3)):
        _check_token_frequencies(sample_next_token, temperature, top_k, seed)
    small_m = _TOKEN_LOGIT_M.repeat(50, 1)
    draw_l = [_draw_tokens(sample_next_token, small_m, 1.0, 4, seed) for seed in (7, 7, 8)]
    if not torch.equal(draw_l[0], draw_l[1]):
        raise Wrong("two calls with generators seeded alike (torch.Generator().manual_seed(7)) drew different "
                    "tokens: draw with the generator given (torch.multinomial(..., generator=generator)), not with "
                    "the global random state")
    if torch.equal(draw_l[0], draw_l[2]):
        raise Wrong("two calls with generators seeded differently (7 and 8) drew the same 200 tokens: draw with the "
                    "generator given; do not make or seed a generator of your own")
    return (f"the frequencies of {_N_DRAW} draws for each of 4 rows at temperature 0.5 with top_k 3, at temperature "
            "2 with every token, and with top_k 1; the same draws with a generator seeded alike.")


def _draw_tokens(sample_next_token, logit_m, temperature, top_k, seed):
    """The student's tokens for logit_m, drawn with a generator seeded with ``seed``: a long tensor (B,)."""
    where = f"for logits (B, V) = {tuple(logit_m.shape)}, temperature {temperature} and top_k {top_k}"
    generator = torch.Generator().manual_seed(seed)
    try:
        token_v = call(sample_next_token, logit_m, temperature, top_k, generator)
    except TypeError as error:
        if top_k is not None:
            raise
        raise Wrong(f"with top_k=None your code raised TypeError: {error}. None means no cut, every token kept: "
                    "keep only the top_k largest logits when top_k is not None") from None
    if not torch.is_tensor(token_v):
        raise Wrong(f"{where} return a tensor of tokens, not {type(token_v).__name__}")
    if tuple(token_v.shape) == (len(logit_m), 1):
        raise Wrong(f"{where} your tokens have shape {tuple(token_v.shape)}, expected ({len(logit_m)},): "
                    "torch.multinomial(probability_m, 1) gives (B, 1), one column of draws; take that column "
                    "([:, 0])")
    if tuple(token_v.shape) != (len(logit_m),):
        raise Wrong(f"{where} your tokens have shape {tuple(token_v.shape)}, expected ({len(logit_m)},): one token "
                    "per row of logit_m")
    if token_v.dtype != torch.long:
        raise Wrong(f"{where} your tokens have dtype {token_v.dtype}: a token is an index, return a long (int64) "
                    "tensor")
    n_vocab = logit_m.shape[1]
    if token_v.min() < 0 or token_v.max() >= n_vocab:
        raise Wrong(f"{where} you returned token {int(token_v.max() if token_v.max() >= n_vocab else token_v.min())}"
                    f": the tokens of a row are 0 to {n_vocab - 1} (the probabilities you drew from do not add up "
                    "to 1 once cut to the top_k? renormalise them)")
    return token_v.detach().cpu()


def _check_token_frequencies(sample_next_token, temperature, top_k, seed):
    n_row, n_vocab = _TOKEN_LOGIT_M.shape
    logit_m = _TOKEN_LOGIT_M.repeat(_N_DRAW, 1)  # row i holds the logits of row i % 4
    token_v = _draw_tokens(sample_next_token, logit_m, temperature, top_k, seed)
    where = f"at temperature {temperature} with top_k {top_k}"
    token_m = token_v.reshape(_N_DRAW, n_row)  # column r: the draws of row r
    frequency_m = torch.nn.functional.one_hot(token_m, n_vocab).double().mean(dim=0)  # (4, V)
    expected_m = _token_probabilities(logit_m, temperature, top_k)[:n_row]
    if _frequencies_match(frequency_m, expected_m):
        return
    constant_v = (token_m == token_m[:1]).all(dim=0)  # rows whose every draw gave the same token
    if constant_v.all() and (expected_m.max(dim=1).values < 0.99).all():
        top_v = _TOKEN_LOGIT_M.argmax(dim=1)
        if all(torch.equal(_draw_tokens(sample_next_token, _TOKEN_LOGIT_M, temperature, top_k, other_seed), top_v)
               for other_seed in range(100, 110)):  # the most likely token, whatever the generator's seed
            raise Wrong(f"{where} each of the {_N_DRAW} rows of the same logits got its most likely token: that is "
                        "greedy decoding, not sampling; draw the token at random from the probabilities "
                        "(torch.multinomial)")
        raise Wrong(f"{where} the {_N_DRAW} rows of the same logits all got the same token: one random number was "
                    "shared by every row of the batch; draw one token per row, each with its own randomness "
                    "(torch.multinomial on the (B, V) probabilities draws one per row)")
    for wrong_m, why in _sampling_mistakes(logit_m, temperature, top_k):
        wrong_m = wrong_m[:n_row]
        if _frequencies_match(frequency_m, wrong_m) and (wrong_m - expected_m).abs().max() > 0.05:
            raise Wrong(f"{where} {why}{_frequency_table(frequency_m, expected_m)}")
    outside_m = (expected_m == 0) & (frequency_m > 0)
    if outside_m.any():
        row, token = (int(i) for i in outside_m.nonzero()[0])
        raise Wrong(f"{where} token {token} of row {row} (logit {float(_TOKEN_LOGIT_M[row, token])}) is not among "
                    f"the {top_k} largest logits of its row, yet was drawn {int(frequency_m[row, token] * _N_DRAW)} "
                    f"times in {_N_DRAW}: every token but the top_k gets a logit of -inf (probability 0) before the "
                    f"softmax{_frequency_table(frequency_m, expected_m)}")
    if top_k is not None:
        full_m = _token_probabilities(logit_m, temperature, None)[:n_row]
        top_v = _TOKEN_LOGIT_M.argmax(dim=1)
        top_frequency_v, top_full_v = frequency_m[range(n_row), top_v], full_m[range(n_row), top_v]
        if _frequencies_match(top_frequency_v, top_full_v) and not _frequencies_match(top_frequency_v,
                                                                                      expected_m[range(n_row), top_v]):
            raise Wrong(f"{where} the most likely token was drawn with its probability under the full softmax, "
                        "not renormalised over the top_k: once the others are cut, the kept probabilities must add "
                        "up to 1 again (the softmax of the kept logits, the others at -inf; or divide what is kept "
                        f"by its sum){_frequency_table(frequency_m, expected_m)}")
    raise Wrong(f"{where} the tokens' frequencies over {_N_DRAW} draws per row are not those of softmax(logit_m / "
                f"temperature) over the top_k largest logits{_frequency_table(frequency_m, expected_m)}")


def _token_probabilities(logit_m, temperature, top_k, fill=float("-inf"), largest=True):
    """softmax(logit_m / temperature) over the top_k largest (or smallest) logits of each row, the others ``fill``."""
    scaled_m = logit_m.double() / temperature
    if top_k is not None:
        kept_m = torch.zeros_like(scaled_m, dtype=torch.bool)
        kept_m.scatter_(1, scaled_m.topk(top_k, dim=1, largest=largest).indices, True)
        scaled_m = scaled_m.masked_fill(~kept_m, fill)
    return torch.softmax(scaled_m, dim=1)


def _sampling_mistakes(logit_m, temperature, top_k):
    """(probabilities (N, V), why) of the usual wrong samplers, for the rows of logit_m."""
    n_vocab = logit_m.shape[1]
    expected_m = _token_probabilities(logit_m, temperature, top_k)
    n_kept = n_vocab if top_k is None else top_k
    position_m = torch.zeros_like(expected_m)
    position_m[:, :n_kept] = expected_m.sort(dim=1, descending=True).values[:, :n_kept]
    masked_m = (logit_m.double() / temperature).masked_fill(expected_m == 0, float("-inf"))
    batch_softmax_m = torch.softmax(masked_m, dim=0).nan_to_num()  # a column of -inf only: 0
    mistake_l = [
        (_token_probabilities(logit_m, 1 / temperature, top_k),
         "your temperature sharpens where it should flatten (or the other way round): you multiplied the logits by "
         "it; divide them by it (a temperature below 1 sharpens the distribution, above 1 flattens it)"),
        (_token_probabilities(logit_m, 1.0, top_k),
         "the temperature changed nothing: divide the logits by it before the softmax (dividing the probabilities "
         "after it changes nothing once they are renormalised)"),
        (torch.nn.functional.one_hot(logit_m.argmax(dim=1), n_vocab).double(),
         "you always took the most likely token (greedy decoding): draw the token at random from the probabilities "
         "(torch.multinomial)"),
        (position_m, "your tokens are positions in the sorted list of the kept logits (0 for the largest, 1 for the "
                     "next...), not token numbers: map each draw back to its token through the indices that topk "
                     "(or sort) gives"),
        (expected_m[:1].expand_as(expected_m),
         "every row was drawn from the probabilities of the first row: draw each row's token from its own row "
         "(torch.multinomial on the (B, V) probabilities draws one per row)"),
        (batch_softmax_m / batch_softmax_m.sum(dim=1, keepdim=True).clamp(min=1e-300),
         "your softmax runs over the batch (dim=0): normalise each row over its V tokens (dim=-1)"),
    ]
    if top_k is not None:
        mistake_l += [
            (_token_probabilities(logit_m, temperature, top_k, largest=False),
             f"you kept the {top_k} smallest logits of each row: keep the top_k largest (the most likely tokens)"),
            (_token_probabilities(logit_m, temperature, top_k, fill=0.0),
             "tokens outside the top_k were drawn: you gave them a logit of 0, which the softmax still turns into a "
             "fair chance; give them -inf (probability 0)"),
            (_token_probabilities(logit_m, temperature, None),
             "you drew among all the tokens: keep only the top_k largest logits of each row (the others -inf)"),
            (_token_probabilities(logit_m, temperature, min(top_k + 1, n_vocab)),
             f"you kept {top_k + 1} tokens per row: keep exactly the top_k = {top_k} largest logits"),
        ]
        if top_k > 1:
            mistake_l.append((_token_probabilities(logit_m, temperature, top_k - 1),
                              f"you kept {top_k - 1} tokens per row, not {top_k}: the k-th largest logit itself was "
                              "never drawn; keep the logits >= the k-th largest (> drops the k-th itself)"))
    return mistake_l


def _frequencies_match(frequency_m, probability_m):
    """The frequencies of _N_DRAW draws are those of the probabilities, within 5 standard deviations."""
    tolerance_m = 5 * torch.sqrt(probability_m * (1 - probability_m) / _N_DRAW) + 1.5 / _N_DRAW
    return bool(((frequency_m - probability_m).abs() <= tolerance_m).all())


def _frequency_table(frequency_m, expected_m):
    """The row whose frequencies differ most from the expected probabilities, both, in a line each."""
    row = int((frequency_m - expected_m).abs().max(dim=1).values.argmax())
    logit_l = [round(float(logit), 2) for logit in _TOKEN_LOGIT_M[row]]
    frequency_l = [round(float(frequency), 3) for frequency in frequency_m[row]]
    expected_l = [round(float(probability), 3) for probability in expected_m[row]]
    return (f" (row {row}, logits {logit_l}: frequencies of tokens 0 to {len(expected_l) - 1} {frequency_l}, "
            f"expected about {expected_l})")
