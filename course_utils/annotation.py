"""Reading ``.pyjama`` annotation files and mapping an entry's annotations to model targets.

One function per mapping, so that each can be read (and tested) on its own:

- ``f_get_multiclass_target``: one label per track -> class index (genre).
- ``f_get_multilabel_target``: several labels per track -> 0/1 vector (instrument tags).
- ``f_get_segment_target``: time-located labels (segments with time/duration) -> (n_label, T) 0/1 frames.
- ``f_get_pianoroll_target``: ``pitchmidi`` notes -> (n_bins, T) 0/1 piano roll on the feature's pitch bins.
- ``f_get_f0_target``: ``f0`` arrays (one per voice, with a ``time`` array) -> the same piano roll;
  ``pianoroll_to_notes``: a piano roll back to notes.
- ``f_get_work_id``: the work (cover set) of a track.

Every error names the .pyjama file, the entry and the field. Taught in notebooks/03_dataset.ipynb.
"""

import json
import warnings

import numpy as np

from course_utils.runtime import stable_seed


class AnnotationError(ValueError):
    """A .pyjama file, entry or field that cannot give the target a config asks for."""


def _entry_name(entry):
    try:
        return entry["filepath"][0]["value"]
    except (KeyError, IndexError, TypeError):
        return "<entry without filepath>"


def load_pyjama(pyjama_annot_file):
    """Read a .pyjama file; check that it has a list of entries, each with a ``filepath``.

    Returns
    -------
    data_d : dict, the whole file (``data_d['collection']['entry']`` is the list of entries)
    """
    try:
        with open(pyjama_annot_file, encoding="utf-8") as json_fid:
            data_d = json.load(json_fid)
    except FileNotFoundError:
        raise FileNotFoundError(f"{pyjama_annot_file}: annotation file not found; build the course dataset with "
                                "`python -m course_utils.data build --preset small --out data`") from None
    except json.JSONDecodeError as error:
        raise AnnotationError(f"{pyjama_annot_file}: not valid JSON ({error}); the file may be truncated: "
                              "build or download it again") from None
    except UnicodeDecodeError as error:
        bad_byte = error.object[error.start:error.start + 1]
        raise AnnotationError(f"{pyjama_annot_file}: not UTF-8 text (byte {error.start}, {bad_byte!r}, cannot be "
                              "decoded: the file was saved in another encoding, e.g. latin-1); save it as UTF-8 (your "
                              "editor's 'save with encoding', or iconv -f latin1 -t utf-8)") from None
    entry_l = data_d.get("collection", {}).get("entry") if isinstance(data_d, dict) else None
    if not isinstance(entry_l, list):
        raise AnnotationError(f"{pyjama_annot_file}: no 'collection' -> 'entry' list; is it a .pyjama file?")
    first_index_d = {}
    for idx, entry in enumerate(entry_l):
        key = _entry_name(entry)
        if key == "<entry without filepath>":
            raise AnnotationError(f"{pyjama_annot_file}: entry {idx} has no 'filepath' [{{'value': ...}}]")
        if not isinstance(key, str) or not key:
            raise AnnotationError(f"{pyjama_annot_file}: entry {idx} has the filepath {key!r}; a filepath is the "
                                  "track's key in the audio file, a non-empty string (write it in quotes)")
        if key in first_index_d:
            raise AnnotationError(f"{pyjama_annot_file}: entries {first_index_d[key]} and {idx} have the same filepath "
                                  f"'{key}'; each track is one entry: merge their fields or rename one")
        first_index_d[key] = idx
    return data_d


def get_field(entry, annot_key, pyjama_annot_file="<pyjama>"):
    """The list of ``{'value': ...}`` dicts of a field of an entry, with an error naming what is missing."""
    if annot_key not in entry:
        present = ", ".join(sorted(key for key in entry if key != "filepath"))
        raise AnnotationError(f"{pyjama_annot_file}: entry '{_entry_name(entry)}' has no field '{annot_key}' "
                              f"(its fields: {present}); check dataset.annot_key in the config")
    field_l = entry[annot_key]
    if not isinstance(field_l, list) or not all(isinstance(item, dict) and "value" in item for item in field_l):
        raise AnnotationError(f"{pyjama_annot_file}: entry '{_entry_name(entry)}', field '{annot_key}' must be a "
                              "list of {'value': ...} dicts")
    return field_l


