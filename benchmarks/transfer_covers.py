"""Leave one library out for cover identification: notebook 07's system trained without each renderer in turn.

    .venv/bin/python -m benchmarks.transfer_covers                  # seed 0 (about 30 min on 2 CPU cores)
    .venv/bin/python -m benchmarks.transfer_covers --seeds 0 1 2    # mean ± sd over 3 seeds
    .venv/bin/python -m benchmarks.transfer_covers --preset small   # a quick run of the whole path

``benchmarks/transfer.py`` does this for the tagging and multi-pitch models; the cover system has two stages, so it
has its own script. Notebook 07 trains on the cover collection, whose train and valid versions are each played by
one of the two training renderers (``synth``, ``timgm``), and hears ``merlin`` only at test time. Here, for each
renderer in turn, the same versions are played without it: the versions that the collection gives to the renderer
left out are played by ``merlin`` instead (leaving ``merlin`` out is notebook 07's own training set). On that
collection, as notebook 07 does (default mode): the melody extractor (``cover_melody_hcqt.yaml``) is trained,
every version becomes its melody chroma (``covers.melody_chroma_of``), the embedding
(``cover_embedding_melody.yaml``) is trained with semi-hard triplets (the validation MAP picks the epoch), and the
weight of the fusion with the melody alignment is chosen on the validation versions. The system is then scored on
the test versions played by each renderer (``build.ensure_dataset(..., split='test', renderer=..., covers=True)``,
rendered on first use): MAP of the embedding + alignment, every version querying all the others. Beside it, the
best non-learned baseline on the same audio (chroma profile or chroma DTW, ``covers``): what a system must beat.

The collections without a renderer are written to a temporary folder in data/ (their HCQT, about 2 min each, is
computed once per run, for all seeds), removed at the end, on Ctrl-C and when the run is killed (SIGTERM).
"""

import argparse
import contextlib
import json
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from benchmarks import common, transfer  # transfer: the other models, the table's layout
from course_utils import (
    annotation,
    covers,
    dataset,
    feature_cache,
    metrics,
    runtime,
    safe_files,
    task,
)
from course_utils.config import load_config
from course_utils.data import build, renderers

LIBRARY_L = transfer.LIBRARY_L  # synth, timgm, merlin
STAND_IN = renderers.HELDOUT_RENDERER  # plays the versions the collection gives to the renderer left out
TRAINED_SPLIT_L = ("train", "valid")


def _renderer_of(entry):
    return entry["renderer"][0]["value"]


def collection_without(left_out, preset, data_dir, out_dir):
    """(audio file, .pyjama) of the cover collection's train and valid versions, none played by ``left_out``: the
    collection's own renderer where it is not ``left_out``, else ``STAND_IN`` playing the same notes."""
    audio_path, pyjama_path = build.ensure_dataset(preset, data_dir, covers=True)
    if left_out == STAND_IN:
        return audio_path, pyjama_path
    data_d = annotation.load_pyjama(pyjama_path)
    stand_in_d = {}  # key -> (audio file, entry) of the versions STAND_IN plays instead
    for split in TRAINED_SPLIT_L:
        split_audio, split_pyjama = build.ensure_dataset(preset, data_dir, split=split, renderer=STAND_IN, covers=True)
        for entry in annotation.load_pyjama(split_pyjama)["collection"]["entry"]:
            stand_in_d[entry["filepath"][0]["value"]] = (split_audio, entry)
    fold_audio = Path(out_dir) / f"course-{preset}-covers-without-{left_out}_audio.hdf5"
    entry_l = []
    with contextlib.ExitStack() as stack:
        fold_fid = stack.enter_context(h5py.File(fold_audio, "w"))
        source_fid_d = {}  # each source file opened once
        for entry in data_d["collection"]["entry"]:
            if entry["split"][0]["value"] not in TRAINED_SPLIT_L:
                continue
            key = entry["filepath"][0]["value"]
            source_audio = audio_path
            if _renderer_of(entry) == left_out:
                source_audio, entry = stand_in_d[key]
            if source_audio not in source_fid_d:
                source_fid_d[source_audio] = stack.enter_context(h5py.File(source_audio, "r"))
            source_fid_d[source_audio].copy(key, fold_fid)  # the compressed samples and their sr_hz, as stored
            entry_l.append(entry)
    data_d["collection"]["entry"] = entry_l
    fold_pyjama = fold_audio.with_name(f"course-{preset}-covers-without-{left_out}.pyjama")
    with open(fold_pyjama, "w", encoding="utf-8") as fid:
        json.dump(data_d, fid)
    return fold_audio, fold_pyjama


def keys_and_works(pyjama_path):
    """([key], (N,) work) of every version of a ``.pyjama``, in its order."""
    entry_l = annotation.load_pyjama(pyjama_path)["collection"]["entry"]
    return [entry["filepath"][0]["value"] for entry in entry_l], np.array([entry["work_id"][0]["value"]
                                                                          for entry in entry_l])


def work_of(cover_ds):
    """(N,) the work of each version of a ``CoverDataset``, in ``key_l``'s order."""
    return np.array([cover_ds.get_target(key) for key in cover_ds.key_l])


def melody_cover_dataset(melody_system, audio_path, pyjama_path, split, key_l, feature_path, cover_config):
    """A ``CoverDataset`` of ``split`` on the melody chroma that a melody extractor (``melody_system``: the model
    and its config) extracts from ``audio_path``."""
    melody_model, melody_config = melody_system
    hcqt_path = feature_cache.f_cache_features(audio_path, melody_config.feature, key_l=key_l, n_workers=2)
    chroma_d = covers.melody_chroma_of(melody_model, hcqt_path, key_l)
    feature_cache.f_write_precomputed_features(feature_path, chroma_d, cover_config.feature.hop_sec)
    return dataset.CoverDataset(feature_path, pyjama_path, split, cover_config)


