"""Notebook 08's SDR, checked: ``separation.separation_scores`` (BSS Eval v4 by ``fast_bss_eval``, float32)
against the reference implementations, on the same separations, for agreement (dB) and speed (a ratio).

    .venv/bin/python -m benchmarks.bss_eval_agreement [--preset small] [--tracks 8]

References: ``museval`` (BSS Eval v4, the SiSEC implementation; its file ``metrics.py`` is loaded alone, since
importing the package needs ffmpeg: ``pip install museval`` first) and ``mir_eval.separation`` (BSS Eval v3,
a dependency of the course), both with a 512-tap distortion filter over the whole track (one window), as the
course scores. The separations are those of notebook 08 that need no training: the harmonic mask that knows
the score (a middling separation), the ideal ratio mask (a good one) and the mixture itself (a poor one), for
the first ``--tracks`` test chorales.
"""

import argparse
import importlib.util
import time
from pathlib import Path

import mir_eval
import numpy as np
import torch

from course_utils import runtime, separation
from course_utils.config import load_config
from course_utils.data import build
from course_utils.features import stft


def load_museval_metrics():
    """``museval.metrics`` without ``museval/__init__`` (which imports musdb and needs ffmpeg), or None."""
    spec = importlib.util.find_spec("museval")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "metrics.py"
    module_spec = importlib.util.spec_from_file_location("museval_metrics", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def separations(ds, key, feature_d):
    """name -> (V, n) estimates of a track that need no training, and the stems (V, n)."""
    n_fft, hop, sr_hz = int(feature_d["n_fft"]), int(feature_d["hop_length"]), int(feature_d["sr_hz"])
    mix_v, stem_m = ds.read_track(key)
    spec_m = stft.stft(mix_v, n_fft, hop)
    magnitude_m = torch.stack([stft.stft(stem_v, n_fft, hop).abs() for stem_v in stem_m])
    harmonic_m = separation.harmonic_mask(ds.entry_l[ds.key_l.index(key)], ds.voice_l, spec_m.shape, sr_hz, n_fft,
                                          hop)
    return {"harmonic mask": separation.apply_masks(harmonic_m, spec_m, n_fft, hop, len(mix_v)),
            "ideal ratio mask": separation.apply_masks(separation.ideal_ratio_mask(magnitude_m), spec_m, n_fft, hop,
                                                       len(mix_v)),
            "mixture": np.repeat(mix_v[None], len(stem_m), axis=0)}, stem_m


def timed(fn, *args, **kwargs):
    """(fn(*args, **kwargs), seconds it took)."""
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--tracks", type=int, default=8)
    args = parser.parse_args()
    config = load_config(runtime.project_dir() / "configs" / "separation_unet_stft.yaml")
    audio_file, pyjama_file = build.ensure_dataset(args.preset, runtime.project_dir() / "data", stems=True)
    ds = separation.SeparationDataset(audio_file, pyjama_file, "test", config)
    museval_metrics = load_museval_metrics()
    if museval_metrics is None:
        print("museval is not installed (pip install museval): comparing with mir_eval only")
    diff_ld, second_d = {}, {"course (fast_bss_eval, float32)": 0.0, "mir_eval v3": 0.0,
                             "museval v4, sources": 0.0, "museval v4, images": 0.0}
    for key in ds.key_l[: args.tracks]:
        estimate_d, stem_m = separations(ds, key, config.feature)
        audible_v = separation.audible_voices(stem_m)
        reference_m = stem_m[audible_v].astype(np.float64)
        for name, estimate_m in estimate_d.items():
            course_d, seconds = timed(separation.separation_scores, estimate_m, stem_m)
            second_d["course (fast_bss_eval, float32)"] += seconds
            course_v = course_d["sdr"][audible_v]
            estimate_m = estimate_m[audible_v].astype(np.float64)
            (mir_v, *_), seconds = timed(mir_eval.separation.bss_eval_sources, reference_m, estimate_m,
                                         compute_permutation=False)
            second_d["mir_eval v3"] += seconds
            diff_ld.setdefault((name, "mir_eval v3"), []).extend(course_v - mir_v)
            for reference, sources_version in (("museval v4, sources", True), ("museval v4, images", False)):
                if museval_metrics is None:
                    break
                n = reference_m.shape[1]
                (museval_m, *_), seconds = timed(museval_metrics.bss_eval, reference_m[..., None],
                                                 estimate_m[..., None], window=n, hop=n, filters_len=512,
                                                 bsseval_sources_version=sources_version)
                second_d[reference] += seconds
                diff_ld.setdefault((name, reference), []).extend(course_v - museval_m[:, 0])
    print(f"\n{args.tracks} test chorales of the {args.preset} preset, SDR per voice (dB)\n")
    print("| separation | against | voices | mean difference (dB) | largest difference (dB) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for (name, reference), diff_l in diff_ld.items():
        diff_v = np.array(diff_l)
        print(f"| {name} | {reference} | {len(diff_v)} | {diff_v.mean():+.4f} | {np.abs(diff_v).max():.4f} |")
    print("\n| implementation | seconds | ratio to the course's |")
    print("| --- | ---: | ---: |")
    base = second_d["course (fast_bss_eval, float32)"]
    for name, seconds in second_d.items():
        if seconds > 0:
            print(f"| {name} | {seconds:.2f} | {seconds / base:.1f} |")


if __name__ == "__main__":
    main()
