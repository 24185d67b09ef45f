"""What tells the dance types apart across sample libraries: timbre or rhythm? A measurement for issue #28.

    .venv/bin/python -m benchmarks.dance_rhythm_features [--preset full]

Non-learned features of each fiddle tune, each classified by a logistic regression (standardised features,
balanced classes), trained on the train and valid splits of one set of renderers and tested on the test split
of each renderer (the held-out library ``merlin`` included), leaving each library out in turn:

- ``mfcc``: the mean and standard deviation of 20 MFCCs (what the tune sounds like: timbre);
- ``tempogram_ratio``: librosa's tempogram ratio (the energy of the tempogram at ratios of the main tempo:
  the metre, invariant to the tempo), mean and standard deviation over time;
- ``onset_autocorr``: the autocorrelation of the onset strength (hop 11.6 ms, lags up to 4.6 s), normalised by
  its value at lag 0 (the rhythm pattern at the tune's own tempo);
- ``rhythm``: the last two together.

Prints the accuracy on each test set (4 dance types; chance about 0.25). About a minute on 2 cores.
"""

import argparse

import librosa
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course_utils import annotation, audio_store, runtime
from course_utils.data import build, renderers

HOP = 256


def fiddle_tracks(audio_file, pyjama_file):
    """[(dance type, renderer, split, sampling rate in Hz, audio (n,) float32)] of the fiddle tunes of a dataset."""
    entry_l = annotation.load_pyjama(pyjama_file)["collection"]["entry"]
    track_l = []
    with audio_store.open_audio_file(audio_file) as fid:
        for entry in entry_l:
            if entry["genre"][0]["value"] == "chorale":
                continue
            dataset = fid[entry["filepath"][0]["value"]]
            track_l.append((entry["genre"][0]["value"], entry["renderer"][0]["value"], entry["split"][0]["value"],
                            int(dataset.attrs["sr_hz"]), dataset[:].astype(np.float32) / 32768.0))
    return track_l


def track_features(audio_v, sr_hz):
    """name -> feature vector of one track (see the module docstring)."""
    onset_v = librosa.onset.onset_strength(y=audio_v, sr=sr_hz, hop_length=HOP)
    tempogram_m = librosa.feature.tempogram(onset_envelope=onset_v, sr=sr_hz, hop_length=HOP, win_length=512)
    ratio_m = librosa.feature.tempogram_ratio(tg=tempogram_m, sr=sr_hz, hop_length=HOP)
    autocorr_v = librosa.autocorrelate(onset_v - onset_v.mean(), max_size=400)
    mfcc_m = librosa.feature.mfcc(y=audio_v, sr=sr_hz, n_mfcc=20)
    feature_d = {"mfcc": np.concatenate([mfcc_m.mean(axis=1), mfcc_m.std(axis=1)]),
                 "tempogram_ratio": np.concatenate([ratio_m.mean(axis=1), ratio_m.std(axis=1)]),
                 "onset_autocorr": autocorr_v[1:] / (autocorr_v[0] + 1e-9)}
    feature_d["rhythm"] = np.concatenate([feature_d["tempogram_ratio"], feature_d["onset_autocorr"]])
    return feature_d


def accuracies(X, label_v, train_mask, test_mask_l):
    """Accuracy on each test set of a logistic regression trained on ``train_mask``."""
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=0.1, class_weight="balanced"))
    classifier.fit(X[train_mask], label_v[train_mask])
    return [float(np.mean(classifier.predict(X[mask]) == label_v[mask])) for mask in test_mask_l]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="full")
    args = parser.parse_args()
    data_dir = runtime.project_dir() / "data"
    track_l = (fiddle_tracks(*build.ensure_dataset(args.preset, data_dir))
               + fiddle_tracks(*build.ensure_dataset(args.preset, data_dir, split="test",
                                                     renderer=renderers.HELDOUT_RENDERER)))
    feature_l = [track_features(audio_v, sr_hz) for *_, sr_hz, audio_v in track_l]
    label_v, renderer_v, split_v = (np.array([track[i] for track in track_l]) for i in range(3))
    train_mask, test_mask = np.isin(split_v, ["train", "valid"]), split_v == "test"
    renderer_l = list(renderers.RENDERER_D)
    print(f"{args.preset} preset: {len(track_l)} fiddle tunes; test tunes per renderer: "
          + ", ".join(f"{r} {np.sum(test_mask & (renderer_v == r))}" for r in renderer_l) + "\n")
    print("| features | trained on | test: " + " | ".join(renderer_l) + " |")
    print("| --- | --- | " + " | ".join("---:" for _ in renderer_l) + " |")
    for name in ("mfcc", "tempogram_ratio", "onset_autocorr", "rhythm"):
        X = np.stack([feature_d[name] for feature_d in feature_l])
        for trained_l in (["synth", "timgm"], ["synth"], ["timgm"]):
            score_l = accuracies(X, label_v, train_mask & np.isin(renderer_v, trained_l),
                                 [test_mask & (renderer_v == r) for r in renderer_l])
            cell_l = [f"{score:.3f}" + ("" if r in trained_l else " (left out)")
                      for score, r in zip(score_l, renderer_l, strict=True)]
            print(f"| {name} | {' + '.join(trained_l)} | " + " | ".join(cell_l) + " |", flush=True)


if __name__ == "__main__":
    main()
