"""Scores of the music21 corpus as note lists: Bach chorales and fiddle tunes.

- ``read_chorale_notes``: the four voices (Soprano, Alto, Tenor, Bass) of a chorale.
- ``read_fiddle_tune``: the melody and beat (time signature) of a tune of Ryan's Mammoth Collection;
  ``list_fiddle_tunes``: the tunes and their dance type (``R:`` field; a clog is a hornpipe, see below).
- ``group_chorale_tunes``: chorales whose soprano lines are the same melody (transposition-invariant
  similarity), i.e. several harmonisations of one tune: the cover-song sets of the course. The result for
  the whole corpus is stored in ``chorale_tunes.json`` (``python -m course_utils.data index`` rebuilds it).
- ``list_essen_songs``, ``read_essen_song`` and ``group_tune_families``: the folk songs of the Essen collection
  and their **tune families**, songs noted down in different places and years under one title whose melodies
  are confirmed to be variants of one another (``essen_families.json``; ``python -m course_utils.data
  families`` rebuilds it).

A note is a dict ``{'onset_ql': float, 'duration_ql': float, 'midi': int, 'voice': str, 'beat_strength': float}``,
times in quarter lengths (the renderer turns them into seconds with the version's tempo); ``beat_strength``
is music21's metrical weight of the onset in its bar (1 on the downbeat, 0.5 mid-bar, then 0.25, 0.125...).
"""

import difflib
import re
from pathlib import Path

import music21
import numpy as np

VOICE_L = ("Soprano", "Alto", "Tenor", "Bass")
DANCE_TYPE_L = ("hornpipe", "jig", "reel", "strathspey")
# The collection's "clogs" are clog hornpipes: the same metre (C|) and tempo as its hornpipes, written with dotted
# notes throughout, as 55 of its 249 hornpipes are too (broken_rhythm_share > 0.5: all 37 clogs, 22 % of the
# hornpipes), and fiddlers play hornpipes dotted however they are written. No sound tells a clog from a dotted
# hornpipe, so the course gives them one label (notebook 05 shows the evidence).
MERGED_DANCE_TYPE_D = {"clog": "hornpipe"}
CHORALE_SUFFIXES = (".mxl", ".krn", ".xml")
FIDDLE_COLLECTION = "ryansMammoth"
FOLK_COLLECTION = "essenFolksong"
# Two songs under one title are variants of one tune when their melodies are at least this similar
# (melody_similarity): a similarity that 0.3 % of pairs of songs with different titles reach (20,000 random
# pairs of the songs with a shared title: median 0.32, 99th percentile 0.56), and 5.7 % of the pairs under one
# title (median 0.36: many titles are generic). 0.5 would take 4.3 % of the unrelated pairs.
FAMILY_SIMILARITY = 0.6


def corpus_root():
    """Folder of the music21 corpus installed with the music21 package."""
    return Path(music21.__file__).parent / "corpus"


def list_chorale_files():
    """Names (e.g. 'bwv66.6.mxl') of the Bach chorale scores in the corpus, sorted."""
    return sorted(path.name for path in (corpus_root() / "bach").iterdir() if path.suffix in CHORALE_SUFFIXES)


def _part_notes(part, voice):
    # the metrical weight of a note needs its bar (a pickup bar shifts all the others): read it before flattening
    beat_strength_by_onset_d = {}
    for element in part.recurse().notes:
        strength = float(element.beatStrength)  # NaN in a song without a metre (some Essen songs): no accent
        beat_strength_by_onset_d.setdefault(float(element.getOffsetInHierarchy(part)),
                                            strength if np.isfinite(strength) else 1.0)
    note_l = []
    for element in part.flatten().stripTies().notes:
        duration_ql = float(element.quarterLength)
        if duration_ql <= 0:  # grace notes
            continue
        for pitch in element.pitches:
            note_l.append({"onset_ql": float(element.offset), "duration_ql": duration_ql, "midi": int(pitch.midi),
                           "voice": voice, "beat_strength": beat_strength_by_onset_d.get(float(element.offset), 1.0)})
    return note_l


class NotAChoraleError(ValueError):
    """A score of the corpus's Bach folder that is not a four-voice chorale (fewer than four parts)."""


