"""The recording chain that every renderer of the course dataset shares: EQ, room, level and noise floor.

Whoever plays the notes (our synthesiser, or a sample library), a version is then "recorded": a channel-strip
EQ drawn for the version (``draw_eq``, applied with ``pedalboard``'s filters by ``equalise``), a room (a
decaying-noise impulse response, ``reverb_impulse_response``), a peak level of 0.9 and a noise floor
(``room_and_level``). Variety that no renderer owns, so that a model cannot learn one renderer's fingerprint.
Taught in notebooks/01_data.ipynb.
"""

import numpy as np
import pedalboard
import scipy.signal

SR_HZ = 22050  # the rate of the course dataset


def draw_eq(rng):
    """A random channel-strip EQ for one version (what a microphone, a room and an engineer do to a timbre):
    a low shelf, one bell and a high shelf, each up to +-9 dB (the top shelf down to -12 dB: a dull recording).
    Returns the ``eq_d`` of ``equalise`` (frequencies in Hz, gains in dB)."""
    return {"low_shelf_hz": float(np.exp(rng.uniform(np.log(120), np.log(500)))),
            "low_shelf_db": float(rng.uniform(-9, 9)),
            "peak_hz": float(np.exp(rng.uniform(np.log(300), np.log(4000)))),
            "peak_db": float(rng.uniform(-9, 9)), "peak_q": float(rng.uniform(0.5, 2.0)),
            "high_shelf_hz": float(np.exp(rng.uniform(np.log(2000), np.log(7000)))),
            "high_shelf_db": float(rng.uniform(-12, 6))}


def equalise(mix_v, sr_hz, eq_d):
    """Filter a mix by the EQ ``eq_d`` (``draw_eq``): a low shelf, a bell, a high shelf (pedalboard's biquads).

    mix_v : (n_samples,) float; returns float64 of the same shape.
    """
    board = pedalboard.Pedalboard([
        pedalboard.LowShelfFilter(cutoff_frequency_hz=eq_d["low_shelf_hz"], gain_db=eq_d["low_shelf_db"]),
        pedalboard.PeakFilter(cutoff_frequency_hz=eq_d["peak_hz"], gain_db=eq_d["peak_db"], q=eq_d["peak_q"]),
        pedalboard.HighShelfFilter(cutoff_frequency_hz=eq_d["high_shelf_hz"], gain_db=eq_d["high_shelf_db"]),
    ])
    return board(mix_v.astype(np.float32), float(sr_hz)).astype(np.float64)


def reverb_impulse_response(rng, rt60_sec, sr_hz=SR_HZ):
    """A simple room: exponentially decaying noise reaching -60 dB after ``rt60_sec``; shape (n,)."""
    n_samples = int(rt60_sec * sr_hz)
    time_sec_v = np.arange(n_samples) / sr_hz
    response_v = rng.standard_normal(n_samples) * 10 ** (-3 * time_sec_v / rt60_sec)
    response_v[0] = 0.0
    return response_v / np.sqrt(np.sum(response_v**2))


def room_and_level(mix_v, rng, sr_hz=SR_HZ, reverb_rt60_sec=0.8, reverb_wet=0.2, noise_db=-60.0, eq_d=None):
    """The last stage of every renderer: the version's EQ (``equalise``, when ``eq_d`` is given), room reverb
    (``reverb_wet`` of a room of ``reverb_rt60_sec``), peak at 0.9, a noise floor at ``noise_db`` dB. Shape kept;
    float32 in [-1, 1]."""
    return record_stems({"mix": mix_v}, rng, sr_hz, reverb_rt60_sec, reverb_wet, noise_db, eq_d)[0]


def record_stems(stem_d, rng, sr_hz=SR_HZ, reverb_rt60_sec=0.8, reverb_wet=0.2, noise_db=-60.0, eq_d=None):
    """Record several sources in one room: each stem through the same EQ and the same room (one impulse
    response), all scaled by one gain that puts the peak of their sum at 0.9; the noise floor is added to the
    mixture only.

    stem_d : dict name -> (n_samples,) float, the dry sources (e.g. one per voice), all of one length
    Returns (mixture_v, recorded_stem_d): float32 arrays of that length; mixture_v = sum of the recorded stems +
    the noise floor (exactly, before the clip to [-1, 1], which a peak of 0.9 and a floor of -40 dB or less
    never reach). The chain is linear but for the noise: this is what makes the stems exact targets for source
    separation (notebooks/08_source_separation.ipynb).
    """
    n_out = len(next(iter(stem_d.values())))
    if eq_d is not None:
        stem_d = {name: equalise(stem_v, sr_hz, eq_d) for name, stem_v in stem_d.items()}
    if reverb_wet > 0:
        response_v = reverb_impulse_response(rng, reverb_rt60_sec, sr_hz)
        stem_d = {name: (1 - reverb_wet) * stem_v + reverb_wet * scipy.signal.fftconvolve(stem_v, response_v)[:n_out]
                  for name, stem_v in stem_d.items()}
    sum_v = np.sum(list(stem_d.values()), axis=0)
    peak = np.abs(sum_v).max()
    gain = 0.9 / peak if peak > 0 else 1.0
    mixture_v = gain * sum_v + 10 ** (noise_db / 20) * rng.standard_normal(n_out)
    return (np.clip(mixture_v, -1, 1).astype(np.float32),
            {name: (gain * stem_v).astype(np.float32) for name, stem_v in stem_d.items()})


def record_chain(mix_d, n_out, rng, sr_hz, reverb_rt60_sec, reverb_wet, noise_db, eq_d, stems):
    """What a renderer returns from its dry mixes ``mix_d`` (one per voice with ``stems``, else one: 'mix'; an
    empty dict is silence): the recorded mixture, and with ``stems`` also the dict voice -> recorded stem."""
    if not stems:
        return room_and_level(mix_d.get("mix", np.zeros(n_out)), rng, sr_hz, reverb_rt60_sec, reverb_wet, noise_db,
                              eq_d)
    return record_stems(mix_d or {"mix": np.zeros(n_out)}, rng, sr_hz, reverb_rt60_sec, reverb_wet, noise_db, eq_d)
