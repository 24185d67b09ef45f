"""Exercises of notebooks/09_self_supervised.ipynb, with their checkers; solutions in solutions/."""


import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

from course_utils import contrastive, probe, task
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
           "write that index vector for rows 0..B-1, then for rows B..2B-1."],
          forbidden_l=[contrastive.nt_xent_loss, contrastive.NTXentLoss.forward])
def _check_nt_xent(nt_xent):
    generator = torch.Generator().manual_seed(9)
    for shape, temperature in (((4, 6), 0.5), ((3, 2), 0.1), ((8, 16), 1.0)):
        z_a, z_b = 3 * torch.randn(shape, generator=generator), 3 * torch.randn(shape, generator=generator)
        answer = call(nt_xent, z_a, z_b, temperature)
        where = f"for two batches of shape {shape} and temperature {temperature}"
        if not torch.is_tensor(answer):
            raise Wrong(f"{where} return a tensor (it must be back-propagated), not {type(answer).__name__}")
        if answer.dim() != 0:
            raise Wrong(f"{where} your loss has shape {tuple(answer.shape)}: return a 0-d tensor, the mean "
                        "cross-entropy over the 2B views")
        value, expected = as_float(answer, "the loss"), float(contrastive.nt_xent_loss(z_a, z_b, temperature))
        if not np.isfinite(value):
            raise Wrong(f"{where} your loss is {'infinite' if np.isinf(value) else 'NaN'} ({value}): some view's "
                        "right answer is a logit you masked to -inf (its similarity with itself?): the partner of "
                        "row i is row i + B, and that of row i + B is row i")
        for wrong, why in _nt_xent_mistakes(z_a, z_b, temperature):
            if np.isclose(value, wrong, rtol=1e-4) and not np.isclose(wrong, expected, rtol=1e-4):
                raise Wrong(f"{where} {why} (expected {expected:.4f})")
        if not np.isclose(value, expected, rtol=1e-4):
            raise Wrong(f"{where} you gave {value:.4f}, expected {expected:.4f}")
    return "the same loss as the course's for 3 batch sizes and temperatures."


def _nt_xent_mistakes(z_a, z_b, temperature):
    """(value, why) of the usual wrong versions."""
    n_item, cross_entropy = len(z_a), nn.functional.cross_entropy
    partner_v = torch.cat([torch.arange(n_item, 2 * n_item), torch.arange(n_item)])
    raw_m = torch.cat([z_a, z_b])
    unit_m, column_unit_m = nn.functional.normalize(raw_m, dim=1), nn.functional.normalize(raw_m, dim=0)
    eye_m = torch.eye(2 * n_item, dtype=torch.bool)
    similarity_m = unit_m @ unit_m.T
    wrong_l = [
        (cross_entropy((raw_m @ raw_m.T / temperature).masked_fill(eye_m, -torch.inf), partner_v),
         "your similarities are dot products of the raw projections: normalise each to unit length first (cosine "
         "similarity)"),
        (cross_entropy(similarity_m / temperature, partner_v),
         "each view's similarity with itself is still among its logits: mask it out"),
        (cross_entropy(unit_m[:n_item] @ unit_m[n_item:].T / temperature, torch.arange(n_item)),
         "you compared the views of z_a with those of z_b only: every view of both batches is a query, and its "
         "candidates are the 2B - 1 other views, its own batch included"),
        (contrastive.nt_xent_loss(z_a, z_b, 1.0), "divide the similarities by the temperature"),
        (cross_entropy((similarity_m * temperature).masked_fill(eye_m, -torch.inf), partner_v),
         "you multiplied the similarities by the temperature: divide them by it (a low temperature sharpens the "
         "softmax)"),
        (cross_entropy(similarity_m / temperature, torch.arange(2 * n_item)),
         "each view's right answer is itself (targets 0..2B-1): its partner, the other view of its excerpt, is row "
         "i + B for row i and row i for row i + B, not itself"),
        (cross_entropy((similarity_m / temperature).masked_fill(eye_m, 0.0), partner_v),
         "a logit of 0 for a view's similarity with itself still competes in the softmax: give it -inf, which no "
         "softmax can choose"),
        (cross_entropy((similarity_m / temperature).masked_fill(eye_m, -torch.inf), partner_v, reduction="sum"),
         "you summed the cross-entropies of the 2B views: take their mean"),
        (cross_entropy((column_unit_m @ column_unit_m.T / temperature).masked_fill(eye_m, -torch.inf), partner_v),
         "you normalised along dim=0 (each column): normalise each row, each view's projection, to unit length "
         "(dim=1)"),
    ]
    return [(float(wrong), why) for wrong, why in wrong_l]


