"""Feature speed: our LMS and HCQT against the straightforward librosa baselines, in the same run.

    .venv/bin/python -m benchmarks.bench_features

Baselines (what the reference course did):
- LMS: librosa.feature.melspectrogram, then log(1 + 10000 * mel).
- HCQT: one librosa.cqt per harmonic (fmin = h * fmin), stacked.
Prints, for one 30 s clip and for a batch of tracks, the median time of each over a few repeats,
the ratio baseline / ours, and the relative L2 error of ours against the baseline. Our HCQT runs its
octave levels on threads (``_hcqt_engine.default_n_threads()``, the cores of this machine, at most 4);
the "1 thread" columns give the same code on one thread, as the baseline runs.

Second comparator for the HCQT, when installed (``pip install -e ".[bench]"``): nnAudio, a GPU-oriented
audio library, one ``nnAudio.features.CQT1992v2`` per harmonic on the CPU (its kernels built once, before
timing; torch's own threads).
"""

import argparse
import platform
import time

import librosa
import numpy as np

from course_utils import feature
from course_utils.features import _hcqt_engine

SR_HZ = 22050
PARAM_LMS = {"nb_band": 128, "L_n": 2048, "STEP_n": 1024}
PARAM_HCQT_L = [
    {"h_l": [0.5, 1, 2, 3, 4, 5], "fmin": 32.7, "n_octaves": 6, "bins_per_semitone": 3, "hop_length": 256},
    {"h_l": [0.5, 1, 2, 3, 4, 5], "fmin": 32.7, "n_octaves": 6, "bins_per_semitone": 5, "hop_length": 512},
]


def baseline_lms(audio_v, sr_hz, param):
    mel_m = librosa.feature.melspectrogram(y=audio_v, sr=sr_hz, n_fft=param["L_n"], hop_length=param["STEP_n"],
                                           n_mels=param["nb_band"])
    return np.log1p(10000 * mel_m)[np.newaxis]


def baseline_hcqt(audio_v, sr_hz, param):
    bins_per_octave = 12 * param["bins_per_semitone"]
    return np.stack([np.abs(librosa.cqt(audio_v, sr=sr_hz, fmin=h * param["fmin"], hop_length=param["hop_length"],
                                        bins_per_octave=bins_per_octave,
                                        n_bins=bins_per_octave * param["n_octaves"]))
                     for h in param["h_l"]])


def nnaudio_hcqt_fn(sr_hz, param):
    """An HCQT made of one nnAudio CQT layer per harmonic (kernels built here, once), or None without nnAudio."""
    try:
        import torch
        from nnAudio.features import CQT1992v2
    except ImportError:
        return None
    bins_per_octave = 12 * param["bins_per_semitone"]
    layer_l = [CQT1992v2(sr=sr_hz, hop_length=param["hop_length"], fmin=h * param["fmin"],
                         n_bins=bins_per_octave * param["n_octaves"], bins_per_octave=bins_per_octave, verbose=False)
               for h in param["h_l"]]

    def hcqt(audio_v):
        with torch.no_grad():
            X = torch.from_numpy(audio_v)[None]
            return np.stack([layer(X)[0].numpy() for layer in layer_l])
    return hcqt


def music_like_clip(duration_sec, seed):
    """A few harmonic notes with vibrato and noise: a test signal with energy across the spectrum."""
    rng = np.random.default_rng(seed)
    time_sec_v = np.arange(int(duration_sec * SR_HZ)) / SR_HZ
    audio_v = 0.01 * rng.standard_normal(time_sec_v.size)
    for _ in range(4):
        f0_hz = 110 * 2 ** (rng.integers(0, 36) / 12)
        phase_v = 2 * np.pi * f0_hz * (time_sec_v + 0.002 * np.sin(2 * np.pi * 5 * time_sec_v))
        for harmonic in range(1, 8):
            audio_v += 0.1 / harmonic * np.sin(harmonic * phase_v)
    return (audio_v / np.abs(audio_v).max() * 0.8).astype(np.float32)


def median_time(function, audio_l, repeats):
    """Median over ``repeats`` of the time to apply ``function`` to every clip of ``audio_l``; last result."""
    time_l = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = [function(audio_v) for audio_v in audio_l][-1]
        time_l.append(time.perf_counter() - start)
    return float(np.median(time_l)), result


