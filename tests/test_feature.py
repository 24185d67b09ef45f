"""course_utils.feature: shapes, times, agreement with librosa, patches, and every bad input."""

from types import SimpleNamespace

import librosa
import numpy as np
import pytest

from course_utils import feature
from course_utils.config import ConfigError

SR_HZ = 22050
PARAM_LMS = {"nb_band": 128, "L_n": 2048, "STEP_n": 1024}
PARAM_HCQT = {"h_l": [0.5, 1, 2, 3, 4, 5], "fmin": 32.7, "n_octaves": 6, "bins_per_semitone": 3,
              "hop_length": 512}
PARAM_TEMPOGRAM = {"nb_band": 64, "L_n": 2048, "onset_hop_n": 512, "nb_lag": 128, "STEP_n": 2048}


def _tone(duration_sec=3.0, freq_hz=440.0, sr_hz=SR_HZ):
    time_sec_v = np.arange(int(duration_sec * sr_hz)) / sr_hz
    rng = np.random.default_rng(0)
    return (0.5 * np.sin(2 * np.pi * freq_hz * time_sec_v)
            + 0.2 * np.sin(2 * np.pi * 1.5 * freq_hz * time_sec_v)
            + 0.01 * rng.standard_normal(time_sec_v.size)).astype(np.float32)


def test_waveform_shape_and_time_axis():
    audio_v = _tone(1.0)
    data_m, time_sec_v = feature.f_get_waveform(audio_v, SR_HZ)
    assert data_m.shape == (1, SR_HZ) and data_m.dtype == np.float32
    assert time_sec_v[1] == pytest.approx(1 / SR_HZ) and time_sec_v[-1] == pytest.approx(1 - 1 / SR_HZ)


@pytest.mark.parametrize("param_lms", [PARAM_LMS, SimpleNamespace(**PARAM_LMS)], ids=["dict", "attributes"])
def test_lms_matches_librosa_and_the_seed_compression(param_lms):
    audio_v = _tone(3.0)
    data_3m, time_sec_v = feature.f_get_lms(audio_v, SR_HZ, param_lms)
    mel_m = librosa.feature.melspectrogram(y=audio_v, sr=SR_HZ, n_fft=2048, hop_length=1024, n_mels=128)
    expected_m = np.log(1 + 10000 * mel_m)
    assert data_3m.shape == (1, 128, expected_m.shape[1])
    assert np.linalg.norm(data_3m[0] - expected_m) / np.linalg.norm(expected_m) < 1e-5
    np.testing.assert_allclose(time_sec_v, np.arange(expected_m.shape[1]) * 1024 / SR_HZ)


def test_lms_peak_is_in_the_band_of_the_tone():
    data_3m, _ = feature.f_get_lms(_tone(2.0, 1000.0), SR_HZ, PARAM_LMS)
    mel_hz_v = librosa.mel_frequencies(n_mels=130, fmax=SR_HZ / 2)[1:-1]
    peak_hz = mel_hz_v[np.argmax(data_3m[0].mean(axis=1))]
    assert 900 < peak_hz < 1100


def _reference_hcqt(audio_v, param):
    bins_per_octave = 12 * param["bins_per_semitone"]
    return [np.abs(librosa.cqt(audio_v, sr=SR_HZ, fmin=h * param["fmin"], hop_length=param["hop_length"],
                               bins_per_octave=bins_per_octave, n_bins=bins_per_octave * param["n_octaves"]))
            for h in param["h_l"]]


