"""Exercises of notebooks/01_data.ipynb, with their checkers; solutions in solutions/.

Each checker compares the answer with the right result, and, when they differ, with the results of the usual
mistakes (a label counted twice, a note's end included, a work in one split taken for a leak...), to name the one
the answer made.
"""

from course_utils.exercises.checking import SAMPLE_ENTRY_L, Wrong, call, exercise


def _labels_of(entry, annot_key, first_only=False):
    """The labels an entry carries in its field annot_key, each once (only the first with first_only)."""
    item_l = entry.get(annot_key, [])
    return [item_l[0]["value"]] if first_only and item_l else list(dict.fromkeys(item["value"] for item in item_l))


def _counts(entry_l, annot_key, first_only=False):
    count_d = {}
    for entry in entry_l:
        for label in _labels_of(entry, annot_key, first_only):
            count_d[label] = count_d.get(label, 0) + 1
    return count_d


def _count_mistake(answer_d, annot_key, expected_d):
    """The sentence that names the mistake of a dict of counts that differs from expected_d, or a plain one."""
    where = f"for annot_key '{annot_key}'"
    n_entry = len(SAMPLE_ENTRY_L)
    if answer_d == _counts(SAMPLE_ENTRY_L, annot_key, first_only=True):
        return (f"{where} you counted only the first label of each entry: a field may hold several labels (entry "
                "'a.wav' has 'violin' and 'cello'); count each of them")
    if annot_key != "tag" and answer_d == _counts(SAMPLE_ENTRY_L, "tag"):
        return f"{where} you counted the labels of the field 'tag': read the field named by annot_key"
    if set(answer_d) == set(expected_d) and all(abs(answer_d[label] - count / n_entry) < 1e-9
                                                for label, count in expected_d.items()):
        return (f"{where} you gave a fraction ({answer_d}): the count is the number of entries that carry the "
                "label, not divided by the number of entries")
    every_item_d = {}
    for entry in SAMPLE_ENTRY_L:
        for item in entry.get(annot_key, []):
            every_item_d[item["value"]] = every_item_d.get(item["value"], 0) + 1
    if answer_d == every_item_d:
        return (f"{where} you counted 'piano' {answer_d.get('piano')} times: entry 'c.wav' lists it twice, but a label "
                "listed twice in one entry counts once (the entry carries it)")
    if set(answer_d) != set(expected_d):
        return f"{where} your labels are {sorted(answer_d)}, expected {sorted(expected_d)}"
    label = next(label for label in expected_d if answer_d[label] != expected_d[label])
    return f"{where}, label '{label}': you counted {answer_d[label]}, expected {expected_d[label]}"


@exercise("01.1", "01_data", "count the tracks of each label", "count_labels",
          "write count_labels(entry_l, annot_key): a dict label -> the number of entries that carry that label in "
          "their field annot_key.",
          ["Visit every entry once and keep a running count per label in a dict.",
           "An entry may list the same label twice: it still counts once for that entry. Gather the entry's labels "
           "without repetition before counting them.",
           "Some entries have no such field at all: they count for no label, and must not raise a KeyError (a "
           "dict's get method can give a default)."])
def _check_count_labels(count_labels):
    for annot_key in ("tag", "genre"):
        expected_d = _counts(SAMPLE_ENTRY_L, annot_key)
        try:
            answer = call(count_labels, SAMPLE_ENTRY_L, annot_key)
        except KeyError as error:
            if error.args != (annot_key,):
                raise
            raise Wrong(f"your code raised KeyError: '{annot_key}': entry 'd.wav' has no '{annot_key}' field; an "
                        "entry without the field counts for no label (entry.get(annot_key, []) gives an empty "
                        "list)") from None
        if not isinstance(answer, dict):
            raise Wrong(f"expected a dict label -> count, got {type(answer).__name__}: {answer!r:.80}")
        answer_d = {str(label): count for label, count in answer.items()}
        if answer_d != expected_d:
            raise Wrong(_count_mistake(answer_d, annot_key, expected_d))
    return "the counts of 'tag' (a multi-valued field, a label listed twice, one entry without it) and of 'genre'."


