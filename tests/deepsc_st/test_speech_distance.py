import keras
import numpy as np
import scipy.linalg
import pytest

from deepsc_st.audio import load_audio
from deepsc_st.config import get_config
from deepsc_st.data import read_utterances
from deepsc_st.model import build_model
from deepsc_st.speech_distance import asr_speech_features, frechet_distance, kernel_distance, speech_distances


@pytest.fixture(scope="module")
def tiny_asr():
    """An untrained tiny ASR model: its features are fixed random functions of the spectrogram.

    Seeded with Keras's global seed: ``tf.random.set_seed`` alone left the weights to depend on
    which models the worker process had built before (the test failed when xdist moved files)."""
    keras.utils.set_random_seed(0)
    return build_model(get_config("tiny"), channel="none")


@pytest.fixture(scope="module")
def espeak_waveforms(espeak_corpus):
    return [load_audio(item.wav_path) for item in read_utterances(espeak_corpus, "train")]


def gaussian_features(rng, rows, width, shift=0.0):
    return rng.normal(size=(rows, width)) @ rng.normal(size=(width, width)) + shift


def with_noise(waveform, snr_db, rng):
    noise_power = np.mean(waveform**2) / 10 ** (snr_db / 10)
    return (waveform + rng.normal(0, np.sqrt(noise_power), waveform.shape)).astype(np.float32)


@pytest.mark.parametrize("rows_real, rows_generated, width", [(200, 150, 8), (200, 40, 384)])  # the second: a sweep cell's singular covariance
def test_frechet_distance_matches_scipys_matrix_square_root(rows_real, rows_generated, width):
    rng = np.random.default_rng(0)
    real, generated = gaussian_features(rng, rows_real, width), gaussian_features(rng, rows_generated, width, shift=0.7)
    s_r, s_g = np.cov(real, rowvar=False), np.cov(generated, rowvar=False)
    gap = real.mean(axis=0) - generated.mean(axis=0)
    expected = gap @ gap + np.trace(s_r) + np.trace(s_g) - 2 * np.trace(scipy.linalg.sqrtm(s_r @ s_g).real)
    assert frechet_distance(real, generated) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_of_one_wide_features_is_the_gaussian_formula():
    rng = np.random.default_rng(1)
    real, generated = rng.normal(1.0, 2.0, size=(50, 1)), rng.normal(-0.5, 0.5, size=(40, 1))
    expected = (real.mean() - generated.mean()) ** 2 + (real.std(ddof=1) - generated.std(ddof=1)) ** 2
    assert frechet_distance(real, generated) == pytest.approx(expected, rel=1e-10)


def test_kernel_distance_matches_double_loop():
    rng = np.random.default_rng(2)
    real, generated = rng.normal(size=(20, 5)), rng.normal(0.3, 1.2, size=(25, 5))

    def k(x, y):
        return (np.dot(x, y) / 5 + 1) ** 3

    m, n = len(real), len(generated)
    within_real = sum(k(real[i], real[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    within_generated = sum(k(generated[i], generated[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    across = sum(k(x, y) for x in real for y in generated) / (m * n)
    assert kernel_distance(real, generated) == pytest.approx(within_real + within_generated - 2 * across, rel=1e-10)


def test_identical_sets():
    """FDSD is 0; the unbiased KDSD is 2 (off-diagonal mean - diagonal mean) / n <= 0, as it leaves out self-pairs only within sets."""
    rng = np.random.default_rng(3)
    features = gaussian_features(rng, 30, 4)
    assert abs(frechet_distance(features, features)) < 1e-9 * np.trace(np.cov(features, rowvar=False))
    kernel = (features @ features.T / 4 + 1) ** 3
    n = len(features)
    off_diagonal_mean = (kernel.sum() - np.trace(kernel)) / (n * (n - 1))
    expected = 2 * (off_diagonal_mean - np.trace(kernel) / n) / n
    assert expected < 0
    assert kernel_distance(features, features.copy()) == pytest.approx(expected, rel=1e-10)


def test_independent_samples_of_one_distribution_are_close_next_to_a_shifted_one():
    rng = np.random.default_rng(4)
    real, same, shifted = rng.normal(size=(500, 8)), rng.normal(size=(500, 8)), rng.normal(0.5, 1.0, size=(500, 8))
    assert frechet_distance(real, same) < 0.1 * frechet_distance(real, shifted)
    assert abs(kernel_distance(real, same)) < 0.05 * kernel_distance(real, shifted)


def test_distances_grow_with_feature_noise():
    rng = np.random.default_rng(5)
    real, generated = rng.normal(size=(500, 8)), rng.normal(size=(500, 8))
    noisy = [generated + sigma * rng.normal(size=generated.shape) for sigma in (0.5, 1.0, 2.0)]
    fdsd = [frechet_distance(real, g) for g in noisy]
    kdsd = [kernel_distance(real, g) for g in noisy]
    assert 0 < fdsd[0] < fdsd[1] < fdsd[2]
    assert 0 < kdsd[0] < kdsd[1] < kdsd[2]


def test_speech_distances_grow_as_snr_falls(tiny_asr, espeak_waveforms):
    rng = np.random.default_rng(6)
    distances = [speech_distances(tiny_asr, espeak_waveforms, [with_noise(w, snr_db, rng) for w in espeak_waveforms]) for snr_db in (30, 10, 0)]
    fdsd = [d["fdsd"] for d in distances]
    kdsd = [d["kdsd"] for d in distances]
    assert 0 < fdsd[0] < fdsd[1] < fdsd[2]
    assert 0 < kdsd[0] < kdsd[1] < kdsd[2]


def test_features_are_one_vector_per_waveform_whatever_the_batching(tiny_asr, espeak_waveforms):
    features = asr_speech_features(tiny_asr, espeak_waveforms)
    assert features.shape == (len(espeak_waveforms), 2 * get_config("tiny").gru_units) and features.dtype == np.float64
    np.testing.assert_allclose(asr_speech_features(tiny_asr, espeak_waveforms, batch_size=3), features, atol=1e-5)
    assert tiny_asr.__dict__["_compiled_graphs"]["listen"].experimental_get_tracing_count() == 1


def test_batch_padding_does_not_change_a_short_waveforms_features(tiny_asr, espeak_waveforms):
    short = min(espeak_waveforms, key=len)
    longer = np.concatenate(espeak_waveforms[:2])
    alone = asr_speech_features(tiny_asr, [short])
    padded = asr_speech_features(tiny_asr, [short, longer])
    np.testing.assert_allclose(padded[0], alone[0], atol=1e-5)
    assert not np.allclose(padded[1], alone[0], atol=1e-3)


@pytest.mark.parametrize("distance", [frechet_distance, kernel_distance])
def test_bad_feature_sets_raise(distance):
    rng = np.random.default_rng(7)
    with pytest.raises(ValueError, match="n >= 2"):
        distance(rng.normal(size=(1, 4)), rng.normal(size=(5, 4)))
    with pytest.raises(ValueError, match="n >= 2"):
        distance(rng.normal(size=(5, 4)), rng.normal(size=4))
    with pytest.raises(ValueError, match="widths differ"):
        distance(rng.normal(size=(5, 4)), rng.normal(size=(5, 3)))


def test_no_waveforms_raise(tiny_asr):
    with pytest.raises(ValueError, match="no waveforms"):
        asr_speech_features(tiny_asr, [])
