"""The fiddle tunes as tokens, for a language model of notes (notebook 11), and what a generated tune is judged by.

- ``read_tunes``: the melody of every tune of Ryan's Mammoth Collection with a dance type, in beats, with its
  bar lines; parsed once by music21 and kept in a JSON file beside the datasets (``data/``);
- ``NoteLayout``: the vocabulary (a bar line, a rest, 48 pitches, 14 durations and 96 places in the bar, in beats,
  the padding, one prompt token per dance type) and ``tune_tokens`` / ``tokens_to_notes``; ``NoteDataset``: idx =
  a window of a tune;
- ``well_formed_bar_share``, ``interval_histogram``, ``longest_copied_run``: the share of bars that hold the
  piece's metre, the melodic intervals, and the longest run of notes copied from a training tune (memorisation);
- ``to_score_notes``: notes in beats -> the renderers' score notes (``data.render.render_melody``).

Durations are counted in **beats** (the time signature's beat: a dotted quarter in 6/8): the collection writes the
same dance in 2/4 and in C| with durations halved, which beats make equal.
Taught in notebooks/11_generation.ipynb.
"""

import json
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch

from course_utils import safe_files

DURATION_BEAT_L = [Fraction(1, 8), Fraction(1, 6), Fraction(1, 4), Fraction(1, 3), Fraction(3, 8), Fraction(1, 2),
                   Fraction(2, 3), Fraction(3, 4), Fraction(1), Fraction(4, 3), Fraction(3, 2), Fraction(2),
                   Fraction(3), Fraction(4)]
LOWEST_MIDI, N_PITCH = 48, 48  # C3 to B6: a fiddle's range and more
POSITIONS_PER_BEAT, N_POSITION = 24, 96  # a note's place in its bar, on a grid of 1/24 beat, bars of up to 4 beats
TUNES_FORMAT = 1


def _parse_tune(file_name):
    """One tune as ``{"notes": [[onset_beat, duration_beat, midi], ...], "bar_beat": ..., "first_bar_beat": ...}``:
    onsets and durations in beats (fractions written as floats), the bar's length and the first bar line."""
    from course_utils.data import scores  # loads music21 (seconds)

    note_l, _, beat_ql, bar_ql = scores.read_fiddle_tune(file_name, with_bar=True)
    downbeat_l = [note["onset_ql"] for note in note_l if note["beat_strength"] == 1.0]
    first_bar_ql = downbeat_l[0] if downbeat_l else note_l[0]["onset_ql"]
    return {"notes": [[note["onset_ql"] / beat_ql, note["duration_ql"] / beat_ql, note["midi"]] for note in note_l],
            "bar_beat": bar_ql / beat_ql, "first_bar_beat": first_bar_ql / beat_ql}


def read_tunes(cache_path, file_l=None, progress=False):
    """``{file name: {"dance": ..., "notes": ..., "bar_beat": ..., "first_bar_beat": ...}}`` for the tunes of
    ``file_l`` (default: every tune of ``scores.list_fiddle_tunes()``, about 1,000: 80 s to parse once), read
    from ``cache_path`` (JSON) when it holds them, parsed and added to it otherwise (written whole or not at all)."""
    from course_utils.data import scores

    dance_d = scores.list_fiddle_tunes()
    file_l = sorted(dance_d) if file_l is None else list(file_l)
    unknown_l = [name for name in file_l if name not in dance_d]
    if unknown_l:
        raise ValueError(f"{unknown_l[:3]}: not tunes of the collection with a dance type (scores.list_fiddle_tunes)")
    tune_d = {}
    if cache_path.exists():
        cached = json.loads(cache_path.read_text(encoding="utf-8"))
        tune_d = cached.get("tunes", {}) if cached.get("format") == TUNES_FORMAT else {}
    missing_l = [name for name in file_l if name not in tune_d]
    for i, name in enumerate(missing_l):
        if progress and i % 100 == 0:
            print(f"parsing tunes: {i} of {len(missing_l)}")
        tune_d[name] = {"dance": dance_d[name], **_parse_tune(name)}
    if missing_l:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        with safe_files.file_lock(cache_path):
            partial = safe_files.partial_path(cache_path)
            partial.write_text(json.dumps({"format": TUNES_FORMAT, "tunes": tune_d}), encoding="utf-8")
            safe_files.replace_all([(partial, cache_path)])
    return {name: tune_d[name] for name in file_l}


def preset_splits(pyjama_annot_file):
    """``{tune file name: split}`` of the fiddle tunes a dataset preset renders (its ``.pyjama``): the note model is
    tested on the tunes whose recordings the other notebooks test on."""
    from course_utils import annotation

    split_d = {}
    for entry in annotation.load_pyjama(pyjama_annot_file)["collection"]["entry"]:
        source = entry["source"][0]["value"]
        if "ryansMammoth/" in source:
            split_d[source.rsplit("/", 1)[1]] = entry["split"][0]["value"]
    return split_d


