import numpy as np
import tensorflow as tf

from deepsc_st.frontend import NUM_BINS, WARP_BOUNDARY_HZ, num_frames, power_spectrum, spectrogram, warp_power, warped_source_bins


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


def test_warp_factor_one_changes_nothing():
    np.testing.assert_allclose(warped_source_bins(1.0).numpy(), np.arange(NUM_BINS), atol=1e-4)
    waveform = np.random.default_rng(0).standard_normal(8_000).astype(np.float32)
    np.testing.assert_allclose(spectrogram(waveform, 1.0).numpy(), spectrogram(waveform).numpy(), atol=1e-4)


def test_warp_moves_a_tone_by_its_factor_and_keeps_the_band():
    tone = np.sin(2 * np.pi * 1_000 * np.arange(16_000) / 16_000).astype(np.float32)  # bin 20
    for factor, expected_bin in ((1.1, 22), (0.9, 18)):
        assert np.argmax(warp_power(power_spectrum(tone), factor).numpy()[50]) == expected_bin
        source = warped_source_bins(factor).numpy()
        assert source[0] == 0 and abs(source[-1] - (NUM_BINS - 1)) < 1e-3 and np.all(np.diff(source) > 0)
        boundary = int(WARP_BOUNDARY_HZ * min(factor, 1.0) / 50)  # the bend: below it every bin comes from bin / factor
        np.testing.assert_allclose(source[:boundary], np.arange(boundary) / factor, rtol=1e-5)
