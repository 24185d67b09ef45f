"""The sampled renderers of the course dataset: recorded instrument samples from General-MIDI SoundFonts.

Our synthesiser (``synth``) is fast and exact, but a model trained on it alone learns its sound and fails
on real instruments. These renderers play the same notes with recorded samples, read by ``soundfont``:
for each note, the sample zone of its instrument, key and velocity, resampled to the note's pitch, looped
while the note is held, under the zone's volume envelope. Two libraries, each shipped by a pip package
(never the operating system's, so that models can be evaluated on sample libraries the course never uses):

- ``timgm``: ``TimGM6mb.sf2`` (6 MB) inside ``pretty_midi``; the presets train on it, with ``synth``;
- ``merlin``: ``Merlin.sf2`` (11 MB) inside ``scamp`` (only its data file is read; scamp is not
  imported); never in a training set: the course's held-out renderer.

Same inputs as ``synth.render_notes`` and the same recording chain (``recording.room_and_level``).
Taught in notebooks/01_data.ipynb.
"""

import functools
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from course_utils.data import recording
from course_utils.data.soundfont import SoundFont

# General-MIDI program (0-based) of each instrument of the course.
GM_PROGRAM_D = {"piano": 0, "organ": 20, "guitar": 24, "violin": 40, "cello": 42, "horn": 60, "oboe": 68,
                "clarinet": 71, "flute": 73}
MIN_RELEASE_SEC, MAX_RELEASE_SEC = 0.02, 1.0


@dataclass(frozen=True)
class SampleLibrary:
    """A General-MIDI SoundFont shipped inside a pip package, and the programs the course plays from it."""

    package: str  # the pip package (its import name) that ships the file
    file: str  # path of the .sf2 inside the package
    program_override_d: dict = field(default_factory=dict)  # instrument -> GM program, where GM_PROGRAM_D is wrong

    @property
    def program_d(self):
        """Instrument name -> GM program (0-based)."""
        return {**GM_PROGRAM_D, **self.program_override_d}


# The sampled renderers. 'timgm' plays the training tracks of the presets; 'merlin' is held out of every
# training set: the course tests on it what its models do with instruments they have never heard.
# The organ is the Reed Organ (20): the pipe and drawbar organs (16-19) of both libraries sound an octave
# below the key over much of the range (16-foot stops).
SAMPLE_LIBRARY_D = {
    "timgm": SampleLibrary("pretty_midi", "TimGM6mb.sf2"),
    "merlin": SampleLibrary("scamp", "soundfonts/Merlin.sf2"),
}


def renderer_name(library_name):
    """What the ``.pyjama`` entry's ``render.renderer`` says about a track of this sample library."""
    library = SAMPLE_LIBRARY_D[library_name]
    return f"course_utils.data.sampled: {Path(library.file).name} ({library.package})"


def soundfont_path(library_name="timgm"):
    """Path of a sample library's SoundFont inside its installed pip package (the package is not imported)."""
    if library_name not in SAMPLE_LIBRARY_D:
        raise ValueError(f"unknown sample library '{library_name}'; use one of {', '.join(SAMPLE_LIBRARY_D)}")
    library = SAMPLE_LIBRARY_D[library_name]
    spec = importlib.util.find_spec(library.package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the '{library_name}' renderer needs the '{library.package}' package (it ships "
                                  f"{Path(library.file).name}): pip install -e . installs it") from None
    path = Path(spec.submodule_search_locations[0]) / library.file
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the SoundFont of {library.package} is missing; reinstall it with "
                                f"pip install --force-reinstall {library.package}")
    return str(path)


@functools.cache
def load_soundfont(library_name="timgm"):
    """A sample library's SoundFont, parsed once per process."""
    return SoundFont(soundfont_path(library_name))


def velocity_of_gain(gain, velocity_at_unit_gain=100):
    """MIDI velocity (1-127) of a linear gain."""
    return int(np.clip(round(velocity_at_unit_gain * gain), 1, 127))


