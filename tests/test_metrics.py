"""course_utils.metrics: ranking metrics checked against a hand-worked example, triplet mining, mir_eval."""

import numpy as np
import pytest
import torch

from course_utils import metrics


def test_ranking_metrics_hand_worked_example():
    # 4 items: works A, A, B, B. Distances chosen so that:
    # query 0 (A): ranking 2(B) 1(A) 3(B) -> first relevant at rank 2; AP = 1/2
    # query 1 (A): ranking 0(A) 2 3       -> rank 1; AP = 1
    # query 2 (B): ranking 3(B) 0 1       -> rank 1; AP = 1
    # query 3 (B): ranking 0(A) 1(A) 2(B) -> rank 3; AP = 1/3
    distance_m = np.array([[0, 2, 1, 3],
                           [2, 0, 4, 5],
                           [1, 4, 0, 0.5],
                           [3, 5, 0.5, 0]], dtype=float)
    distance_m[3, 0], distance_m[3, 1], distance_m[3, 2] = 0.1, 0.2, 0.3  # query 3 sees A first
    result = metrics.ranking_metrics(distance_m, ["A", "A", "B", "B"])
    assert result["MAP"] == pytest.approx((1 / 2 + 1 + 1 + 1 / 3) / 4)
    assert result["MR1"] == pytest.approx((2 + 1 + 1 + 3) / 4)
    assert result["MRR"] == pytest.approx((1 / 2 + 1 + 1 + 1 / 3) / 4)
    assert result["P@1"] == pytest.approx(2 / 4)
    assert result["P@10"] == pytest.approx(1 / 10)
    assert result["n_query"] == 4


def test_ranking_metrics_several_relevant_and_queries_without_relevant():
    # query 0 (A) ranks 1(A) 2(X) 3(A): AP = (1/1 + 2/3) / 2; item 2 (X) has no relevant item: not a query
    distance_m = np.array([[0, 1, 2, 3], [1, 0, 2, 3], [2, 2, 0, 2], [3, 3, 2, 0]], dtype=float)
    result = metrics.ranking_metrics(distance_m, ["A", "A", "X", "A"])
    assert result["n_query"] == 3
    ap_0 = (1 + 2 / 3) / 2
    assert result["MAP"] == pytest.approx((ap_0 + ap_0 + (1 / 2 + 2 / 3) / 2) / 3)


def test_ranking_metrics_need_a_relevant_item():
    with pytest.raises(ValueError, match="no query has a relevant item"):
        metrics.ranking_metrics(np.zeros((2, 2)), [1, 2])


def test_perfect_embeddings_give_perfect_scores():
    label_v = np.repeat(np.arange(5), 3)
    embedding_m = torch.eye(5)[label_v] + 0.01 * torch.randn(15, 5)
    result = metrics.ranking_metrics(metrics.pairwise_distances(embedding_m).numpy(), label_v)
    assert result["MAP"] == 1 and result["MR1"] == 1 and result["P@1"] == 1


def test_semihard_mining_picks_the_closest_farther_negative():
    # anchor 0 and positive 1 at distance d_ap; negatives 2 (closer than the positive), 3 (a bit farther), 4 (far)
    angle_v = torch.tensor([0.0, 0.5, 0.2, 0.7, 2.5])
    embedding_m = torch.stack([torch.cos(angle_v), torch.sin(angle_v)], dim=1)
    label_v = torch.tensor([0, 0, 1, 2, 3])
    distance_m = metrics.pairwise_distances(embedding_m)
    loss = metrics.TripletLoss(margin=0.5, mining="semihard")(embedding_m, label_v)
    # pairs (0, 1) and (1, 0); for anchor 0: negatives farther than d(0,1) -> 3 and 4, the closest is 3;
    # for anchor 1: d(1,0) = d(0,1); negatives farther than it from 1: 4 only (2 and 3 are closer)
    expected_0 = torch.relu(distance_m[0, 1] - distance_m[0, 3] + 0.5)
    expected_1 = torch.relu(distance_m[1, 0] - distance_m[1, 4] + 0.5)
    assert loss.item() == pytest.approx(((expected_0 + expected_1) / 2).item(), rel=1e-5)


def test_random_mining_uses_only_negatives_and_is_differentiable():
    torch.manual_seed(0)
    embedding_m = torch.randn(8, 4, requires_grad=True)
    label_v = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    loss = metrics.TripletLoss(margin=0.3, mining="random")(embedding_m, label_v)
    loss.backward()
    assert loss.item() >= 0 and embedding_m.grad is not None


def test_triplet_loss_errors():
    with pytest.raises(ValueError, match="mining must be"):
        metrics.TripletLoss(mining="hardest")
    with pytest.raises(ValueError, match="no positive pair"):
        metrics.TripletLoss()(torch.randn(3, 4), torch.tensor([0, 1, 2]))


def test_multipitch_scores_with_mir_eval():
    frequency_hz_v = 32.7 * 2 ** (np.arange(72) / 12)
    time_sec_v = np.arange(10) * 0.01
    reference_m = np.zeros((72, 10))
    reference_m[45, :] = 1
    reference_m[40, :5] = 1
    perfect = metrics.multipitch_scores(reference_m, reference_m, time_sec_v, frequency_hz_v)
    assert perfect["Precision"] == 1 and perfect["Recall"] == 1 and perfect["Accuracy"] == 1
    half_m = reference_m.copy()
    half_m[40] = 0
    scores = metrics.multipitch_scores(reference_m, half_m, time_sec_v, frequency_hz_v)
    assert scores["Precision"] == 1 and scores["Recall"] == pytest.approx(10 / 15)


def test_ranking_metrics_of_some_queries_only():
    label_v = np.array([0, 0, 1, 1])
    distance_m = np.array([[0, 1, 2, 2], [1, 0, 2, 2], [2, 2, 0, 3], [2, 2, 3, 0]], dtype=float)  # works 1: apart
    assert metrics.ranking_metrics(distance_m, label_v, query_mask_v=[True, True, False, False])["MAP"] == 1.0
    low = metrics.ranking_metrics(distance_m, label_v, query_mask_v=[False, False, True, True])
    assert low["MAP"] == pytest.approx(1 / 3) and low["n_query"] == 2


def test_relative_salience_brings_back_quiet_notes_and_keeps_silence_silent():
    """On unheard sound every note is less sure: relative to the track's clearest cells, it is above 0.5 again."""
    rng = np.random.default_rng(0)
    roll_m = rng.random((40, 200)) < 0.05
    unsure_m = np.where(roll_m, 0.3, 0.02)  # notes ranked above every wrong cell, but below a fixed 0.5
    relative_m = metrics.relative_salience(unsure_m)
    assert metrics.frame_accuracy(unsure_m, roll_m, 0.5) == 0.0
    assert metrics.frame_accuracy(relative_m, roll_m, 0.5) == 1.0  # 0.3 / max(0.5, p99) = 0.6
    assert relative_m.max() <= 1.0 and np.isclose(relative_m[~roll_m].max(), 0.04)
    quiet_m = np.full((40, 200), 0.01)  # a near-silent track: the floor keeps it below the threshold
    assert metrics.relative_salience(quiet_m).max() == pytest.approx(0.02)
    sure_m = np.where(roll_m, 0.99, 0.02)
    assert np.allclose(metrics.relative_salience(sure_m)[roll_m], 1.0)
