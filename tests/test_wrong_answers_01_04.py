"""Plausible wrong answers to the exercises of notebooks 01 to 04, each refused with a message that names the mistake.

``WRONG_ANSWER_L``: (exercise id, the mistake, the answer as a student would write it, fragments the checker's message
must hold).
"""

import collections
import math

import librosa
import numpy as np
import pytest
import torch

from course_utils import annotation, dataset, exercises, feature, model_inspect

# --- 01: the dataset ------------------------------------------------------------------------------------


def _count_first_label(entry_l, annot_key):
    count_d = {}
    for entry in entry_l:
        if annot_key in entry:
            label = entry[annot_key][0]["value"]
            count_d[label] = count_d.get(label, 0) + 1
    return count_d


def _count_every_item(entry_l, annot_key):
    return dict(collections.Counter(item["value"] for entry in entry_l for item in entry.get(annot_key, [])))


def _count_without_get(entry_l, annot_key):
    count_d = {}
    for entry in entry_l:
        for label in {item["value"] for item in entry[annot_key]}:
            count_d[label] = count_d.get(label, 0) + 1
    return count_d


def _count_as_fraction(entry_l, annot_key):
    count_d = {}
    for entry in entry_l:
        for label in {item["value"] for item in entry.get(annot_key, [])}:
            count_d[label] = count_d.get(label, 0) + 1 / len(entry_l)
    return count_d


def _count_tag_field(entry_l, annot_key):
    count_d = {}
    for entry in entry_l:
        for label in {item["value"] for item in entry.get("tag", [])}:
            count_d[label] = count_d.get(label, 0) + 1
    return count_d


def _sounding_end_included(entry, time_sec):
    return sorted(n["value"] for n in entry["pitchmidi"] if n["time"] <= time_sec <= n["time"] + n["duration"])


def _sounding_start_excluded(entry, time_sec):
    return sorted(n["value"] for n in entry["pitchmidi"] if n["time"] < time_sec < n["time"] + n["duration"])


def _sounding_duration_as_end(entry, time_sec):
    return sorted(n["value"] for n in entry["pitchmidi"] if n["time"] <= time_sec < n["duration"])


def _sounding_unsorted(entry, time_sec):
    return [n["value"] for n in entry["pitchmidi"] if n["time"] <= time_sec < n["time"] + n["duration"]]


def _sounding_notes_not_pitches(entry, time_sec):
    return [n for n in entry["pitchmidi"] if n["time"] <= time_sec < n["time"] + n["duration"]]


def _sounding_set(entry, time_sec):
    return {n["value"] for n in entry["pitchmidi"] if n["time"] <= time_sec < n["time"] + n["duration"]}


def _splits_of_works(entry_l):
    split_d = {}
    for entry in entry_l:
        split_d.setdefault(entry["work_id"][0]["value"], []).append(entry["split"][0]["value"])
    return split_d


def _leaks_every_work(entry_l):
    return sorted(_splits_of_works(entry_l))


def _leaks_several_versions(entry_l):
    return sorted(work for work, split_l in _splits_of_works(entry_l).items() if len(split_l) > 1)


def _leaks_train_and_test_only(entry_l):
    return sorted(work for work, split_l in _splits_of_works(entry_l).items() if {"train", "test"} <= set(split_l))


def _leaks_exactly_two_splits(entry_l):
    return sorted(work for work, split_l in _splits_of_works(entry_l).items() if len(set(split_l)) == 2)


def _leaks_unsorted(entry_l):
    return [work for work, split_l in _splits_of_works(entry_l).items() if len(set(split_l)) > 1]


def _leaks_set(entry_l):
    return {work for work, split_l in _splits_of_works(entry_l).items() if len(set(split_l)) > 1}


def _leaks_dict(entry_l):
    return {work: set(split_l) for work, split_l in _splits_of_works(entry_l).items() if len(set(split_l)) > 1}


# --- 02: features ---------------------------------------------------------------------------------------


