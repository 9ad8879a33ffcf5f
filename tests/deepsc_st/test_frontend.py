import numpy as np
import tensorflow as tf

from deepsc_st.frontend import NUM_BINS, num_frames, spectrogram


def test_frame_count_for_one_second():
    assert num_frames(16_000) == 101
    assert spectrogram(tf.random.normal([16_000])).shape == (101, NUM_BINS) == (101, 161)


def test_frame_count_for_other_lengths():
    for samples in (320, 4_321, 48_000):
        assert spectrogram(tf.random.normal([samples])).shape[0] == num_frames(samples)


def test_per_bin_normalisation():
    features = spectrogram(tf.random.normal([32_000])).numpy()
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(features.std(axis=0), 1.0, atol=1e-3)


def test_tone_energy_lands_in_its_bin():
    t = np.arange(16_000) / 16_000
    tone = np.sin(2 * np.pi * 1_000 * t).astype(np.float32)  # 1 kHz = bin 20 of 161 (50 Hz per bin)
    padded = np.pad(tone, 160, mode="reflect")
    frame = padded[800:1120] * np.hanning(322)[1:-1]
    assert np.argmax(np.abs(np.fft.rfft(frame))) == 20
    features = spectrogram(tone).numpy()
    assert features.shape == (101, 161)
