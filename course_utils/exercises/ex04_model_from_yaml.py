"""Exercises of notebooks/04_model_from_yaml.ipynb, with their checkers; solutions in solutions/."""

import torch
import yaml

from course_utils import feature, runtime
from course_utils.exercises.checking import NotDone, Wrong, as_float, call, exercise


def _hcqt_config():
    from course_utils.config import load_config

    return load_config(runtime.project_dir() / "configs" / "pitch_bittner_hcqt.yaml")


@exercise("04.1", "04_model_from_yaml", "a YAML file for a CQT-only model", "cqt_only_yaml",
           "write cqt_only_yaml, the YAML text of a multi-pitch model that reads the CQT only (h = 1) instead of "
           "the 6-channel HCQT of configs/pitch_bittner_hcqt.yaml: its feature and model sections.",
           "copy both sections of pitch_bittner_hcqt.yaml and change one line: the harmonics h_l. The -1 "
           "parameters (in_channels, num_features) adapt the first layers to one input channel.")
def _check_cqt_only_yaml(cqt_only_yaml):
    from course_utils.config import ConfigError
    from course_utils.model_factory import NetModel

    if not isinstance(cqt_only_yaml, str):
        raise Wrong(f"expected the YAML text (a str), got {type(cqt_only_yaml).__name__}")
    try:
        config = yaml.safe_load(cqt_only_yaml)
    except yaml.YAMLError as error:
        raise Wrong(f"the text is not valid YAML: {error}") from None
    if config is None:
        raise NotDone
    if not isinstance(config, dict) or not {"feature", "model"} <= set(config):
        found = list(config) if isinstance(config, dict) else repr(config)
        raise Wrong(f"the YAML needs a 'feature' and a 'model' section, it has {found}")
    hcqt_config, feature_d = _hcqt_config(), config["feature"]
    if feature_d.get("type") != "hcqt" or list(feature_d.get("h_l", [])) != [1]:
        raise Wrong(f"feature.type should stay hcqt with h_l: [1] (one channel, the CQT); you have type "
                    f"{feature_d.get('type')!r}, h_l {feature_d.get('h_l')!r}")
    for key in ("fmin", "n_octaves", "bins_per_semitone", "hop_length", "sr_hz", "patch_L_frame"):
        if feature_d.get(key) != hcqt_config.feature[key]:
            raise Wrong(f"feature.{key} is {feature_d.get(key)!r}, the HCQT model has {hcqt_config.feature[key]!r}: "
                        "keep it, so that both models are compared on the same pitch grid and patches")
    try:
        input_dim = feature.feature_input_dim(feature_d, 2)
        model = NetModel(config, input_dim)
    except (ConfigError, ValueError) as error:
        raise Wrong(f"NetModel could not build it: {error}") from None
    hcqt_input_dim = feature.feature_input_dim(hcqt_config.feature, 2)
    hcqt_model = NetModel(hcqt_config, hcqt_input_dim)
    if list(model.output_dim) != list(hcqt_model.output_dim):
        raise Wrong(f"the output is {model.output_dim}, the HCQT model's is {hcqt_model.output_dim}: both must "
                    "give one logit per pitch bin and frame")
    n_param, n_hcqt_param = (sum(p.numel() for p in m.parameters()) for m in (model, hcqt_model))
    return (f"input {input_dim} -> output {model.output_dim}, {n_param:,} parameters against {n_hcqt_param:,} for "
            f"the HCQT model: {n_hcqt_param - n_param:,} fewer, all in the first layers (the 5 harmonic channels "
            "that are gone).")


@exercise("04.2", "04_model_from_yaml", "count the parameters of a convolution", "conv2d_n_params",
           "write conv2d_n_params(in_channels, out_channels, kernel_size, bias=True): the number of trainable "
           "parameters of torch.nn.Conv2d with these arguments (kernel_size an int or a pair).",
           "each output channel has one kernel of in_channels x kh x kw weights, plus one bias when bias=True.")
def _check_conv2d_n_params(conv2d_n_params):
    for in_channels, out_channels, kernel_size, bias in ((6, 16, (5, 5), True), (16, 8, (25, 3), True),
                                                         (1, 4, 3, True), (8, 1, (1, 1), False)):
        layer = torch.nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias)
        expected = sum(p.numel() for p in layer.parameters())
        answer = as_float(call(conv2d_n_params, in_channels, out_channels, kernel_size, bias=bias),
                           "the number of parameters")
        where = f"Conv2d({in_channels}, {out_channels}, kernel_size={kernel_size}, bias={bias})"
        if answer == expected:
            continue
        if bias and answer == expected - out_channels:
            raise Wrong(f"{where} has {expected} parameters, you gave {answer:.0f}: the {out_channels} biases "
                        "(one per output channel) are missing")
        if not bias and answer == expected + out_channels:
            raise Wrong(f"{where} has {expected} parameters, you gave {answer:.0f}: bias=False has no bias")
        raise Wrong(f"{where} has {expected} parameters, you gave {answer:.0f}")
    return "right for 4 convolutions, with and without bias, square and tall kernels."
