"""Generation (notebook 11): the causal Transformer's layers and mask, sampling, the delay pattern, the n-gram
baselines, rectified flow, the tunes as tokens, and the measures of generated audio."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import checkpoint, dataset, fidelity, generation, model_factory, sequence, tunes
from course_utils.config import load_config
from course_utils.data import render

ROOT = Path(__file__).resolve().parents[1]


def tiny_lm_config(vocab_size=8, n_stream=1):
    layer_l = [
        ["TokenEmbedding", {"vocab_size": vocab_size, "n_stream": n_stream, "embed_dim": 32, "max_len": 64}],
        ["CausalSelfAttention", {"embed_dim": -1, "n_head": 2, "dropout": 0.0}],
        ["TokenHead", {"in_features": -1, "n_stream": n_stream, "vocab_size": vocab_size}]]
    return {"dataset": {"problem": "language_model"},
            "model": {"name": "TinyLM", "block_l": [{"sequential_l": [{"layer_l": layer_l}]}]}}


# --- the causal mask and the Transformer ---------------------------------------------------------------------


def test_the_causal_mask_is_zero_on_and_below_the_diagonal_and_minus_infinity_above():
    mask_m = sequence.causal_mask(4)
    assert mask_m.shape == (4, 4) and mask_m.dtype == torch.float32
    assert (mask_m.tril() == 0).all() and torch.isneginf(mask_m[0, 1:]).all() and torch.isneginf(mask_m[2, 3])


def test_no_step_of_the_transformer_reads_the_future():
    torch.manual_seed(0)
    model = model_factory.NetModel(tiny_lm_config(), [2, 1, 10]).eval()
    token_m = torch.randint(0, 8, (1, 1, 10))
    changed_m = token_m.clone()
    changed_m[0, 0, 6:] = (changed_m[0, 0, 6:] + 1) % 8
    with torch.no_grad():
        logit, changed = model(token_m), model(changed_m)
    assert logit.shape == (1, 1, 10, 8)
    assert torch.allclose(logit[..., :6, :], changed[..., :6, :], atol=1e-6)
    assert not torch.allclose(logit[..., 6:, :], changed[..., 6:, :])


def test_the_embedding_names_bad_tokens_and_too_long_sequences():
    model = model_factory.NetModel(tiny_lm_config(), [2, 1, 10])
    with pytest.raises(RuntimeError, match=r"tokens must lie in \[0, 8\)"):
        model(torch.full((1, 1, 5), 9))
    with pytest.raises(RuntimeError, match="more than max_len 64"):
        model(torch.zeros(1, 1, 65, dtype=torch.long))


def test_a_tiny_language_model_learns_a_cycle_by_teacher_forcing_and_generates_it():
    torch.manual_seed(0)
    model = model_factory.NetModel(tiny_lm_config(), [2, 1, 23])
    cycle_m = torch.tensor([[[7] + [1, 2, 3, 4, 5] * 4 + [1, 2, 3]]]).repeat(16, 1, 1)  # prompt 7, then 1 2 3 4 5 ...
    batch_loss = sequence.lm_batch_loss("cpu", 1, 6)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = float(batch_loss(model, {"X": cycle_m}).detach())
    for _ in range(150):
        optimizer.zero_grad()
        loss = batch_loss(model, {"X": cycle_m})
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < 0.05 * first
    out = sequence.generate(model, torch.tensor([[7]]), 10, 1, 6, temperature=0)
    assert out[0, 0].tolist() == [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]


def test_the_lm_loss_scores_neither_the_prompt_nor_the_holes():
    logit = torch.zeros(1, 1, 4, 6)
    logit[..., 3] = 10.0  # every step predicts token 3 with confidence

    class Constant(torch.nn.Module):
        def forward(self, X):
            return logit[..., : X.shape[-1], :]

    holes_only = torch.tensor([[[9, 8, 5, 5, 3]]])  # prompt 9, 8; holes 5 (>= 5 unscored); a 3 at the end
    loss = sequence.lm_batch_loss("cpu", 2, 5)(Constant(), {"X": holes_only})
    assert float(loss) < 1e-3  # only the last token (a 3) is scored


# --- sampling ------------------------------------------------------------------------------------------------


def test_sampling_keeps_the_top_k_and_divides_by_the_temperature():
    logit_m = torch.tensor([[0.0, 1.0, 2.0, 3.0]]).repeat(20000, 1)
    drawn = sequence.sample_next_token(logit_m, temperature=0.5, top_k=2, generator=torch.Generator().manual_seed(0))
    assert drawn.dtype == torch.long and drawn.shape == (20000,)
    assert set(drawn.tolist()) == {2, 3}
    expected = torch.softmax(torch.tensor([2.0, 3.0]) / 0.5, 0)[1]
    assert abs(float((drawn == 3).float().mean()) - float(expected)) < 0.01
    assert sequence.sample_next_token(logit_m[:3], temperature=0).tolist() == [3, 3, 3]


def test_the_delay_pattern_shifts_each_codebook_and_comes_back():
    code_m = torch.arange(24).reshape(2, 3, 4)
    delayed_m = sequence.delay_pattern(code_m, -1)
    assert delayed_m.shape == (2, 3, 6)
    assert delayed_m[0, 1].tolist() == [-1, 4, 5, 6, 7, -1] and delayed_m[0, 2].tolist() == [-1, -1, 8, 9, 10, 11]
    assert torch.equal(sequence.undo_delay_pattern(delayed_m), code_m)


def test_generation_with_a_delay_pattern_puts_the_holes_where_the_pattern_has_them():
    model = model_factory.NetModel(tiny_lm_config(vocab_size=12, n_stream=3), [2, 3, 10])
    out = sequence.generate(model, torch.tensor([[10, 11]]), 6, 3, 8, empty=8,
                            generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 3, 6)
    assert (out[0, 1, 0] == 8) and (out[0, 2, :2] == 8).all() and (out[0, 0, -2:] == 8).all() and (out[0, 1, -1] == 8)
    assert (sequence.undo_delay_pattern(out) < 8).all()


# --- n-gram baselines ------------------------------------------------------------------------------------------


def test_the_bigram_counts_with_add_alpha_smoothing_and_perplexity_of_a_uniform_model_is_the_vocabulary():
    bigram = sequence.NGramModel(2, 3, alpha=1.0).fit([[0, 1, 0, 1, 2]])
    # after 0: counts (0, 2, 0) + 1 -> p(1 | 0) = 3 / 5
    assert bigram.nll([0, 1])[0] == pytest.approx(-np.log(3 / 5))
    unigram = sequence.NGramModel(1, 4, alpha=1.0)
    assert sequence.perplexity(unigram.nll([0, 1, 2, 3, 0])) == pytest.approx(4.0)
    assert len(bigram.sample(0, 5, 3, np.random.default_rng(0))) == 5
    with pytest.raises(ValueError, match="order must be 1"):
        sequence.NGramModel(3, 4)


def test_the_ngram_baseline_scores_the_same_tokens_as_the_model():
    model = model_factory.NetModel(tiny_lm_config(), [2, 1, 9])
    token_m = torch.tensor([[[7, 1, 2, 6, 6, 3, 1, 2, 3, 4]]])  # 6: a hole, unscored (n_scored 6)
    model_nll = sequence.token_nll(model, token_m, 1, 6)
    ngram_nll = sequence.ngram_token_nll([sequence.NGramModel(2, 8).fit([[7, 1, 2, 3]])], token_m.numpy(), 1, 6)
    assert len(model_nll[0]) == len(ngram_nll[0]) == 7


# --- rectified flow ----------------------------------------------------------------------------------------------


def test_the_flow_path_joins_noise_to_data_with_a_constant_velocity():
    data, noise, t = torch.randn(3, 2, 5), torch.randn(3, 2, 5), torch.tensor([0.0, 0.5, 1.0])
    x_t, velocity = generation.flow_path(data, noise, t)
    assert torch.allclose(x_t[0], noise[0]) and torch.allclose(x_t[2], data[2])
    assert torch.allclose(x_t[1], (noise[1] + data[1]) / 2) and torch.allclose(velocity, data - noise)


def test_euler_steps_along_the_ideal_velocity_reach_the_data():
    target = torch.tensor([[[2.0, -1.0, 0.5]]])

    class Oracle(torch.nn.Module):  # the velocity towards one data point: (x1 - x) / (1 - t)
        def __init__(self):
            super().__init__()
            self.p = torch.nn.Parameter(torch.zeros(1))

        def forward(self, X):
            x, t = X[:, :1], X[:, 1:2]
            return (target - x) / (1 - t)

    sample = generation.euler_sample(Oracle(), torch.tensor([[0, 0]]), 1, 3, torch.zeros(1), torch.ones(1),
                                     n_label=1, n_instrument=1, n_step=8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(sample, target, atol=1e-5)


def test_the_velocity_model_reads_the_latent_the_time_and_the_prompt_as_channels():
    X = generation.flow_input(torch.zeros(2, 8, 5), torch.tensor([0.25, 0.75]), torch.tensor([[1, 6], [3, 0]]), 4, 7)
    assert X.shape == (2, 8 + 1 + 4 + 7, 5)
    assert (X[0, 8] == 0.25).all() and (X[0, 9 + 1] == 1).all() and (X[0, 13 + 6] == 1).all() and X[0, 9:].sum() == 10


@pytest.mark.parametrize("name", ["lm_codes", "lm_notes", "flow_vae_latent"])
def test_each_generation_config_builds_for_its_input(name):
    config = load_config(ROOT / "configs" / f"{name}.yaml")
    input_dim = generation.model_input_dim(config, 2)
    model = model_factory.NetModel(config, input_dim)
    with torch.no_grad():
        output = model(torch.zeros(input_dim) if name != "flow_vae_latent" else torch.randn(input_dim))
    if name == "flow_vae_latent":
        assert list(output.shape) == [2, 8, 280]
    else:
        assert output.shape[:3] == tuple(input_dim) and output.shape[-1] == config.model.block_l[0]["sequential_l"][0][
            "layer_l"][0][1]["vocab_size"]


def test_the_token_layout_puts_the_prompts_after_the_codes_and_the_hole():
    layout = generation.token_layout(load_config(ROOT / "configs" / "lm_codes.yaml"))
    assert (layout.empty, layout.vocab_size) == (1024, 1036)
    assert layout.prompt_tokens(torch.tensor([[2, 6]])).tolist() == [[1027, 1035]]
    token_m = generation.codes_to_tokens(layout, torch.zeros(1, 4, 10, dtype=torch.long), torch.tensor([[0, 0]]))
    assert token_m.shape == (1, 4, 2 + 10 + 3) and (token_m[0, :, 0] == 1025).all()


def test_a_model_is_trained_once_then_read_back_and_trained_again_when_its_config_changes(tmp_path):
    config = load_config(ROOT / "configs" / "lm_notes.yaml")
    calls = []

    def train_fn():
        calls.append(1)
        return model_factory.NetModel(config, generation.model_input_dim(config, 2))

    path = tmp_path / "notes.pt"
    assert generation.trained_or_loaded(path, config, train_fn)[1] == "trained"
    assert generation.trained_or_loaded(path, config, train_fn)[1] == "loaded"
    other = load_config(ROOT / "configs" / "lm_notes.yaml")
    other.train["max_epoch"] = 1
    assert generation.trained_or_loaded(path, other, train_fn)[1] == "trained" and len(calls) == 2
    assert checkpoint.load_checkpoint(path)[1].train.max_epoch == 1


def test_an_encoded_dataset_needs_an_encoder_and_one_instrument_per_prompt():
    with pytest.raises(dataset.DatasetError, match="needs encoder="):
        generation.EncodedDataset("a.hdf5", "a.pyjama", "train", load_config(ROOT / "configs" / "lm_codes.yaml"))
    entry = {"filepath": [{"value": "fiddle_x.wav"}], "genre": [{"value": "jig"}],
             "tag": [{"value": "violin"}, {"value": "piano"}]}
    with pytest.raises(dataset.DatasetError, match=r"fiddle_x.wav: a prompt names one instrument"):
        generation.prompt_of_entry(entry, {"label_l": ["jig"], "instrument_l": ["violin", "piano"]})
    entry["tag"] = [{"value": "piano"}]
    prompt_v = generation.prompt_of_entry(entry, {"label_l": ["reel", "jig"], "instrument_l": ["violin", "piano"]})
    assert prompt_v.tolist() == [1, 1]


def test_balanced_tracks_take_as_many_of_each_dance_evenly_spread_or_say_why_they_cannot(tmp_path):
    def entry(i, dance, split="test"):
        return {"filepath": [{"value": f"fiddle_{dance}_{i}.wav"}], "split": [{"value": split}],
                "genre": [{"value": dance}], "tag": [{"value": "violin"}]}

    entry_l = ([entry(i, "jig") for i in range(5)] + [entry(i, "reel") for i in range(3)]
               + [entry(9, "reel", "train"), entry(0, "polka")])  # another split, a dance not asked for
    path = tmp_path / "tunes.pyjama"
    path.write_text(json.dumps({"collection": {"entry": entry_l}}), encoding="utf-8")
    dataset_d = {"label_l": ["reel", "jig"], "instrument_l": ["violin"]}
    key_l, prompt_m = generation.balanced_tracks(path, "test", dataset_d, 6)
    assert key_l == ["fiddle_reel_0.wav", "fiddle_reel_1.wav", "fiddle_reel_2.wav",
                     "fiddle_jig_0.wav", "fiddle_jig_2.wav", "fiddle_jig_4.wav"]  # the first, middle and last
    assert prompt_m.tolist() == [[0, 0]] * 3 + [[1, 0]] * 3
    with pytest.raises(ValueError, match="5 tracks cannot hold as many of each of the 2 dance types"):
        generation.balanced_tracks(path, "test", dataset_d, 5)
    with pytest.raises(ValueError, match=r"tunes.pyjama: 3 reel tracks in the test split, fewer than 4"):
        generation.balanced_tracks(path, "test", dataset_d, 8)


# --- tunes as tokens ---------------------------------------------------------------------------------------------

TUNE = {"dance": "jig", "bar_beat": 2.0, "first_bar_beat": 1 / 3,  # a pickup eighth, then bars of 2 beats
        "notes": [[0.0, 1 / 3, 62], [1 / 3, 2 / 3, 67], [1.0, 1 / 3, 69], [4 / 3, 1.0, 71],  # bar 1: 2/3 + 1/3 + 1
                  [7 / 3, 1 / 3, 72], [3.0, 1 / 3, 74], [10 / 3, 1 / 3, 100]]}  # a rest of 1/3 before 74; 100 -> 88


def test_a_tune_becomes_tokens_with_its_bars_and_rests_and_comes_back():
    layout = tunes.NoteLayout(("hornpipe", "jig", "reel", "strathspey"))
    token_l = tunes.tune_tokens(TUNE, layout)
    name_l = [layout.token_name(token) for token in token_l]
    assert name_l[:11] == ["<jig>", "@5/3", "D4", "1/3", "|", "@0", "G4", "2/3", "@2/3", "A4", "1/3"]  # pickup: @5/3
    assert [layout.token_name(token) for token in token_l[-9:-6]] == ["@1/3", "rest", "1/3"]  # the silence after 72
    note_l, bar_l, bar_onset_l = tunes.tokens_to_notes(token_l[1:], layout)
    assert [midi for _, _, midi in note_l] == [62, 67, 69, 71, 72, None, 74, 88]
    assert bar_onset_l[0] == pytest.approx(1 / 3) and bar_l == [pytest.approx(2.0)]
    assert note_l[5][1] == pytest.approx(1 / 3)  # the rest


def test_tokens_to_notes_drops_what_is_not_a_pitch_and_its_duration():
    layout = tunes.NoteLayout(("jig",))
    broken_l = [layout.duration(2), layout.pitch(60), layout.pitch(62), layout.duration(5), layout.BAR,
                layout.pitch(64)]
    note_l, _, _ = tunes.tokens_to_notes(broken_l, layout)
    assert note_l == [[0.0, 0.5, 62]]


def test_bars_that_keep_the_metre_are_well_formed():
    assert tunes.well_formed_bar_share([1.0, 2.0, 2.0, 2.0, 1.5, 0.5]) == pytest.approx(0.5)
    assert tunes.well_formed_bar_share([2.0, 2.0]) == 0.0


def test_intervals_and_the_longest_copied_run():
    note_l = [[0, 0.5, 60], [0.5, 0.5, 62], [1.0, 0.5, None], [1.5, 0.5, 74]]
    histogram_v = tunes.interval_histogram([note_l])
    assert histogram_v.sum() == pytest.approx(1.0) and histogram_v[12 + 2] == 0.5 and histogram_v[24] == 0.5
    train_l = [[[i * 0.5, 0.5, 60 + i] for i in range(10)]]
    ngram_d = {n: set().union(*(tunes.note_ngrams(piece, n) for piece in train_l)) for n in (2, 4, 8)}
    assert tunes.longest_copied_run(train_l[0][:5], ngram_d) == 4
    assert tunes.longest_copied_run([[0, 0.5, 61], [0.5, 0.5, 60]], ngram_d) == 0


def test_windows_of_tunes_start_at_bars_and_are_padded():
    layout = tunes.NoteLayout(("jig",))
    ds = tunes.NoteDataset({"a": TUNE}, layout, window_token=32, window_hop=4)
    item = ds[0]["X"]
    assert item.shape == (1, 33) and item[0, 0] == layout.prompt("jig") and item[0, -1] == layout.pad
    assert all(window[1] == layout.BAR for window in ds.item_l[1:])


def test_the_tunes_are_parsed_once_and_read_back(tmp_path, monkeypatch):
    cache = tmp_path / "tunes.json"
    parsed_d = {"notes": [[0.0, 1.0, 60]], "bar_beat": 2.0, "first_bar_beat": 0.0}
    monkeypatch.setattr(tunes, "_parse_tune", lambda name: parsed_d)
    from course_utils.data import scores

    name = sorted(scores.list_fiddle_tunes())[0]
    assert tunes.read_tunes(cache, [name])[name]["notes"] == [[0.0, 1.0, 60]]
    assert json.loads(cache.read_text())["format"] == tunes.TUNES_FORMAT
    monkeypatch.setattr(tunes, "_parse_tune", lambda name: pytest.fail("parsed again"))
    assert name in tunes.read_tunes(cache, [name])
    with pytest.raises(ValueError, match="not tunes of the collection"):
        tunes.read_tunes(cache, ["no_such_tune.abc"])


def test_a_generated_melody_is_rendered_like_a_fiddle_track():
    score_l = tunes.to_score_notes([[0.0, 0.5, 67], [0.5, 0.5, None], [1.0, 1.0, 71]], bar_onset_l=[0.0])
    assert [note["beat_strength"] for note in score_l] == [1.0, 0.5]
    audio_v = render.render_melody(score_l, "reel", "flute", seed=3, max_sec=3.0)
    assert audio_v.dtype == np.float32 and 0 < np.abs(audio_v).max() <= 1.0
    assert np.array_equal(audio_v, render.render_melody(score_l, "reel", "flute", seed=3, max_sec=3.0))
    with pytest.raises(ValueError, match="no notes"):
        render.render_melody([], "reel", "flute", seed=3, max_sec=3.0)


# --- measuring generated audio ----------------------------------------------------------------------------------


def test_the_frechet_distance_of_one_dimensional_gaussians_and_of_a_set_with_itself():
    assert fidelity.frechet_distance([1.0], [[4.0]], [3.0], [[1.0]]) == pytest.approx(4.0 + (2.0 - 1.0) ** 2)
    embedding_m = np.random.default_rng(0).normal(size=(50, 3))
    assert fidelity.frechet_audio_distance(embedding_m, embedding_m) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="at least 2"):
        fidelity.frechet_audio_distance(embedding_m[:1], embedding_m)


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a_m, b_m = rng.normal(size=(200, 4)), rng.normal(size=(200, 4))
    assert abs(fidelity.kernel_distance(a_m, b_m)) < 0.05 < fidelity.kernel_distance(a_m, b_m + 1.0)


def test_nearest_distances():
    assert fidelity.nearest_distances([[0.0, 0.0], [3.0, 4.0]], [[0.0, 1.0], [3.0, 0.0]]).tolist() == [1.0, 4.0]


def test_a_judge_embeds_clips_and_gives_probabilities():
    config = load_config(ROOT / "configs" / "tag_genre_tempogram.yaml")
    model = model_factory.NetModel(config, [2, 1, 256, 64])
    judge = fidelity.Judge(model, config)
    clip_l = [np.random.default_rng(i).normal(scale=0.1, size=22050 * 7).astype(np.float32) for i in range(2)]
    assert judge.embed(clip_l).shape == (2, 64)
    assert np.allclose(judge.probabilities(clip_l).sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="shorter than one patch"):
        judge.embed([clip_l[0][:22050]])


def test_a_copy_is_much_nearer_to_one_training_item_than_to_any_other():
    reference_m = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    nearest_m = fidelity.nearest_distances([[0.1, 0.0], [5.0, 5.0]], reference_m, k=2)
    assert nearest_m.shape == (2, 2) and (nearest_m[:, 0] <= nearest_m[:, 1]).all()
    assert fidelity.copies(nearest_m).tolist() == [True, False]
    token_m = torch.tensor([[1, 2, 3, 4], [1, 2, 3, 5], [9, 9, 9, 9]])
    assert fidelity.nearest_mismatch(token_m[:1], token_m[1:], k=2).tolist() == [[0.25, 1.0]]