def read_chorale_notes(file_name):
    """Notes of the four voices of a chorale of the corpus.

    Parameters
    ----------
    file_name : str, e.g. 'bwv66.6.mxl' (see ``list_chorale_files``)

    Returns
    -------
    note_l : list of note dicts (voices 'Soprano', 'Alto', 'Tenor', 'Bass'), sorted by onset
    title : str

    A score with fewer than four parts is no chorale: ``NotAChoraleError`` (``build_chorale_index`` lists it
    apart, and no preset renders it).
    """
    path = corpus_root() / "bach" / file_name
    if not path.exists():
        raise FileNotFoundError(f"{file_name}: no such chorale in the music21 corpus at {path.parent}")
    score = music21.converter.parse(path)
    part_by_voice_d = {}
    for voice in VOICE_L:
        for part in score.parts:
            if part.partName and part.partName.startswith(voice):
                part_by_voice_d[voice] = part
                break
    if len(part_by_voice_d) < 4:  # unnamed parts: the first four, top to bottom
        if len(score.parts) < 4:  # e.g. bwv846.mxl, the C major Prelude of the Well-Tempered Clavier (two staves)
            raise NotAChoraleError(f"{file_name}: not a four-voice chorale: its parts are "
                                   f"{[part.partName for part in score.parts]}")
        part_by_voice_d = dict(zip(VOICE_L, list(score.parts)[:4], strict=False))
    note_l = [note for voice, part in part_by_voice_d.items() for note in _part_notes(part, voice)]
    if not note_l:
        raise ValueError(f"{file_name}: the chorale has no notes")
    title = (score.metadata.title if score.metadata and score.metadata.title else None) or file_name
    return sorted(note_l, key=lambda note: (note["onset_ql"], VOICE_L.index(note["voice"]))), title


def list_fiddle_tunes(merge=True):
    """``{file name: dance type}`` for the tunes of Ryan's Mammoth Collection with a known dance type.

    The dance type is read from the ABC ``R:`` header (spelling and case normalised: 'REEL' -> 'reel');
    tunes of other rhythms (slip jig, fling, ...) are left out. ``merge``: the types of
    ``MERGED_DANCE_TYPE_D`` are given the type they belong to (a clog is a hornpipe); ``merge=False`` keeps
    the header's name (e.g. to compare clogs with the other hornpipes).
    """
    dance_d = {}
    for path in sorted((corpus_root() / FIDDLE_COLLECTION).glob("*.abc")):
        match = re.search(r"^R:\s*(.+?)\s*$", path.read_text(encoding="latin-1"), re.MULTILINE)
        rhythm = match.group(1).lower() if match else ""
        if rhythm in DANCE_TYPE_L or rhythm in MERGED_DANCE_TYPE_D:
            dance_d[path.name] = MERGED_DANCE_TYPE_D.get(rhythm, rhythm) if merge else rhythm
    return dance_d


def broken_rhythm_share(file_name):
    """Share of the notes of a fiddle tune written in a broken rhythm: ABC's ``>`` or ``<`` between two notes
    (a dotted note and its short partner), 2 notes per sign, over the notes of the tune's body (a count on
    the text, without parsing: ornaments and chords count as notes too). On average over the collection:
    0.75 for the clogs, 0.34 for the strathspeys (dotted notes and Scotch snaps), 0.18 for the hornpipes
    (above 0.5 for 55 of the 249), 0.03 for the reels and the jigs (notebook 05)."""
    path = corpus_root() / FIDDLE_COLLECTION / file_name
    if not path.exists():
        raise FileNotFoundError(f"{file_name}: no such tune in the music21 corpus at {path.parent}")
    body = "\n".join(line for line in path.read_text(encoding="latin-1").splitlines()
                     if not re.match(r"^[A-Za-z]:", line) and not line.startswith("%"))
    n_note = len(re.findall(r"[A-Ga-g]", body))
    return min(1.0, 2 * len(re.findall(r"[<>]", body)) / max(1, n_note))


def read_fiddle_tune(file_name, with_bar=False):
    """Melody notes (voice 'Melody'), title and beat of a tune of Ryan's Mammoth Collection (repeats not expanded).

    Returns ``(note_l, title, beat_ql)``, with ``with_bar`` ``(note_l, title, beat_ql, bar_ql)`` (the bar's length
    in quarter lengths, from the same time signature: 2.0 for 2/4, 3.0 for 6/8, 4.0 for C and C|). ``beat_ql`` is
    the beat in quarter lengths, read from the time signature: 2.0 for C| (two half notes a bar), 1.0 for 2/4 or C,
    1.5 for 6/8 and 9/8 (dotted quarters).
    The collection writes the same dance in different notations (many reels and hornpipes in 2/4 with
    sixteenth notes, others in C| with eighth notes: the same music with durations halved); a tempo in
    beats per minute plays both at the same speed, a tempo in quarter notes per minute would not.
    """
    path = corpus_root() / FIDDLE_COLLECTION / file_name
    if not path.exists():
        raise FileNotFoundError(f"{file_name}: no such tune in the music21 corpus at {path.parent}")
    score = music21.converter.parse(path)
    note_l = [note for part in score.parts for note in _part_notes(part, "Melody")] if score.parts else \
        _part_notes(score, "Melody")
    if not note_l:
        raise ValueError(f"{file_name}: the tune has no notes")
    title = (score.metadata.title if score.metadata and score.metadata.title else None) or file_name
    time_signature_l = list(score.recurse().getElementsByClass(music21.meter.TimeSignature))
    if not time_signature_l:
        raise ValueError(f"{file_name}: the tune has no time signature (ABC field M:), so its beat is unknown")
    beat_ql = float(time_signature_l[0].beatDuration.quarterLength)
    note_l = sorted(note_l, key=lambda note: note["onset_ql"])
    if with_bar:
        return note_l, title, beat_ql, float(time_signature_l[0].barDuration.quarterLength)
    return note_l, title, beat_ql


