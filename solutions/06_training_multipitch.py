"""Solutions of the exercises of notebooks/06_training_multipitch.ipynb."""

import numpy as np
import torch


def bce_with_pos_weight(logit_m, target_m, pos_weight):
    """Binary cross-entropy of logits against 0/1 targets, the positives' term weighted by pos_weight, averaged."""
    log_p = torch.nn.functional.logsigmoid(logit_m)  # log sigmoid(z), exact even for large |z|
    log_not_p = torch.nn.functional.logsigmoid(-logit_m)  # log (1 - sigmoid(z))
    return -(pos_weight * target_m * log_p + (1 - target_m) * log_not_p).mean()


def accuracy_by_hand(reference_roll_m, estimated_roll_m):
    """mir_eval's multi-pitch Accuracy of two 0/1 rolls (pitch, frame): TP / (TP + FP + FN) over all frames."""
    reference_b, estimated_b = reference_roll_m > 0, estimated_roll_m > 0
    tp = np.sum(reference_b & estimated_b)
    fp = np.sum(~reference_b & estimated_b)
    fn = np.sum(reference_b & ~estimated_b)
    return tp / (tp + fp + fn)


def roll_to_notes(roll_m, time_sec_v, midi_v):
    """Notes (onset_sec, offset_sec, midi) of a 0/1 roll (pitch, frame): one per run of active frames."""
    hop_sec = time_sec_v[1] - time_sec_v[0]
    note_l = []
    for row, midi in zip(roll_m > 0, midi_v, strict=True):
        edge_v = np.diff(np.concatenate([[0], row.astype(int), [0]]))  # +1 where a run starts, -1 after it ends
        for start, end in zip(np.flatnonzero(edge_v == 1), np.flatnonzero(edge_v == -1), strict=True):
            note_l.append((time_sec_v[start], time_sec_v[end - 1] + hop_sec, int(midi)))
    return sorted(note_l, key=lambda note: (note[0], note[2]))


# the HCQT: its accuracy is the higher, and it makes clearly fewer false alarms at the harmonics of the notes that
# sound (an octave, a twelfth... above them), the errors its harmonic channels are there to prevent
my_decision = ("hcqt", "harmonic false alarms")
