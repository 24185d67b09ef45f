"""What a codec keeps for the course's own tasks: notebook 06's multi-pitch model and notebook 05's instrument model
run on decoded audio, against the same models on the original audio.

- ``first_seconds``: the first seconds of tracks of an ``_audio.hdf5`` file (key -> audio);
- ``pitch_pairs`` and ``pitch_accuracy``: a pitch model's salience on such audio (its HCQT computed from the audio
  given, original or decoded) beside the tracks' piano rolls, and mir_eval's multi-pitch Accuracy, averaged over
  tracks;
- ``instrument_roc_auc``: the macro ROC-AUC of an instrument model's track probabilities on such audio.

Taught in notebooks/10_autoencoders.ipynb.
"""

import numpy as np

from course_utils import feature, metrics, task
from course_utils.audio_store import open_audio_file, read_audio


def first_seconds(hdf5_audio_file, key_l, n_sec):
    """key -> the first ``n_sec`` seconds of the track (the whole track if shorter), float32, at the file's rate
    (returned as the second value: (audio_d, sr_hz))."""
    audio_d, sr_hz = {}, None
    with open_audio_file(hdf5_audio_file) as audio_fid:
        for key in key_l:
            audio_v, sr_hz = read_audio(audio_fid, key, hdf5_audio_file)
            audio_d[key] = np.asarray(audio_v[:int(round(n_sec * sr_hz))], dtype=np.float32)
    return audio_d, sr_hz


def pitch_pairs(model, config, audio_d, target_ds, relative=True):
    """(salience, piano roll) of each audio of ``audio_d`` (key -> audio at ``config.feature.sr_hz``): the salience of
    ``model`` (a pitch model of the config's HCQT) computed from that audio, and the track's piano roll in
    ``target_ds`` (a ``PitchDataset`` holding the same keys) cut to the same frames; two lists of (n_bins, T)
    arrays. ``relative``: each salience divided by the track's clearest notes (notebook 06,
    ``metrics.relative_salience``), so that the threshold is relative to the track."""
    salience_l, roll_l = [], []
    for key, audio_v in audio_d.items():
        X, _ = feature.f_get_feature(audio_v, config["feature"]["sr_hz"], config["feature"])
        salience_m = task.salience(model, X)
        roll_m = target_ds.get_target(key).numpy()[:, :salience_m.shape[1]]
        salience_m = salience_m[:, :roll_m.shape[1]]
        salience_l.append(metrics.relative_salience(salience_m) if relative else salience_m)
        roll_l.append(roll_m)
    return salience_l, roll_l


def pitch_accuracy(model, config, audio_d, target_ds, threshold, relative=True):
    """mir_eval's multi-pitch Accuracy of the ``pitch_pairs`` of ``audio_d``, the salience thresholded at
    ``threshold`` (choose it on validation audio: ``metrics.choose_threshold(*pitch_pairs(...))``), averaged over
    the tracks."""
    salience_l, roll_l = pitch_pairs(model, config, audio_d, target_ds, relative)
    hop_sec = feature.f_get_hop_sec(config["feature"], config["feature"]["sr_hz"])
    return metrics.mean_multipitch_scores(salience_l, roll_l, threshold, hop_sec,
                                          feature.f_get_pitch_grid_hz(config["feature"]))["Accuracy"]


def instrument_roc_auc(model, config, audio_d, target_ds):
    """Macro ROC-AUC (over the instruments present) of ``model``'s track probabilities, the mean of its patches'
    sigmoids (notebook 05), on each audio of ``audio_d``, against the tags of ``target_ds`` (a ``TagDataset`` of
    the same keys)."""
    prob_l = []
    for audio_v in audio_d.values():
        X, _ = feature.f_get_feature(audio_v, config["feature"]["sr_hz"], config["feature"])
        patch_l = feature.f_get_patches(X.shape[-1], config["feature"]["patch_L_frame"],
                                        config["feature"]["patch_STEP_frame"])
        prob_l.append(task.patch_mean_probability(model, X, patch_l))
    target_m = np.stack([target_ds.get_target(key).numpy() for key in audio_d])
    return task.tag_scores(np.array(prob_l), target_m)[0]