# notes listed in the order of their onsets, not of their pitches (the last two overlap)
_NOTE_ENTRY = {"pitchmidi": [{"value": 60, "time": 0.0, "duration": 1.0}, {"value": 64, "time": 0.5, "duration": 1.0},
                             {"value": 67, "time": 1.0, "duration": 0.5}, {"value": 72, "time": 2.0, "duration": 0.25},
                             {"value": 55, "time": 2.05, "duration": 0.5}]}
_SOUNDING_TIME_L = (0.25, 0.75, 1.0, 1.5, 1.75, 2.1)


def _sounding(time_sec, mistake=None):
    """The pitches sounding at time_sec, right or with a usual mistake: 'end included', 'start excluded', 'duration
    as end'."""
    pitch_l = []
    for note in _NOTE_ENTRY["pitchmidi"]:
        start, end = note["time"], note["duration"] if mistake == "duration as end" else note["time"] + note["duration"]
        if (start < time_sec if mistake == "start excluded" else start <= time_sec) and \
                (time_sec <= end if mistake == "end included" else time_sec < end):
            pitch_l.append(note["value"])
    return sorted(pitch_l)


def _sounding_mistake(answer_l, time_sec):
    """The sentence that names what an answer at time_sec got wrong about the notes' intervals."""
    where = f"at {time_sec} s you gave {answer_l}, expected {_sounding(time_sec)}"
    if answer_l == _sounding(time_sec, "duration as end"):
        return f"{where}: a note ends at time + duration; 'duration' is how long it lasts, not the time it ends"
    if answer_l == _sounding(time_sec, "end included"):
        note = next(n for n in _NOTE_ENTRY["pitchmidi"] if n["time"] + n["duration"] == time_sec)
        return (f"{where}: note {note['value']} ends at {time_sec} s, and at its exact end it no longer sounds (end "
                "excluded: time <= t < time + duration)")
    if answer_l == _sounding(time_sec, "start excluded"):
        note = next(n for n in _NOTE_ENTRY["pitchmidi"] if n["time"] == time_sec)
        return f"{where}: note {note['value']} starts at {time_sec} s, and a note sounds from its start (included)"
    return where


@exercise("01.2", "01_data", "which notes sound at a time", "notes_sounding_at",
          "write notes_sounding_at(entry, time_sec): the sorted list of the MIDI pitches of the entry's 'pitchmidi' "
          "notes that sound at time_sec.",
          ["Each item of the 'pitchmidi' field is one note: its pitch is 'value', it starts at 'time' and lasts "
           "'duration' seconds.",
           "A note sounds from its start up to, but not including, its end (start + duration): at the exact end it "
           "is already over.",
           "Keep the pitches of the notes whose interval holds time_sec, then sort them."])
def _check_notes_sounding_at(notes_sounding_at):
    for time_sec in _SOUNDING_TIME_L:
        expected_l = _sounding(time_sec)
        answer = call(notes_sounding_at, _NOTE_ENTRY, time_sec)
        if isinstance(answer, set | frozenset):
            raise Wrong(f"at {time_sec} s you gave a set: a set has no order; return a sorted list")
        if any(isinstance(pitch, dict) for pitch in answer):
            raise Wrong(f"at {time_sec} s you gave the notes themselves ({list(answer)!r:.80}); give their pitches, "
                        "each note's 'value'")
        try:
            answer_l = sorted(int(pitch) for pitch in answer)
        except (TypeError, ValueError):
            raise Wrong(f"expected a list of MIDI pitches, got {answer!r}") from None
        if answer_l != expected_l:
            raise Wrong(_sounding_mistake(answer_l, time_sec))
        if [int(pitch) for pitch in answer] != answer_l:
            raise Wrong(f"at {time_sec} s your list {list(answer)} is not sorted (the notes are listed by onset, not "
                        "by pitch)")
    return "right at 6 times, including the exact end of a note (not sounding) and the start of another (sounding)."