# --- tokens ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteLayout:
    """The vocabulary of the note model: scored tokens first (bar line, rest, pitches, durations, positions in the
    bar), then the padding and one prompt token per dance type of ``label_l``."""

    label_l: tuple

    BAR, REST = 0, 1

    def pitch(self, midi):
        return 2 + int(midi) - LOWEST_MIDI

    def duration(self, index):
        return 2 + N_PITCH + index

    def position(self, index):
        return 2 + N_PITCH + len(DURATION_BEAT_L) + index

    @property
    def n_scored(self):
        return 2 + N_PITCH + len(DURATION_BEAT_L) + N_POSITION

    @property
    def pad(self):
        return self.n_scored

    def prompt(self, dance):
        return self.n_scored + 1 + list(self.label_l).index(dance)

    @property
    def vocab_size(self):
        return self.n_scored + 1 + len(self.label_l)

    def token_name(self, token):
        """A token as text: '|' (bar line), 'rest', a pitch ('E5'), a duration in beats ('1/4'), 'pad', '<jig>'."""
        token = int(token)
        if token == self.BAR:
            return "|"
        if token == self.REST:
            return "rest"
        if self.is_pitch(token):
            midi = token - 2 + LOWEST_MIDI
            return ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"][midi % 12] + str(midi // 12 - 1)
        if self.is_duration(token):
            return str(DURATION_BEAT_L[token - 2 - N_PITCH])
        if self.is_position(token):
            return f"@{Fraction(token - self.position(0), POSITIONS_PER_BEAT)}"
        return "pad" if token == self.pad else f"<{self.label_l[token - self.n_scored - 1]}>"

    def is_pitch(self, token):
        return 2 <= token < 2 + N_PITCH

    def is_duration(self, token):
        return 2 + N_PITCH <= token < self.position(0)

    def is_position(self, token):
        return self.position(0) <= token < self.n_scored


def nearest_duration(duration_beat):
    """Index in ``DURATION_BEAT_L`` of the duration nearest to ``duration_beat`` (on a log scale)."""
    return int(np.argmin([abs(np.log(duration_beat / float(value))) for value in DURATION_BEAT_L]))


def _position_token(layout, onset, next_bar, bar_beat):
    """The token of a note's place in its bar (the bar that ends at ``next_bar``), on the grid of 1/24 beat."""
    index = round((onset - (next_bar - bar_beat)) * POSITIONS_PER_BEAT)
    return layout.position(min(max(index, 0), N_POSITION - 1))


def tune_tokens(tune, layout):
    """A tune -> its tokens: the prompt (its dance type), then the notes in order, each its place in the bar (in
    beats from the bar line), its pitch and its duration (a silence before a note: its place, a rest and the
    silence's duration), with a bar line before the first note of each bar: a layout like REMI's [Huang2020].
    Pitches outside the vocabulary's range are moved by octaves into it."""
    token_l, end_beat = [layout.prompt(tune["dance"])], None
    bar_beat, next_bar = tune["bar_beat"], tune["first_bar_beat"]
    for onset, duration, midi in tune["notes"]:
        if end_beat is not None and onset - end_beat > 1e-6:
            token_l += [_position_token(layout, end_beat, next_bar, bar_beat), layout.REST,
                        layout.duration(nearest_duration(onset - end_beat))]
        if onset >= next_bar - 1e-6:
            token_l.append(layout.BAR)
            while next_bar <= onset + 1e-6:
                next_bar += bar_beat
        while midi < LOWEST_MIDI:
            midi += 12
        while midi >= LOWEST_MIDI + N_PITCH:
            midi -= 12
        token_l += [_position_token(layout, onset, next_bar, bar_beat), layout.pitch(midi),
                    layout.duration(nearest_duration(duration))]
        end_beat = max(end_beat or 0.0, onset + duration)
    return token_l


def tokens_to_notes(token_l, layout):
    """Tokens (the prompt left out) -> (notes ``[onset_beat, duration_beat, midi or None for a rest]``, the length
    in beats of each bar between two bar lines, the onset of each bar line). Time is the sum of the durations (the
    positions in the bar are read by the model, not here). A pitch or rest not followed by a duration is dropped;
    so is a duration without a pitch."""
    note_l, bar_l, bar_onset_l, onset, pending = [], [], [], 0.0, None
    for token in (int(token) for token in token_l):
        if token == layout.BAR:
            if bar_onset_l:
                bar_l.append(onset - bar_onset_l[-1])
            bar_onset_l.append(onset)
            pending = None
        elif token == layout.REST:
            pending = ("rest", None)
        elif layout.is_pitch(token):
            pending = ("note", token - 2 + LOWEST_MIDI)
        elif layout.is_duration(token) and pending is not None:
            duration = float(DURATION_BEAT_L[token - 2 - N_PITCH])
            note_l.append([onset, duration, pending[1]])
            onset, pending = onset + duration, None
    return note_l, bar_l, bar_onset_l


