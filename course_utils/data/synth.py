"""A small additive synthesiser in numpy: notes in, a mono waveform out.

Each instrument is a recipe of harmonic partial amplitudes, an envelope (attack, decay, sustain level,
release, or a plucked/struck exponential decay), vibrato and inharmonicity. Each version of a piece is
rendered with seeded random choices (instrument per voice, loudness, detuning, brightness) so that a model
cannot learn one fixed sound, then recorded by the chain every renderer shares (``recording``). Everything is
deterministic for a given seed.

Taught in notebooks/01_data.ipynb.
"""

import functools

import numpy as np
import scipy.signal

from course_utils.data import recording

SR_HZ = recording.SR_HZ

# partials: amplitude of harmonic k (k = 1, 2, ...); attack / decay / release in seconds;
# sustain: level after the decay (None: the note decays freely, plucked or struck);
# vibrato: depth in semitones; noise: breath/bow noise level; inharmonicity: piano-like stretch.
INSTRUMENT_D = {
    "flute": {"partials": [1.0, 0.35, 0.15, 0.06, 0.03], "attack": 0.06, "decay": 0.1, "sustain": 0.85,
              "release": 0.08, "vibrato": 0.12, "noise": 0.04, "inharmonicity": 0.0},
    "clarinet": {"partials": [1.0, 0.05, 0.55, 0.04, 0.35, 0.03, 0.2, 0.02, 0.1], "attack": 0.04, "decay": 0.08,
                 "sustain": 0.9, "release": 0.06, "vibrato": 0.0, "noise": 0.01, "inharmonicity": 0.0},
    "oboe": {"partials": [0.5, 0.9, 1.0, 0.7, 0.45, 0.3, 0.2, 0.12, 0.08, 0.05], "attack": 0.03, "decay": 0.06,
             "sustain": 0.85, "release": 0.05, "vibrato": 0.08, "noise": 0.01, "inharmonicity": 0.0},
    "violin": {"partials": [1.0, 0.6, 0.45, 0.35, 0.3, 0.22, 0.16, 0.12, 0.09, 0.07, 0.05, 0.04],
               "attack": 0.08, "decay": 0.1, "sustain": 0.8, "release": 0.1, "vibrato": 0.18, "noise": 0.02,
               "inharmonicity": 0.0},
    "cello": {"partials": [1.0, 0.8, 0.5, 0.4, 0.25, 0.18, 0.12, 0.08, 0.05], "attack": 0.1, "decay": 0.15,
              "sustain": 0.8, "release": 0.12, "vibrato": 0.15, "noise": 0.02, "inharmonicity": 0.0},
    "organ": {"partials": [1.0, 0.8, 0.3, 0.5, 0.1, 0.3, 0.05, 0.2], "attack": 0.02, "decay": 0.02,
              "sustain": 1.0, "release": 0.05, "vibrato": 0.0, "noise": 0.0, "inharmonicity": 0.0},
    "piano": {"partials": [1.0, 0.5, 0.3, 0.2, 0.12, 0.08, 0.05, 0.03], "attack": 0.005, "decay": 1.2,
              "sustain": None, "release": 0.15, "vibrato": 0.0, "noise": 0.0, "inharmonicity": 0.0004},
    "guitar": {"partials": [1.0, 0.7, 0.45, 0.25, 0.18, 0.1, 0.06, 0.04], "attack": 0.004, "decay": 0.6,
               "sustain": None, "release": 0.08, "vibrato": 0.0, "noise": 0.0, "inharmonicity": 0.0001},
    "horn": {"partials": [1.0, 0.7, 0.5, 0.3, 0.18, 0.1, 0.05], "attack": 0.07, "decay": 0.1, "sustain": 0.85,
             "release": 0.1, "vibrato": 0.04, "noise": 0.005, "inharmonicity": 0.0},
}
INSTRUMENT_L = sorted(INSTRUMENT_D)


def midi_to_hz(midi):
    """Frequency in Hz of a MIDI note number (69 = A4 = 440 Hz)."""
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69) / 12)


def _envelope(recipe, n_samples, n_release, sr_hz):
    """Amplitude envelope of one note: (n_samples + n_release,) from 0 to the peak and back to 0."""
    time_sec_v = np.arange(n_samples) / sr_hz
    attack_v = np.clip(time_sec_v / recipe["attack"], 0, 1)
    if recipe["sustain"] is None:  # plucked / struck: free exponential decay
        body_v = attack_v * np.exp(-time_sec_v / recipe["decay"])
    else:
        decay_v = recipe["sustain"] + (1 - recipe["sustain"]) * np.exp(
            -np.maximum(time_sec_v - recipe["attack"], 0) / recipe["decay"])
        body_v = attack_v * decay_v
    last_level = body_v[-1] if n_samples else 0.0
    release_v = last_level * np.exp(-np.arange(n_release) / sr_hz / (recipe["release"] / 4))
    return np.concatenate([body_v, release_v])


_TABLE_N = 4096


