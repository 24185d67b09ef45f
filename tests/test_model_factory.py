"""course_utils.model_factory and course_utils.layers: every layer type, every config, every bad input."""

from pathlib import Path

import pytest
import torch

from course_utils import generation
from course_utils import model_factory as mf
from course_utils.config import load_config
from course_utils.feature import feature_input_dim

ROOT = Path(__file__).resolve().parents[1]


def one_sequential_model(layer_l):
    return {"model": {"name": "Test", "block_l": [{"sequential_l": [{"layer_l": layer_l}]}]}}


# --- every layer type of the vocabulary: (input shape, layer_l, expected output shape) -------------
LAYER_CASE_L = [
    ("BatchNorm1d", [4, 8, 20], [["BatchNorm1d", {"num_features": -1}]], [4, 8, 20]),
    ("BatchNorm1dT", [4, 20, 8], [["BatchNorm1dT", {"num_features": -1}]], [4, 20, 8]),
    ("BatchNorm2d", [4, 3, 10, 20], [["BatchNorm2d", {"num_features": -1}]], [4, 3, 10, 20]),
    ("LayerNorm", [4, 3, 10, 20], [["LayerNorm", {"normalized_shape": -1}]], [4, 3, 10, 20]),
    ("Conv1d", [4, 8, 20], [["Conv1d", {"in_channels": -1, "out_channels": 16, "kernel_size": 3}]], [4, 16, 18]),
    ("Conv2d", [4, 3, 10, 20], [["Conv2d", {"in_channels": -1, "out_channels": 5, "kernel_size": [3, 3],
                                            "padding": "same"}]], [4, 5, 10, 20]),
    ("ConvTranspose2d", [4, 3, 10, 20], [["ConvTranspose2d", {"in_channels": -1, "out_channels": 2,
                                                              "kernel_size": [2, 2], "stride": [2, 2]}]],
     [4, 2, 20, 40]),
    ("MaxPool1d", [4, 8, 20], [["MaxPool1d", {"kernel_size": 2}]], [4, 8, 10]),
    ("MaxPool2d", [4, 3, 10, 20], [["MaxPool2d", {"kernel_size": [2, 4]}]], [4, 3, 5, 5]),
    ("Linear", [4, 12], [["Linear", {"in_features": -1, "out_features": 3}]], [4, 3]),
    ("Dropout", [4, 12], [["Dropout", {"p": 0.5}]], [4, 12]),
    ("Activation-ReLU", [4, 12], [["Activation", "ReLU"]], [4, 12]),
    ("Activation-LeakyReLU", [4, 12], [["Activation", "LeakyReLU"]], [4, 12]),
    ("Activation-PReLU", [4, 12], [["Activation", "PReLU"]], [4, 12]),
    ("Activation-Sigmoid", [4, 12], [["Activation", "Sigmoid"]], [4, 12]),
    ("Activation-Softmax", [4, 12], [["Activation", "Softmax"]], [4, 12]),
    ("Flatten", [4, 3, 10, 20], [["Flatten", {"start_dim": 1}]], [4, 600]),
    ("CircularPad2d", [4, 3, 12, 20], [["CircularPad2d", {"padding": [0, 0, 6, 6]}]], [4, 3, 24, 20]),
    ("Squeeze", [4, 3, 1, 1], [["Squeeze", {"dim": [2, 3]}]], [4, 3]),
    ("UnSqueeze", [4, 8, 20], [["UnSqueeze", {"dim": 1}]], [4, 1, 8, 20]),
    ("Permute", [4, 8, 20], [["Permute", {"shape": [0, 2, 1]}]], [4, 20, 8]),
    ("Mean", [4, 8, 20], [["Mean", {"dim": 2}]], [4, 8]),
    ("Max", [4, 8, 20], [["Max", {"dim": 1, "keepdim": True}]], [4, 1, 20]),
    ("AutoPoolWeightSplit", [4, 10, 1, 20], [["AutoPoolWeightSplit", "empty"]], [4, 5, 1, 1]),
    ("SoftmaxWeight", [4, 10, 1, 20], [["SoftmaxWeight", None]], [4, 5, 1, 1]),
    ("LSTMlast", [4, 20, 8], [["LSTMlast", {"input_size": -1, "hidden_size": 16, "num_layers": 2}]], [4, 16]),
    ("LSTMall", [4, 20, 8], [["LSTMall", {"input_size": -1, "hidden_size": 16}]], [4, 20, 16]),
    ("StoreAs-CatWith", [4, 3, 10, 20], [["StoreAs", "A"], ["Conv2d", {"in_channels": -1, "out_channels": 5,
                                                                       "kernel_size": 1}], ["CatWith", "A"]],
     [4, 8, 10, 20]),
    ("StoreAs-FiLM", [4, 5, 10, 20], [["StoreAs", "IN"], ["Conv2d", {"in_channels": -1, "out_channels": 6,
                                                                     "kernel_size": 1}],
                                      ["FiLM", {"key": "IN", "condition_channels": 2}]], [4, 6, 10, 20]),
    ("DoubleChannel", [4, 3, 10, 20], [["DoubleChannel", "empty"]], [4, 3, 10, 20]),
    ("SincNet", [4, 1, 4000], [["SincNet", {"in_channels": 1, "out_channels": 16, "kernel_size": 101,
                                            "stride": 10, "sr_hz": 16000}]], [4, 16, 390]),
    ("Conv1dTCN", [4, 8, 50], [["Conv1dTCN", {"in_channels": -1, "num_channels": [16, 16, 32]}]], [4, 32, 50]),
    ("Conv2dRes", [4, 3, 10, 20], [["Conv2dRes", {"in_channels": -1, "out_channels": 8, "kernel_size": [5, 5],
                                                  "stride": 1, "padding": "same"}]], [4, 8, 10, 20]),
    ("Conv2dNext", [4, 8, 10, 20], [["Conv2dNext", {"in_channels": -1, "out_channels": 8, "stride": 1,
                                                    "padding": "same"}]], [4, 8, 10, 20]),
    ("Conv2dDS", [4, 3, 10, 20], [["Conv2dDS", {"in_channels": -1, "out_channels": 8, "kernel_size": [3, 5],
                                                "stride": 1}]], [4, 8, 8, 16]),
    ("AbsLayer", [4, 8, 50], [["AbsLayer", "empty"]], [4, 8, 50]),
    ("AutoPoolWeight", [4, 6, 1, 20], [["AutoPoolWeight", "empty"]], [4, 6, 1, 1]),
]