def relative_error(ours, reference):
    n_frames = min(ours.shape[-1], reference.shape[-1])
    return float(np.linalg.norm(ours[..., :n_frames] - reference[..., :n_frames])
                 / np.linalg.norm(reference[..., :n_frames]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=20, help="tracks in the batch test")
    parser.add_argument("--batch-duration", type=float, default=10.0, help="seconds per batch track")
    args = parser.parse_args()

    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"librosa {librosa.__version__}")
    clip_v = music_like_clip(30.0, seed=0)
    batch_l = [music_like_clip(args.batch_duration, seed=i + 1) for i in range(args.batch)]
    # warm-up: first calls build caches (ours) and import lazily-loaded code (both)
    feature.f_get_lms(clip_v[:SR_HZ], SR_HZ, PARAM_LMS)
    baseline_lms(clip_v[:SR_HZ], SR_HZ, PARAM_LMS)
    for param in PARAM_HCQT_L:
        feature.f_get_hcqt(clip_v[:SR_HZ], SR_HZ, param)
        baseline_hcqt(clip_v[:SR_HZ], SR_HZ, param)

    print(f"HCQT threads: {_hcqt_engine.default_n_threads()} (ours); 1 (librosa)")
    lms_fn = (lambda a: feature.f_get_lms(a, SR_HZ, PARAM_LMS)[0], lambda a: baseline_lms(a, SR_HZ, PARAM_LMS))
    print("\n| feature | input | ours (s) | baseline (s) | speed-up | rel. L2 error |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    name = "LMS 128 bands, win 2048, hop 1024"
    ours_sec, ours = median_time(lms_fn[0], [clip_v], args.repeats)
    base_sec, reference = median_time(lms_fn[1], [clip_v], args.repeats)
    print(f"| {name} | one 30 s clip | {ours_sec:.3f} | {base_sec:.3f} | {base_sec / ours_sec:.1f}x "
          f"| {relative_error(ours, reference):.1e} |")
    ours_sec, _ = median_time(lms_fn[0], batch_l, 1)
    base_sec, _ = median_time(lms_fn[1], batch_l, 1)
    print(f"| {name} | {args.batch} tracks x {args.batch_duration:.0f} s | {ours_sec:.3f} | {base_sec:.3f} "
          f"| {base_sec / ours_sec:.1f}x | |")

    print("\n| HCQT h=[0.5, 1, 2, 3, 4, 5] | input | ours (s) | ours, 1 thread (s) | librosa (s) | speed-up "
          "| speed-up, 1 thread | nnAudio CPU (s) | nnAudio / ours | rel. L2 error: ours, nnAudio |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for param in PARAM_HCQT_L:
        name = f"{param['bins_per_semitone']} bins/semitone, hop {param['hop_length']}"
        bins_per_octave = 12 * param["bins_per_semitone"]
        n_bins = bins_per_octave * param["n_octaves"]

        def ours_fn(a, p=param):
            return feature.f_get_hcqt(a, SR_HZ, p)[0]

        def one_thread_fn(a, p=param, b=bins_per_octave, n=n_bins):
            return _hcqt_engine.hcqt_magnitude(a, SR_HZ, p["h_l"], p["fmin"], b, n, p["hop_length"], n_threads=1)

        def baseline_fn(a, p=param):
            return baseline_hcqt(a, SR_HZ, p)

        nnaudio_fn = nnaudio_hcqt_fn(SR_HZ, param)
        for label, audio_l, repeats in (("one 30 s clip", [clip_v], args.repeats),
                                        (f"{args.batch} tracks x {args.batch_duration:.0f} s", batch_l, 1)):
            ours_sec, ours = median_time(ours_fn, audio_l, repeats)
            one_sec, _ = median_time(one_thread_fn, audio_l, repeats)
            base_sec, reference = median_time(baseline_fn, audio_l, repeats)
            error = f"{relative_error(ours, reference):.1e}"
            nnaudio_cells = "| not installed | |"
            if nnaudio_fn is not None:
                nnaudio_sec, nnaudio_out = median_time(nnaudio_fn, audio_l, repeats)
                nnaudio_cells = f"| {nnaudio_sec:.3f} | {nnaudio_sec / ours_sec:.1f}x |"
                error += f", {relative_error(nnaudio_out, reference):.1e}"
            print(f"| {name} | {label} | {ours_sec:.3f} | {one_sec:.3f} | {base_sec:.3f} | {base_sec / ours_sec:.1f}x "
                  f"| {base_sec / one_sec:.1f}x {nnaudio_cells} {error} |")

if __name__ == "__main__":
    main()
