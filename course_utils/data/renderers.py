"""The renderers of the course dataset, in one registry: who can play a track, and which are trained on.

A renderer turns a version's notes into a mono waveform, then records it with the chain every renderer shares
(``recording.room_and_level``: the version's EQ, room, level and noise floor):

- ``synth``: our additive synthesiser (``synth``): fast, exact, detuned and brightened per version;
- ``timgm``: recorded General-MIDI samples of ``TimGM6mb.sf2`` (inside ``pretty_midi``), read by ``soundfont``
  and played by ``sampled``;
- ``merlin``: those of ``Merlin.sf2`` (inside ``scamp``): in no training set, the held-out renderer.

Everything else (``plan``, ``render``, ``build``, the notebooks) asks this registry (``RENDERER_D``,
``TRAINING_RENDERER_L``, ``HELDOUT_RENDERER``) and never writes a renderer's name itself. Adding a renderer is
one entry here (docs/extending.md). Taught in notebooks/01_data.ipynb.
"""

import functools
from dataclasses import dataclass

from course_utils.data import sampled, synth

SYNTH_VERSION = "course_utils.data.synth v2"  # v2: fiddle tunes at a tempo in beats per minute, with accents


@dataclass(frozen=True)
class Renderer:
    """One way of playing a track.

    name : the entry's ``renderer`` field (``synth``, ``timgm``, ``merlin``)
    description : the entry's ``render.renderer``: which code or which sample library played it
    what : a few words for people (``data/README.md``, the ``.pyjama``'s field description)
    play : ``play(note_l, duration_sec, rng, render_d)`` -> float32 audio (round(duration_sec * sr_hz),), peak 0.9;
        ``note_l`` as ``synth.render_notes`` takes them, ``render_d`` the version's settings (``render``);
        ``play(..., stems=True)`` -> (audio, dict voice -> that voice alone, recorded in the same chain)
    trained_on : True when the presets put it in training sets; False for the held-out renderer
    """

    name: str
    description: str
    what: str
    play: object
    trained_on: bool


def _play_synth(note_l, duration_sec, rng, render_d, stems=False):
    """Our synthesiser: the version's detuning (cents) and brightness, then the recording chain."""
    detuned_l = [dict(note, midi=note["midi"] + render_d["detune_cents"] / 100) for note in note_l]
    return synth.render_notes(detuned_l, duration_sec, rng, render_d["instrument_by_voice"],
                              brightness=render_d["brightness"], reverb_rt60_sec=render_d["reverb_rt60_sec"],
                              reverb_wet=render_d["reverb_wet"], noise_db=render_d["noise_db"], eq_d=render_d["eq"],
                              stems=stems)


def _play_sampled(note_l, duration_sec, rng, render_d, library_name, stems=False):
    """A sample library: whole semitones, the samples' own timbre (no detuning, no brightness), the recording chain."""
    return sampled.render_notes(note_l, duration_sec, rng, render_d["instrument_by_voice"],
                                reverb_rt60_sec=render_d["reverb_rt60_sec"], reverb_wet=render_d["reverb_wet"],
                                noise_db=render_d["noise_db"], eq_d=render_d["eq"], library_name=library_name,
                                stems=stems)


def _sample_renderer(name, what, trained_on):
    return Renderer(name, sampled.renderer_name(name), what, functools.partial(_play_sampled, library_name=name),
                    trained_on)


RENDERER_D = {
    "synth": Renderer("synth", SYNTH_VERSION, "our synthesiser", _play_synth, trained_on=True),
    "timgm": _sample_renderer("timgm", "recorded General-MIDI samples of TimGM6mb.sf2, from pretty_midi", True),
    "merlin": _sample_renderer("merlin", "recorded General-MIDI samples of Merlin.sf2, from scamp; never trained on",
                               False),
}
DEFAULT_RENDERER = "synth"  # a track that names no renderer (files made before the field existed)
TRAINING_RENDERER_L = tuple(name for name, renderer in RENDERER_D.items() if renderer.trained_on)
HELDOUT_RENDERER = next(name for name, renderer in RENDERER_D.items() if not renderer.trained_on)


def get_renderer(name):
    """The ``Renderer`` of a name, or an error listing the renderers there are."""
    if name not in RENDERER_D:
        raise ValueError(f"unknown renderer {name!r}; use one of {', '.join(RENDERER_D)}")
    return RENDERER_D[name]


def choose_training_renderer(draw, sampled_fraction):
    """The training renderer of a track from a uniform draw in [0, 1): the synthesiser, except for a share
    ``sampled_fraction`` of the tracks, which the other training renderers share equally."""
    sample_l = [name for name in TRAINING_RENDERER_L if name != DEFAULT_RENDERER]
    if sampled_fraction <= 0 or not sample_l or draw >= sampled_fraction:
        return DEFAULT_RENDERER
    return sample_l[min(len(sample_l) - 1, int(draw / sampled_fraction * len(sample_l)))]


def field_description():
    """What the ``.pyjama``'s ``renderer`` field holds, from the registry."""
    return "who played the track: " + "; ".join(f"'{name}' ({renderer.what})" for name, renderer in RENDERER_D.items())