@pytest.mark.parametrize("input_dim, layer_l, expected", [case[1:] for case in LAYER_CASE_L],
                         ids=[case[0] for case in LAYER_CASE_L])
def test_layer_output_shape(input_dim, layer_l, expected):
    model = mf.NetModel(one_sequential_model(layer_l), input_dim)
    assert model.output_dim == expected
    X = torch.randn(input_dim, requires_grad=True)
    hat_y = model(X)
    assert list(hat_y.shape) == expected
    hat_y.sum().backward()  # every layer is differentiable
    assert X.grad is not None


def test_every_registered_type_is_tested():
    tested = {case[0].split("-")[0] for case in LAYER_CASE_L}
    tested |= {"StoreAs", "CatWith", "FiLM"}
    brief_vocabulary = {"BatchNorm1d", "BatchNorm1dT", "BatchNorm2d", "LayerNorm", "Conv1d", "Conv2d",
                        "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "Linear", "Dropout", "Activation", "Flatten",
                        "Squeeze", "UnSqueeze", "Permute", "Mean", "Max", "AutoPoolWeightSplit", "SoftmaxWeight",
                        "LSTMlast", "LSTMall", "StoreAs", "CatWith", "DoubleChannel", "SincNet", "Conv1dTCN",
                        "Conv2dRes", "Conv2dNext", "Conv2dDS", "AbsLayer", "AutoPoolWeight"}
    assert brief_vocabulary <= set(mf.layer_types())
    assert brief_vocabulary <= tested


def _n_param(layer_l, input_dim):
    return sum(p.numel() for p in mf.NetModel(one_sequential_model(layer_l), input_dim).parameters())


