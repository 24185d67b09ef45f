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
    n_out = mix_v.size
    if eq_d is not None:
        mix_v = equalise(mix_v, sr_hz, eq_d)
    if reverb_wet > 0:
        wet_v = scipy.signal.fftconvolve(mix_v, reverb_impulse_response(rng, reverb_rt60_sec, sr_hz))[:n_out]
        mix_v = (1 - reverb_wet) * mix_v + reverb_wet * wet_v
    peak = np.abs(mix_v).max()
    if peak > 0:
        mix_v = mix_v / peak * 0.9
    mix_v = mix_v + 10 ** (noise_db / 20) * rng.standard_normal(n_out)
    return np.clip(mix_v, -1, 1).astype(np.float32)
