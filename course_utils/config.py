"""The one config type of the course: a YAML experiment file read both ways.

A config file has the sections ``dataset``, ``feature``, ``train`` and ``model`` (see configs/). ``load_config``
reads it into a ``Config``: a ``dict`` whose keys can also be read as attributes, at every level, so
``config.feature.hop_length`` and ``config["feature"]["hop_length"]`` are the same value. Every function of
the package that takes a config takes a ``Config``, a plain ``dict`` or anything ``as_config`` converts,
and never changes it. ``to_plain`` gives plain Python types back (for YAML, JSON and checkpoints).

Taught in notebooks/04_model_from_yaml.ipynb.
"""

import difflib
import re
from types import SimpleNamespace

import numpy as np
import yaml

# An anchor or alias in a config lets a few bytes expand to an arbitrarily large (or endless) structure:
# course configs are plain data written by hand and never need one.
_ALIAS_HINT = "course configs do not use YAML anchors (&name) or aliases (*name): write the values out"


class ConfigError(ValueError):
    """A configuration (YAML) file or dict that cannot be turned into what it describes."""


def closest_name(name, candidate_l):
    """' Did you mean ...?' with the closest valid name (case-insensitive), or '' if none is close."""
    lower_d = {str(candidate).lower(): candidate for candidate in candidate_l}
    match_l = difflib.get_close_matches(str(name).lower(), list(lower_d), n=1)
    return f" Did you mean '{lower_d[match_l[0]]}'?" if match_l else ""


def _wrap(value, path):
    """Nested dicts as Config (lists kept as lists, their dicts wrapped too)."""
    if isinstance(value, Config):
        return value
    if isinstance(value, dict):
        return Config(value, path=path)
    if isinstance(value, SimpleNamespace):
        return Config(vars(value), path=path)
    if isinstance(value, (list, tuple)):
        return [_wrap(item, f"{path}[{i}]") for i, item in enumerate(value)]
    return value


class Config(dict):
    """A config (or one of its sections): a dict whose keys also read as attributes.

    ``config.train.max_epoch`` == ``config["train"]["max_epoch"]``; a missing key raises an error that
    names the section, the closest key and the keys there are. Nested dicts are Configs too.
    """

    def __init__(self, data=(), path="config"):
        super().__init__()
        object.__setattr__(self, "_path", path)
        for key, value in dict(data).items():
            self[key] = value

    def __setitem__(self, key, value):
        super().__setitem__(str(key), _wrap(value, f"{self._path}.{key}"))

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"{self._path} has no key '{name}'.{closest_name(name, self)} "
                                 f"Its keys: {', '.join(self) or 'none'}") from None

    def __setattr__(self, name, value):
        self[name] = value

    def __delattr__(self, name):
        del self[name]

    def __reduce__(self):  # pickled as (class, (plain dict, path)): DataLoader workers started by 'spawn'
        return (type(self), (to_plain(self), self._path))

    def __deepcopy__(self, memo):
        return Config(to_plain(self), path=self._path)

    def copy(self):
        return Config(to_plain(self), path=self._path)

    def __dir__(self):
        return [*super().__dir__(), *self.keys()]

    def require(self, key):
        """``self[key]``, or a ConfigError naming the section and the missing key when it is absent or null."""
        if self.get(key) is None:
            raise ConfigError(f"{self._path}: parameter '{key}' is missing; add it to this section of the config "
                              f"(its keys: {', '.join(self) or 'none'})")
        return self[key]

    def to_dict(self):
        """The same content as plain dicts and lists (what YAML and JSON write)."""
        return to_plain(self)


def as_config(config, path="config"):
    """A Config from a Config (returned as it is), a dict or a ``SimpleNamespace``."""
    if isinstance(config, Config):
        return config
    if isinstance(config, (dict, SimpleNamespace)):
        return _wrap(config, path)
    raise ConfigError(f"{path}: expected a config (a mapping such as the result of load_config), "
                      f"got {type(config).__name__}")


def to_plain(config):
    """A config as plain Python types (dicts, lists, numbers, strings), whatever form it was given in.

    NumPy scalars become Python numbers and NumPy arrays lists, so that YAML can write every value.
    """
    if isinstance(config, np.generic):
        return config.item()
    if isinstance(config, np.ndarray):
        return config.tolist()
    if isinstance(config, SimpleNamespace):
        config = vars(config)
    if isinstance(config, dict):
        return {str(key): to_plain(value) for key, value in config.items()}
    if isinstance(config, (list, tuple)):
        return [to_plain(value) for value in config]
    return config


class _NoAliasLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses anchors and aliases (see ``_ALIAS_HINT``) and reads ``1e-3`` as a number.

    PyYAML follows YAML 1.1, where a float needs a dot: ``learning_rate: 1e-3`` would be the string '1e-3' and
    fail deep inside the optimiser. YAML 1.2 (and every other YAML reader) takes it as 0.001; so does this one.
    """

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ConfigError(f"line {event.start_mark.line + 1}: alias '*{event.anchor}'; {_ALIAS_HINT}")
        event = self.peek_event()
        if getattr(event, "anchor", None) is not None:
            raise ConfigError(f"line {event.start_mark.line + 1}: anchor '&{event.anchor}'; {_ALIAS_HINT}")
        return super().compose_node(parent, index)


_NoAliasLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def load_config(path):
    """Read a YAML config file into a ``Config`` (attribute and key access).

    The file is read as plain data: tags such as ``!!python/object`` are refused (a config is data, never
    code), and so are anchors and aliases (they can expand a small file without limit).

    Parameters
    ----------
    path : str or Path of a YAML file whose top level is a mapping of sections

    Returns
    -------
    config : Config
    """
    try:
        with open(path, encoding="utf-8") as fid:
            data_d = yaml.load(fid, Loader=_NoAliasLoader)  # noqa: S506 (a SafeLoader subclass)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (configs live in the configs/ folder)") from None
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    except yaml.constructor.ConstructorError as error:
        raise ConfigError(f"{path}: {error.problem} at line {error.problem_mark.line + 1}; course configs are "
                          "plain YAML (numbers, strings, lists, mappings), never Python objects") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data_d, dict):
        raise ConfigError(f"{path}: a config is a mapping with sections such as dataset, feature, model")
    return Config(data_d)


def require_sections(config, section_l, where="the config"):
    """The config as a Config, after checking that it has each section of ``section_l``."""
    config = as_config(config)
    for section in section_l:
        if not isinstance(config.get(section), dict):
            raise ConfigError(f"{where} has no '{section}' section (it has: {', '.join(config) or 'nothing'}); "
                              "give the whole YAML config")
    return config