# the first collection: 4 works (a work twice in one split, in two splits, in three versions over two splits)
_WORK_SPLIT_L = [("w1", "train"), ("w1", "train"), ("w2", "test"), ("w2", "train"), ("w3", "valid"), ("w4", "test"),
                 ("w4", "valid"), ("w4", "test")]
# the second: a work in three splits, and the leaking works met in an order that is not sorted
_WORK_SPLIT_2_L = [("w5", "valid"), ("w1", "train"), ("w4", "test"), ("w2", "test"), ("w3", "valid"), ("w4", "valid"),
                   ("w2", "train"), ("w5", "train"), ("w5", "test")]


def _split_entries(work_split_l):
    return [{"filepath": [{"value": f"{work}-{i}.wav"}], "work_id": [{"value": work}], "split": [{"value": split}]}
            for i, (work, split) in enumerate(work_split_l)]


def _splits_of_works(work_split_l):
    return {work: [split for w, split in work_split_l if w == work] for work, _ in work_split_l}


def _leak_mistake(answer_l, work_split_l):
    """The sentence that names why a list of leaking works is wrong: a work listed that does not leak, or one
    missed."""
    split_d = _splits_of_works(work_split_l)
    expected_l = sorted(work for work, split_l in split_d.items() if len(set(split_l)) > 1)
    where = (f"for {len(split_d)} works (" + "; ".join(f"{work}: {', '.join(split_l)}" for work, split_l in
                                                       sorted(split_d.items())) + f") you gave {answer_l}, expected "
             f"{expected_l}")
    for work in sorted(set(answer_l) - set(expected_l)):
        return (f"{where}: {work} has all its versions in {', '.join(sorted(set(split_d.get(work, ['no']))))}; one "
                "split is no leak, however many versions (count the distinct splits)")
    for work in sorted(set(expected_l) - set(answer_l)):
        n_split = len(set(split_d[work]))
        kind = "any two splits are a leak, not only train and test" if n_split == 2 else \
            f"a work in {n_split} splits leaks too: three splits are more than one"
        return f"{where}: you missed {work}, whose versions are in {', '.join(split_d[work])}: {kind}"
    return where


def _leaking_works(works_in_two_splits, work_split_l):
    """The answer's list of works for the collection work_split_l, checked (Wrong names what is wrong)."""
    answer = call(works_in_two_splits, _split_entries(work_split_l))
    if isinstance(answer, dict):
        raise Wrong(f"expected a list of work ids, got a dict: {answer!r:.80}")
    if isinstance(answer, set | frozenset):
        raise Wrong("you gave a set: a set has no order; return a sorted list")
    try:
        answer_l = [str(work) for work in answer]
    except TypeError:
        raise Wrong(f"expected a list of work ids, got {answer!r}") from None
    if sorted(answer_l) != sorted(set(answer_l)) or sorted(answer_l) != sorted(
            work for work, split_l in _splits_of_works(work_split_l).items() if len(set(split_l)) > 1):
        raise Wrong(_leak_mistake(answer_l, work_split_l))
    if answer_l != sorted(answer_l):
        raise Wrong(f"the works are right but not sorted: {answer_l}")
    return answer_l


@exercise("01.3", "01_data", "works in two splits", "works_in_two_splits",
          "write works_in_two_splits(entry_l): the sorted list of the work ids whose versions are in more than one "
          "split (a leak: a model would be tested on a melody it was trained on).",
          ["For each work, collect the set of splits its versions are in: one pass over the entries.",
           "An entry's work is entry['work_id'][0]['value'] and its split entry['split'][0]['value'].",
           "A work leaks when its set holds two or more splits; return those works, sorted."])
def _check_works_in_two_splits(works_in_two_splits):
    for work_split_l in (_WORK_SPLIT_L, _WORK_SPLIT_2_L, _WORK_SPLIT_L[:2]):  # the last: none leaks, []
        _leaking_works(works_in_two_splits, work_split_l)
    return ("the leaking works of two collections (in two splits, in three; twice in one split is no leak), [] when "
            "none leaks.")