def test_front_end_blocks_have_the_original_courses_parameters():
    """Counted by hand from the architectures of the original course's blocks (model_module.py there)."""
    # TCN, kernel 2, weight norm (g: one per output channel), 1x1 shortcut when the channels change
    tcn = 2 * 4 + 4 + 4 + 4 * 4 * 2 + 4 + 4 + 4 * 1 + 4  # in 1 -> 4: conv_1 (v, b, g), conv_2, shortcut
    assert _n_param([["Conv1dTCN", {"in_channels": -1, "num_channels": [4]}]], [2, 1, 100]) == tcn
    # residual block: two biased convolutions + BN each, 1x1 biased shortcut
    res = (3 * 8 * 25 + 8) + 2 * 8 + (8 * 8 * 25 + 8) + 2 * 8 + (3 * 8 + 8)
    assert _n_param([["Conv2dRes", {"in_channels": -1, "out_channels": 8, "kernel_size": [5, 5], "stride": 1,
                                    "padding": "same"}]], [2, 3, 10, 20]) == res
    # ConvNeXt: 7x7 depthwise, LayerNorm over channels, 4x expansion, identity residual
    nxt = (8 * 49 + 8) + 2 * 8 + (8 * 32 + 32) + (32 * 8 + 8)
    assert _n_param([["Conv2dNext", {"in_channels": -1, "out_channels": 8, "stride": 1, "padding": "same"}]],
                    [2, 8, 10, 20]) == nxt
    # depthwise separable: depthwise + pointwise, no normalisation
    assert _n_param([["Conv2dDS", {"in_channels": -1, "out_channels": 8, "kernel_size": 3}]],
                    [2, 3, 10, 20]) == (3 * 9 + 3) + (3 * 8 + 8)
    assert _n_param([["AutoPoolWeight", "empty"]], [2, 6, 1, 20]) == 1


def test_front_end_blocks_that_keep_the_size_say_so():
    for layer_type in ("Conv2dRes", "Conv2dNext"):
        with pytest.raises(ValueError, match=f"{layer_type} keeps the size: stride must be 1 and padding 'same'"):
            mf.NetModel(one_sequential_model([[layer_type, {"in_channels": -1, "out_channels": 8, "kernel_size": 3,
                                                            "stride": 2, "padding": "same"}]]), [2, 8, 10, 20])


def test_autopool_is_a_weighted_mean_over_time():
    model = mf.NetModel(one_sequential_model([["AutoPoolWeightSplit", "empty"]]), [1, 2, 1, 3])
    value_v = torch.tensor([1.0, 2.0, 3.0])
    X = torch.stack([value_v, torch.zeros(3)]).reshape(1, 2, 1, 3)  # equal weights -> plain mean
    assert model(X).item() == pytest.approx(2.0)
    X = torch.stack([value_v, torch.tensor([0.0, 0.0, 50.0])]).reshape(1, 2, 1, 3)
    assert model(X).item() == pytest.approx(2.0), "shared sharpness starts at 0: the mean, whatever the weights"


def test_autopool_sharpness_shared_as_the_original_or_per_output():
    """The original course's AutoPoolWeightSplit has one sharpness (a scalar); the course's models one per output."""
    assert _n_param([["AutoPoolWeightSplit", "empty"]], [2, 10, 1, 20]) == 1
    assert _n_param([["AutoPoolWeightSplit", {"sharpness": "per_output"}]], [2, 10, 1, 20]) == 5
    assert _n_param([["SoftmaxWeight", "empty"]], [2, 10, 1, 20]) == 0
    with pytest.raises(mf.ConfigError, match="sharpness must be one of shared, per_output, got 'each'"):
        mf.NetModel(one_sequential_model([["AutoPoolWeightSplit", {"sharpness": "each"}]]), [2, 10, 1, 20])


def test_the_original_tcn_config_has_the_original_parameter_count():
    """config_autotagging.yaml of the original course, variant D1 I2 C4 (waveform, TCN): 219,963 parameters there."""
    model = mf.NetModel(load_config(ROOT / "configs" / "original" / "autotagging_D1-I2-C4.yaml"), [2, 1, 3200])
    assert model.output_dim == [2, 10]
    assert sum(p.numel() for p in model.parameters()) == 219_963


def test_the_seed_unet_builds_unchanged_and_keeps_the_input_size():
    config = load_config(ROOT / "tests" / "seed_unet.yaml")
    model = mf.NetModel(config, [2, 6, 216, 64])
    assert model.output_dim == [2, 1, 216, 64]
    with torch.no_grad():
        assert list(model(torch.randn(2, 6, 216, 64)).shape) == [2, 1, 216, 64]


