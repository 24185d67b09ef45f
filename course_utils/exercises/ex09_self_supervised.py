"""Exercises of notebooks/09_self_supervised.ipynb, with their checkers; solutions in solutions/."""

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

from course_utils import contrastive
from course_utils.exercises.checking import Wrong, as_array, as_float, call, exercise


@exercise("09.2", "09_self_supervised", "the contrastive loss (NT-Xent) by hand", "nt_xent",
          "write nt_xent(z_a, z_b, temperature): z_a and z_b are (B, D) projections, row i of each a view of the "
          "same excerpt. Normalise the 2B projections to unit length; the logits of a view are its cosine "
          "similarities with the 2B - 1 other views divided by the temperature; its right answer is its partner "
          "(i <-> i + B). Return the mean cross-entropy over the 2B views, a 0-d tensor.",
          ["Stack the two batches into one of 2B rows: every view is then a query, and every other row a "
           "candidate answer.",
           "One matrix product of the normalised rows gives every cosine similarity at once. A view must not pick "
           "itself: give its similarity with itself a logit that no softmax can choose.",
           "torch.nn.functional.cross_entropy takes the (2B, 2B) logits and the index of each row's partner: "
           "write that index vector for rows 0..B-1, then for rows B..2B-1."])
def _check_nt_xent(nt_xent):
    generator = torch.Generator().manual_seed(9)
    for shape, temperature in (((4, 6), 0.5), ((3, 2), 0.1), ((8, 16), 1.0)):
        z_a, z_b = 3 * torch.randn(shape, generator=generator), 3 * torch.randn(shape, generator=generator)
        answer = call(nt_xent, z_a, z_b, temperature)
        value = as_float(answer, "the loss")
        expected = float(contrastive.nt_xent_loss(z_a, z_b, temperature))
        where = f"for two batches of shape {shape} and temperature {temperature}"
        if not torch.is_tensor(answer):
            raise Wrong(f"{where} return a tensor (it must be back-propagated), not {type(answer).__name__}")
        for wrong, why in _nt_xent_mistakes(z_a, z_b, temperature):
            if np.isclose(value, wrong, rtol=1e-4) and not np.isclose(wrong, expected, rtol=1e-4):
                raise Wrong(f"{where} {why} (expected {expected:.4f})")
        if not np.isclose(value, expected, rtol=1e-4):
            raise Wrong(f"{where} you gave {value:.4f}, expected {expected:.4f}")
    return "the same loss as the course's for 3 batch sizes and temperatures."


def _nt_xent_mistakes(z_a, z_b, temperature):
    """(value, why) of the usual wrong versions."""
    n_item = len(z_a)
    partner_v = torch.cat([torch.arange(n_item, 2 * n_item), torch.arange(n_item)])
    raw_m = torch.cat([z_a, z_b])
    unit_m = nn.functional.normalize(raw_m, dim=1)
    eye_m = torch.eye(2 * n_item, dtype=torch.bool)
    not_normalised = nn.functional.cross_entropy((raw_m @ raw_m.T / temperature).masked_fill(eye_m, -torch.inf),
                                                 partner_v)
    self_kept = nn.functional.cross_entropy(unit_m @ unit_m.T / temperature, partner_v)
    one_way = nn.functional.cross_entropy(unit_m[:n_item] @ unit_m[n_item:].T / temperature, torch.arange(n_item))
    no_temperature = contrastive.nt_xent_loss(z_a, z_b, 1.0)
    return [(float(not_normalised), "your similarities are dot products of the raw projections: normalise each to "
                                    "unit length first (cosine similarity)"),
            (float(self_kept), "each view's similarity with itself is still among its logits: mask it out"),
            (float(one_way), "you compared the views of z_a with those of z_b only: every view of both batches is a "
                             "query, and its candidates are the 2B - 1 other views, its own batch included"),
            (float(no_temperature), "divide the similarities by the temperature")]


@exercise("09.1", "09_self_supervised", "two views of one track", "two_views",
          "write two_views(X, patch_L_frame, gain_db): from the log-mel X of one track, shape (1, F, T), in the "
          "course's units log(1 + 10000 mel), return two views (each (1, F, patch_L_frame)): two crops at "
          "independent random places, each with its own random gain drawn uniformly in [-gain_db, gain_db] dB "
          "and applied to the mel energies (not added to the log values). Use torch's random functions.",
          ["A view is a crop, then a change that must not change what the encoder should learn: the level of a "
           "recording is such a change.",
           "A gain multiplies energies. The log-mel holds log(1 + 10000 mel): go back to the mel energies "
           "(torch.expm1 undoes log1p), multiply, and come back.",
           "A gain of g dB multiplies an energy by 10 ** (g / 10). torch.randint gives a start frame, torch.rand "
           "a number in [0, 1) to scale into [-gain_db, gain_db]."])
