"""Exercises of notebooks/01_data.ipynb, with their checkers; solutions in solutions/."""

from course_utils.exercises.checking import SAMPLE_ENTRY_L, Wrong, call, exercise


@exercise("01.1", "01_data", "count the tracks of each label", "count_labels",
          "write count_labels(entry_l, annot_key): a dict label -> the number of entries that carry that label in "
          "their field annot_key.",
          ["Visit every entry once and keep a running count per label in a dict.",
           "An entry may list the same label twice: it still counts once for that entry. Gather the entry's labels "
           "without repetition before counting them.",
           "Some entries have no such field at all: they count for no label, and must not raise a KeyError (a "
           "dict's get method can give a default)."])
def _check_count_labels(count_labels):
    for annot_key, expected_d in (("tag", {"violin": 2, "cello": 1, "piano": 1}),
                                  ("genre", {"reel": 2, "jig": 1, "chorale": 1})):
        answer = call(count_labels, SAMPLE_ENTRY_L, annot_key)
        if not isinstance(answer, dict):
            raise Wrong(f"expected a dict label -> count, got {type(answer).__name__}")
        answer_d = {str(label): count for label, count in answer.items()}
        if set(answer_d) != set(expected_d):
            raise Wrong(f"for annot_key '{annot_key}' your labels are {sorted(answer_d)}, expected "
                        f"{sorted(expected_d)}")
        for label, count in expected_d.items():
            if answer_d[label] != count:
                raise Wrong(f"for annot_key '{annot_key}', label '{label}': you counted {answer_d[label]}, "
                            f"expected {count}")
    return "the counts of 'tag' (a multi-valued field, one entry without it) and of 'genre' are right."


_NOTE_ENTRY = {"pitchmidi": [{"value": 60, "time": 0.0, "duration": 1.0}, {"value": 64, "time": 0.5, "duration": 1.0},
                             {"value": 67, "time": 1.0, "duration": 0.5}, {"value": 72, "time": 2.0, "duration": 0.25}]}


@exercise("01.2", "01_data", "which notes sound at a time", "notes_sounding_at",
          "write notes_sounding_at(entry, time_sec): the sorted list of the MIDI pitches of the entry's 'pitchmidi' "
          "notes that sound at time_sec.",
          ["Each item of the 'pitchmidi' field is one note: its pitch is 'value', it starts at 'time' and lasts "
           "'duration' seconds.",
           "A note sounds from its start up to, but not including, its end (start + duration): at the exact end it "
           "is already over.",
           "Keep the pitches of the notes whose interval holds time_sec, then sort them."])
def _check_notes_sounding_at(notes_sounding_at):
    for time_sec, expected_l in ((0.25, [60]), (0.75, [60, 64]), (1.0, [64, 67]), (1.5, []), (1.75, []),
                                 (2.1, [72])):
        answer = call(notes_sounding_at, _NOTE_ENTRY, time_sec)
        try:
            answer_l = sorted(int(pitch) for pitch in answer)
        except (TypeError, ValueError):
            raise Wrong(f"expected a list of MIDI pitches, got {answer!r}") from None
        if answer_l != expected_l:
            raise Wrong(f"at {time_sec} s you gave {answer_l}, expected {expected_l}")
        if list(answer) != answer_l:
            raise Wrong(f"at {time_sec} s your list {list(answer)} is not sorted")
    return "right at 6 times, including the exact end of a note (not sounding) and the start of another (sounding)."


_SPLIT_ENTRY_L = [
    {"filepath": [{"value": f"{work}-{i}.wav"}], "work_id": [{"value": work}], "split": [{"value": split}]}
    for i, (work, split) in enumerate([("w1", "train"), ("w1", "train"), ("w2", "test"), ("w2", "train"),
                                       ("w3", "valid"), ("w4", "test"), ("w4", "valid"), ("w4", "test")])]


@exercise("01.3", "01_data", "works in two splits", "works_in_two_splits",
          "write works_in_two_splits(entry_l): the sorted list of the work ids whose versions are in more than one "
          "split (a leak: a model would be tested on a melody it was trained on).",
          ["For each work, collect the set of splits its versions are in: one pass over the entries.",
           "An entry's work is entry['work_id'][0]['value'] and its split entry['split'][0]['value'].",
           "A work leaks when its set holds two or more splits; return those works, sorted."])
def _check_works_in_two_splits(works_in_two_splits):
    answer = call(works_in_two_splits, _SPLIT_ENTRY_L)
    try:
        answer_l = [str(work) for work in answer]
    except TypeError:
        raise Wrong(f"expected a list of work ids, got {answer!r}") from None
    if sorted(answer_l) != ["w2", "w4"]:
        raise Wrong(f"for 4 works (w1: train twice; w2: test and train; w3: valid; w4: test, valid, test) you gave "
                    f"{answer_l}, expected ['w2', 'w4']")
    if answer_l != sorted(answer_l):
        raise Wrong(f"the works are right but not sorted: {answer_l}")
    if not call(works_in_two_splits, _SPLIT_ENTRY_L[:2]) == []:
        raise Wrong("with one work in one split (w1, twice in train) the answer should be []")
    return "the leaking works of 4 works (a work twice in one split is no leak), and [] when nothing leaks."