def _envelope(zone, n_held, n_total, sr_hz):
    """Volume envelope (n_total,): attack, hold, decay to sustain while held (n_held samples), then release."""
    time_sec_v = np.arange(n_total) / sr_hz
    attack_sec, hold_sec = max(zone.attack_sec, 0.002), zone.hold_sec
    gain_v = np.minimum(1.0, time_sec_v / attack_sec)
    decay_start_sec = attack_sec + hold_sec
    if zone.decay_sec > 0:  # decay: linear in dB, reaching the sustain level after decay_sec
        progress_v = np.clip((time_sec_v - decay_start_sec) / zone.decay_sec, 0.0, 1.0)
        gain_v = gain_v * zone.sustain_gain ** progress_v
    else:
        gain_v = np.where(time_sec_v >= decay_start_sec, gain_v * zone.sustain_gain, gain_v)
    release_sec = min(MAX_RELEASE_SEC, max(MIN_RELEASE_SEC, zone.release_sec))
    after_v = np.maximum(0.0, time_sec_v - n_held / sr_hz)
    return gain_v * 10.0 ** (-5.0 * after_v / release_sec)  # release: -100 dB after release_sec


def _play_zone(zone, n_held, sr_hz):
    """One sample zone held for n_held output samples, then released: float64 array."""
    n_total = n_held + int(min(MAX_RELEASE_SEC, max(MIN_RELEASE_SEC, zone.release_sec)) * sr_hz)
    position_v = zone.rate_ratio * np.arange(n_total)
    if zone.loop is not None:
        loop_start, loop_end = zone.loop
        beyond_v = position_v >= loop_end
        position_v[beyond_v] = loop_start + np.mod(position_v[beyond_v] - loop_start, loop_end - loop_start)
    elif position_v.size and position_v[-1] >= zone.data_v.size - 1:
        n_total = int(np.searchsorted(position_v, zone.data_v.size - 1))  # a one-shot sample stops at its end
        position_v = position_v[:n_total]
    wave_v = np.interp(position_v, np.arange(zone.data_v.size), zone.data_v)
    return wave_v * _envelope(zone, n_held, n_total, sr_hz) * zone.gain


def render_notes(note_l, duration_sec, rng, instrument_by_voice_d, sr_hz=recording.SR_HZ, reverb_rt60_sec=0.8,
                 reverb_wet=0.2, noise_db=-60.0, eq_d=None, library_name="timgm", stems=False):
    """Mix notes played by sampled GM instruments into one mono track.

    Parameters
    ----------
    note_l : list of dict with ``midi`` (rounded to the nearest semitone), ``time`` (s), ``duration`` (s),
        ``voice`` (str), ``gain`` (linear: the MIDI velocity, which picks the sample layer, and the level)
    duration_sec : float, length of the output (notes past it are cut)
    rng : np.random.Generator (the room and the noise floor)
    instrument_by_voice_d : dict voice -> instrument name (keys of GM_PROGRAM_D)
    library_name : key of SAMPLE_LIBRARY_D, the SoundFont that plays them
    stems : False: the mixture only; True: also each voice alone (``synth.render_notes``)

    Returns
    -------
    audio_v : np.ndarray, shape (round(duration_sec * sr_hz),), float32, peak 0.9
    (with ``stems``: (audio_v, dict voice -> its stem))
    """
    unknown_l = sorted(set(instrument_by_voice_d.values()) - set(GM_PROGRAM_D))
    if unknown_l:
        raise ValueError(f"no General-MIDI program for {unknown_l}; known instruments: {', '.join(GM_PROGRAM_D)}")
    soundfont, program_d = load_soundfont(library_name), SAMPLE_LIBRARY_D[library_name].program_d
    n_out = int(round(duration_sec * sr_hz))
    mix_d = {}
    for note in note_l:
        mix_v = mix_d.setdefault(note["voice"] if stems else "mix",
                                 np.zeros(n_out + int(MAX_RELEASE_SEC * sr_hz) + 1, dtype=np.float64))
        velocity = velocity_of_gain(note["gain"])
        program, key = program_d[instrument_by_voice_d[note["voice"]]], int(round(note["midi"]))
        start = int(round(note["time"] * sr_hz))
        for zone in soundfont.zones(program, key, velocity, sr_hz):
            note_v = _play_zone(zone, max(1, int(round(note["duration"] * sr_hz))), sr_hz) * (velocity / 127) ** 2
            end = min(start + note_v.size, mix_v.size)
            if start < end:
                mix_v[start:end] += note_v[: end - start]
    return recording.record_chain({name: mix_v[:n_out] for name, mix_v in mix_d.items()}, n_out, rng, sr_hz,
                                  reverb_rt60_sec, reverb_wet, noise_db, eq_d, stems)
