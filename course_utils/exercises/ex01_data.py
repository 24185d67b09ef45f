"""Exercises of notebooks/01_data.ipynb, with their checkers; solutions in solutions/."""


from course_utils.exercises.checking import SAMPLE_ENTRY_L, Wrong, call, exercise


@exercise("01.1", "01_data", "count the tracks of each label", "count_labels",
           "write count_labels(entry_l, annot_key): a dict label -> the number of entries that carry that label "
           "in their field annot_key.",
           "an entry's field is a list of {'value': ...} items; an entry that lists a label twice counts once, "
           "an entry without the field counts for no label (entry.get(annot_key, [])).")
def _check_count_labels(count_labels):
    for annot_key, expected_d in (("tag", {"violin": 2, "cello": 1, "piano": 1}),
                                  ("genre", {"reel": 2, "jig": 1, "chorale": 1})):
        answer = call(count_labels, [dict(entry) for entry in SAMPLE_ENTRY_L], annot_key)
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
           "a note {'value', 'time', 'duration'} sounds from `time` up to, but not including, `time + duration`.")
def _check_notes_sounding_at(notes_sounding_at):
    for time_sec, expected_l in ((0.25, [60]), (0.75, [60, 64]), (1.0, [64, 67]), (1.5, []), (1.75, []),
                                 (2.1, [72])):
        answer = call(notes_sounding_at, {"pitchmidi": [dict(note) for note in _NOTE_ENTRY["pitchmidi"]]}, time_sec)
        try:
            answer_l = sorted(int(pitch) for pitch in answer)
        except (TypeError, ValueError):
            raise Wrong(f"expected a list of MIDI pitches, got {answer!r}") from None
        if answer_l != expected_l:
            raise Wrong(f"at {time_sec} s you gave {answer_l}, expected {expected_l}")
        if list(answer) != answer_l:
            raise Wrong(f"at {time_sec} s your list {list(answer)} is not sorted")
    return "right at 6 times, including the exact end of a note (not sounding) and the start of another (sounding)."