def tune_notes(tune, layout):
    """A tune's notes as its tokens give them back (``[onset_beat, duration_beat, midi or None]``, durations on the
    vocabulary's grid): what generated pieces are compared with."""
    return tokens_to_notes(tune_tokens(tune, layout)[1:], layout)[0]


class NoteDataset(torch.utils.data.Dataset):
    """idx = a window of ``window_token`` tokens of a tune, starting at its beginning or at a bar line every
    ``window_hop`` tokens or more; ``{"X": (1, 1 + window_token) long}``: the prompt, then the window, padded."""

    def __init__(self, tune_d, layout, window_token=256, window_hop=128):
        self.layout, self.window_token = layout, window_token
        self.item_l = []
        for tune in tune_d.values():
            token_l = tune_tokens(tune, layout)
            prompt, body_l = token_l[0], token_l[1:]
            last = -window_hop
            for i, token in enumerate(body_l):
                if (i == 0 or token == layout.BAR) and i - last >= window_hop:
                    self.item_l.append([prompt] + body_l[i:i + window_token])
                    last = i
                if i + window_token >= len(body_l):
                    break
        if not self.item_l:
            raise ValueError("no tune to make windows of: the tune dict is empty")

    def __len__(self):
        return len(self.item_l)

    def __getitem__(self, idx):
        token_l = self.item_l[idx]
        padded_l = token_l + [self.layout.pad] * (1 + self.window_token - len(token_l))
        return {"X": torch.tensor(padded_l, dtype=torch.long)[None]}


# --- what a tune is judged by ----------------------------------------------------------------------------------


def well_formed_bar_share(bar_l):
    """Share of a piece's bars (``tokens_to_notes``: the spans between two bar lines; a pickup and the cut end of a
    window are not bars) whose length in beats is the piece's most common bar length: the piece keeps one metre
    (a wrong but steady metre also scores 1). 0.0 for a piece of fewer than 3 bars."""
    if len(bar_l) < 3:
        return 0.0
    _, counts = np.unique([round(length, 6) for length in bar_l], return_counts=True)
    return float(counts.max() / len(bar_l))


def interval_histogram(note_ll, max_interval=12):
    """The share of each melodic interval from -max_interval to +max_interval semitones (larger ones clipped)
    between consecutive notes (rests skipped) of the pieces of ``note_ll``: (2 * max_interval + 1,)."""
    count_v = np.zeros(2 * max_interval + 1)
    for note_l in note_ll:
        midi_v = np.array([midi for _, _, midi in note_l if midi is not None])
        if len(midi_v) > 1:
            np.add.at(count_v, np.clip(np.diff(midi_v), -max_interval, max_interval) + max_interval, 1)
    return count_v / max(1.0, count_v.sum())


def note_ngrams(note_l, n):
    """The set of runs of ``n`` consecutive notes (pitch or None, duration) of a piece."""
    key_l = [(midi, round(duration, 4)) for _, duration, midi in note_l]
    return {tuple(key_l[i:i + n]) for i in range(len(key_l) - n + 1)}


def longest_copied_run(note_l, train_ngram_d):
    """The longest run of consecutive notes of a piece that a training tune also holds, among the lengths of
    ``train_ngram_d`` (``{n: set of runs of n notes of the training tunes}``): 0 when no run of the smallest."""
    best = 0
    for n in sorted(train_ngram_d):
        if note_ngrams(note_l, n) & train_ngram_d[n]:
            best = n
        else:
            break
    return best


def to_score_notes(note_l, bar_onset_l=()):
    """Notes ``[onset_beat, duration_beat, midi or None]`` -> the renderers' score notes (quarter length = beat,
    rests dropped; accents: 1.0 at a bar line of ``bar_onset_l``, 0.5 on the other beats, 0.25 between beats)."""
    bar_set = {round(onset, 4) for onset in bar_onset_l}
    score_l = []
    for onset, duration, midi in note_l:
        if midi is None:
            continue
        on_beat = abs(onset - round(onset)) < 1e-6
        score_l.append({"onset_ql": onset, "duration_ql": duration, "midi": int(midi), "voice": "Melody",
                        "beat_strength": 1.0 if round(onset, 4) in bar_set else 0.5 if on_beat else 0.25})
    return score_l