@functools.lru_cache(maxsize=512)
def _wavetable(instrument, n_partials, brightness_milli):
    """One period of an instrument's waveform with its first ``n_partials`` partials, shape (_TABLE_N + 1,).

    Reading this table at the note's phase gives the sum of partials with one lookup per sample instead
    of one sine per partial (the synthesiser's speed comes from here).
    """
    recipe = INSTRUMENT_D[instrument]
    phase_v = 2 * np.pi * np.arange(_TABLE_N + 1) / _TABLE_N
    rng = np.random.default_rng(n_partials)  # fixed partial phases: the table is the same on every run
    table_v = np.zeros(_TABLE_N + 1)
    for k, amplitude in enumerate(recipe["partials"][:n_partials], start=1):
        table_v += amplitude * (brightness_milli / 1000) ** (k - 1) * np.sin(k * phase_v + rng.uniform(0, 6.3))
    return table_v / max(1e-9, np.abs(table_v).max())


@functools.lru_cache(maxsize=256)
def _noise_filter(midi_int, sr_hz):
    """Band-pass (f0 to 8 f0) for the breath/bow noise of a note; cached per MIDI pitch."""
    f0_hz = float(midi_to_hz(midi_int))
    return scipy.signal.butter(2, [min(f0_hz, 0.4 * sr_hz), min(8 * f0_hz, 0.45 * sr_hz)], btype="bandpass",
                               fs=sr_hz)


def render_note(midi, duration_sec, instrument, rng, sr_hz=SR_HZ, brightness=1.0):
    """One note: the instrument's partials under its envelope, with vibrato and a little noise.

    Parameters
    ----------
    midi : float, MIDI pitch (may be fractional: detuning)
    duration_sec : float, how long the note is held (the release comes after)
    instrument : str, a key of INSTRUMENT_D
    rng : np.random.Generator (vibrato rate and phase, noise)
    brightness : float, > 1 keeps more high partials, < 1 fewer (rounded to 0.05)

    Returns
    -------
    note_v : np.ndarray, shape (n_samples + n_release,), float32, peak about 1
    """
    recipe = INSTRUMENT_D[instrument]
    n_samples = max(1, int(round(duration_sec * sr_hz)))
    n_release = int(recipe["release"] * sr_hz)
    n_total = n_samples + n_release
    time_sec_v = np.arange(n_total) / sr_hz
    f0_hz = float(midi_to_hz(midi))
    vibrato_v = recipe["vibrato"] * np.sin(2 * np.pi * rng.uniform(4.5, 6.5) * time_sec_v + rng.uniform(0, 6.3))
    vibrato_v *= np.clip(time_sec_v / 0.3, 0, 1)  # vibrato sets in after the attack
    # phase in periods; inharmonic instruments (piano, guitar) are slightly sharp instead of stretched
    stretch = np.sqrt(1 + recipe["inharmonicity"] * 4)
    period_v = np.cumsum(f0_hz * stretch * 2 ** (vibrato_v / 12)) / sr_hz
    n_partials = max(1, min(len(recipe["partials"]), int(0.45 * sr_hz / f0_hz)))
    table_v = _wavetable(instrument, n_partials, int(round(brightness * 20)) * 50)
    note_v = table_v[((period_v % 1.0) * _TABLE_N).astype(np.int64)]
    if recipe["noise"] > 0:
        b_v, a_v = _noise_filter(int(round(midi)), sr_hz)
        note_v = note_v + recipe["noise"] * 3 * scipy.signal.lfilter(b_v, a_v, rng.standard_normal(n_total))
    note_v = note_v * _envelope(recipe, n_samples, n_release, sr_hz)
    return (note_v / max(1e-9, np.abs(note_v).max())).astype(np.float32)


def render_notes(note_l, duration_sec, rng, instrument_by_voice_d, sr_hz=SR_HZ, brightness=1.0,
                 reverb_rt60_sec=0.8, reverb_wet=0.2, noise_db=-60.0, eq_d=None, stems=False):
    """Mix notes into one mono track.

    Parameters
    ----------
    note_l : list of dict with ``midi``, ``time`` (s), ``duration`` (s), ``voice`` (str), ``gain`` (linear)
    duration_sec : float, length of the output (notes past it are cut)
    rng : np.random.Generator
    instrument_by_voice_d : dict voice -> instrument name (keys of INSTRUMENT_D)
    brightness, reverb_rt60_sec, reverb_wet, noise_db, eq_d : the version's sound settings (the recording chain,
        ``recording.room_and_level``; ``eq_d`` None: no EQ)

    stems : False: the mixture only; True: also each voice alone, through the same recording chain
        (``recording.record_stems``)

    Returns
    -------
    audio_v : np.ndarray, shape (round(duration_sec * sr_hz),), float32, peak 0.9
    (with ``stems``: (audio_v, dict voice -> its stem, same shape; audio_v = their sum + the noise floor))
    """
    n_out = int(round(duration_sec * sr_hz))
    mix_d = {}
    for note in note_l:
        note_v = render_note(note["midi"], note["duration"], instrument_by_voice_d[note["voice"]], rng, sr_hz,
                             brightness)
        mix_v = mix_d.setdefault(note["voice"] if stems else "mix", np.zeros(n_out + sr_hz, dtype=np.float64))
        start = int(round(note["time"] * sr_hz))
        end = min(start + note_v.size, mix_v.size)
        if start < end:
            mix_v[start:end] += note["gain"] * note_v[: end - start]
    return recording.record_chain({name: mix_v[:n_out] for name, mix_v in mix_d.items()}, n_out, rng, sr_hz,
                                  reverb_rt60_sec, reverb_wet, noise_db, eq_d, stems)