@pytest.mark.parametrize("param", [
    PARAM_HCQT,
    dict(PARAM_HCQT, hop_length=256),
    dict(PARAM_HCQT, bins_per_semitone=5, hop_length=256),
    dict(PARAM_HCQT, h_l=[1, 1.5, 2.5], n_octaves=5),
    dict(PARAM_HCQT, h_l=[0.5, 1, 3], fmin=55.0, n_octaves=4, hop_length=512),
], ids=["bps3-hop512", "bps3-hop256", "bps5-hop256", "non-integer-h", "other-fmin"])
def test_hcqt_matches_the_per_harmonic_librosa_definition(param):
    audio_v = _tone(4.0, 220.0)
    data_3m, time_sec_v, frequency_hz_v = feature.f_get_hcqt(audio_v, SR_HZ, param)
    reference_l = _reference_hcqt(audio_v, param)
    n_bins = 12 * param["bins_per_semitone"] * param["n_octaves"]
    assert data_3m.shape[:2] == (len(param["h_l"]), n_bins) and data_3m.dtype == np.float32
    assert abs(data_3m.shape[2] - reference_l[0].shape[1]) <= 1
    for channel, reference_m in enumerate(reference_l):
        n_frames = min(reference_m.shape[1], data_3m.shape[2])
        ours_m = data_3m[channel, :, :n_frames]
        error = np.linalg.norm(ours_m - reference_m[:, :n_frames]) / np.linalg.norm(reference_m[:, :n_frames])
        assert error <= 1e-2, f"harmonic {param['h_l'][channel]}: relative L2 error {error:.2e}"
    np.testing.assert_allclose(frequency_hz_v, librosa.cqt_frequencies(n_bins, fmin=param["fmin"],
                                                                       bins_per_octave=n_bins // param["n_octaves"]))
    np.testing.assert_allclose(time_sec_v, np.arange(data_3m.shape[2]) * param["hop_length"] / SR_HZ)


def test_hcqt_peak_is_at_the_fundamental_in_the_h1_channel():
    data_3m, _, frequency_hz_v = feature.f_get_hcqt(_tone(2.0, 220.0), SR_HZ, PARAM_HCQT)
    channel = PARAM_HCQT["h_l"].index(1)
    assert frequency_hz_v[np.argmax(data_3m[channel].mean(axis=1))] == pytest.approx(220, rel=0.02)


def test_hcqt_log_gain_compresses():
    param = dict(PARAM_HCQT, log_gain=100.0)
    audio_v = _tone(1.0)
    data_3m, _, _ = feature.f_get_hcqt(audio_v, SR_HZ, param)
    linear_3m, _, _ = feature.f_get_hcqt(audio_v, SR_HZ, PARAM_HCQT)
    np.testing.assert_allclose(data_3m, np.log1p(100.0 * linear_3m), rtol=1e-5)


def test_f_get_feature_dispatches_on_type():
    audio_v = _tone(1.0)
    assert feature.f_get_feature(audio_v, SR_HZ, {"type": "waveform"})[0].shape == (1, SR_HZ)
    assert feature.f_get_feature(audio_v, SR_HZ, dict(PARAM_LMS, type="lms"))[0].shape[:2] == (1, 128)
    assert feature.f_get_feature(audio_v, SR_HZ, dict(PARAM_HCQT, type="hcqt"))[0].shape[:2] == (6, 216)
    with pytest.raises(ValueError, match="unknown feature type 'mfcc'"):
        feature.f_get_feature(audio_v, SR_HZ, {"type": "mfcc"})


# --- the tempogram: rhythm, whatever plays it -------------------------------------------------------


def _notes(onset_sec_l, sound, duration_sec=8.0):
    """Short notes starting at ``onset_sec_l``: 'tone' (a decaying 440 Hz sine with a harmonic) or 'noise'
    (a decaying noise burst): the same rhythm played by two very different timbres."""
    audio_v = np.zeros(int(duration_sec * SR_HZ), dtype=np.float32)
    note_time_v = np.arange(int(0.1 * SR_HZ)) / SR_HZ
    envelope_v = np.exp(-note_time_v / 0.03)
    if sound == "tone":
        note_v = envelope_v * (np.sin(2 * np.pi * 440 * note_time_v) + 0.5 * np.sin(2 * np.pi * 880 * note_time_v))
    else:
        note_v = envelope_v * np.random.default_rng(0).standard_normal(note_time_v.size)
    for onset_sec in onset_sec_l:
        start = int(onset_sec * SR_HZ)
        audio_v[start:start + note_v.size] += 0.3 * note_v[:audio_v.size - start].astype(np.float32)
    return audio_v


def test_tempogram_shape_times_and_its_peak_at_the_beat():
    beat_sec = 512 * 20 / SR_HZ  # 20 onset frames (0.46 s): the peak lands on a lag, not between two
    audio_v = _notes(np.arange(0, 8.0, beat_sec), "tone")
    data_3m, time_sec_v = feature.f_get_tempogram(audio_v, SR_HZ, PARAM_TEMPOGRAM)
    assert data_3m.shape == (1, 128, 1 + audio_v.size // 2048) and data_3m.dtype == np.float32
    assert time_sec_v[1] == pytest.approx(2048 / SR_HZ)
    assert feature.f_get_n_frames(audio_v.size, dict(PARAM_TEMPOGRAM, type="tempogram")) == data_3m.shape[-1]
    middle_v = data_3m[0, :, data_3m.shape[-1] // 2]
    assert middle_v[0] == pytest.approx(1.0)  # normalised at lag 0
    assert np.argmax(middle_v[5:]) + 5 == 20  # the first peak after lag 0 is the beat, in onset frames


def test_tempogram_hears_the_rhythm_not_the_timbre():
    """The same rhythm played by a tone and by noise bursts: nearly the same tempogram; another rhythm played by
    the same tone: a different one. The log-mel spectrogram says the opposite."""
    rhythm_a_sec_l = [0.0, 0.35, 0.5, 0.85, 1.0]  # a dotted pattern, repeated every 1 s
    rhythm_a_sec_l = [bar + t for bar in range(8) for t in rhythm_a_sec_l]
    rhythm_b_sec_l = np.arange(0, 8.0, 1 / 3)  # even triplets
    param = dict(PARAM_TEMPOGRAM, type="tempogram")

    def mean_tempogram(onset_sec_l, sound):
        return feature.f_get_feature(_notes(onset_sec_l, sound), SR_HZ, param)[0][0].mean(axis=1)

    def similarity(a_v, b_v):
        return float(np.corrcoef(a_v, b_v)[0, 1])

    tone_a_v, noise_a_v, tone_b_v = (mean_tempogram(rhythm_a_sec_l, "tone"), mean_tempogram(rhythm_a_sec_l, "noise"),
                                     mean_tempogram(rhythm_b_sec_l, "tone"))
    assert similarity(tone_a_v, noise_a_v) > 0.95
    assert similarity(tone_a_v, tone_b_v) < similarity(tone_a_v, noise_a_v) - 0.3


def test_tempogram_step_must_be_a_multiple_of_the_onset_hop():
    with pytest.raises(ValueError, match=r"STEP_n \(2000\) must be a multiple of onset_hop_n \(512\)"):
        feature.f_get_tempogram(_tone(2.0), SR_HZ, dict(PARAM_TEMPOGRAM, STEP_n=2000))
    assert feature.feature_input_dim(dict(PARAM_TEMPOGRAM, type="tempogram", patch_L_frame=64), 4) == [4, 1, 128, 64]


# --- bad inputs -----------------------------------------------------------------------------------

@pytest.mark.parametrize("bad_audio, message", [
    (np.zeros(0, dtype=np.float32), "empty"),
    (np.array([0.0, np.nan, 0.1], dtype=np.float32), "NaN or inf"),
    (np.array([0.0, np.inf, 0.1], dtype=np.float32), "NaN or inf"),
    (np.zeros((2, 1000), dtype=np.float32), "mono"),
    (np.zeros(1000, dtype=np.int16), "astype"),
    ([0.0, 0.1], "numpy array"),
])
@pytest.mark.parametrize("function", ["waveform", "lms", "hcqt", "tempogram"])
def test_bad_audio_is_rejected_with_a_fix(bad_audio, message, function):
    with pytest.raises(ValueError, match=message):
        if function == "waveform":
            feature.f_get_waveform(bad_audio, SR_HZ)
        elif function == "lms":
            feature.f_get_lms(bad_audio, SR_HZ, PARAM_LMS)
        elif function == "tempogram":
            feature.f_get_tempogram(bad_audio, SR_HZ, PARAM_TEMPOGRAM)
        else:
            feature.f_get_hcqt(bad_audio, SR_HZ, PARAM_HCQT)


@pytest.mark.parametrize("bad_sr", [0, -22050, None, "22050"])
def test_bad_sampling_rate_is_rejected(bad_sr):
    with pytest.raises(ValueError, match="sr_hz must be a positive number"):
        feature.f_get_lms(_tone(0.5), bad_sr, PARAM_LMS)


@pytest.mark.parametrize("bad_hop", [0, -512, 1.5])
def test_bad_hop_is_rejected(bad_hop):
    with pytest.raises(ValueError, match="hop_length must be a positive whole number"):
        feature.f_get_hcqt(_tone(0.5), SR_HZ, dict(PARAM_HCQT, hop_length=bad_hop))
    with pytest.raises(ValueError, match="STEP_n .* must be a positive whole number"):
        feature.f_get_lms(_tone(0.5), SR_HZ, dict(PARAM_LMS, STEP_n=bad_hop))


def test_hcqt_above_nyquist_is_rejected():
    with pytest.raises(ValueError, match="above the Nyquist frequency 8000 Hz"):
        feature.f_get_hcqt(_tone(1.0, sr_hz=16000), 16000, PARAM_HCQT)


def test_missing_parameter_is_named():
    with pytest.raises(ValueError, match="'nb_band' is missing"):
        feature.f_get_lms(_tone(0.5), SR_HZ, {"L_n": 2048, "STEP_n": 1024})


# --- patches --------------------------------------------------------------------------------------

def test_patches_regular_case():
    patch_l = feature.f_get_patches(128, 64, 32)
    assert patch_l == [{"start_frame": 0, "end_frame": 64}, {"start_frame": 32, "end_frame": 96},
                       {"start_frame": 64, "end_frame": 128}]


def test_patches_tail_is_covered_by_an_end_aligned_patch():
    patch_l = feature.f_get_patches(100, 64, 32)
    assert patch_l[-1] == {"start_frame": 36, "end_frame": 100}
    assert all(p["end_frame"] - p["start_frame"] == 64 for p in patch_l)
    covered_v = np.zeros(100, bool)
    for p in patch_l:
        covered_v[p["start_frame"]:p["end_frame"]] = True
    assert covered_v.all()


def test_patches_exactly_one_patch():
    assert feature.f_get_patches(64, 64, 32) == [{"start_frame": 0, "end_frame": 64}]


def test_patches_shorter_than_one_patch_is_an_error():
    with pytest.raises(ValueError, match="fewer than one patch of 64 frames"):
        feature.f_get_patches(40, 64, 32)
    with pytest.raises(ValueError, match="fewer than one patch"):
        feature.f_get_patches(0, 64, 32)


@pytest.mark.parametrize("args", [(100, 0, 32), (100, 64, 0), (100, 64, -1), (-5, 64, 32)])
def test_patches_bad_sizes(args):
    with pytest.raises(ValueError, match="must be a positive whole number"):
        feature.f_get_patches(*args)


def test_feature_input_dim():
    assert feature.feature_input_dim({"type": "waveform", "patch_L_frame": 100}, 2) == [2, 1, 100]
    assert feature.feature_input_dim({"type": "lms", "nb_band": 64, "patch_L_frame": 10}, 2) == [2, 1, 64, 10]
    with pytest.raises(ConfigError, match="'patch_L_frame' is missing"):
        feature.feature_input_dim({"type": "lms", "nb_band": 64}, 2)
    with pytest.raises(ConfigError, match="unknown feature type 'mfcc'"):
        feature.feature_input_dim({"type": "mfcc", "patch_L_frame": 3}, 2)
    assert feature.feature_input_dim({"type": "precomputed", "n_bins": 12, "patch_L_frame": 8}, 2) == [2, 1, 12, 8]
    with pytest.raises(ConfigError, match="'n_bins' is missing"):
        feature.feature_input_dim({"type": "precomputed", "patch_L_frame": 8}, 2)


LMS_FEATURE = {"type": "lms", "nb_band": 64, "L_n": 2048, "STEP_n": 1024, "patch_L_frame": 8}
HCQT_FEATURE = {"type": "hcqt", "h_l": [0.5, 1, 2], "fmin": 32.7, "n_octaves": 6, "bins_per_semitone": 3,
                "hop_length": 512, "patch_L_frame": 8}


def test_the_layout_of_each_feature_matches_the_feature_itself():
    audio_v = _tone(2.0)
    for param in (LMS_FEATURE, HCQT_FEATURE, {"type": "waveform", "patch_L_frame": 100}):
        data, time_sec_v = feature.f_get_feature(audio_v, SR_HZ, param)
        assert data.shape[-1] == feature.f_get_n_frames(audio_v.size, param) == len(time_sec_v)
        assert time_sec_v[1] == pytest.approx(feature.f_get_hop_sec(param, SR_HZ))
        if param["type"] != "waveform":
            assert data.shape[-2] == feature.f_get_n_bins(param)
    assert feature.f_get_hop_n(LMS_FEATURE) == 1024 and feature.f_get_hop_n(HCQT_FEATURE) == 512
    assert feature.f_get_hop_sec({"type": "precomputed", "hop_sec": 0.1}, None) == 0.1
    _, _, frequency_hz_v = feature.f_get_hcqt(audio_v, SR_HZ, HCQT_FEATURE)
    np.testing.assert_allclose(feature.f_get_pitch_grid_hz(HCQT_FEATURE), frequency_hz_v)
    assert feature.f_get_pitch_grid_midi(HCQT_FEATURE)[[0, 3]] == pytest.approx([24, 25], abs=0.01)
    with pytest.raises(ValueError, match="the waveform has no frequency axis"):
        feature.f_get_n_bins({"type": "waveform"})
    with pytest.raises(ValueError, match="a pitch grid needs the HCQT"):
        feature.f_get_pitch_grid_hz(LMS_FEATURE)
    with pytest.raises(ValueError, match="unknown feature type 'cqt'"):
        feature.f_get_hop_n({"type": "cqt"})


def test_context_frames_cover_the_longest_analysis_window():
    assert feature.f_get_context_frames({"type": "waveform"}, SR_HZ) == 0
    assert feature.f_get_context_frames(LMS_FEATURE, SR_HZ) == 2  # half of 2048 samples = 1 hop, plus 1
    longest_n = SR_HZ / (0.5 * 32.7 * ((2 ** (2 / 36) - 1) / (2 ** (2 / 36) + 1)))  # lowest filter, h = 0.5
    assert feature.f_get_context_frames(HCQT_FEATURE, SR_HZ) == int(np.ceil(longest_n / 2 / 512)) + 2


def test_the_hcqt_engine_gives_the_same_values_on_threads():
    from course_utils.features import _hcqt_engine

    args = (_tone(2.0), SR_HZ, [0.5, 1, 2, 3], 32.7, 36, 216, 256)
    np.testing.assert_array_equal(_hcqt_engine.hcqt_magnitude(*args, n_threads=1),
                                  _hcqt_engine.hcqt_magnitude(*args, n_threads=3))
    assert _hcqt_engine.default_n_threads() >= 1


def test_audio_at_another_rate_than_the_configs_is_refused():
    param = {**LMS_FEATURE, "sr_hz": SR_HZ}
    audio_v = _tone(1.0)
    assert feature.f_get_lms(audio_v, SR_HZ, param)[0].shape[1] == 64
    with pytest.raises(ValueError, match=r"the audio is at 44100 Hz but the config's feature.sr_hz is 22050 Hz.*"
                                         r"audio_store.load_audio\(path, 22050\)"):
        feature.f_get_lms(audio_v, 44100, param)
    with pytest.raises(ValueError, match="the audio is at 16000 Hz"):
        feature.f_get_hcqt(audio_v, 16000, {**HCQT_FEATURE, "sr_hz": SR_HZ})
    with pytest.raises(ValueError, match="the audio is at 44100 Hz"):
        feature.f_get_feature(audio_v, 44100, {"type": "waveform", "sr_hz": SR_HZ})
    assert feature.f_get_lms(audio_v, 44100, LMS_FEATURE)[0].shape[1] == 64, "a config without sr_hz takes any rate"


def test_the_original_names_are_the_features_subpackage():
    """``feature`` (the notebooks' name) and ``spectrogram`` (notebook 08's) are the subpackage's own functions, and
    every feature type is computed in ``course_utils.features``: the one home of a feature."""
    from course_utils import _hcqt_engine as engine_by_old_path
    from course_utils import spectrogram
    from course_utils.features import _hcqt_engine, patches, pitch, rhythm, spectral, stft, table

    assert feature.f_get_lms is spectral.f_get_lms and feature.f_get_hcqt is pitch.f_get_hcqt
    assert feature.f_get_tempogram is rhythm.f_get_tempogram and feature.f_get_patches is patches.f_get_patches
    assert feature.FEATURE_TYPE_D is table.FEATURE_TYPE_D and feature.FeatureType is table.FeatureType
    assert spectrogram.stft is stft.stft and spectrogram.frames_of is stft.frames_of
    assert engine_by_old_path.hcqt_magnitude is _hcqt_engine.hcqt_magnitude
    for name, feature_type in feature.FEATURE_TYPE_D.items():
        if feature_type.compute is not None:
            assert feature_type.compute.__module__.startswith("course_utils.features."), name
