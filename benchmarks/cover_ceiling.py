"""How hard is cover identification on the course's cover collection, with a perfect melody extractor?

    .venv/bin/python -m benchmarks.cover_ceiling                 # excerpts of 9 s (the collection's), 15 s, 25 s
    .venv/bin/python -m benchmarks.cover_ceiling --max-sec 9 40

For each test version of the ``full`` cover collection, the melody *as written* (the notes of the voice
``Melody`` or ``Soprano`` that ``render`` plays in the excerpt: same tempo, transposition and timing) becomes a
one-hot pitch-class sequence, one frame every 93 ms, as notebook 07's melody chroma. The versions are then ranked
by ``covers.alignment_distances`` (open-end DTW under the optimal transposition) and scored per kind (MAP). No
audio is rendered: about a minute on 2 cores. It tells what the alignment can reach when the extracted melody
has no error, and how much longer excerpts would give.
"""

import argparse

import numpy as np

from course_utils import covers
from course_utils.data import plan, render

HOP_SEC = 2048 / 22050  # the melody chroma's frame


def written_melody(track, max_sec):
    """(12, T) one-hot pitch classes of the melody that ``render.render_track(track, max_sec)`` plays."""
    note_l, duration_sec = render.played_notes(track, max_sec)
    melody_m = np.zeros((12, int(duration_sec / HOP_SEC) + 1))
    for note in note_l:
        if note["voice"] in ("Melody", "Soprano"):
            start = int(note["time"] / HOP_SEC)
            end = max(start + 1, int((note["time"] + note["duration"]) / HOP_SEC))
            melody_m[:, start:end] = 0
            melody_m[note["midi"] % 12, start:end] = 1
    return melody_m


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-sec", type=float, nargs="+", default=[9.0, 15.0, 25.0])
    parser.add_argument("--preset", default="full")
    args = parser.parse_args()
    track_l = [track for track in plan.plan_cover_tracks(plan.PRESET_D[args.preset]) if track["split"] == "test"]
    work_v = np.array([track["work_id"] for track in track_l])
    for max_sec in args.max_sec:
        distance_m = covers.alignment_distances([written_melody(track, max_sec) for track in track_l])
        score_d = covers.scores_by_kind(distance_m, work_v)
        print(f"excerpts of {max_sec:4.0f} s, {len(track_l)} test versions, DTW on the written melody: MAP "
              + ", ".join(f"{kind} {scores['MAP']:.3f}" for kind, scores in score_d.items()), flush=True)


if __name__ == "__main__":
    main()
