"""Reading a SoundFont 2 file: the recorded samples of each General-MIDI instrument and how to tune them.

A SoundFont (``.sf2``, RIFF) holds 16-bit sample data and, for each *preset* (a GM program), zones that
say which sample plays which keys and velocities, with its root key, tuning, loop and envelope. This
module parses the file (``SoundFont``) and, for a program, a key and a velocity, returns the zones to
play (``SampleZone``: the sample, the playback rate for that key, the loop and the envelope). Playing
them is ``sampled.render_notes``.

Why our own reader: the pip SoundFont synthesisers tried for the course do not do the job (measured:
``tinysoundfont`` needs PortAudio headers to install, through ``pyaudio``; ``symusic`` 0.5-0.6 plays
several GM programs of ``TimGM6mb.sf2`` 2 to 20 semitones off their keys, its open issue #55), and
labels of multi-pitch estimation must be exact. The rules followed are those of the SoundFont 2.04
specification (generators, global zones, additive preset generators); modulators are not read, except
the default velocity-to-attenuation curve.
"""

import functools
import struct
from dataclasses import dataclass

import numpy as np

# generator numbers of the SoundFont 2.04 specification (section 8.1.2)
GEN_START_OFFSET, GEN_END_OFFSET, GEN_STARTLOOP_OFFSET, GEN_ENDLOOP_OFFSET = 0, 1, 2, 3
GEN_START_COARSE, GEN_END_COARSE, GEN_STARTLOOP_COARSE, GEN_ENDLOOP_COARSE = 4, 12, 45, 50
GEN_ATTENUATION, GEN_COARSE_TUNE, GEN_FINE_TUNE, GEN_SAMPLE_ID = 48, 51, 52, 53
GEN_SAMPLE_MODES, GEN_SCALE_TUNING, GEN_ROOT_KEY, GEN_INSTRUMENT = 54, 56, 58, 41
GEN_KEY_RANGE, GEN_VEL_RANGE = 43, 44
GEN_ATTACK, GEN_HOLD, GEN_DECAY, GEN_SUSTAIN, GEN_RELEASE = 34, 35, 36, 37, 38
_RANGE_GEN_L = (GEN_KEY_RANGE, GEN_VEL_RANGE)
_SIGNED_DEFAULT_D = {GEN_ATTACK: -12000, GEN_HOLD: -12000, GEN_DECAY: -12000, GEN_RELEASE: -12000,
                     GEN_SCALE_TUNING: 100, GEN_ROOT_KEY: -1}


class SoundFontError(ValueError):
    """A file that is not a SoundFont 2 this reader can play, or a program it does not hold."""


@dataclass(frozen=True)
class SampleZone:
    """One sample as played for one key: what ``sampled.render_notes`` needs.

    data_v : float32 samples in [-1, 1] at ``sample_rate_hz``
    rate_ratio : samples of data_v to advance per sample of output at ``out_sr_hz``, for the zone's key
    loop : (start, end) indices into data_v, or None when the sample is played once
    gain : linear gain (the zone's attenuation)
    attack_sec, hold_sec, decay_sec, sustain_gain, release_sec : the volume envelope
    """

    data_v: np.ndarray
    rate_ratio: float
    loop: tuple | None
    gain: float
    attack_sec: float
    hold_sec: float
    decay_sec: float
    sustain_gain: float
    release_sec: float


def _chunks(data, start, end):
    """(id, payload start, payload end) of the RIFF chunks in data[start:end]."""
    position = start
    while position + 8 <= end:
        chunk_id, size = struct.unpack_from("<4sI", data, position)
        yield chunk_id, position + 8, position + 8 + size
        position += 8 + size + (size & 1)


def _timecents_to_sec(timecents):
    return 0.0 if timecents <= -12000 else float(2.0 ** (timecents / 1200.0))


