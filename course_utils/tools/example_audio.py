"""The course's default "recording of your own": the file the "new file" sections of notebooks 05-09 use when the
student gives none.

    .venv/bin/python -m course_utils.tools.example_audio      # writes notebooks/audio/my_recording.ogg (+ .json)

A new version of the chorale tune BWV 153.1 (a test work of both presets: its other versions are in the test
split, so notebook 07 can look them up), played by the held-out sample library, then shaped like a file from a
phone or a download: 44.1 kHz, stereo (the two channels differ a little), compressed (OGG Vorbis). The notes
played are written beside it (``my_recording.json``, a ``.pyjama`` entry) so that a notebook can show how right a
transcription of it is. Deterministic: the same file on every run.
"""

import json

import librosa
import numpy as np
import soundfile

from course_utils import runtime
from course_utils.data import plan, render, renderers

TRACK = {"kind": "chorale", "source": "bwv153.1.mxl", "work_id": "chorale-bwv153.1", "genre": "chorale",
         "split": "test", "seed": runtime.stable_seed("my recording"), "renderer": renderers.HELDOUT_RENDERER}
FILE_SR_HZ, MAX_SEC = 44100, 15.0


def write_example(folder=None):
    """Render the default recording into ``folder`` (default: notebooks/audio); returns (audio path, notes path)."""
    folder = folder or runtime.project_dir() / "notebooks" / "audio"
    folder.mkdir(parents=True, exist_ok=True)
    if TRACK["work_id"] not in {track["work_id"] for track in plan.plan_tracks(plan.PRESET_D["full"])}:
        raise RuntimeError(f"{TRACK['work_id']} is no longer a work of the full preset: choose another test work")
    audio_v, entry = render.render_track(dict(TRACK), MAX_SEC)
    mono_v = librosa.resample(audio_v.astype(np.float32) / 32768, orig_sr=22050, target_sr=FILE_SR_HZ,
                              res_type="soxr_hq")
    stereo_m = np.stack([mono_v, 0.85 * np.roll(mono_v, 9)], axis=1)  # the right microphone a little farther
    audio_path, notes_path = folder / "my_recording.ogg", folder / "my_recording.json"
    soundfile.write(audio_path, stereo_m, FILE_SR_HZ, format="OGG", subtype="VORBIS")
    entry = {key: entry[key] for key in ("title", "source", "work_id", "tag", "pitchmidi", "renderer")}
    notes_path.write_text(json.dumps(entry, indent=1), encoding="utf-8")
    return audio_path, notes_path


if __name__ == "__main__":
    for path in write_example():
        print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")
