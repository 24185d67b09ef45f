"""Small hand-made datasets in the original course's format, written by the tests themselves."""

import json
import shutil

import h5py
import numpy as np

SR_HZ = 22050


def sine_track(duration_sec, freq_hz, sr_hz=SR_HZ, amplitude=0.3):
    """A sine tone, shape (n_samples,), float32."""
    time_sec_v = np.arange(int(duration_sec * sr_hz)) / sr_hz
    return (amplitude * np.sin(2 * np.pi * freq_hz * time_sec_v)).astype(np.float32)


def write_audio_hdf5(path, track_d, sr_hz=SR_HZ, as_int16=False):
    """Write ``{key: audio_v}`` as ``<name>_audio.hdf5`` (one dataset per track, attribute sr_hz)."""
    with h5py.File(path, "w") as fid:
        for key, audio_v in track_d.items():
            data = (np.clip(audio_v, -1, 1) * 32767).astype(np.int16) if as_int16 else audio_v
            fid.create_dataset(key, data=data)
            fid[key].attrs["sr_hz"] = sr_hz
    return path


def write_pyjama(path, entry_l):
    """Write a ``.pyjama`` file with the given entries."""
    data_d = {"schemaversion": 1.31,
              "collection": {"descriptiondefinition": {}, "entry": entry_l}}
    with open(path, "w", encoding="utf-8") as fid:
        json.dump(data_d, fid)
    return path


def fill_disk(folder, leave_mb):
    """Fill the disk of ``folder`` with a file until ``leave_mb`` MB are free; returns the filler's path."""
    filler = folder / "filler.bin"
    filler.unlink(missing_ok=True)
    free = shutil.disk_usage(folder).free - int(leave_mb * 2**20)
    with open(filler, "wb") as fid:
        fid.write(b"\0" * max(0, free))
    return filler


def exercise_context(exercise_id):
    """The made-up context of an experiment's check (what its notebook measures, e.g. 05.4's learning curves), or
    none: what ``exercises.evaluate(exercise_id, answer, **context)`` needs in the tests."""
    from course_utils import exercises

    example_context = exercises.EXERCISE_D[exercise_id].example_context
    return example_context() if example_context else {}