CONFIG_OUTPUT_D = {"tag_genre_lms.yaml": [3, 4], "tag_genre_tempogram.yaml": [3, 4],
                   "tag_instrument_waveform.yaml": [3, 9], "tag_instrument_lms.yaml": [3, 9],
                   "pitch_bittner_hcqt.yaml": [3, 1, 72, 64], "pitch_bittner_cqt.yaml": [3, 1, 72, 64],
                   "pitch_unet_hcqt.yaml": [3, 1, 216, 64],
                   "cover_melody_hcqt.yaml": [3, 1, 72, 64], "cover_embedding_melody.yaml": [3, 128],
                   "separation_unet_stft.yaml": [3, 4, 512, 128], "separation_cunet_stft.yaml": [3, 1, 512, 128],
                   "ssl_contrastive_lms.yaml": [3, 128], "ssl_contrastive_tempogram.yaml": [3, 64],
                   "autoencoder_stft.yaml": [3, 1, 512, 64], "vae_stft.yaml": [3, 1, 512, 64],
                   "codec_rvq_stft.yaml": [3, 1, 512, 64], "codec_rvq_plain_stft.yaml": [3, 1, 512, 64],
                   "lm_codes.yaml": [3, 4, 284, 1036], "lm_notes.yaml": [3, 1, 256, 165],
                   "flow_vae_latent.yaml": [3, 8, 280]}


@pytest.mark.parametrize("config_name", sorted(p.name for p in (ROOT / "configs").glob("*.yaml")))
def test_every_config_builds_and_maps_its_input_to_its_documented_output(config_name):
    config = load_config(ROOT / "configs" / config_name)
    generating = config.dataset.problem in ("language_model", "flow")  # notebook 11: tokens or latents, not a feature
    input_dim = generation.model_input_dim(config, 3) if generating else feature_input_dim(config.feature, 3)
    model = mf.NetModel(config, input_dim)
    with torch.no_grad():
        hat_y = model(torch.zeros(input_dim, dtype=torch.long) if config.dataset.problem == "language_model"
                      else torch.randn(input_dim))
    assert list(hat_y.shape) == CONFIG_OUTPUT_D[config_name]
    n_out = getattr(config.dataset, "n_out", None)
    if n_out is not None:
        assert hat_y.shape[1] == n_out


def test_config_is_not_mutated():
    config = one_sequential_model([["Linear", {"in_features": -1, "out_features": 3}]])
    mf.NetModel(config, [2, 7])
    assert config["model"]["block_l"][0]["sequential_l"][0]["layer_l"][0][1]["in_features"] == -1


def test_verbose_forward_prints_each_step(capsys):
    model = mf.NetModel(one_sequential_model([["Linear", {"in_features": -1, "out_features": 3}],
                                              ["Activation", "ReLU"]]), [2, 7])
    model(torch.randn(2, 7), do_verbose=True)
    out = capsys.readouterr().out
    assert "block_l[0].sequential_l[0].layer_l[0]" in out and "[2, 7]" in out and "-> [2, 3]" in out


def test_summary_table_lists_layers_shapes_and_total():
    model = mf.NetModel(one_sequential_model([["Linear", {"in_features": -1, "out_features": 3}]]), [2, 7])
    table = mf.model_summary(model)
    assert "Linear" in table and "[2, 3]" in table and "24 parameters" in table


def test_state_dict_names_follow_the_yaml_structure():
    model = mf.NetModel(one_sequential_model([["Linear", {"in_features": -1, "out_features": 3}]]), [2, 7])
    assert "block_l.0.0.0.weight" in model.state_dict()


def test_the_cover_embedding_is_transposition_invariant():
    """Circular pitch-class axis + max over it: a version in another key gets the same embedding."""
    config = load_config(ROOT / "configs" / "cover_embedding_melody.yaml")
    model = mf.NetModel(config, feature_input_dim(config.feature, 2)).eval()
    X = torch.rand(2, 1, 12, 128)
    with torch.no_grad():
        embedding_m = model(X)
        for shift in (1, 5, 11):
            torch.testing.assert_close(model(torch.roll(X, shift, dims=2)), embedding_m, rtol=1e-4, atol=1e-5)
        assert not torch.allclose(model(torch.roll(X, 3, dims=3)[:, :, torch.randperm(12)]), embedding_m)


# --- bad inputs -----------------------------------------------------------------------------------