class SoundFont:
    """A parsed ``.sf2`` file: ``zones(program, key, velocity, out_sr_hz)`` lists what to play."""

    def __init__(self, path):
        self.path = str(path)
        with open(path, "rb") as fid:
            data = fid.read()
        if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"sfbk":
            raise SoundFontError(f"{path}: not a SoundFont 2 file (no RIFF 'sfbk' header)")
        section_d = {}
        for chunk_id, start, end in _chunks(data, 12, len(data)):
            if chunk_id == b"LIST":
                for sub_id, sub_start, sub_end in _chunks(data, start + 4, end):
                    section_d[sub_id] = data[sub_start:sub_end]
        missing_l = [name for name in (b"smpl", b"phdr", b"pbag", b"pgen", b"inst", b"ibag", b"igen", b"shdr")
                     if name not in section_d]
        if missing_l:
            raise SoundFontError(f"{path}: SoundFont chunks missing: {[name.decode() for name in missing_l]} "
                                 "(an SF3, compressed, file is not read: use an .sf2)")
        self._sample_v = np.frombuffer(section_d[b"smpl"], dtype="<i2")
        self._presets = [struct.unpack_from("<20sHHH", section_d[b"phdr"], i) for i in
                         range(0, len(section_d[b"phdr"]), 38)]
        self._pbag = [struct.unpack_from("<HH", section_d[b"pbag"], i) for i in range(0, len(section_d[b"pbag"]), 4)]
        self._pgen = [struct.unpack_from("<HH", section_d[b"pgen"], i) for i in range(0, len(section_d[b"pgen"]), 4)]
        self._inst = [struct.unpack_from("<20sH", section_d[b"inst"], i) for i in range(0, len(section_d[b"inst"]), 22)]
        self._ibag = [struct.unpack_from("<HH", section_d[b"ibag"], i) for i in range(0, len(section_d[b"ibag"]), 4)]
        self._igen = [struct.unpack_from("<HH", section_d[b"igen"], i) for i in range(0, len(section_d[b"igen"]), 4)]
        self._shdr = [struct.unpack_from("<20sIIIIIBbHH", section_d[b"shdr"], i)
                      for i in range(0, len(section_d[b"shdr"]), 46)]

    # --- zones: lists of {generator: value} dicts (the global zone's values already merged in)
    @staticmethod
    def _value(operator, amount):
        if operator in _RANGE_GEN_L:
            return (amount & 0xFF, amount >> 8)
        return amount - 0x10000 if amount >= 0x8000 else amount

    def _zones(self, bag_l, gen_l, first_bag, end_bag, terminal):
        """Zones of one preset or instrument; a first zone without ``terminal`` is global (defaults)."""
        zone_l = []
        for bag in range(first_bag, end_bag):
            generator_l = gen_l[bag_l[bag][0]:bag_l[bag + 1][0]]
            zone_l.append({operator: self._value(operator, amount) for operator, amount in generator_l})
        global_d = {}
        if zone_l and terminal not in zone_l[0]:
            global_d = zone_l.pop(0)
        return [{**global_d, **zone} for zone in zone_l if terminal in zone]

    def _preset_zones(self, program, bank=0):
        for idx, (_name, preset, preset_bank, first_bag) in enumerate(self._presets[:-1]):
            if preset == program and preset_bank == bank:
                return self._zones(self._pbag, self._pgen, first_bag, self._presets[idx + 1][3], GEN_INSTRUMENT)
        raise SoundFontError(f"{self.path}: no preset for program {program} in bank {bank}")

    def _instrument_zones(self, instrument):
        first_bag, end_bag = self._inst[instrument][1], self._inst[instrument + 1][1]
        return self._zones(self._ibag, self._igen, first_bag, end_bag, GEN_SAMPLE_ID)

    @staticmethod
    def _in_range(zone, key, velocity):
        low_key, high_key = zone.get(GEN_KEY_RANGE, (0, 127))
        low_velocity, high_velocity = zone.get(GEN_VEL_RANGE, (0, 127))
        return low_key <= key <= high_key and low_velocity <= velocity <= high_velocity

    def zones(self, program, key, velocity, out_sr_hz):
        """The samples to play for a note: list of ``SampleZone`` (usually one; two for a stereo pair).

        A key outside every zone of the program (the violin of some libraries stops at its lowest string)
        is played by the zones of the nearest key that has some, resampled to ``key``: every labelled
        note sounds, at its pitch.
        """
        preset_zone_l = self._preset_zones(program)
        for probe_key in sorted(range(128), key=lambda other: (abs(other - key), other)):
            result_l = [self._sample_zone(zone, preset_zone, key, out_sr_hz)
                        for preset_zone in preset_zone_l if self._in_range(preset_zone, probe_key, velocity)
                        for zone in self._instrument_zones(preset_zone[GEN_INSTRUMENT])
                        if self._in_range(zone, probe_key, velocity)]
            if result_l:
                return result_l
        return []

    def _sample_zone(self, zone, preset_zone, key, out_sr_hz):
        """Apply the generators of an instrument zone (plus the preset zone's, which add) for ``key``."""
        def value(operator):  # instrument value (or its default) + preset offset (ranges and ids excluded)
            return zone.get(operator, _SIGNED_DEFAULT_D.get(operator, 0)) + preset_zone.get(operator, 0)

        header = self._shdr[zone[GEN_SAMPLE_ID]]
        _, start, end, loop_start, loop_end, sample_rate, original_key, correction, _, _ = header
        start += zone.get(GEN_START_OFFSET, 0) + 32768 * zone.get(GEN_START_COARSE, 0)
        end += zone.get(GEN_END_OFFSET, 0) + 32768 * zone.get(GEN_END_COARSE, 0)
        loop_start += zone.get(GEN_STARTLOOP_OFFSET, 0) + 32768 * zone.get(GEN_STARTLOOP_COARSE, 0)
        loop_end += zone.get(GEN_ENDLOOP_OFFSET, 0) + 32768 * zone.get(GEN_ENDLOOP_COARSE, 0)
        root_key = zone.get(GEN_ROOT_KEY, -1)
        root_key = original_key if root_key < 0 else root_key
        cents = ((key - root_key) * value(GEN_SCALE_TUNING) + 100 * value(GEN_COARSE_TUNE) + value(GEN_FINE_TUNE)
                 + correction)
        looped = zone.get(GEN_SAMPLE_MODES, 0) in (1, 3) and start <= loop_start < loop_end <= end
        return SampleZone(
            data_v=_samples(self, start, end), rate_ratio=float(2.0 ** (cents / 1200.0) * sample_rate / out_sr_hz),
            loop=(loop_start - start, loop_end - start) if looped else None,
            gain=float(10.0 ** (-max(0, value(GEN_ATTENUATION)) / 200.0)),
            attack_sec=_timecents_to_sec(value(GEN_ATTACK)), hold_sec=_timecents_to_sec(value(GEN_HOLD)),
            decay_sec=_timecents_to_sec(value(GEN_DECAY)),
            sustain_gain=float(10.0 ** (-min(1440, max(0, value(GEN_SUSTAIN))) / 200.0)),
            release_sec=_timecents_to_sec(value(GEN_RELEASE)))


@functools.lru_cache(maxsize=1024)
def _samples(soundfont, start, end):
    """Samples [start, end) of a SoundFont as float32 in [-1, 1], converted once per zone and process."""
    return soundfont._sample_v[start:end].astype(np.float32) / 32768.0
