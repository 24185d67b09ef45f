"""Solutions of the exercises of notebooks/01_data.ipynb."""


def count_labels(entry_l, annot_key):
    """Number of entries that carry each label of the field ``annot_key``: dict label -> int."""
    count_d = {}
    for entry in entry_l:
        for label in {item["value"] for item in entry.get(annot_key, [])}:  # a set: a label counts once per entry
            count_d[label] = count_d.get(label, 0) + 1
    return count_d


def notes_sounding_at(entry, time_sec):
    """Sorted MIDI pitches of the 'pitchmidi' notes sounding at ``time_sec`` (seconds): from onset, end excluded."""
    return sorted(note["value"] for note in entry["pitchmidi"]
                  if note["time"] <= time_sec < note["time"] + note["duration"])


def works_in_two_splits(entry_l):
    """Sorted work ids whose versions are in more than one split."""
    split_of_work_d = {}
    for entry in entry_l:
        split_of_work_d.setdefault(entry["work_id"][0]["value"], set()).add(entry["split"][0]["value"])
    return sorted(work for work, split_s in split_of_work_d.items() if len(split_s) > 1)
