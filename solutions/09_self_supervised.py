"""Solutions of the exercises of notebooks/09_self_supervised.ipynb."""

import torch
from sklearn.linear_model import LogisticRegression


def nt_xent(z_a, z_b, temperature):
    """Mean NT-Xent over the 2B views: each view's cosine similarities with the 2B - 1 others, over the temperature,
    classify its partner (row i <-> row i + B)."""
    n_item = len(z_a)
    z_m = torch.nn.functional.normalize(torch.cat([z_a, z_b]), dim=1)  # (2B, D), unit rows
    logit_m = z_m @ z_m.T / temperature  # (2B, 2B) cosine similarities
    logit_m = logit_m.masked_fill(torch.eye(2 * n_item, dtype=torch.bool), float("-inf"))  # a view is not its partner
    partner_v = torch.cat([torch.arange(n_item, 2 * n_item), torch.arange(n_item)])
    return torch.nn.functional.cross_entropy(logit_m, partner_v)


def two_views(X, patch_L_frame, gain_db):
    """Two random crops of a track's log-mel X (1, F, T), each with its own gain, applied to the mel energies."""
    view_l = []
    for _ in range(2):
        start = int(torch.randint(0, X.shape[-1] - patch_L_frame + 1, ()))
        crop = X[..., start:start + patch_L_frame]
        gain = 10 ** ((torch.rand(()) * 2 - 1) * gain_db / 10)  # energy ratio of a gain in [-gain_db, gain_db] dB
        view_l.append(torch.log1p(torch.expm1(crop) * gain))  # log(1 + 10000 mel): 10000 mel scaled by the gain
    return view_l[0], view_l[1]


def probe_predictions(encoder, X_train, y_train, X_test):
    """A logistic regression on the frozen encoder's embeddings: the predicted class of each test input."""
    encoder.eval()  # Dropout off, batch statistics frozen
    with torch.no_grad():
        train_embedding_m = encoder(X_train).numpy()
        test_embedding_m = encoder(X_test).numpy()
    classifier = LogisticRegression(max_iter=1000).fit(train_embedding_m, y_train)
    return classifier.predict(test_embedding_m)
