"""course_utils.config: one config type read both ways, loading YAML safely, plain types back."""

import copy
import pickle
from types import SimpleNamespace

import numpy as np
import pytest

from course_utils.config import Config, ConfigError, as_config, load_config, require_sections, to_plain


def test_a_config_reads_as_attributes_and_as_keys():
    config = as_config({"feature": {"type": "lms", "nb_band": 64}, "model": {"block_l": [{"sequential_l": []}]}})
    assert config.feature.nb_band == config["feature"]["nb_band"] == 64
    assert isinstance(config.model.block_l[0], Config), "dicts inside lists are Configs too"
    config.feature.hop_length = 512
    assert config["feature"]["hop_length"] == 512 and isinstance(config, dict)
    assert as_config(config) is config and as_config(SimpleNamespace(a=SimpleNamespace(b=1))).a.b == 1


def test_a_missing_key_names_the_section_and_the_closest_key():
    config = as_config({"feature": {"hop_length": 512, "nb_band": 64}})
    with pytest.raises(AttributeError, match=r"config.feature has no key 'hop_lenght'. Did you mean 'hop_length'\?"):
        _ = config.feature.hop_lenght
    with pytest.raises(ConfigError, match=r"config.feature: parameter 'fmin' is missing.*keys: hop_length, nb_band"):
        config.feature.require("fmin")
    with pytest.raises(ConfigError, match="has no 'train' section"):
        require_sections(config, ["feature", "train"])
    with pytest.raises(ConfigError, match="expected a config .* got list"):
        as_config([1, 2])


def test_copies_pickles_and_plain_types():
    config = as_config({"train": {"lr": np.float32(0.5), "shape_v": np.arange(2)}, "name": np.int64(3)})
    for clone in (copy.deepcopy(config), pickle.loads(pickle.dumps(config)), config.copy()):
        assert isinstance(clone, Config) and to_plain(clone) == to_plain(config) and clone.train.lr == 0.5
    clone = copy.deepcopy(config)
    clone.train.lr = 1.0
    assert config.train.lr == 0.5, "a deep copy shares nothing"
    plain = to_plain(config)
    assert plain == {"train": {"lr": 0.5, "shape_v": [0, 1]}, "name": 3}
    assert type(plain) is dict and type(plain["train"]["lr"]) is float and type(plain["name"]) is int


def test_yaml_anchors_and_aliases_are_refused(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text("a: &a [1, 2]\nb: [*a, *a, *a]\n")
    with pytest.raises(ConfigError, match=r"bomb.yaml: line 1: anchor '&a'; course configs do not use YAML anchors"):
        load_config(path)
    path.write_text("a: &a [*a]\n")
    with pytest.raises(ConfigError, match="anchor '&a'"):
        load_config(path)
    path.write_text("a: *b\n")
    with pytest.raises(ConfigError, match=r"line 1: alias '\*b'|not valid YAML"):
        load_config(path)


def test_load_config_gives_attribute_access(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("feature:\n  type: lms\n  nb_band: 64\nmodel:\n  block_l: []\n")
    config = load_config(path)
    assert config.feature.nb_band == 64 and to_plain(config)["feature"] == {"type": "lms", "nb_band": 64}


def test_python_tags_are_refused(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("model: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="plain YAML"):
        load_config(path)


def test_missing_or_broken_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.yaml")
    path = tmp_path / "broken.yaml"
    path.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="a config is a mapping"):
        load_config(path)


def test_numbers_in_exponent_notation_are_numbers(tmp_path):
    """YAML 1.1 (PyYAML) reads 1e-3 as a string; the course reads it as every YAML 1.2 reader does."""
    path = tmp_path / "exp.yaml"
    path.write_text("train: {learning_rate: 1e-3, scale: 2E5, small: -1.5e-2, count: 12, text: '1e-3', v: 1.0}\n")
    train_d = load_config(path).train
    assert train_d.learning_rate == 0.001 and train_d.scale == 200000.0 and train_d.small == -0.015
    assert train_d.count == 12 and isinstance(train_d.count, int) and train_d.text == "1e-3" and train_d.v == 1.0