def test_unknown_layer_type_gives_path_valid_names_and_closest_match():
    config = {"model": {"block_l": [{"sequential_l": [{"layer_l": [["Activation", "ReLU"]]},
                                                      {"layer_l": [["Activation", "ReLU"],
                                                                   ["Covn2d", {"out_channels": 3}]]}]}]}}
    with pytest.raises(mf.ConfigError) as error:
        mf.NetModel(config, [2, 3, 8, 8])
    message = str(error.value)
    assert "block_l[0].sequential_l[1].layer_l[1]" in message and "'Covn2d'" in message
    assert "Did you mean 'Conv2d'?" in message and "Valid types:" in message and "LSTMall" in message


def test_unknown_activation_is_reported():
    with pytest.raises(mf.ConfigError, match="unknown activation 'Relu'. Did you mean 'ReLU'"):
        mf.NetModel(one_sequential_model([["Activation", "Relu"]]), [2, 3])


def test_wrong_parameter_name_is_reported_with_the_valid_ones():
    with pytest.raises(mf.ConfigError, match="Conv2d has no parameter 'out_channel'. Did you mean 'out_channels'"):
        mf.NetModel(one_sequential_model([["Conv2d", {"in_channels": -1, "out_channel": 3, "kernel_size": 1}]]),
                    [2, 3, 8, 8])


def test_minus_one_where_it_cannot_be_inferred():
    with pytest.raises(mf.ConfigError, match="'out_channels: -1' cannot be inferred"):
        mf.NetModel(one_sequential_model([["Conv2d", {"in_channels": -1, "out_channels": -1, "kernel_size": 1}]]),
                    [2, 3, 8, 8])


def test_shape_mismatch_gives_path_and_incoming_shape():
    config = one_sequential_model([["Conv2d", {"in_channels": 5, "out_channels": 3, "kernel_size": 1}]])
    with pytest.raises(mf.ConfigError, match=r"layer_l\[0\]: Conv2d cannot take the incoming tensor of shape "
                                             r"\[1, 3, 8, 8\]"):
        mf.NetModel(config, [2, 3, 8, 8])


def test_catwith_of_a_key_never_stored():
    with pytest.raises(mf.ConfigError, match=r"CatWith 'E64' but nothing was stored.*\[StoreAs, E64\]"):
        mf.NetModel(one_sequential_model([["CatWith", "E64"]]), [2, 3, 8, 8])


def test_catwith_of_incompatible_sizes_says_which():
    config = one_sequential_model([["StoreAs", "A"], ["MaxPool2d", {"kernel_size": 2}], ["CatWith", "A"]])
    with pytest.raises(mf.ConfigError, match=r"stored shape \[1, 3, 8, 8\], current shape \[1, 3, 4, 4\]"):
        mf.NetModel(config, [2, 3, 8, 8])


@pytest.mark.parametrize("config, message", [
    ({"model": {"name": "x"}}, "no 'model.block_l' list"),
    ({"model": {"block_l": []}}, "no 'model.block_l' list"),
    ({"model": {"block_l": [{"layer_l": []}]}}, r"block_l\[0\]: a block is written \{sequential_l"),
    ({"model": {"block_l": [{"sequential_l": [["Conv2d"]]}]}}, "a sequential is written"),
    (one_sequential_model(["Conv2d"]), r"a layer is written \[Type, params\]"),
    (one_sequential_model([["Conv2d", {}, "extra"]]), r"a layer is written \[Type, params\]"),
    (one_sequential_model([["Linear", 3]]), "must be a mapping"),
    (one_sequential_model([["StoreAs", {}]]), "takes a key name"),
    (one_sequential_model([["AutoPoolWeightSplit", {"n_channels": 4}]]),
     r"infers its size: use \[AutoPoolWeightSplit, empty\] or give only sharpness; got \['n_channels'\]"),
    (one_sequential_model([["SoftmaxWeight", {"sharpness": "shared"}]]),
     r"infers its size: use \[SoftmaxWeight, empty\]; got"),
])
def test_malformed_structure(config, message):
    with pytest.raises(mf.ConfigError, match=message):
        mf.NetModel(config, [2, 4, 1, 6])


def test_bad_layer_arguments_are_reported():
    with pytest.raises(mf.ConfigError, match="cannot build AutoPoolWeightSplit"):
        mf.NetModel(one_sequential_model([["AutoPoolWeightSplit", "empty"]]), [2, 3, 1, 6])