@exercise("09.1", "09_self_supervised", "two views of one track", "two_views",
          "write two_views(X, patch_L_frame, gain_db): from the log-mel X of one track, shape (1, F, T), in the "
          "course's units log(1 + 10000 mel), return two views (each (1, F, patch_L_frame)): two crops at "
          "independent random places, each with its own random gain drawn uniformly in [-gain_db, gain_db] dB "
          "and applied to the mel energies (not added to the log values). Use torch's random functions.",
          ["A view is a crop, then a change that must not change what the encoder should learn: the level of a "
           "recording is such a change.",
           "A gain multiplies energies. The log-mel holds log(1 + 10000 mel): go back to the mel energies "
           "(torch.expm1 undoes log1p), multiply, and come back.",
           "A gain of g dB multiplies an energy by 10 ** (g / 10). torch.randint gives a start frame (its upper "
           "bound excluded), torch.rand a number in [0, 1) to scale into [-gain_db, gain_db]."],
          forbidden_l=[contrastive.FeatureViews.__call__, contrastive.FeatureViews.change_mel,
                       contrastive.TrackCrops.crop])
def _check_two_views(two_views):
    torch.manual_seed(3)
    mel = torch.rand(1, 12, 40) ** 3 + 1e-3
    start_l, gain_l = _starts_and_gains(two_views, mel, 40)
    if len(set(start_l)) < 10:
        raise Wrong("the crops start at the same few places: draw each start at random in [0, T - patch_L_frame]")
    if start_l[0::2] == start_l[1::2]:
        raise Wrong("both views of each pair start at the same frame: draw each view's start anew (two crops at "
                    "independent places)")
    _raise_if_the_gains_are_wrong(np.array(gain_l))
    short_start_l, _ = _starts_and_gains(two_views, mel[..., :10], 30)
    if max(short_start_l) < 2:
        raise Wrong("on a track of 10 frames with patch_L_frame 8, no view of 30 pairs started at frame 2, the last "
                    "start that fits (T - patch_L_frame): draw the start among 0..T - patch_L_frame, the last one "
                    "included (the upper bound of torch.randint is excluded)")
    return ("70 pairs of views: crops of the track at every place, the last one included, each with its own gain "
            "in [-6, 6] dB applied to the energies.")


def _starts_and_gains(two_views, mel, n_pair):
    """The start frame and the gain in dB of each view of ``n_pair`` pairs drawn from the track of mel energies
    ``mel`` (1, F, T), patches of 8 frames, gains up to 6 dB; Wrong if a view is no crop of it times a gain."""
    X = torch.log1p(10000 * mel)
    start_l, gain_l = [], []
    for _ in range(n_pair):
        X_given = X.clone()
        view_l = call(two_views, X_given, 8, 6.0, copy_arguments=False)
        if not torch.equal(X_given, X):
            raise Wrong("your function changed X in place (an in-place operation on a crop, which is a view of X): "
                        "the track must stay as it was, the next pair reads it again; change a copy")
        if not isinstance(view_l, (tuple, list)) or len(view_l) != 2:
            raise Wrong("return the two views as a tuple (view_a, view_b)")
        for view in view_l:
            view = torch.as_tensor(as_array(view, "a view"))
            if tuple(view.shape) != (1, 12, 8):
                raise Wrong(f"a view of a track of shape {tuple(X.shape)} with patch_L_frame 8 has shape "
                            f"{tuple(view.shape)}, expected (1, 12, 8): a crop X[..., start:start + 8], the start "
                            "at most T - patch_L_frame")
            if not torch.isfinite(view).all():
                raise Wrong("a view holds NaN or inf: did you multiply by the gain in dB itself? A gain in dB is not "
                            "a factor: g dB multiplies an energy by 10 ** (g / 10), always > 0 (log1p of an energy "
                            "below -1 is NaN)")
            start, gain_db = _crop_and_gain(view, mel)
            start_l.append(start)
            gain_l.append(gain_db)
    return start_l, gain_l