def train_system(audio_path, pyjama_path, melody_config, cover_config, seed, work_dir, device, fast_mode=False):
    """Notebook 07's two stages on one collection: ((melody model, its config), embedding model, fusion weight).
    ``fast_mode``: the configs' ``train.fast`` settings, as notebook 07 trains on the small preset."""
    generator = runtime.seed_everything(seed)
    feature_cache.f_cache_features(audio_path, melody_config.feature, n_workers=2)  # once per collection
    melody_d = task.make_datasets(melody_config, audio_path, pyjama_path, split_l=TRAINED_SPLIT_L,
                                  feature_placement="disk")
    melody_model, _ = task.train_model(melody_config, melody_d, device, generator, fast_mode,
                                       checkpoint_path=work_dir / "melody.pt")
    melody_system = (melody_model.cpu().eval(), melody_config)
    cover_d = {split: melody_cover_dataset(melody_system, audio_path, pyjama_path, split, melody_d[split].key_l,
                                           work_dir / f"{split}_melody_feat.hdf5", cover_config)
               for split in TRAINED_SPLIT_L}
    cover_model, _ = task.train_model(cover_config, cover_d, device, generator, fast_mode,
                                      checkpoint_path=work_dir / "embedding.pt",
                                      valid_score_fn=lambda model: task.cover_scores(model, cover_d["valid"])["MAP"])
    cover_model = cover_model.cpu().eval()
    valid_ds = cover_d["valid"]
    weight, _ = covers.choose_fusion_weight(metrics.pairwise_distances(task.track_embeddings(cover_model, valid_ds)
                                                                       ).numpy(),
                                            covers.melody_alignment(valid_ds), work_of(valid_ds))
    return melody_system, cover_model, weight


def system_map(system, test_file_pair, cover_config, feature_path):
    """MAP of the embedding + alignment on the test versions of one renderer (every version queries the others)."""
    melody_system, cover_model, weight = system
    audio_path, pyjama_path = test_file_pair
    key_l, _ = keys_and_works(pyjama_path)
    test_ds = melody_cover_dataset(melody_system, audio_path, pyjama_path, "test", key_l, feature_path, cover_config)
    embedding_m = metrics.pairwise_distances(task.track_embeddings(cover_model, test_ds)).numpy()
    fused_m = covers.fused_distances(embedding_m, covers.melody_alignment(test_ds), weight)
    return covers.scores_by_kind(fused_m, work_of(test_ds))["all"]["MAP"]


def baseline_map(test_file_pair):
    """MAP of the better non-learned baseline (chroma profile or chroma DTW of the audio) on one renderer's tests."""
    audio_path, pyjama_path = test_file_pair
    key_l, work_v = keys_and_works(pyjama_path)
    chroma_l = covers.audio_chroma_sequences(audio_path, key_l)
    return max(metrics.ranking_metrics(distance_m, work_v)["MAP"]
               for distance_m in (covers.profile_distances(chroma_l), covers.alignment_distances(chroma_l)))


def transfer_table(seed_l, preset="full"):
    """The leave-one-library-out table of the cover system (markdown lines) and its held-out MAP per library."""
    root, device = runtime.project_dir(), runtime.get_device()
    data_dir = root / "data"
    melody_config = load_config(root / "configs" / "cover_melody_hcqt.yaml")
    cover_config = load_config(root / "configs" / "cover_embedding_melody.yaml")
    start = time.perf_counter()
    test_d = {library: build.ensure_dataset(preset, data_dir, split="test", renderer=library, covers=True)
              for library in LIBRARY_L}
    map_d = {}
    with (safe_files.terminate_as_interrupt(),  # killed (SIGTERM) as interrupted: the folder goes
          tempfile.TemporaryDirectory(dir=data_dir, prefix=".transfer_covers-") as folder):
        folder = Path(folder)
        baseline_d = {library: baseline_map(pair) for library, pair in test_d.items()}
        for left_out in LIBRARY_L:
            fold_pair = collection_without(left_out, preset, data_dir, folder)
            for seed in seed_l:
                work_dir = folder / f"{left_out}-{seed}"
                work_dir.mkdir()
                system = train_system(*fold_pair, melody_config, cover_config, seed, work_dir, device,
                                      fast_mode=preset == "small")
                map_d[left_out, seed] = {library: system_map(system, pair, cover_config,
                                                             work_dir / f"test-{library}_melody_feat.hdf5")
                                         for library, pair in test_d.items()}
                print(f"left out {left_out}, seed {seed}: MAP " + ", ".join(
                    f"{library} {value:.3f}" for library, value in map_d[left_out, seed].items()), flush=True)
    row_l, held_out_d = transfer.left_out_rows(map_d, seed_l)
    line_l = [f"cover identification, embedding + alignment ({preset} preset, seeds {list(seed_l)}, "
              f"{(time.perf_counter() - start) / 60:.1f} min): test MAP; rows: the library left out of training",
              *row_l]
    line_l.append("| best non-learned baseline | " + " | ".join(f"{baseline_d[library]:.3f}" for library in LIBRARY_L)
                  + " |")
    line_l.append(f"held-out MAP: min {min(held_out_d.values()):.3f}, mean {np.mean(list(held_out_d.values())):.3f}")
    return line_l, held_out_d


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_seeds_argument(parser)
    parser.add_argument("--preset", default="full")
    args = parser.parse_args()
    print("\n" + "\n".join(transfer_table(args.seeds, args.preset)[0]), flush=True)


if __name__ == "__main__":
    main()
