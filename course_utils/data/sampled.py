"""The second renderer of the course dataset: recorded instrument samples from a General-MIDI SoundFont.

Our synthesiser (``synth``) is fast and exact, but a model trained on it alone learns its sound and fails
on real instruments. This renderer plays the same notes with the recorded samples of the small GM
SoundFont that the ``pretty_midi`` package ships (``TimGM6mb.sf2``), read by ``soundfont``: for each
note, the sample zone of its instrument, key and velocity, resampled to the note's pitch, looped while
the note is held, under the zone's volume envelope. The SoundFont comes from a pip package, never from
the operating system, so that models can be evaluated on sample libraries the course never uses.

Same inputs as ``synth.render_notes`` and the same room, level and noise stage (``synth.room_and_level``).
Taught in notebooks/01_data.ipynb.
"""

import functools
from importlib import resources

import numpy as np

from course_utils.data import synth
from course_utils.data.soundfont import SoundFont

SOUNDFONT_PACKAGE, SOUNDFONT_FILE = "pretty_midi", "TimGM6mb.sf2"
RENDERER_NAME = f"course_utils.data.sampled: {SOUNDFONT_FILE} ({SOUNDFONT_PACKAGE})"
# General-MIDI program (0-based) of each instrument of the course. The organ is the Reed Organ (20): the
# pipe and drawbar organs of TimGM6mb.sf2 (16-19) sound an octave below the key from C3 up (16-foot stops).
GM_PROGRAM_D = {"piano": 0, "organ": 20, "guitar": 24, "violin": 40, "cello": 42, "horn": 60, "oboe": 68,
                "clarinet": 71, "flute": 73}
MIN_RELEASE_SEC, MAX_RELEASE_SEC = 0.02, 1.0


def soundfont_path():
    """Path of the GM SoundFont inside the installed ``pretty_midi`` package."""
    try:
        path = resources.files(SOUNDFONT_PACKAGE).joinpath(SOUNDFONT_FILE)
    except ModuleNotFoundError:
        raise ModuleNotFoundError(f"the sampled renderer needs the '{SOUNDFONT_PACKAGE}' package (it ships "
                                  f"{SOUNDFONT_FILE}): pip install -e . installs it") from None
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the SoundFont of {SOUNDFONT_PACKAGE} is missing; reinstall it with "
                                f"pip install --force-reinstall {SOUNDFONT_PACKAGE}")
    return str(path)


@functools.lru_cache(maxsize=1)
def load_soundfont():
    """The course's GM SoundFont, parsed once per process."""
    return SoundFont(soundfont_path())


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


def render_notes(note_l, duration_sec, rng, instrument_by_voice_d, sr_hz=synth.SR_HZ, reverb_rt60_sec=0.8,
                 reverb_wet=0.2, noise_db=-60.0):
    """Mix notes played by sampled GM instruments into one mono track.

    Parameters
    ----------
    note_l : list of dict with ``midi`` (rounded to the nearest semitone), ``time`` (s), ``duration`` (s),
        ``voice`` (str), ``gain`` (linear: the MIDI velocity, which picks the sample layer, and the level)
    duration_sec : float, length of the output (notes past it are cut)
    rng : np.random.Generator (the room and the noise floor)
    instrument_by_voice_d : dict voice -> instrument name (keys of GM_PROGRAM_D)

    Returns
    -------
    audio_v : np.ndarray, shape (round(duration_sec * sr_hz),), float32, peak 0.9
    """
    unknown_l = sorted(set(instrument_by_voice_d.values()) - set(GM_PROGRAM_D))
    if unknown_l:
        raise ValueError(f"no General-MIDI program for {unknown_l}; known instruments: {', '.join(GM_PROGRAM_D)}")
    soundfont = load_soundfont()
    n_out = int(round(duration_sec * sr_hz))
    mix_v = np.zeros(n_out + int(MAX_RELEASE_SEC * sr_hz) + 1, dtype=np.float64)
    for note in note_l:
        velocity = velocity_of_gain(note["gain"])
        program, key = GM_PROGRAM_D[instrument_by_voice_d[note["voice"]]], int(round(note["midi"]))
        start = int(round(note["time"] * sr_hz))
        for zone in soundfont.zones(program, key, velocity, sr_hz):
            note_v = _play_zone(zone, max(1, int(round(note["duration"] * sr_hz))), sr_hz) * (velocity / 127) ** 2
            end = min(start + note_v.size, mix_v.size)
            if start < end:
                mix_v[start:end] += note_v[: end - start]
    return synth.room_and_level(mix_v[:n_out], rng, sr_hz, reverb_rt60_sec, reverb_wet, noise_db)