def _crop_and_gain(view, mel):
    """(start frame, gain in dB) of a view of the track whose mel energies are ``mel`` (1, F, T); Wrong naming what
    the view is instead, if it is no crop times one gain."""
    view, mel = view.to(torch.float64), mel.to(torch.float64)
    length = view.shape[-1]
    crop_l = [(start, mel[..., start:start + length], torch.log1p(10000 * mel[..., start:start + length]))
              for start in range(mel.shape[-1] - length + 1)]
    view_mel = torch.expm1(view) / 10000
    for start, crop_mel, _ in crop_l:
        ratio_m = view_mel / crop_mel
        if _is_constant(ratio_m):
            return start, float(10 * torch.log10(ratio_m.mean()))
    for relation, why in (
            (lambda crop_mel, crop_X: view - crop_X,
             "a view is the crop plus a constant in log-mel units: a gain multiplies the mel energies, and "
             "log(1 + 10000 mel) turns that into no constant shift: go back to the energies (torch.expm1), "
             "multiply, come back (torch.log1p)"),
            (lambda crop_mel, crop_X: view_mel - crop_mel,
             "a view is the crop's energies plus a constant: a gain multiplies the energies (by 10 ** (g / 10) for "
             "g dB), it adds nothing to them"),
            (lambda crop_mel, crop_X: view / crop_X,
             "you multiplied the log-mel values by the gain: go back to the mel energies (torch.expm1), multiply "
             "them, and come back (torch.log1p)")):
        if any(_is_constant(relation(crop_mel, crop_X)) for _, crop_mel, crop_X in crop_l):
            raise Wrong(why)
    raise Wrong("a view is not a crop of the track times one gain: crop X[..., start:start + patch_L_frame] and "
                "apply a single gain to the whole crop")


def _is_constant(value_m):
    return bool(torch.allclose(value_m, value_m.mean().expand_as(value_m), rtol=1e-3, atol=1e-6))


def _raise_if_the_gains_are_wrong(gain_v):
    """Wrong naming the mistake if the gains in dB of the views (view a, view b, view a, ...) are not drawn
    independently and uniformly in [-6, 6] dB."""
    low, high = float(gain_v.min()), float(gain_v.max())
    if np.allclose(gain_v[0::2], gain_v[1::2], atol=1e-3):
        raise Wrong("the two views of each pair have the same gain: draw one gain for each view")
    if -3 - 1e-3 <= low < -2 and 2 < high <= 3 + 1e-3:
        raise Wrong(f"the gains you applied span {low:.1f}..{high:.1f} dB, half the [-6, 6] dB asked: did you "
                    "multiply by 10 ** (g / 20)? That is the rule for amplitudes; the mel holds energies (powers), "
                    "which a gain of g dB multiplies by 10 ** (g / 10)")
    if high > 6 + 1e-3 or low < -6 - 1e-3:
        raise Wrong(f"the gains you applied span {low:.1f}..{high:.1f} dB: draw g in [-6, 6] dB and multiply the "
                    "energies by 10 ** (g / 10)")
    if low > -1e-3:
        raise Wrong(f"your gains are all boosts ({low:.1f}..{high:.1f} dB): draw them in [-6, 6] dB, cuts as well "
                    "as boosts")
    if high < 1e-3:
        raise Wrong(f"your gains are all cuts ({low:.1f}..{high:.1f} dB): draw them in [-6, 6] dB, boosts as well "
                    "as cuts")
    if low > -3 or high < 3:
        raise Wrong(f"your gains span only {low:.1f}..{high:.1f} dB: draw them uniformly in [-6, 6] dB")


