"""Wrong answers to the exercises of notebooks 08 (source separation) and 09 (self-supervised learning): each is
rejected ("not yet") with a message that names the mistake. Also the facts that those notebooks' prose states."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from course_utils import contrastive, exercises, probe, separation, task

from .helpers import exercise_context

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning",
                                        "ignore:divide by zero encountered:RuntimeWarning")

# --- 08.1: the ideal ratio mask by hand (V, F, T) -> (V, F, T)


def _irm_zero_over_zero(m):
    return m / m.sum(axis=0, keepdims=True)


def _irm_over_frequency(m):
    total = m.sum(axis=1, keepdims=True)
    return np.where(total > 0, m / np.where(total > 0, total, 1), 1 / len(m))


def _irm_of_energies(m):
    power = m**2
    total = power.sum(axis=0, keepdims=True)
    return np.where(total > 0, power / np.where(total > 0, total, 1), 1 / len(m))


def _irm_silent_zero(m):
    return m / np.maximum(m.sum(axis=0, keepdims=True), 1e-12)


def _irm_silent_one(m):
    total = m.sum(axis=0, keepdims=True)
    return np.where(total > 0, m / np.where(total > 0, total, 1), 1.0)


def _irm_binary(m):
    return (m == m.max(axis=0, keepdims=True)).astype(float) / (m == m.max(axis=0, keepdims=True)).sum(axis=0)


def _irm_over_max(m):
    top = m.max(axis=0, keepdims=True)
    return np.where(top > 0, m / np.where(top > 0, top, 1), 1 / len(m))


def _irm_package(m):
    return separation.ideal_ratio_mask(m)


# --- 08.2: SI-SDR by hand


def _si_sdr_parts(e, r):
    target = np.dot(e, r) / np.dot(r, r) * r
    return target, e - target


def _sdr_unscaled(e, r):
    return 10 * np.log10(np.sum(r**2) / np.sum((e - r) ** 2))


def _si_sdr_20_log10(e, r):
    target, error = _si_sdr_parts(e, r)
    return 20 * np.log10(np.sum(target**2) / np.sum(error**2))


def _si_sdr_natural_log(e, r):
    target, error = _si_sdr_parts(e, r)
    return 10 * np.log(np.sum(target**2) / np.sum(error**2))


def _si_sdr_upside_down(e, r):
    target, error = _si_sdr_parts(e, r)
    return 10 * np.log10(np.sum(error**2) / np.sum(target**2))


def _si_sdr_gain_not_normalised(e, r):
    target = np.dot(e, r) * r
    return 10 * np.log10(np.sum(target**2) / np.sum((e - target) ** 2))


def _si_sdr_estimate_energy(e, r):
    _, error = _si_sdr_parts(e, r)
    return 10 * np.log10(np.sum(e**2) / np.sum(error**2))


def _si_sdr_ratio(e, r):
    target, error = _si_sdr_parts(e, r)
    return np.sum(target**2) / np.sum(error**2)


def _si_sdr_package(e, r):
    return separation.si_sdr(e, r)


# --- 08.3: the loss of a mask model; mask_logits (B, V, F, L), y (B, 1 + V, F, L)


def _loss_masks_for_magnitudes(z, y):
    return ((torch.softmax(z, dim=1) - y[:, 1:]) ** 2).mean()


def _loss_sigmoid(z, y):
    return ((torch.sigmoid(z) * y[:, :1] - y[:, 1:]) ** 2).mean()


def _loss_softmax_last_axis(z, y):
    return ((torch.softmax(z, dim=-1) * y[:, :1] - y[:, 1:]) ** 2).mean()


def _loss_absolute(z, y):
    return (torch.softmax(z, dim=1) * y[:, :1] - y[:, 1:]).abs().mean()


def _loss_sum(z, y):
    return ((torch.softmax(z, dim=1) * y[:, :1] - y[:, 1:]) ** 2).sum()


def _loss_voices_off_by_one(z, y):
    return ((torch.softmax(z, dim=1) * y[:, :1] - y[:, :-1]) ** 2).mean()


def _loss_mixture_axis_dropped(z, y):
    return ((torch.softmax(z, dim=1) * y[:, 0] - y[:, 1:]) ** 2).mean()


def _loss_logits_as_masks(z, y):
    return ((z * y[:, :1] - y[:, 1:]) ** 2).mean()


def _loss_root(z, y):
    return ((torch.softmax(z, dim=1) * y[:, :1] - y[:, 1:]) ** 2).mean().sqrt()


def _loss_float(z, y):
    return ((torch.softmax(z, dim=1) * y[:, :1] - y[:, 1:]) ** 2).mean().item()


def _loss_not_0d(z, y):
    return ((torch.softmax(z, dim=1) * y[:, :1] - y[:, 1:]) ** 2).mean(dim=(2, 3))


def _loss_package(z, y):
    return separation.masked_mse_loss(z, y)


# --- 09.1: two views of one track, X (1, F, T) in log(1 + 10000 mel)


def _start(X, L):
    return int(torch.randint(0, X.shape[-1] - L + 1, ()))


def _views_with(change, X, L, g):
    """Two crops, each changed by change(crop, g) (the mistakes differ in the change only)."""
    return tuple(change(X[..., s:s + L], g) for s in (_start(X, L), _start(X, L)))


def _gain_db(g):
    return float((torch.rand(()) * 2 - 1) * g)


def _views_log_shift(X, L, g):
    return _views_with(lambda crop, g: crop + _gain_db(g), X, L, g)


def _views_20_for_10(X, L, g):
    return _views_with(lambda crop, g: torch.log1p(torch.expm1(crop) * 10 ** (_gain_db(g) / 20)), X, L, g)


def _views_db_as_factor(X, L, g):
    return _views_with(lambda crop, g: torch.log1p(torch.expm1(crop) * _gain_db(g)), X, L, g)


def _views_linear_add(X, L, g):
    return _views_with(lambda crop, g: torch.log1p(torch.expm1(crop) + 10 ** (_gain_db(g) / 10)), X, L, g)


def _views_log_times(X, L, g):
    return _views_with(lambda crop, g: crop * 10 ** (_gain_db(g) / 10), X, L, g)


def _views_boosts_only(X, L, g):
    return _views_with(lambda crop, g: torch.log1p(torch.expm1(crop) * 10 ** (float(torch.rand(())) * g / 10)),
                       X, L, g)


def _views_same_gain(X, L, g):
    gain = 10 ** (_gain_db(g) / 10)
    return _views_with(lambda crop, _: torch.log1p(torch.expm1(crop) * gain), X, L, g)


def _views_same_crop(X, L, g):
    s = _start(X, L)
    return tuple(torch.log1p(torch.expm1(X[..., s:s + L]) * 10 ** (_gain_db(g) / 10)) for _ in range(2))


def _views_last_start_missed(X, L, g):
    start_l = [int(torch.randint(0, X.shape[-1] - L, ())) for _ in range(2)]
    return tuple(torch.log1p(torch.expm1(X[..., s:s + L]) * 10 ** (_gain_db(g) / 10)) for s in start_l)


def _views_in_place(X, L, g):
    view_l = []
    for _ in range(2):
        crop = X[..., _start(X, L):][..., :L]
        crop.copy_(torch.log1p(torch.expm1(crop) * 10 ** (_gain_db(g) / 10)))
        view_l.append(crop.clone())
    return tuple(view_l)


def _views_package(X, L, g):
    views = contrastive.make_views({"gain_db": g})
    return tuple(views(X[None, ..., s:s + L])[0] for s in (_start(X, L), _start(X, L)))


# --- 09.2: NT-Xent by hand, z_a and z_b (B, D)


def _partner_v(n):
    return torch.cat([torch.arange(n, 2 * n), torch.arange(n)])


def _unit(z_a, z_b, dim=1):
    return torch.nn.functional.normalize(torch.cat([z_a, z_b]), dim=dim)


def _masked(logit_m, fill=-torch.inf):
    return logit_m.masked_fill(torch.eye(len(logit_m), dtype=torch.bool), fill)


def _nt_xent_one_way(a, b, t):
    a, b = torch.nn.functional.normalize(a, dim=1), torch.nn.functional.normalize(b, dim=1)
    return torch.nn.functional.cross_entropy(a @ b.T / t, torch.arange(len(a)))


def _nt_xent_not_normalised(a, b, t):
    z = torch.cat([a, b])
    return torch.nn.functional.cross_entropy(_masked(z @ z.T / t), _partner_v(len(a)))


def _nt_xent_self_kept(a, b, t):
    z = _unit(a, b)
    return torch.nn.functional.cross_entropy(z @ z.T / t, _partner_v(len(a)))


def _nt_xent_no_temperature(a, b, t):
    z = _unit(a, b)
    return torch.nn.functional.cross_entropy(_masked(z @ z.T), _partner_v(len(a)))


def _nt_xent_times_temperature(a, b, t):
    z = _unit(a, b)
    return torch.nn.functional.cross_entropy(_masked(z @ z.T * t), _partner_v(len(a)))


def _nt_xent_itself_as_partner(a, b, t):
    z = _unit(a, b)
    return torch.nn.functional.cross_entropy(z @ z.T / t, torch.arange(2 * len(a)))


def _nt_xent_self_zero(a, b, t):
    z = _unit(a, b)
    return torch.nn.functional.cross_entropy(_masked(z @ z.T / t, 0.0), _partner_v(len(a)))


def _nt_xent_sum(a, b, t):
    z = _unit(a, b)
    return torch.nn.functional.cross_entropy(_masked(z @ z.T / t), _partner_v(len(a)), reduction="sum")


def _nt_xent_normalised_columns(a, b, t):
    z = _unit(a, b, dim=0)
    return torch.nn.functional.cross_entropy(_masked(z @ z.T / t), _partner_v(len(a)))


def _nt_xent_partner_index_i(a, b, t):
    z = _unit(a, b)
    return torch.nn.functional.cross_entropy(_masked(z @ z.T / t), torch.cat([torch.arange(len(a))] * 2))


def _nt_xent_float(a, b, t):
    z = _unit(a, b)
    return float(torch.nn.functional.cross_entropy(_masked(z @ z.T / t), _partner_v(len(a))))


def _nt_xent_package(a, b, t):
    return contrastive.nt_xent_loss(a, b, t)


def _nt_xent_package_module(a, b, t):
    return contrastive.NTXentLoss(t)(a, b)


# --- 09.3: a linear probe on a frozen encoder


def _probe_in_training_mode(encoder, X_train, y_train, X_test):
    with torch.no_grad():
        classifier = LogisticRegression(max_iter=1000).fit(encoder(X_train).numpy(), y_train)
        return classifier.predict(encoder(X_test).numpy())


def _probe_with_gradients(encoder, X_train, y_train, X_test):
    encoder.eval()
    classifier = LogisticRegression(max_iter=1000).fit(encoder(X_train).detach().numpy(), y_train)
    return classifier.predict(encoder(X_test).detach().numpy())


def _probe_on_inputs(encoder, X_train, y_train, X_test):
    return LogisticRegression(max_iter=1000).fit(X_train.numpy(), y_train).predict(X_test.numpy())


def _probe_probabilities(encoder, X_train, y_train, X_test):
    encoder.eval()
    with torch.no_grad():
        classifier = LogisticRegression(max_iter=1000).fit(encoder(X_train).numpy(), y_train)
        return classifier.predict_proba(encoder(X_test).numpy())


def _probe_fine_tuned(encoder, X_train, y_train, X_test):
    head = torch.nn.LazyLinear(3)
    optimizer = torch.optim.SGD([*encoder.parameters()], lr=0.1)
    loss = torch.nn.functional.cross_entropy(head(encoder(X_train)), torch.as_tensor(y_train))
    loss.backward()
    optimizer.step()
    encoder.eval()
    with torch.no_grad():
        classifier = LogisticRegression(max_iter=1000).fit(encoder(X_train).numpy(), y_train)
        return classifier.predict(encoder(X_test).numpy())


def _probe_training_inputs(encoder, X_train, y_train, X_test):
    encoder.eval()
    with torch.no_grad():
        train_m = encoder(X_train).numpy()
    return LogisticRegression(max_iter=1000).fit(train_m, y_train).predict(train_m)


def _probe_embedding_argmax(encoder, X_train, y_train, X_test):
    encoder.eval()
    with torch.no_grad():
        return encoder(X_test).argmax(dim=1).numpy()


def _probe_package(encoder, X_train, y_train, X_test):
    train_m, test_m = task.predict_track(encoder, X_train).numpy(), task.predict_track(encoder, X_test).numpy()
    return probe.Probe("multiclass", 3).fit(train_m, y_train).predict_proba(test_m).argmax(axis=1)


WRONG_ANSWER_L = [
    ("08.1", "0 / 0 where every voice is silent", _irm_zero_over_zero, ["NaN or inf", "equal share"]),
    ("08.1", "sum over frequency, not over the voices", _irm_over_frequency, ["axis 1", "the voices are axis 0"]),
    ("08.1", "energies for magnitudes (a Wiener-like mask)", _irm_of_energies, ["squared magnitudes"]),
    ("08.1", "0 where every voice is silent", _irm_silent_zero, ["add up to 0", "1/V"]),
    ("08.1", "1 for each voice where every voice is silent", _irm_silent_one, ["add up to 4", "1/V"]),
    ("08.1", "a binary mask (the loudest voice takes the bin)", _irm_binary, ["binary mask"]),
    ("08.1", "max for sum", _irm_over_max, ["the loudest voice's magnitude"]),
    ("08.1", "the package's own function", _irm_package, ["course_utils.separation.ideal_ratio_mask"]),
    ("08.2", "SNR against the reference as it is", _sdr_unscaled, ["scale the reference"]),
    ("08.2", "20 log10 for 10 log10 on energies", _si_sdr_20_log10, ["20 log10", "energies"]),
    ("08.2", "natural log for log10", _si_sdr_natural_log, ["natural logarithm"]),
    ("08.2", "ratio upside down", _si_sdr_upside_down, ["upside down"]),
    ("08.2", "gain not divided by the reference's energy", _si_sdr_gain_not_normalised, ["divide"]),
    ("08.2", "the estimate's energy for the target's", _si_sdr_estimate_energy, ["energy of the target"]),
    ("08.2", "a ratio, not dB", _si_sdr_ratio, ["not in dB"]),
    ("08.2", "the package's own function", _si_sdr_package, ["course_utils.separation.si_sdr"]),
    ("08.3", "masks compared with magnitudes", _loss_masks_for_magnitudes, ["multiply each mask"]),
    ("08.3", "sigmoid for softmax", _loss_sigmoid, ["a softmax over the voice axis"]),
    ("08.3", "softmax over the wrong axis", _loss_softmax_last_axis, ["the voices are axis 1"]),
    ("08.3", "absolute for squared difference", _loss_absolute, ["square it"]),
    ("08.3", "sum for mean", _loss_sum, ["summed", "mean"]),
    ("08.3", "the voices sliced one channel off", _loss_voices_off_by_one, ["y[:, 1:]"]),
    ("08.3", "the mixture's axis dropped", _loss_mixture_axis_dropped, ["y[:, :1]"]),
    ("08.3", "logits used as masks", _loss_logits_as_masks, ["logits"]),
    ("08.3", "root mean square for mean square", _loss_root, ["square root"]),
    ("08.3", "a float for a tensor", _loss_float, ["return a tensor"]),
    ("08.3", "a mean over some axes only", _loss_not_0d, ["0-d", "(3, 3)"]),
    ("08.3", "the package's own function", _loss_package, ["course_utils.separation.masked_mse_loss"]),
    ("09.1", "gain added to the log-mel values", _views_log_shift, ["plus a constant in log-mel units"]),
    ("09.1", "20 for 10: the amplitude rule on energies", _views_20_for_10, ["10 ** (g / 20)", "energies"]),
    ("09.1", "the dB number used as the factor", _views_db_as_factor, ["not a factor", "10 ** (g / 10)"]),
    ("09.1", "gain added in the linear domain", _views_linear_add, ["plus a constant", "multiplies"]),
    ("09.1", "log-mel values multiplied by the gain", _views_log_times, ["multiplied the log-mel values"]),
    ("09.1", "boosts only, no cuts", _views_boosts_only, ["cuts"]),
    ("09.1", "the same gain for both views", _views_same_gain, ["same gain"]),
    ("09.1", "the same crop for both views", _views_same_crop, ["same frame"]),
    ("09.1", "off by one: the last start never drawn", _views_last_start_missed, ["the last start"]),
    ("09.1", "the track changed in place", _views_in_place, ["in place"]),
    ("09.1", "the package's own views", _views_package, ["course_utils.contrastive.FeatureViews"]),
    ("09.2", "one way: z_a against z_b only", _nt_xent_one_way, ["every view of both batches is a query"]),
    ("09.2", "not normalised", _nt_xent_not_normalised, ["normalise each to unit length"]),
    ("09.2", "a view's similarity with itself kept", _nt_xent_self_kept, ["mask it out"]),
    ("09.2", "no temperature", _nt_xent_no_temperature, ["divide the similarities by the temperature"]),
    ("09.2", "temperature multiplies", _nt_xent_times_temperature, ["multiplied", "divide"]),
    ("09.2", "each view its own partner", _nt_xent_itself_as_partner, ["its partner", "not itself"]),
    ("09.2", "self-similarity set to 0, not -inf", _nt_xent_self_zero, ["a logit of 0", "-inf"]),
    ("09.2", "sum for mean", _nt_xent_sum, ["summed", "mean"]),
    ("09.2", "normalised along the wrong axis", _nt_xent_normalised_columns, ["dim=0", "each row"]),
    ("09.2", "partner index i in both halves", _nt_xent_partner_index_i, ["infinite", "row i + B"]),
    ("09.2", "a float for a tensor", _nt_xent_float, ["return a tensor"]),
    ("09.2", "the package's own function", _nt_xent_package, ["course_utils.contrastive.nt_xent_loss"]),
    ("09.2", "the package's own loss module", _nt_xent_package_module, ["course_utils.contrastive.NTXentLoss.forward"]),
    ("09.3", "the encoder in training mode", _probe_in_training_mode, ["evaluation mode"]),
    ("09.3", "embeddings computed with gradients", _probe_with_gradients, ["torch.no_grad()"]),
    ("09.3", "the probe fitted on the inputs", _probe_on_inputs, ["never called the encoder"]),
    ("09.3", "probabilities for classes", _probe_probabilities, ["probabilities", "predict"]),
    ("09.3", "the encoder fine-tuned", _probe_fine_tuned, ["the encoder's weights changed"]),
    ("09.3", "predictions of the training inputs", _probe_training_inputs, ["one class per test input"]),
    ("09.3", "the embedding's largest dimension as the class", _probe_embedding_argmax, ["not a set of logits"]),
    ("09.3", "the package's own probe", _probe_package, ["course_utils.task.predict_track"]),
]


_context = exercise_context  # tests/helpers.py: the made-up context of an experiment's check


@pytest.mark.parametrize("exercise_id, mistake, answer, expected_fragment_l", WRONG_ANSWER_L,
                         ids=[f"{row[0]} {row[1]}" for row in WRONG_ANSWER_L])
def test_a_wrong_answer_is_rejected_naming_the_mistake(exercise_id, mistake, answer, expected_fragment_l):
    result = exercises.evaluate(exercise_id, answer, **_context(exercise_id))
    assert result.status == "not yet", f"{mistake}: {result.message}"
    assert "Traceback" not in result.message
    for fragment in expected_fragment_l:
        assert fragment in result.message, f"{mistake}: '{fragment}' not in: {result.message}"


def test_six_or_more_wrong_answers_per_exercise():
    for exercise_id in ("08.1", "08.2", "08.3", "09.1", "09.2", "09.3"):
        n_wrong = sum(row[0] == exercise_id for row in WRONG_ANSWER_L)
        assert n_wrong >= 6, f"{exercise_id}: {n_wrong} wrong answers"


# --- what the prose of notebooks 08 and 09 states (each test failed on the text it replaced)


def _cells(name):
    return json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]


def _markdown_before(name, fragment):
    """The markdown of a notebook above the first cell that starts with ``fragment`` (all of it if none does)."""
    text_l = []
    for cell in _cells(name):
        source = "".join(cell["source"])
        if source.startswith(fragment):
            break
        if cell["cell_type"] == "markdown":
            text_l.append(source)
    return "\n".join(text_l)


def _code(name):
    return "\n".join("".join(cell["source"]) for cell in _cells(name) if cell["cell_type"] == "code")


def test_the_ideal_ratio_mask_is_an_oracle_reference_and_the_mixture_a_baseline_not_bounds():
    prose = _markdown_before("08_source_separation", "## Going further")
    assert "upper bound" not in prose and "lower bound" not in prose, "the oracle and the mixture are no bounds"
    assert "**oracle**" in prose and "do-nothing baseline" in prose
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    mask_entry = glossary.split("### Mask\n")[1].split("\n### ")[0]
    assert "**oracle**" in mask_entry and "not an upper bound" in mask_entry, mask_entry
    # and notebook 08 measures it: masks from the stems that beat the ideal ratio mask, a check cell asserting it
    assert 'oracle_d["phase-sensitive"] > oracle_d["ideal ratio mask"]' in _code("08_source_separation")


def test_notebook_08_measures_the_receptive_field_it_states():
    prose = _markdown_before("08_source_separation", "## Going further")
    config_text = (ROOT / "configs" / "separation_unet_stft.yaml").read_text(encoding="utf-8")
    for text in (prose.replace("no value of the deepest block sees the whole spectrum", ""), config_text):
        assert "sees the whole spectrum" not in text
    assert "127 bins (2.7 kHz) by 127 frames (2.9 s)" in prose
    code = _code("08_source_separation")
    assert "model_inspect.receptive_field(" in code and '(field["bins"], field["frames"]) == (127, 127)' in code


def test_notebook_08_names_the_statistic_it_computes():
    """A function of the notebook that takes a median over tracks says so in its name (it was mean_scores)."""
    for cell in _cells("08_source_separation"):
        source = "".join(cell["source"])
        for name, body in re.findall(r"^def (\w+)\(.*?\n((?:    .*\n|\n)*)", source + "\n", flags=re.M):
            if "nanmedian" in body:
                assert "median" in name and "mean" not in name, f"{name} computes a median"


def test_notebook_08_check_yourself_half_level_answer():
    """Check yourself, 3: an estimate at half the level, otherwise perfect: SI-SDR unbounded, SNR 6 dB."""
    stem_v = np.random.default_rng(0).standard_normal(1000)
    assert separation.si_sdr(0.5 * stem_v, stem_v) > 60
    assert round(10 * np.log10(np.sum(stem_v**2) / np.sum((0.5 * stem_v - stem_v) ** 2))) == 6
    assert "10 log10(1 / 0.25) = 6 dB" in "".join("".join(c["source"]) for c in _cells("08_source_separation"))


def test_notebook_09_teaches_decibels_on_energies_before_exercise_09_1():
    before = _markdown_before("09_self_supervised", "# Exercise 09.1:")
    assert "10 log10" in before and "10^(g/10)" in before, "say how a gain in dB changes an energy, before 09.1"
    assert "20 log10" in before, "and why 20 log10 is for amplitudes"
    assert all(0.5 < 10 ** (gain_db / 10) / ratio < 2 for gain_db, ratio in ((3, 2), (10, 10), (-10, 0.1)))


def test_notebook_09_says_why_negatives_are_needed_before_exercise_09_2():
    before = _markdown_before("09_self_supervised", "# Exercise 09.2:")
    assert "**[collapse](../docs/glossary.md#collapse)**" in before and "**negatives**" in before
    # the fact it states: a collapsed encoder (every view the same point) scores chance, log(2B - 1), with negatives
    z_m = torch.ones(8, 4)
    assert math.isclose(float(contrastive.nt_xent_loss(z_m, z_m, 0.1)), math.log(2 * 8 - 1), rel_tol=1e-5)