def _check_two_views(two_views):
    torch.manual_seed(3)
    mel = torch.rand(1, 12, 40) ** 3 + 1e-3
    X = torch.log1p(10000 * mel)
    start_l, gain_l = [], []
    for _ in range(40):
        view_l = call(two_views, X.clone(), 8, 6.0)
        if not isinstance(view_l, (tuple, list)) or len(view_l) != 2:
            raise Wrong("return the two views as a tuple (view_a, view_b)")
        for view in view_l:
            view = torch.as_tensor(as_array(view, "a view"))
            if tuple(view.shape) != (1, 12, 8):
                raise Wrong(f"a view of a track of shape (1, 12, 40) with patch_L_frame 8 has shape {tuple(view.shape)}"
                            ", expected (1, 12, 8)")
            start, gain_db = _crop_and_gain(view, mel)
            start_l.append(start)
            gain_l.append(gain_db)
    if len(set(start_l[0::2]) | set(start_l[1::2])) < 10 or start_l[0::2] == start_l[1::2]:
        raise Wrong("the crops start at the same few places: draw each view's start anew, in [0, T - patch_L_frame]")
    if np.allclose(gain_l[0::2], gain_l[1::2]):
        raise Wrong("the two views have the same gain: draw one for each view")
    if max(np.abs(gain_l)) > 6.0 + 1e-3 or max(np.abs(gain_l)) < 3.0:
        raise Wrong(f"the gains range over {min(gain_l):.1f}..{max(gain_l):.1f} dB: draw them in [-6, 6] dB")
    return "40 pairs of views: crops of the track at many places, each with its own gain in [-6, 6] dB."


def _crop_and_gain(view, mel):
    """(start frame, gain in dB) of a view of the track whose mel energies are ``mel`` (1, F, T); Wrong if none fits."""
    view_mel = torch.expm1(view.to(torch.float64)) / 10000
    length = view.shape[-1]
    for start in range(mel.shape[-1] - length + 1):
        ratio_m = view_mel / mel[..., start:start + length].to(torch.float64)
        if torch.allclose(ratio_m, ratio_m.mean().expand_as(ratio_m), rtol=1e-3):
            return start, float(10 * torch.log10(ratio_m.mean()))
    additive = any(torch.allclose(view - view.mean(), (torch.log1p(10000 * mel[..., s:s + length]) -
                                                       torch.log1p(10000 * mel[..., s:s + length]).mean()), atol=1e-4)
                   for s in range(mel.shape[-1] - length + 1))
    if additive:
        raise Wrong("a view is a crop plus a constant in log-mel units: a gain multiplies the mel energies, and "
                    "log(1 + 10000 mel) turns that into no constant shift")
    raise Wrong("a view is not a crop of the track times one gain: crop X[..., start:start + patch_L_frame] and "
                "apply a single gain to the whole crop")


class _ToyEncoder(nn.Module):
    """A fixed encoder of (n, 4) inputs with a Dropout: in training mode its embeddings are noisy."""

    def __init__(self):
        super().__init__()
        self.dropout, self.linear = nn.Dropout(0.5), nn.Linear(4, 6)
        self.called_in_training_mode = False
        with torch.no_grad():
            self.linear.weight.copy_(torch.linspace(-1, 1, 24).reshape(6, 4))
            self.linear.bias.zero_()

    def forward(self, X):
        self.called_in_training_mode |= self.training
        return self.linear(self.dropout(X))


@exercise("09.3", "09_self_supervised", "a linear probe on a frozen encoder", "probe_predictions",
          "write probe_predictions(encoder, X_train, y_train, X_test): the frozen encoder's embeddings of the "
          "training and test inputs (in evaluation mode, without gradients), a logistic regression "
          "(sklearn.linear_model.LogisticRegression, max_iter=1000) fitted on the training embeddings and labels, "
          "and its predicted class for every test input, an int array (n_test,). The encoder's weights must not "
          "change.",
          ["A probe asks what a representation already holds: the encoder is only read, never trained, and the "
           "only thing that learns is a linear classifier on top of it.",
           "An encoder in training mode drops units at random (Dropout) and updates its batch statistics: switch "
           "it to evaluation mode first, and compute embeddings inside a block that records no gradient.",
           "The classifier wants NumPy arrays (n, D): convert the embeddings with .numpy(); fit, then predict."])
def _check_probe_predictions(probe_predictions):
    rng = np.random.default_rng(4)
    label_v = rng.integers(0, 3, 90)
    X_m = torch.as_tensor(rng.normal(size=(90, 4)) + 2.5 * np.eye(4)[label_v], dtype=torch.float32)
    encoder = _ToyEncoder().train()
    weight_before = encoder.linear.weight.detach().clone()
    answer = as_array(call(probe_predictions, encoder, X_m[:60], label_v[:60], X_m[60:], copy_arguments=False),
                      "the predictions")
    if answer.shape != (30,):
        raise Wrong(f"for 60 training and 30 test inputs you returned shape {answer.shape}: one class per test input")
    if not torch.equal(encoder.linear.weight, weight_before):
        raise Wrong("the encoder's weights changed: a probe only reads the encoder")
    if encoder.linear.weight.grad is not None:
        raise Wrong("gradients were computed through the encoder: embed inside torch.no_grad()")
    encoder.eval()
    with torch.no_grad():
        train_m, test_m = encoder(X_m[:60]).numpy(), encoder(X_m[60:]).numpy()
    expected = LogisticRegression(max_iter=1000).fit(train_m, label_v[:60]).predict(test_m)
    if np.mean(answer == expected) < 0.95:
        if encoder.called_in_training_mode:
            raise Wrong("your predictions are worse than the probe's: was the encoder in evaluation mode? Its "
                        "Dropout makes embeddings noisy in training mode")
        raise Wrong(f"your predictions agree with a logistic regression on the embeddings for "
                    f"{np.mean(answer == expected):.0%} of the test inputs")
    return "a probe on a toy encoder with Dropout: the same predictions, the encoder untouched."