class _ToyEncoder(nn.Module):
    """A fixed encoder of (n, 4) inputs with a Dropout: in training mode its embeddings are noisy. It records how it
    was called: how often, in training mode or not, with gradients recorded or not."""

    def __init__(self):
        super().__init__()
        self.dropout, self.linear = nn.Dropout(0.5), nn.Linear(4, 6)
        self.n_call, self.called_in_training_mode, self.called_with_gradients = 0, False, False
        with torch.no_grad():
            self.linear.weight.copy_(torch.linspace(-1, 1, 24).reshape(6, 4))
            self.linear.bias.zero_()

    def forward(self, X):
        self.n_call += 1
        self.called_in_training_mode |= self.training
        self.called_with_gradients |= torch.is_grad_enabled()
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
           "The classifier wants NumPy arrays (n, D): convert the embeddings with .numpy(); fit, then predict."],
          # predict_track is wrapped by @torch.no_grad(), whose code every such wrapper shares: watch the function
          forbidden_l=[task.predict_track, probe.Probe.fit, probe.Probe.predict_proba])
def _check_probe_predictions(probe_predictions):
    rng = np.random.default_rng(4)
    label_v = rng.integers(0, 3, 90)
    X_m = torch.as_tensor(rng.normal(size=(90, 4)) + 2.5 * np.eye(4)[label_v], dtype=torch.float32)
    encoder = _ToyEncoder().train()
    weight_before = encoder.linear.weight.detach().clone()
    answer = as_array(call(probe_predictions, encoder, X_m[:60], label_v[:60], X_m[60:], copy_arguments=False),
                      "the predictions")
    n_call_by_answer = encoder.n_call
    if answer.shape == (30, 3):
        raise Wrong("for 30 test inputs of 3 classes you returned shape (30, 3), the probabilities of each class: "
                    "return the predicted class of each test input (the classifier's predict), shape (30,)")
    if answer.shape != (30,):
        raise Wrong(f"for 60 training and 30 test inputs you returned shape {answer.shape}: one class per test input")
    if not torch.equal(encoder.linear.weight, weight_before):
        raise Wrong("the encoder's weights changed: a probe only reads the encoder")
    if encoder.linear.weight.grad is not None or encoder.called_with_gradients:
        raise Wrong("the encoder ran with gradients recorded: embed inside torch.no_grad() (a probe never "
                    "back-propagates into the encoder, and recording the graph costs memory)")
    encoder.eval()
    with torch.no_grad():
        train_m, test_m = encoder(X_m[:60]).numpy(), encoder(X_m[60:]).numpy()
    expected = LogisticRegression(max_iter=1000).fit(train_m, label_v[:60]).predict(test_m)
    if np.array_equal(answer, test_m.argmax(axis=1)) and not np.array_equal(expected, answer):
        raise Wrong("your classes are the largest dimension of each embedding: an embedding is not a set of logits "
                    "(its dimensions are no classes); fit a logistic regression on the embeddings and predict")
    if n_call_by_answer == 0:
        raise Wrong(f"your probe never called the encoder (your predictions agree with a logistic regression on the "
                    f"embeddings for {np.mean(answer == expected):.0%} of the test inputs): fit the classifier on the "
                    "encoder's embeddings of X_train, not on the inputs themselves")
    if np.mean(answer == expected) < 0.95:
        if encoder.called_in_training_mode:
            raise Wrong("your predictions are worse than the probe's: was the encoder in evaluation mode? Its "
                        "Dropout makes embeddings noisy in training mode")
        raise Wrong(f"your predictions agree with a logistic regression on the embeddings for "
                    f"{np.mean(answer == expected):.0%} of the test inputs")
    return "a probe on a toy encoder with Dropout: the same predictions, the encoder untouched."