def f_get_labelname_dict(data_d, annot_key, pyjama_annot_file="<pyjama>"):
    """Sorted list of the label names of a field over *all* entries (before any split, as in the seed).

    Entries without the field are an error (see ``get_field``): every entry must be labelled.
    """
    label_set = set()
    for entry in data_d["collection"]["entry"]:
        for item in get_field(entry, annot_key, pyjama_annot_file):
            label_set.add(str(item["value"]))
    return sorted(label_set)


def _label_index(value, labelname_l, entry, annot_key, pyjama_annot_file):
    try:
        return labelname_l.index(str(value))
    except ValueError:
        raise AnnotationError(f"{pyjama_annot_file}: entry '{_entry_name(entry)}', field '{annot_key}': unknown "
                              f"label '{value}' (known: {', '.join(labelname_l)}); add it to dataset.label_l or "
                              "leave label_l out to use every label of the file") from None


def f_get_multiclass_target(entry, annot_key, labelname_l, pyjama_annot_file="<pyjama>"):
    """Index of the entry's single label in ``labelname_l`` (int), e.g. its genre."""
    field_l = get_field(entry, annot_key, pyjama_annot_file)
    if len(field_l) != 1:
        raise AnnotationError(f"{pyjama_annot_file}: entry '{_entry_name(entry)}', field '{annot_key}' has "
                              f"{len(field_l)} values; a multiclass problem needs exactly one (use multilabel)")
    return _label_index(field_l[0]["value"], labelname_l, entry, annot_key, pyjama_annot_file)


def f_get_multilabel_target(entry, annot_key, labelname_l, pyjama_annot_file="<pyjama>"):
    """0/1 vector of shape (len(labelname_l),), float32: 1 for every label of the entry (its tags)."""
    target_v = np.zeros(len(labelname_l), dtype=np.float32)
    for item in get_field(entry, annot_key, pyjama_annot_file):
        target_v[_label_index(item["value"], labelname_l, entry, annot_key, pyjama_annot_file)] = 1.0
    return target_v


def _located(item, entry, annot_key, pyjama_annot_file):
    """(start, end) in seconds of a time-located value; an error naming it if its time or duration is bad."""
    where = f"{pyjama_annot_file}: entry '{_entry_name(entry)}', field '{annot_key}'"
    if "time" not in item or "duration" not in item:
        raise AnnotationError(f"{where}: a value has no 'time'/'duration'; frame targets need time-located "
                              "annotations")
    start_sec, duration_sec = _number(item["time"], where, "time"), _number(item["duration"], where, "duration")
    if duration_sec < 0 or start_sec < 0:
        raise AnnotationError(f"{where}: the value at time {start_sec} s has a negative time or duration "
                              f"({duration_sec} s); times and durations are seconds >= 0")
    return start_sec, start_sec + duration_sec