def _frames_transposed(audio_v, L_n, STEP_n):
    return np.stack([audio_v[i * STEP_n:i * STEP_n + L_n] for i in range(1 + (len(audio_v) - L_n) // STEP_n)]).T


def _frames_one_short(audio_v, L_n, STEP_n):
    return np.stack([audio_v[i * STEP_n:i * STEP_n + L_n] for i in range((len(audio_v) - L_n) // STEP_n)])


def _frames_padded(audio_v, L_n, STEP_n):
    n_frames = math.ceil(len(audio_v) / STEP_n)
    padded_v = np.pad(audio_v, (0, n_frames * STEP_n + L_n - len(audio_v)))
    return np.stack([padded_v[i * STEP_n:i * STEP_n + L_n] for i in range(n_frames)])


def _frames_hop_of_one(audio_v, L_n, STEP_n):
    return np.lib.stride_tricks.sliding_window_view(audio_v, L_n)


def _frames_one_sample_short(audio_v, L_n, STEP_n):
    return np.stack([audio_v[i * STEP_n:i * STEP_n + L_n - 1] for i in range(1 + (len(audio_v) - L_n) // STEP_n)])


def _frames_hop_of_L(audio_v, L_n, STEP_n):
    return np.stack([audio_v[i * L_n:(i + 1) * L_n] for i in range(len(audio_v) // L_n)])


_POWER_SPECTRUM_WRONG_L = [
    ("02.2", "no window", lambda frame_m, window_v: np.abs(np.fft.rfft(frame_m, axis=1)) ** 2,
     ["not multiplied by the window"]),
    ("02.2", "magnitude for power", lambda frame_m, window_v: np.abs(np.fft.rfft(frame_m * window_v, axis=1)),
     ["you gave the magnitude"]),
    ("02.2", "the full FFT", lambda frame_m, window_v: np.abs(np.fft.fft(frame_m * window_v, axis=1)) ** 2,
     ["negative frequencies"]),
    ("02.2", "wrong axis", lambda frame_m, window_v: np.abs(np.fft.rfft(frame_m * window_v, axis=0)) ** 2,
     ["along the frames (axis 0)"]),
    ("02.2", "the window twice", lambda frame_m, window_v: np.abs(np.fft.rfft(frame_m * window_v ** 2, axis=1)) ** 2,
     ["window twice"]),
    ("02.2", "a log of the power",
     lambda frame_m, window_v: 10 * np.log10(np.abs(np.fft.rfft(frame_m * window_v, axis=1)) ** 2 + 1e-10),
     ["the log of the power"]),
    ("02.2", "the real part only", lambda frame_m, window_v: np.real(np.fft.rfft(frame_m * window_v, axis=1)) ** 2,
     ["only the real part"]),
    ("02.2", "a normalised power",
     lambda frame_m, window_v: np.abs(np.fft.rfft(frame_m * window_v, axis=1)) ** 2 / frame_m.shape[1],
     ["a constant times the power"]),
]


def _patches_without_tail(total_len, patch_len, patch_hopsize):
    return [(start, start + patch_len) for start in range(0, total_len - patch_len + 1, patch_hopsize)]


def _patches_tail_always(total_len, patch_len, patch_hopsize):
    return _patches_without_tail(total_len, patch_len, patch_hopsize) + [(total_len - patch_len, total_len)]


def _patches_short_tail(total_len, patch_len, patch_hopsize):
    patch_l = _patches_without_tail(total_len, patch_len, patch_hopsize)
    return patch_l + [(patch_l[-1][1], total_len)] if patch_l[-1][1] < total_len else patch_l


def _patches_end_included(total_len, patch_len, patch_hopsize):
    patch_l = _patches_without_tail(total_len, patch_len, patch_hopsize)
    if patch_l[-1][1] < total_len:
        patch_l.append((total_len - patch_len, total_len))
    return [(start, end - 1) for start, end in patch_l]


def _patches_past_the_end(total_len, patch_len, patch_hopsize):
    return [(start, start + patch_len) for start in range(0, total_len - patch_len + patch_hopsize, patch_hopsize)]


def _patches_of_the_package(total_len, patch_len, patch_hopsize):
    return [(p["start_frame"], p["end_frame"]) for p in feature.f_get_patches(total_len, patch_len, patch_hopsize)]


def _patch_starts_only(total_len, patch_len, patch_hopsize):
    return [start for start, _ in _patches_past_the_end(total_len, patch_len, patch_hopsize)]


# --- 03: datasets ---------------------------------------------------------------------------------------


def _patch_items(get_item):
    """A PatchItems class whose __getitem__ is ``get_item(self, key, start, end, idx_patch)``."""

    class PatchItems(torch.utils.data.Dataset):
        def __init__(self, X_d, y_d, patch_l):
            self.X_d, self.y_d, self.patch_l = X_d, y_d, patch_l

        def __len__(self):
            return len(self.patch_l)

        def __getitem__(self, idx_patch):
            patch = self.patch_l[idx_patch]
            return get_item(self, patch["audiofile"], patch["start_frame"], patch["end_frame"], idx_patch)

    return PatchItems


def _pitch_patches(get_item, length=None):
    """A PitchPatches class whose __getitem__ is ``get_item(self, key, start, end)``; __len__ is ``length(self)``."""

    class PitchPatches(torch.utils.data.Dataset):
        def __init__(self, X_d, roll_d, patch_l):
            self.X_d, self.roll_d, self.patch_l = X_d, roll_d, patch_l

        def __len__(self):
            return length(self) if length else len(self.patch_l)

        def __getitem__(self, idx_patch):
            patch = self.patch_l[idx_patch]
            return get_item(self, patch["audiofile"], patch["start_frame"], patch["end_frame"])

    return PitchPatches


def _target_counts(entry, annot_key, labelname_l):
    target_v = np.zeros(len(labelname_l), dtype=np.float32)
    for item in entry[annot_key]:
        target_v[labelname_l.index(item["value"])] += 1
    return target_v


def _target_first_tag(entry, annot_key, labelname_l):
    target_v = np.zeros(len(labelname_l), dtype=np.float32)
    target_v[labelname_l.index(entry[annot_key][0]["value"])] = 1
    return target_v


def _target_sorts_labels(entry, annot_key, labelname_l):
    labelname_l.sort()
    target_v = np.zeros(len(labelname_l), dtype=np.float32)
    for item in entry[annot_key]:
        target_v[labelname_l.index(item["value"])] = 1
    return target_v


def _roll(note_l, time_sec_v, lowest_midi, n_pitch, end_included=False, start_excluded=False, lower_bound=True,
          clip=False, row_shift=0, dtype=np.float32):
    roll_m = np.zeros((n_pitch, len(time_sec_v)), dtype=dtype)
    for note in note_l:
        row = note["value"] - lowest_midi + row_shift
        if clip:
            row = min(max(row, 0), n_pitch - 1)
        if row >= n_pitch or (lower_bound and row < 0):
            continue
        start, end = note["time"], note["time"] + note["duration"]
        after_start = time_sec_v > start if start_excluded else time_sec_v >= start
        before_end = time_sec_v <= end if end_included else time_sec_v < end
        roll_m[row, after_start & before_end] = 1
    return roll_m


def _collate(pad_of, n_frames_of=lambda n_l: torch.tensor(n_l)):
    """A pad_collate whose padding of one X to n_max frames is ``pad_of(X, n_max)``."""

    def pad_collate(item_l):
        n_l = [item["X"].shape[-1] for item in item_l]
        X = torch.stack([pad_of(item["X"], max(n_l)) for item in item_l])
        return {"X": X, "n_frames": n_frames_of(n_l), "y": torch.stack([item["y"] for item in item_l])}

    return pad_collate


def _collate_to_shortest(item_l):
    n_min = min(item["X"].shape[-1] for item in item_l)
    return {"X": torch.stack([item["X"][..., :n_min] for item in item_l]),
            "n_frames": torch.tensor([item["X"].shape[-1] for item in item_l]),
            "y": torch.stack([item["y"] for item in item_l])}


def _collate_of_the_package(item_l):
    return dataset.track_collate(item_l)


def _collate_y_as_list(item_l):
    batch = _collate(lambda X, n: torch.nn.functional.pad(X, (0, n - X.shape[-1])))(item_l)
    return {**batch, "y": [item["y"] for item in item_l]}


_PAD_END = lambda X, n: torch.nn.functional.pad(X, (0, n - X.shape[-1]))  # noqa: E731 - the right padding

# --- 04: models -----------------------------------------------------------------------------------------


def _field_without_strides(layer_l):
    return 1 + sum((k - 1) * d for k, s, d in layer_l)


def _field_without_dilation(layer_l):
    field, step = 1, 1
    for k, s, _d in layer_l:
        field, step = field + (k - 1) * step, step * s
    return field


def _field_own_stride_first(layer_l):
    field, step = 1, 1
    for k, s, d in layer_l:
        step *= s
        field += (k - 1) * d * step
    return field


def _field_from_zero(layer_l):
    field, step = 0, 1
    for k, s, d in layer_l:
        field, step = field + (k - 1) * d * step, step * s
    return field


def _field_dilated_span(layer_l):
    field, step = 1, 1
    for k, s, d in layer_l:
        field, step = field + (k * d - 1) * step, step * s
    return field


def _plain_cnn_yaml(conv_l=((16, 3, 1), (32, 3, 1), (64, 3, 1)), activation="[Activation, ReLU]",
                    pool="[MaxPool2d, {kernel_size: 2}]", global_pool="[AdaptiveMaxPool2d, {output_size: 1}]",
                    n_out=9, bn_first=True, extra=""):
    """The YAML of the plain CNN, with one part changed."""
    line_l = []
    for index, (out_channels, kernel_size, padding) in enumerate(conv_l):
        line_l.append(f"[Conv2d, {{in_channels: -1, out_channels: {out_channels}, kernel_size: {kernel_size}, "
                      f"padding: {padding}}}]")
        norm = "[BatchNorm2d, {num_features: -1}]"
        line_l += [norm, activation] if bn_first else [activation, norm]
        if index < 2:
            line_l.append(pool)
    line_l += [global_pool, "[Flatten, {start_dim: 1}]", *([extra] if extra else []),
               f"[Linear, {{in_features: -1, out_features: {n_out}}}]"]
    body = "\n".join(f"      - {line}" for line in line_l if line)
    return f"model:\n  name: PlainCNN\n  block_l:\n  - sequential_l:\n    - layer_l:\n{body}\n"


WRONG_ANSWER_L = [
    # 01.1 count_labels
    ("01.1", "only the first label of each entry", _count_first_label, ["only the first label"]),
    ("01.1", "a label listed twice counted twice", _count_every_item, ["listed twice", "counts once"]),
    ("01.1", "an entry without the field raises", _count_without_get, ["has no 'tag' field", "counts for no label"]),
    ("01.1", "a fraction for a count", _count_as_fraction, ["a fraction", "number of entries"]),
    ("01.1", "the field 'tag' whatever annot_key", _count_tag_field, ["the field named by annot_key"]),
    ("01.1", "a list of pairs for a dict", lambda entry_l, key: list(_count_every_item(entry_l, key).items()),
     ["expected a dict"]),
    # 01.2 notes_sounding_at
    ("01.2", "end included", _sounding_end_included, ["ends at 1.0 s", "end excluded"]),
    ("01.2", "start excluded", _sounding_start_excluded, ["starts at 1.0 s", "from its start"]),
    ("01.2", "duration read as the end time", _sounding_duration_as_end, ["time + duration"]),
    ("01.2", "not sorted", _sounding_unsorted, ["not sorted"]),
    ("01.2", "the notes for their pitches", _sounding_notes_not_pitches, ["the notes themselves", "'value'"]),
    ("01.2", "a set for a sorted list", _sounding_set, ["a set has no order"]),
    # 01.3 works_in_two_splits
    ("01.3", "every work", _leaks_every_work, ["one split is no leak"]),
    ("01.3", "works with several versions", _leaks_several_versions, ["w1", "one split is no leak"]),
    ("01.3", "train and test only", _leaks_train_and_test_only, ["you missed w4", "any two splits"]),
    ("01.3", "exactly two splits", _leaks_exactly_two_splits, ["you missed w5", "three splits"]),
    ("01.3", "not sorted", _leaks_unsorted, ["not sorted"]),
    ("01.3", "a set for a sorted list", _leaks_set, ["a set has no order"]),
    ("01.3", "a dict for a list", _leaks_dict, ["expected a list of work ids, got a dict"]),
    # 02.1 frame_signal
    ("02.1", "frames as columns", _frames_transposed, ["the shape is (4, 5), expected (5, 4): one row per frame"]),
    ("02.1", "one frame short", _frames_one_short, ["one frame short", "last whole frame starts at sample 8"]),
    ("02.1", "a padded last frame", _frames_padded, ["no padding"]),
    ("02.1", "a hop of one sample", _frames_hop_of_one, ["start every 1 sample", "every STEP_n = 2"]),
    ("02.1", "frames one sample short", _frames_one_sample_short, ["each frame holds L_n = 4 samples"]),
    ("02.1", "the frame length for the hop", _frames_hop_of_L, ["start every 4 samples", "every STEP_n = 2"]),
    ("02.1", "librosa's framing", lambda a, L, S: librosa.util.frame(a, frame_length=L, hop_length=S, axis=0),
     ["your code calls", "librosa.util", "frame"]),
    # 02.2 power_spectrum
    *_POWER_SPECTRUM_WRONG_L,
    # 02.3 patch_frames
    ("02.3", "rounded down", lambda patch_sec, sr_hz, hop_n: int(patch_sec * sr_hz / hop_n), ["rounded down"]),
    ("02.3", "rounded up", lambda patch_sec, sr_hz, hop_n: math.ceil(patch_sec * sr_hz / hop_n), ["rounded up"]),
    ("02.3", "the hop multiplied", lambda patch_sec, sr_hz, hop_n: round(patch_sec * hop_n / sr_hz),
     ["sr_hz / hop_n frames per second"]),
    ("02.3", "a float for an int", lambda patch_sec, sr_hz, hop_n: np.round(patch_sec * sr_hz / hop_n),
     ["a float", "an int"]),
    ("02.3", "one frame too many", lambda patch_sec, sr_hz, hop_n: 1 + round(patch_sec * sr_hz / hop_n),
     ["one frame too many"]),
    ("02.3", "22050 Hz whatever sr_hz", lambda patch_sec, sr_hz, hop_n: round(patch_sec * 22050 / hop_n),
     ["22050 Hz", "use sr_hz"]),
    # 02.4 patches_by_hand
    ("02.4", "no tail patch", _patches_without_tail, ["are in no patch"]),
    ("02.4", "the package's f_get_patches", _patches_of_the_package, ["your code calls", "f_get_patches"]),
    ("02.4", "a tail patch even when none is needed", _patches_tail_always, ["twice", "ends at total_len already"]),
    ("02.4", "a short tail patch", _patches_short_tail, ["every patch must be 4 frames long"]),
    ("02.4", "end included", _patches_end_included, ["end_frame is excluded"]),
    ("02.4", "a last patch past the end", _patches_past_the_end, ["(8, 12) ends past the last frame"]),
    ("02.4", "the starts only", _patch_starts_only, ["(start_frame, end_frame) pairs"]),
    # 03.1 PatchItems
    ("03.1", "the frequency axis sliced", _patch_items(lambda s, k, a, b, i: {"X": s.X_d[k][:, a:b], "y": s.y_d[k]}),
     ["slice the last (time) axis"]),
    ("03.1", "end_frame included", _patch_items(lambda s, k, a, b, i: {"X": s.X_d[k][..., a:b + 1], "y": s.y_d[k]}),
     ["end_frame is excluded"]),
    ("03.1", "the label cut like X", _patch_items(lambda s, k, a, b, i: {"X": s.X_d[k][..., a:b],
                                                                         "y": s.y_d[k][..., a:b]}),
     ["do not cut it"]),
    ("03.1", "a numpy array for a tensor",
     _patch_items(lambda s, k, a, b, i: {"X": s.X_d[k][..., a:b].numpy(), "y": s.y_d[k]}), ["a torch tensor"]),
    ("03.1", "the whole track", _patch_items(lambda s, k, a, b, i: {"X": s.X_d[k], "y": s.y_d[k]}),
     ["the whole track"]),
    ("03.1", "a tuple for a dict", _patch_items(lambda s, k, a, b, i: (s.X_d[k][..., a:b], s.y_d[k])),
     ["should be a dict"]),
    ("03.1", "always the first track", _patch_items(lambda s, k, a, b, i: {"X": s.X_d["a"][..., a:b], "y": s.y_d[k]}),
     ["the frames of track 'a'", "of track 'b'"]),
    # 03.2 multilabel_target
    ("03.2", "float64 for float32",
     lambda entry, key, label_l: np.array([float(lab in [i["value"] for i in entry[key]]) for lab in label_l]),
     ["the dtype is float64; the loss needs float32"]),
    ("03.2", "the package's f_get_multilabel_target",
     lambda entry, key, label_l: annotation.f_get_multilabel_target(entry, key, label_l),
     ["your code calls", "f_get_multilabel_target"]),
    ("03.2", "counts for 0/1", _target_counts, ["listed twice is still a 1"]),
    ("03.2", "the first tag only", _target_first_tag, ["only the first"]),
    ("03.2", "label indices for a vector",
     lambda entry, key, label_l: np.array([label_l.index(i["value"]) for i in entry[key]], dtype=np.float32),
     ["one value per label"]),
    ("03.2", "labelname_l sorted in place", _target_sorts_labels, ["changed labelname_l"]),
    ("03.2", "booleans for float32",
     lambda entry, key, label_l: np.array([lab in [i["value"] for i in entry[key]] for lab in label_l]),
     ["the dtype is bool", "float32"]),
    # 03.3 piano_roll
    ("03.3", "float64 for float32", lambda *a: _roll(*a, dtype=np.float64), ["the dtype is float64"]),
    ("03.3", "end included", lambda *a: _roll(*a, end_included=True), ["end excluded"]),
    ("03.3", "start excluded", lambda *a: _roll(*a, start_excluded=True), ["from its start"]),
    ("03.3", "a note below the rows wraps around", lambda *a: _roll(*a, lower_bound=False), ["below lowest_midi",
                                                                                            "leave it out"]),
    ("03.3", "notes out of range clipped", lambda *a: _roll(*a, clip=True), ["outside the rows", "leave it out"]),
    ("03.3", "one row too high", lambda *a: _roll(*a, row_shift=1), ["one row too high"]),
    ("03.3", "frames for rows", lambda *a: _roll(*a).T, ["one row per pitch"]),
    ("03.3", "the package's f_get_pianoroll_target",
     lambda note_l, t_v, low, n: annotation.f_get_pianoroll_target({"filepath": [{"value": "x"}], "pitchmidi": note_l},
                                                                  "pitchmidi", t_v, 440.0 * 2 ** ((low - 69) / 12),
                                                                  1, n)[0],
     ["your code calls", "f_get_pianoroll_target"]),
    # 03.4 PitchPatches
    ("03.4", "y without its channel axis",
     _pitch_patches(lambda s, k, a, b: {"X": s.X_d[k][..., a:b], "y": s.roll_d[k][:, a:b]}), ["a channel axis"]),
    ("03.4", "y not cut to the patch",
     _pitch_patches(lambda s, k, a, b: {"X": s.X_d[k][..., a:b], "y": s.roll_d[k][None]}), ["the patch's frames"]),
    ("03.4", "the channel axis last",
     _pitch_patches(lambda s, k, a, b: {"X": s.X_d[k][..., a:b], "y": s.roll_d[k][:, a:b, None]}),
     ["the channel axis first"]),
    ("03.4", "one item per track", _pitch_patches(lambda s, k, a, b: {"X": s.X_d[k][..., a:b],
                                                                      "y": s.roll_d[k][None, :, a:b]},
                                                  length=lambda s: len(s.X_d)), ["one item per patch"]),
    ("03.4", "X cut on the frequency axis",
     _pitch_patches(lambda s, k, a, b: {"X": s.X_d[k][:, a:b], "y": s.roll_d[k][None, :, a:b]}),
     ["slice the last (time) axis"]),
    ("03.4", "y with time before pitch",
     _pitch_patches(lambda s, k, a, b: {"X": s.X_d[k][..., a:b], "y": s.roll_d[k][:, a:b].T[None]}),
     ["(1, F, L)", "pitch, then time"]),
    ("03.4", "a numpy y", _pitch_patches(lambda s, k, a, b: {"X": s.X_d[k][..., a:b],
                                                             "y": s.roll_d[k][None, :, a:b].numpy()}),
     ["a torch tensor"]),
    # 03.5 pad_collate
    ("03.5", "zeros at the start", _collate(lambda X, n: torch.nn.functional.pad(X, (n - X.shape[-1], 0))),
     ["zeros at the start", "at the end of time"]),
    ("03.5", "the lengths as a list", _collate(_PAD_END, n_frames_of=list), ["int64 tensor"]),
    ("03.5", "the padded lengths", _collate(_PAD_END, n_frames_of=lambda n_l: torch.tensor([max(n_l)] * len(n_l))),
     ["the true lengths"]),
    ("03.5", "cut to the shortest", _collate_to_shortest, ["cut the tracks to the shortest"]),
    ("03.5", "the frequency axis padded", _collate(lambda X, n: torch.nn.functional.pad(X, (0, 0, 0, n - X.shape[-1]))),
     ["pad only the last (time) axis"]),
    ("03.5", "the package's track_collate", _collate_of_the_package, ["your code calls", "track_collate"]),
    ("03.5", "y as a list", _collate_y_as_list, ["torch.stack of the items' y"]),
    ("03.5", "the last frame repeated for zeros",
     _collate(lambda X, n: torch.nn.functional.pad(X, (0, n - X.shape[-1]), mode="replicate")),
     ["padded with zeros"]),
    ("03.5", "float lengths", _collate(_PAD_END, n_frames_of=lambda n_l: torch.tensor(n_l, dtype=torch.float32)),
     ["int64 tensor"]),
    # 04.1 conv2d_n_params
    ("04.1", "no biases", lambda i, o, k, bias=True: o * i * (k * k if isinstance(k, int) else k[0] * k[1]),
     ["biases are missing"]),
    ("04.1", "biases with bias=False",
     lambda i, o, k, bias=True: o * i * (k * k if isinstance(k, int) else k[0] * k[1]) + o, ["bias=False has no bias"]),
    ("04.1", "in_channels forgotten",
     lambda i, o, k, bias=True: o * (k * k if isinstance(k, int) else k[0] * k[1]) + (o if bias else 0),
     ["every input channel"]),
    ("04.1", "an int kernel_size as k cells",
     lambda i, o, k, bias=True: o * i * (k if isinstance(k, int) else k[0] * k[1]) + (o if bias else 0),
     ["k x k"]),
    ("04.1", "kh + kw for kh x kw",
     lambda i, o, k, bias=True: o * i * (2 * k if isinstance(k, int) else k[0] + k[1]) + (o if bias else 0),
     ["kh * kw weights"]),
    ("04.1", "the package's count_parameters",
     lambda i, o, k, bias=True: model_inspect.count_parameters(torch.nn.Conv2d(i, o, k, bias=bias)),
     ["your code calls", "count_parameters"]),
    # 04.2 receptive_field
    ("04.2", "the kernel sizes added", lambda layer_l: sum(k for k, s, d in layer_l), ["adds kernel_size - 1"]),
    ("04.2", "strides ignored", _field_without_strides, ["strides"]),
    ("04.2", "dilations ignored", _field_without_dilation, ["dilation"]),
    ("04.2", "a layer's own stride on its kernel", _field_own_stride_first, ["its own stride"]),
    ("04.2", "counted from 0", _field_from_zero, ["one frame short"]),
    ("04.2", "a dilated kernel spans k * d", _field_dilated_span, ["(k - 1) * d + 1"]),
    ("04.2", "the kernel sizes multiplied", lambda layer_l: math.prod(k for k, s, d in layer_l), ["expected"]),
    # 04.3 plain_cnn_yaml
    ("04.3", "no model section", "feature: {type: hcqt, h_l: [1, 2]}", ["needs a 'model' section"]),
    ("04.3", "no ReLU and average pooling",
     _plain_cnn_yaml(activation="", pool="[AvgPool2d, {kernel_size: 2}]"),
     ["block_l[0].sequential_l[0].layer_l[2]", "AvgPool2d", "ReLU"]),
    ("04.3", "no padding", _plain_cnn_yaml(conv_l=((16, 3, 0), (32, 3, 0), (64, 3, 0))),
     ["layer_l[0]", "padding"]),
    ("04.3", "a global average", _plain_cnn_yaml(global_pool="[AdaptiveAvgPool2d, {output_size: 1}]"),
     ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]),
    ("04.3", "ReLU before BatchNorm2d", _plain_cnn_yaml(bn_first=False), ["layer_l[1]", "BatchNorm2d"]),
    ("04.3", "an extra Dropout", _plain_cnn_yaml(extra="[Dropout, {p: 0.3}]"), ["Dropout"]),
    ("04.3", "10 logits", _plain_cnn_yaml(n_out=10), ["expected [2, 9]"]),
    ("04.3", "twice the channels", _plain_cnn_yaml(conv_l=((32, 3, 1), (64, 3, 1), (128, 3, 1))),
     ["layer_l[0]", "out_channels"]),
    ("04.3", "5 x 5 kernels", _plain_cnn_yaml(conv_l=((16, 5, 2), (32, 5, 2), (64, 5, 2))),
     ["layer_l[0]", "kernel_size"]),
]


def _status_and_message(exercise_id, answer):
    result = exercises.evaluate(exercise_id, answer)
    return result.status, result.message


@pytest.mark.parametrize("exercise_id, mistake, answer, expected_fragment_l", WRONG_ANSWER_L,
                         ids=[f"{row[0]}-{row[1]}" for row in WRONG_ANSWER_L])
def test_a_wrong_answer_is_refused_naming_the_mistake(exercise_id, mistake, answer, expected_fragment_l):
    status, message = _status_and_message(exercise_id, answer)
    assert status == "not yet", f"{mistake}: {message}"
    assert "Traceback" not in message
    for fragment in expected_fragment_l:
        assert fragment in message, f"{mistake}: '{fragment}' not in: {message}"


def test_at_least_four_wrong_answers_per_exercise_of_notebooks_01_to_04():
    count_d = collections.Counter(row[0] for row in WRONG_ANSWER_L)
    for exercise_id in exercises.EXERCISE_D:
        if exercise_id[:2] in ("01", "02", "03", "04"):
            assert count_d[exercise_id] >= 4, f"{exercise_id}: {count_d[exercise_id]} wrong answers"
