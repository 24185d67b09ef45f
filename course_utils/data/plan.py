"""Planning the course dataset: the presets, which scores each renders, and the split by work.

``plan_tracks(preset)`` lists the tracks to render (score, work, genre, split, seed) before any audio is
made. The split rule is ``annotation.assign_splits``, the one the datasets use for files without a
``split`` field. Taught in notebooks/01_data.ipynb.
"""

import json
from dataclasses import dataclass
from importlib import resources

from course_utils.annotation import assign_splits
from course_utils.data import renderers, scores
from course_utils.runtime import stable_seed


@dataclass(frozen=True)
class Preset:
    """What a preset builds. Sizes are numbers of works (tunes); all versions of a chosen tune are built."""

    name: str
    n_cover_tunes: int  # chorale tunes with several harmonisations (covers)
    max_versions_per_tune: int
    n_single_chorales: int  # chorales with one harmonisation (pitch and tag tasks only)
    n_tunes_per_dance: int  # fiddle tunes per dance type (genre task)
    chorale_max_sec: float
    fiddle_max_sec: float
    seed: int = 0
    sampled_fraction: float = 0.0  # share of the tracks played by the sampled training renderers, track by track
    # the cover collection (plan_cover_tracks): tune families of the Essen folk songs + the chorale cover tunes
    n_folk_families: int = 0
    max_versions_per_family: int = 6
    cover_max_sec: float = 9.0  # every version of the cover collection is cut to this length


# Half the tracks of each preset are played by the sampled training renderer, half by our synthesiser; the held-out
# renderer is in no preset (renderers.HELDOUT_RENDERER). Dance types: up to 120 tunes each (the collection has 49
# strathspeys, hundreds of the others; its 37 clogs are hornpipes, scores.MERGED_DANCE_TYPE_D).
PRESET_D = {
    "small": Preset("small", n_cover_tunes=30, max_versions_per_tune=4, n_single_chorales=0, n_tunes_per_dance=10,
                    chorale_max_sec=12.0, fiddle_max_sec=10.0, sampled_fraction=0.5, n_folk_families=40,
                   max_versions_per_family=4),
    "full": Preset("full", n_cover_tunes=72, max_versions_per_tune=13, n_single_chorales=30, n_tunes_per_dance=120,
                   chorale_max_sec=20.0, fiddle_max_sec=15.0, sampled_fraction=0.5, n_folk_families=432),
}

# Metrical accents of the dance tunes: dB softer per metrical level below the downbeat (see accent_gain_db)


def load_chorale_index():
    """The tunes of the chorale corpus: ``{'tunes': [[file, ...], ...], 'duplicates': {file: kept}}``."""
    with resources.files("course_utils.data").joinpath("chorale_tunes.json").open(encoding="utf-8") as fid:
        return json.load(fid)


def load_family_index():
    """The tune families of the Essen folk songs: ``{'families': [[song id, ...], ...], 'generic_titles': [...],
    'same_family': threshold, ...}`` (``build.build_family_index``; song ids of ``scores.list_essen_songs``)."""
    with resources.files("course_utils.data").joinpath("essen_families.json").open(encoding="utf-8") as fid:
        return json.load(fid)


def plan_tracks(preset):
    """The list of tracks a preset builds (before rendering): one dict per track, in build order."""
    index_d = load_chorale_index()
    cover_tune_l = [tune for tune in index_d["tunes"] if len(tune) >= 2]
    single_l = [tune[0] for tune in index_d["tunes"] if len(tune) == 1]
    # prefer tunes with 3 to 6 versions for the small preset (a useful cover set from few files)
    cover_tune_l = sorted(cover_tune_l, key=lambda tune: (not 3 <= len(tune) <= 6, stable_seed(preset.seed, *tune)))
    track_l = []
    for tune in cover_tune_l[: preset.n_cover_tunes]:
        work_id = "chorale-" + tune[0].rsplit(".", 1)[0]
        for file_name in tune[: preset.max_versions_per_tune]:
            track_l.append({"kind": "chorale", "source": file_name, "work_id": work_id, "genre": "chorale"})
    for file_name in sorted(single_l, key=lambda name: stable_seed(preset.seed, name))[: preset.n_single_chorales]:
        track_l.append({"kind": "chorale", "source": file_name, "work_id": "chorale-" + file_name.rsplit(".", 1)[0],
                        "genre": "chorale"})
    dance_d = scores.list_fiddle_tunes()
    for dance in scores.DANCE_TYPE_L:
        tune_l = sorted([name for name, kind in dance_d.items() if kind == dance],
                        key=lambda name: stable_seed(preset.seed, name))
        for file_name in tune_l[: preset.n_tunes_per_dance]:
            track_l.append({"kind": "fiddle", "source": file_name, "work_id": "fiddle-" + file_name[:-4],
                            "genre": dance})
    # splits: chorale works and each dance type's works are split separately (every class in every split)
    split_d = {}
    for group in ["chorale"] + list(scores.DANCE_TYPE_L):
        split_d.update(assign_splits([t["work_id"] for t in track_l if t["genre"] == group], preset.seed))
    for track in track_l:
        track["split"] = split_d[track["work_id"]]
        track["seed"] = stable_seed(preset.seed, track["source"])
        track["renderer"] = renderers.choose_training_renderer(
            stable_seed(preset.seed, "renderer", track["source"]) / 2**32, preset.sampled_fraction)
    return track_l


def song_key(song_id):
    """The track name part of an Essen song id: 'altdeu10.abc#12' -> 'altdeu10-12'."""
    return song_id.replace(".abc#", "-")


def plan_cover_tracks(preset):
    """The cover collection of a preset (notebook 07): one dict per track, as ``plan_tracks`` lists them.

    Two kinds of versions: **folk** (the first ``n_folk_families`` tune families of ``load_family_index``, in a
    seeded order; each song of a family, up to ``max_versions_per_family``, is a version of the work
    ``folk-<its first song>``), and **chorale** (the preset's chorale tunes with several harmonisations, each
    harmonisation a version: the tracks of ``plan_tracks``, same seeds and splits). Folk families are split by
    family (``annotation.assign_splits``); every version is cut to ``cover_max_sec`` when rendered.
    """
    family_l = sorted(load_family_index()["families"], key=lambda family: stable_seed(preset.seed, "family",
                                                                                        *family))
    folk_l = []
    for family in family_l[: preset.n_folk_families]:
        work_id = "folk-" + song_key(family[0])
        for song_id in sorted(family, key=lambda song: stable_seed(preset.seed, song))[
                : preset.max_versions_per_family]:
            folk_l.append({"kind": "folk", "source": song_id, "work_id": work_id, "genre": "folk"})
    split_d = assign_splits([track["work_id"] for track in folk_l], preset.seed)
    for track in folk_l:
        track["split"] = split_d[track["work_id"]]
        track["seed"] = stable_seed(preset.seed, track["source"])
        track["renderer"] = renderers.choose_training_renderer(
            stable_seed(preset.seed, "renderer", track["source"]) / 2**32, preset.sampled_fraction)
    chorale_l = [track for track in plan_tracks(preset) if track["kind"] == "chorale"]
    n_version_d = {}
    for track in chorale_l:
        n_version_d[track["work_id"]] = n_version_d.get(track["work_id"], 0) + 1
    return folk_l + [track for track in chorale_l if n_version_d[track["work_id"]] >= 2]