# --- folk songs: the Essen collection and its tune families ---------------------------------------


def _essen_blocks(file_name):
    """``{X number: ABC text}`` of the songs of one file of the Essen collection."""
    path = corpus_root() / FOLK_COLLECTION / file_name
    if not path.exists():
        raise FileNotFoundError(f"{file_name}: no such file of the Essen collection at {path.parent}")
    block_d = {}
    for block in re.split(r"\n(?=X:)", path.read_text(encoding="latin-1")):
        match = re.match(r"X:\s*(\d+)", block.strip())
        if match:
            block_d[int(match.group(1))] = block.strip() + "\n"
    return block_d


def normalised_title(title):
    """A title as families compare them: lower case, single spaces, no quotes or surrounding punctuation."""
    return " ".join(title.lower().replace(",", " ").replace('"', " ").split()).strip(" .;:-")


def list_essen_songs():
    """``{song id: title}`` for every song of the Essen folk-song collection shipped by music21 (about 8,500).

    A song id is ``'<file>#<X number>'`` (e.g. ``'altdeu10.abc#12'``); the title is the ABC ``T:`` field,
    ``normalised_title``. Read from the text, without parsing the music (a second)."""
    song_d = {}
    for path in sorted((corpus_root() / FOLK_COLLECTION).glob("*.abc")):
        for number, block in _essen_blocks(path.name).items():
            match = re.search(r"^T:\s*(.+?)\s*$", block, re.MULTILINE)
            if match:
                song_d[f"{path.name}#{number}"] = normalised_title(match.group(1))
    return song_d


def essen_title(song_id):
    """The title (ABC ``T:`` field, as written) of one song of the Essen collection; '' when it has none."""
    file_name, _, number = song_id.partition("#")
    match = re.search(r"^T:\s*(.+?)\s*$", _essen_blocks(file_name).get(int(number) if number.isdigit() else -1, ""),
                      re.MULTILINE)
    return match.group(1) if match else ""


def read_essen_song(song_id):
    """Melody notes (voice 'Melody') of one song of the Essen collection, parsed from its ABC text alone.

    ``song_id``: ``'<file>#<X number>'`` (``list_essen_songs``). Returns the note list, sorted by onset."""
    file_name, _, number = song_id.partition("#")
    block_d = _essen_blocks(file_name)
    if not number.isdigit() or int(number) not in block_d:
        raise KeyError(f"{song_id}: no song X:{number} in {file_name}; song ids are '<file>#<X number>' "
                       "(scores.list_essen_songs())")
    score = music21.converter.parse(block_d[int(number)], format="abc")
    note_l = _part_notes(score, "Melody") if not score.parts else [
        note for part in score.parts for note in _part_notes(part, "Melody")]
    if not note_l:
        raise ValueError(f"{song_id}: the song has no notes")
    return sorted(note_l, key=lambda note: note["onset_ql"])


def _similar_melodies(interval_l, threshold):
    """``is_linked(i, j)`` for ``linked_groups``: the melodies i and j are at least ``threshold`` similar."""
    return lambda i, j: melody_similarity(interval_l[i], interval_l[j]) >= threshold


