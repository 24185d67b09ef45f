"""Data loading speed: patches per second through a DataLoader, for each feature placement.

    .venv/bin/python -m benchmarks.bench_loading [--preset small]

For the tagging (LMS) and multi-pitch (HCQT) configs, prints in one run:
- the seed-style in-memory Dataset (librosa features computed in __init__, as in the course text),
- our TagDataset / PitchDataset with features in memory, on disk (HDF5 cache) and on the fly,
each with num_workers 0 and 2: the time to build the dataset, the patches per second of one pass over
the train split in batches, the memory its features take, and, for comparison, how many patches per
second one training step of the config's model (forward + backward, CPU) consumes. Loading is not the
bottleneck when it delivers more patches per second than training consumes.
"""

import argparse
import json
import time
from pathlib import Path

import h5py
import librosa
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from course_utils import dataset as ds
from course_utils import feature, model_factory
from course_utils.config import load_config
from course_utils.data import build

ROOT = Path(__file__).resolve().parents[1]


class SeedTagDataset(Dataset):
    """The course text's TagDataset, reduced to what the benchmark needs (straightforward librosa code)."""

    def __init__(self, hdf5_audio_file, pyjama_annot_file, split, config_d):
        with open(pyjama_annot_file, encoding="utf-8") as json_fid:
            entry_l = json.load(json_fid)["collection"]["entry"]
        entry_l = [e for e in entry_l if e["split"][0]["value"] == split]
        param = config_d["feature"]
        self.data_d, self.patch_l = {}, []
        with h5py.File(hdf5_audio_file, "r") as audio_fid:
            for entry in entry_l:
                key = entry["filepath"][0]["value"]
                audio_v, sr_hz = audio_fid[key][:].astype(np.float32) / 32768, audio_fid[key].attrs["sr_hz"]
                if param["type"] == "lms":
                    mel_m = librosa.feature.melspectrogram(y=audio_v, sr=sr_hz, n_fft=param["L_n"],
                                                           hop_length=param["STEP_n"], n_mels=param["nb_band"])
                    X = np.log1p(10000 * mel_m)[np.newaxis]
                else:
                    bins_per_octave = 12 * param["bins_per_semitone"]
                    X = np.stack([np.abs(librosa.cqt(audio_v, sr=sr_hz, fmin=h * param["fmin"],
                                                     hop_length=param["hop_length"], bins_per_octave=bins_per_octave,
                                                     n_bins=bins_per_octave * param["n_octaves"]))
                                  for h in param["h_l"]])
                self.data_d[key] = {"X": torch.tensor(X).float(), "y": torch.tensor(0)}
                for patch in feature.f_get_patches(X.shape[-1], param["patch_L_frame"], param["patch_STEP_frame"]):
                    self.patch_l.append({"audiofile": key, **patch})

    def __len__(self):
        return len(self.patch_l)

    def __getitem__(self, idx):
        patch = self.patch_l[idx]
        track_d = self.data_d[patch["audiofile"]]
        return {"X": track_d["X"][:, :, patch["start_frame"]:patch["end_frame"]], "y": track_d["y"]}


def feature_megabytes(dataset):
    total = 0
    for track_d in dataset.data_d.values():
        for value in track_d.values():
            total += value.nbytes if isinstance(value, (np.ndarray, torch.Tensor)) and hasattr(value, "nbytes") else 0
    return total / 1e6


def patches_per_second(dataset, batch_size, num_workers, max_batches):
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=num_workers,
                        persistent_workers=False)
    n_patch, start = 0, time.perf_counter()
    for idx_batch, batch in enumerate(loader):
        n_patch += batch["X"].shape[0]
        if idx_batch + 1 >= max_batches:
            break
    return n_patch / (time.perf_counter() - start)


def training_patches_per_second(config, batch_size, n_step=3):
    model = model_factory.NetModel(config, feature.feature_input_dim(config.feature, batch_size))
    optimizer = torch.optim.Adam(model.parameters())
    X = torch.randn(model.input_dim)
    model(X).float().mean().backward()  # warm-up
    start = time.perf_counter()
    for _ in range(n_step):
        optimizer.zero_grad()
        model(X).float().mean().backward()
        optimizer.step()
    return n_step * batch_size / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="small", choices=list(build.PRESET_D))
    parser.add_argument("--max-batches", type=int, default=30)
    args = parser.parse_args()
    audio_path, pyjama_path = build.ensure_dataset(args.preset, ROOT / "data")
    cache_dir = ROOT / "data" / "feature_cache"
    print(f"dataset: {audio_path.name}, {torch.get_num_threads()} torch threads")
    for config_name, dataset_class in (("tag_genre_lms.yaml", ds.TagDataset),
                                       ("pitch_bittner_hcqt.yaml", ds.PitchDataset)):
        config = load_config(ROOT / "configs" / config_name)
        batch_size = config.train.batch_size
        train_rate = training_patches_per_second(config, batch_size)
        print(f"\n{config_name}: one training step consumes {train_rate:.0f} patches/s (batch {batch_size})")
        print("| dataset | features | workers | build (s) | patches/s | ratio to seed-style | feature memory (MB) |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        start = time.perf_counter()
        seed_dataset = SeedTagDataset(audio_path, pyjama_path, "train", config.to_dict())
        seed_build = time.perf_counter() - start
        seed_rate = patches_per_second(seed_dataset, batch_size, 0, args.max_batches)
        print(f"| seed-style | memory (librosa) | 0 | {seed_build:.1f} | {seed_rate:.0f} | 1.0x "
              f"| {feature_megabytes(seed_dataset):.1f} |")
        for placement in ds.FEATURE_PLACEMENT_L:
            start = time.perf_counter()
            dataset = dataset_class(audio_path, pyjama_path, "train", config, feature_placement=placement,
                                    feature_cache_dir=cache_dir, progress=False)
            build_sec = time.perf_counter() - start
            for num_workers in (0, 2):
                rate = patches_per_second(dataset, batch_size, num_workers, args.max_batches)
                print(f"| {dataset_class.__name__} | {placement} | {num_workers} | {build_sec:.1f} | {rate:.0f} "
                      f"| {rate / seed_rate:.2f}x | {feature_megabytes(dataset):.1f} |")


if __name__ == "__main__":
    main()