def _number(value, where, what):
    """A finite float, or an error naming the value (e.g. a pitch written 'A4', or null)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not np.isfinite(number):
        raise AnnotationError(f"{where}: {what} {value!r} is not a number; write it as a number (a pitch as its MIDI "
                              "number, e.g. 69 for A4)")
    return number


def f_get_segment_target(entry, annot_key, labelname_l, time_sec_v, pyjama_annot_file="<pyjama>"):
    """Frame-level 0/1 targets of time-located labels (e.g. chords): shape (len(labelname_l), T), float32.

    Frame t gets label l when its time ``time_sec_v[t]`` is in [time, time + duration) of a segment of l.
    """
    target_m = np.zeros((len(labelname_l), len(time_sec_v)), dtype=np.float32)
    for item in get_field(entry, annot_key, pyjama_annot_file):
        start_sec, end_sec = _located(item, entry, annot_key, pyjama_annot_file)
        row = _label_index(item["value"], labelname_l, entry, annot_key, pyjama_annot_file)
        target_m[row, (time_sec_v >= start_sec) & (time_sec_v < end_sec)] = 1.0
    return target_m


def hz_to_bin(frequency_hz, fmin_hz, bins_per_semitone):
    """Nearest pitch bin (int, may be out of range) of a frequency on a CQT grid starting at ``fmin_hz``."""
    return np.round(12 * bins_per_semitone * np.log2(np.asarray(frequency_hz, dtype=float) / fmin_hz)).astype(int)


def _voice(item, entry, annot_key, pyjama_annot_file):
    """The ``voice`` of a note (needed when a target keeps some voices only)."""
    if "voice" not in item:
        raise AnnotationError(f"{pyjama_annot_file}: entry '{_entry_name(entry)}', field '{annot_key}': a note has "
                              "no 'voice'; remove voice_l from the dataset config or give every note its voice")
    return item["voice"]


def has_voice(entry, annot_key, voice_l, pyjama_annot_file="<pyjama>"):
    """True when the entry has at least one ``annot_key`` note of a voice in ``voice_l``."""
    return any(_voice(item, entry, annot_key, pyjama_annot_file) in voice_l
               for item in get_field(entry, annot_key, pyjama_annot_file))


def f_get_pianoroll_target(entry, annot_key, time_sec_v, fmin_hz, bins_per_semitone, n_bins,
                           pyjama_annot_file="<pyjama>", voice_l=None):
    """Piano roll of ``pitchmidi`` notes on the pitch bins of a CQT/HCQT: shape (n_bins, T), float32.

    Note value = MIDI pitch; its bin is the one nearest to its frequency on the grid ``fmin_hz * 2 **
    (k / (12 * bins_per_semitone))`` (the h = 1 channel of the HCQT). Frame t is 1 while the note sounds:
    ``time <= time_sec_v[t] < time + duration``. Notes outside the grid, and notes that start after the
    last frame, are counted in the returned ``left_out_d`` (they are not silently lost: the caller reports
    them); a pitch that is not a number, or a negative time or duration, is an error naming the entry.
    With ``voice_l`` (e.g. ``['Soprano']``), only the notes of those voices are drawn: the target of
    melody extraction.

    Returns
    -------
    target_m : np.ndarray, shape (n_bins, len(time_sec_v)), float32
    left_out_d : dict, reason -> number of notes left out (empty when every note is drawn)
    """
    target_m = np.zeros((n_bins, len(time_sec_v)), dtype=np.float32)
    left_out_d = {"notes outside the pitch range": 0, "notes after the end of the audio": 0}
    for item in get_field(entry, annot_key, pyjama_annot_file):
        if voice_l is not None and _voice(item, entry, annot_key, pyjama_annot_file) not in voice_l:
            continue
        start_sec, end_sec = _located(item, entry, annot_key, pyjama_annot_file)
        midi = _number(item["value"], f"{pyjama_annot_file}: entry '{_entry_name(entry)}', field '{annot_key}'",
                       "pitch")
        row = int(hz_to_bin(440.0 * 2 ** ((midi - 69) / 12), fmin_hz, bins_per_semitone))
        frame_v = (time_sec_v >= start_sec) & (time_sec_v < end_sec)
        if not 0 <= row < n_bins:
            left_out_d["notes outside the pitch range"] += 1
        elif len(time_sec_v) and not frame_v.any() and start_sec >= time_sec_v[-1]:
            left_out_d["notes after the end of the audio"] += 1
        else:
            target_m[row, frame_v] = 1.0
    return target_m, {reason: n for reason, n in left_out_d.items() if n}


def pianoroll_to_notes(roll_m, time_sec_v, midi_v, min_frames=1):
    """The notes of a 0/1 piano roll (pitch, frame), the inverse of ``f_get_pianoroll_target``: one note per run of
    consecutive active frames of a pitch, at least ``min_frames`` long.

    Parameters
    ----------
    roll_m : array (n_pitch, T), > 0 where a pitch sounds
    time_sec_v : array (T,), the time of each frame in seconds (evenly spaced)
    midi_v : array (n_pitch,), the MIDI pitch of each row

    Returns
    -------
    note_l : list of (onset_sec, offset_sec, midi), sorted by onset then pitch; a run of frames s..e (included) lasts
        from ``time_sec_v[s]`` to ``time_sec_v[e]`` + one hop
    """
    time_sec_v = np.asarray(time_sec_v, dtype=float)
    hop_sec = float(time_sec_v[1] - time_sec_v[0]) if len(time_sec_v) > 1 else 0.0
    note_l = []
    for row_v, midi in zip(np.asarray(roll_m) > 0, midi_v, strict=True):
        edge_v = np.diff(np.concatenate([[0], row_v.astype(int), [0]]))
        for start, end in zip(np.flatnonzero(edge_v == 1), np.flatnonzero(edge_v == -1), strict=True):
            if end - start >= min_frames:
                note_l.append((float(time_sec_v[start]), float(time_sec_v[end - 1]) + hop_sec, int(midi)))
    return sorted(note_l, key=lambda note: (note[0], note[2]))


def f_get_f0_target(entry, annot_key, time_sec_v, fmin_hz, bins_per_semitone, n_bins, pyjama_annot_file="<pyjama>",
                    unit="hz"):
    """Piano roll from continuous f0 annotations: shape (n_bins, T), float32.

    The field holds one value ``{'value': [f0 array of voice 1, f0 array of voice 2, ...], 'time': [...]}``:
    ``unit`` 'hz' (our ``f0`` field) or 'midi' (the ``f0multi`` field of the original course's Bach10: one
    f0 array per stem, in MIDI); 0 or negative = silent (not a pitch). Each frame takes the f0 of the
    nearest annotation time.
    """
    if unit not in ("hz", "midi"):
        raise ValueError(f"unit must be 'hz' or 'midi', got {unit!r}")
    field_l = get_field(entry, annot_key, pyjama_annot_file)
    target_m = np.zeros((n_bins, len(time_sec_v)), dtype=np.float32)
    for item in field_l:
        if "time" not in item:
            raise AnnotationError(f"{pyjama_annot_file}: entry '{_entry_name(entry)}', field '{annot_key}': f0 "
                                  "values need a 'time' array")
        annot_time_v = np.asarray(item["time"], dtype=float)
        voice_l = item["value"] if np.ndim(item["value"][0]) else [item["value"]]
        after_v = np.clip(np.searchsorted(annot_time_v, time_sec_v), 0, len(annot_time_v) - 1)
        before_v = np.maximum(after_v - 1, 0)
        nearest_v = np.where(np.abs(time_sec_v - annot_time_v[before_v]) <= np.abs(annot_time_v[after_v] - time_sec_v),
                             before_v, after_v)
        for f0_v in voice_l:
            f0_v = np.asarray(f0_v, dtype=float)
            if f0_v.shape != annot_time_v.shape:
                raise AnnotationError(f"{pyjama_annot_file}: entry '{_entry_name(entry)}', field '{annot_key}': "
                                      f"f0 array of {f0_v.size} values for {annot_time_v.size} times")
            frame_f0_v = f0_v[nearest_v]
            voiced_v = frame_f0_v > 0
            if unit == "midi":
                frame_f0_v = 440.0 * 2.0 ** ((np.where(voiced_v, frame_f0_v, 69.0) - 69.0) / 12.0)
            row_v = hz_to_bin(np.where(voiced_v, frame_f0_v, fmin_hz), fmin_hz, bins_per_semitone)
            keep_v = voiced_v & (row_v >= 0) & (row_v < n_bins)
            target_m[row_v[keep_v], np.flatnonzero(keep_v)] = 1.0
    return target_m


def f_get_work_id(entry, annot_key="work_id", pyjama_annot_file="<pyjama>"):
    """The work (cover set) a track belongs to, as a string."""
    field_l = get_field(entry, annot_key, pyjama_annot_file)
    return str(field_l[0]["value"])


# --- splits ---------------------------------------------------------------------------------------

SPLIT_L = ("train", "valid", "test")


SPLIT_FRACTION_D = {"train": 0.6, "valid": 0.2, "test": 0.2}


def assign_splits(group_id_l, seed=0):
    """Split groups (works, artists), never clips, into train/valid/test: ``{group_id: split}``, about 60/20/20.

    The order is a seeded shuffle of the distinct ids (``runtime.stable_seed``, the same on every machine);
    each split gets at least one group when there are 3 or more. The course dataset's build and the
    datasets reading files without a ``split`` field both use this rule.
    """
    order_l = sorted(set(group_id_l), key=lambda group_id: stable_seed(seed, "split", group_id))
    n_group = len(order_l)
    n_valid = max(1, round(SPLIT_FRACTION_D["valid"] * n_group)) if n_group >= 3 else 0
    n_test = max(1, round(SPLIT_FRACTION_D["test"] * n_group)) if n_group >= 3 else 0
    split_d = {}
    for rank, group_id in enumerate(order_l):
        split_d[group_id] = "test" if rank < n_test else "valid" if rank < n_test + n_valid else "train"
    return split_d


ORIGINAL_SPLIT_NOTICE = (
    "{file}: the entries have neither a '{split_key}' nor a '{group_key}' field: split track by track as the "
    "original course does (entry index % 5 == 0 -> valid, the others -> train), and 'test' is that valid split, "
    "as the original's evaluation; versions of one work or one artist may be in two splits. Give the entries a "
    "'{split_key}' field, or set dataset.group_key to a field that groups them, for a split by group and a test "
    "split of its own.")


def _split_of(entry, split_key, pyjama_annot_file):
    """The split an entry's ``split_key`` field names; an error naming the entry when it is not one of SPLIT_L (a
    'Train' or 'validation' would leave the entry out of every split without a word)."""
    value = str(get_field(entry, split_key, pyjama_annot_file)[0]["value"])
    if value not in SPLIT_L:
        hint = f" (did you mean '{value.lower()}'?)" if value.lower() in SPLIT_L else ""
        raise AnnotationError(f"{pyjama_annot_file}: entry '{_entry_name(entry)}' has {split_key} '{value}'{hint}; the "
                              f"splits are {', '.join(SPLIT_L)} (lower case; 'valid', not 'validation')")
    return value


def split_by_entry_index(n_entry):
    """The original course's split of a file without split or group fields: ``[split of entry i]``, valid
    every fifth entry (i % 5 == 0), train the others."""
    return ["valid" if index % 5 == 0 else "train" for index in range(n_entry)]


def f_get_split_entry_l(entry_l, split, split_key="split", group_key=None, pyjama_annot_file="<pyjama>"):
    """The entries of one split.

    If the entries have a ``split_key`` field (the course dataset does), it decides; some entries with it
    and some without is an error (a silent re-split would move tracks between splits). Otherwise the split
    is made here by ``assign_splits`` on the *groups* (``group_key``: work, artist, ...; ``None``: ``work_id``):
    all entries of a group go to the same split, never clip by clip, so that no near-duplicate crosses from
    train to test. Entries with neither field and no ``group_key`` asked for (the original course's files:
    GTZAN, MTT, Bach10, MAPS, RWC) are split as the original course splits them (``split_by_entry_index``,
    'test' = 'valid'), with a warning that says so.
    """
    if split not in SPLIT_L:
        raise ValueError(f"split must be one of {', '.join(SPLIT_L)}, got '{split}'")
    group_asked = group_key is not None
    group_key = group_key or "work_id"
    with_split_l = [entry for entry in entry_l if split_key in entry]
    if with_split_l and len(with_split_l) < len(entry_l):
        missing_l = [_entry_name(entry) for entry in entry_l if split_key not in entry]
        raise AnnotationError(
            f"{pyjama_annot_file}: {len(missing_l)} of {len(entry_l)} entries have no '{split_key}' field (e.g. "
            f"'{missing_l[0]}') while the others have one; give every entry its split, or remove the field from all "
            f"of them to split by '{group_key}'")
    missing_l = [_entry_name(entry) for entry in entry_l if group_key not in entry]
    if entry_l and len(with_split_l) == len(entry_l):
        chosen_l = [entry for entry in entry_l if _split_of(entry, split_key, pyjama_annot_file) == split]
    elif not group_asked and len(missing_l) == len(entry_l):
        warnings.warn(ORIGINAL_SPLIT_NOTICE.format(file=pyjama_annot_file, split_key=split_key, group_key=group_key),
                      UserWarning, stacklevel=2)
        wanted = "valid" if split == "test" else split
        chosen_l = [entry for entry, entry_split in zip(entry_l, split_by_entry_index(len(entry_l)), strict=True)
                    if entry_split == wanted]
    else:
        if missing_l:
            raise AnnotationError(
                f"{pyjama_annot_file}: the entries have no '{split_key}' field, and {len(missing_l)} of "
                f"{len(entry_l)} (e.g. '{missing_l[0]}') have no '{group_key}' field to split by; add a split field, "
                f"give every entry its '{group_key}', or set dataset.group_key to a field that groups versions of "
                "one work or one artist")
        group_l = [str(get_field(entry, group_key, pyjama_annot_file)[0]["value"]) for entry in entry_l]
        split_of_group_d = assign_splits(group_l)
        chosen_l = [entry for entry, group in zip(entry_l, group_l, strict=True) if split_of_group_d[group] == split]
    if not chosen_l:
        raise AnnotationError(f"{pyjama_annot_file}: the '{split}' split is empty; check the '{split_key}' field "
                              f"(or '{group_key}') of the entries")
    return chosen_l