def group_tune_families(interval_by_song_d, title_by_song_d, same_family):
    """Tune families: songs under one title whose melodies are variants of one another.

    Within each title shared by two songs or more, two songs are linked when the similarity of their melodies
    (``melody_similarity`` of their ``melody_intervals``: transposition-invariant) is at least ``same_family``;
    a family is a connected component of two songs or more. A shared title none of whose songs are linked is
    **generic** (a song type, e.g. a ballad sung to many melodies): it makes no family.

    Parameters
    ----------
    interval_by_song_d : dict song id -> tuple of intervals (``melody_intervals(notes, 'Melody')``)
    title_by_song_d : dict song id -> title (``list_essen_songs``)

    Returns
    -------
    family_l : list of sorted lists of song ids, sorted by their first id
    generic_title_l : sorted list of the shared titles that make no family
    """
    by_title_d = {}
    for song_id in sorted(interval_by_song_d):
        by_title_d.setdefault(title_by_song_d[song_id], []).append(song_id)
    family_l, generic_title_l = [], []
    for title, song_l in sorted(by_title_d.items()):
        if len(song_l) < 2:
            continue
        group_l = [group for group in linked_groups(song_l, _similar_melodies(
            [interval_by_song_d[song_id] for song_id in song_l], same_family)) if len(group) >= 2]
        family_l += group_l
        if not group_l:
            generic_title_l.append(title)
    return sorted(family_l), generic_title_l


# --- tunes: which chorales harmonise the same melody ----------------------------------------------


def melody_intervals(note_l, voice="Soprano"):
    """Transposition-invariant melody: the intervals (semitones) between successive distinct pitches."""
    pitch_l = [note["midi"] for note in sorted(note_l, key=lambda n: n["onset_ql"]) if note["voice"] == voice]
    distinct_l = [pitch for i, pitch in enumerate(pitch_l) if i == 0 or pitch != pitch_l[i - 1]]
    return tuple(np.diff(distinct_l).tolist())


def melody_similarity(interval_a, interval_b):
    """Similarity in [0, 1] of two interval sequences (difflib's matching ratio)."""
    if not interval_a or not interval_b:
        return 0.0
    matcher = difflib.SequenceMatcher(None, interval_a, interval_b, autojunk=False)
    if matcher.real_quick_ratio() < 0.6 or matcher.quick_ratio() < 0.6:
        return 0.0
    return matcher.ratio()


def linked_groups(name_l, is_linked):
    """The connected components of ``name_l`` where ``is_linked(i, j)`` (indices, i < j) links two names: lists
    of names in the order of ``name_l``, in the order of their first name. Every pair is tested once."""
    parent_v = list(range(len(name_l)))

    def root(i):
        while parent_v[i] != i:
            parent_v[i] = parent_v[parent_v[i]]
            i = parent_v[i]
        return i

    for i in range(len(name_l)):
        for j in range(i + 1, len(name_l)):
            if root(i) != root(j) and is_linked(i, j):
                parent_v[root(j)] = root(i)
    group_d = {}
    for i, name in enumerate(name_l):
        group_d.setdefault(root(i), []).append(name)
    return list(group_d.values())


def group_chorale_tunes(note_by_file_d, same_tune=0.75, same_harmonisation=0.95):
    """Group chorales into tunes, and find duplicates (one harmonisation stored twice).

    Two chorales are the same tune when their soprano lines have a similarity >= ``same_tune``
    (groups are the connected components). Within a tune, two chorales whose four voices all have a
    similarity >= ``same_harmonisation`` (mean over voices) are one harmonisation: the later name is a
    duplicate of the earlier. So is the same file name with another format ('bwv277.krn', 'bwv277.mxl'),
    whatever its similarity (the encodings differ in ornaments and ties).

    Parameters
    ----------
    note_by_file_d : dict file name -> note list (from ``read_chorale_notes``)

    Returns
    -------
    tune_l : list of lists of file names (each sorted; tunes sorted by their first name), duplicates removed
    duplicate_d : dict duplicate file name -> the file name kept
    """
    name_l = sorted(note_by_file_d)
    soprano_l = [melody_intervals(note_by_file_d[name]) for name in name_l]
    duplicate_d, tune_l = {}, []
    for member_l in linked_groups(name_l, lambda i, j: melody_similarity(soprano_l[i], soprano_l[j]) >= same_tune):
        kept_l = []
        for name in member_l:  # sorted: '.krn' and '-inst' variants compare with the plain name
            voice_l = [melody_intervals(note_by_file_d[name], voice) for voice in VOICE_L]
            for kept in kept_l:
                if Path(kept).stem == Path(name).stem:
                    duplicate_d[name] = kept
                    break
                kept_voice_l = [melody_intervals(note_by_file_d[kept], voice) for voice in VOICE_L]
                score = np.mean([melody_similarity(a, b) for a, b in zip(voice_l, kept_voice_l, strict=True)])
                if score >= same_harmonisation:
                    duplicate_d[name] = kept
                    break
            else:
                kept_l.append(name)
        tune_l.append(sorted(kept_l))
    return sorted(tune_l), duplicate_d