@pytest.mark.parametrize("layer, message", [
    (["Squeeze", {"dim": "1"}], "Squeeze parameter 'dim' must be a whole number or a list of whole numbers, got '1'"),
    (["Conv2d", {"in_channels": -1, "out_channels": 8.5, "kernel_size": 3}], "'out_channels' must be a whole number"),
    (["Conv2d", {"in_channels": -1, "out_channels": 8, "kernel_size": [3, "3"]}], "'kernel_size' must be a whole"),
    (["Conv2d", {"in_channels": -1, "out_channels": 8, "kernel_size": 3, "padding": "full"}],
     "'padding' must be a whole number or a list of whole numbers or one of same, valid"),
])
def test_sizes_and_axes_must_be_whole_numbers(layer, message):
    with pytest.raises(mf.ConfigError, match=r"layer_l\[0\]: .*" + message):
        mf.NetModel(one_sequential_model([layer]), [2, 1, 8, 8])


def test_a_forward_pass_of_another_shape_names_the_model_and_the_axes():
    model = mf.NetModel(one_sequential_model([["Conv2d", {"in_channels": -1, "out_channels": 2, "kernel_size": 3,
                                                          "padding": "same"}]]), [4, 1, 8, 16])
    assert model(torch.zeros(1, 1, 8, 40)).shape == (1, 2, 8, 40), "another batch size and length: fine"
    with pytest.raises(ValueError, match=r"was built for inputs of shape \[4, 1, 8, 16\] .* got \[4, 1, 12, 16\]; only "
                                         r"the batch and the last \(time\) axis may differ"):
        model(torch.zeros(4, 1, 12, 16))
    with pytest.raises(ValueError, match=r"got \[4, 8, 16\]"):
        model(torch.zeros(4, 8, 16))
    flat = mf.NetModel(one_sequential_model([["Flatten", {}], ["Linear", {"in_features": -1, "out_features": 2}]]),
                       [4, 3, 10])
    with pytest.raises(RuntimeError, match=r"layer_l\[1\] \(Linear\), input of shape \[1, 33\]"):
        flat(torch.zeros(1, 3, 11))


def test_film_starts_as_the_identity_and_then_scales_and_shifts_each_channel_by_its_condition():
    model = mf.NetModel(one_sequential_model([["StoreAs", "IN"], ["FiLM", {"key": "IN", "condition_channels": 2}]]),
                        [2, 3, 4, 5])
    film = model.block_l[0][0][1]
    X = torch.zeros(2, 3, 4, 5)
    X[:, 0] = 1.0
    X[0, 1], X[1, 2] = 1.0, 1.0  # condition (last 2 channels, averaged): item 0 -> [1, 0], item 1 -> [0, 1]
    assert torch.equal(model(X), X), "gamma = beta = 0 at the start"
    with torch.no_grad():
        film.gamma_beta.weight.zero_()
        film.gamma_beta.weight[0, 0] = 2.0  # gamma of channel 0 from the first condition value
        film.gamma_beta.weight[3, 1] = 0.5  # beta of channel 0 from the second
    hat_y = model(X)
    assert torch.allclose(hat_y[0, 0], torch.full((4, 5), 3.0)) and torch.allclose(hat_y[1, 0], torch.full((4, 5), 1.5))
    assert torch.equal(hat_y[:, 1:], X[:, 1:])


@pytest.mark.parametrize("layer_l, message", [
    ([["FiLM", {"key": "IN", "condition_channels": 2}]], r"FiLM reads its condition from 'IN'.*\[StoreAs, IN\]"),
    ([["StoreAs", "IN"], ["FiLM", {"key": "IN"}]], r"FiLM is written \[FiLM, \{key: IN, condition_channels: 4\}\]"),
    ([["StoreAs", "IN"], ["FiLM", {"key": "IN", "condition_channels": "4"}]], "must be a whole number"),
    ([["StoreAs", "IN"], ["FiLM", {"key": "IN", "condition_channels": 9}]], "cannot read 9 condition channels"),
])
def test_a_film_layer_written_wrong_is_refused_with_how_to_write_it(layer_l, message):
    with pytest.raises(mf.ConfigError, match=message):
        mf.NetModel(one_sequential_model(layer_l), [2, 3, 4, 5])
