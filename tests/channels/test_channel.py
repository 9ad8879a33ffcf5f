import numpy as np
import pytest
import tensorflow as tf

from channels import (
    CHANNEL_NAMES,
    complex_to_real,
    make_channel,
    noise_variance_from_snr_db,
    normalize_power,
    real_to_complex,
    snr_db_from_noise_variance,
)

NUM_SYMBOLS = 100_000


def unit_qpsk(shape):
    bits = tf.random.uniform(list(shape) + [2], 0, 2, dtype=tf.int32)
    signs = 1.0 - 2.0 * tf.cast(bits, tf.float32)
    return tf.complex(signs[..., 0], signs[..., 1]) / np.sqrt(2.0)


@pytest.mark.parametrize("snr_db", [-10.0, 0.0, 10.0, 20.0])
def test_awgn_measured_snr_matches_request(snr_db):
    x = unit_qpsk([1, NUM_SYMBOLS])
    received = make_channel("awgn")(x, snr_db)
    noise = received.symbols - x
    measured = 10 * np.log10(np.mean(np.abs(x.numpy()) ** 2) / np.mean(np.abs(noise.numpy()) ** 2))
    assert abs(measured - snr_db) < 0.1
    np.testing.assert_allclose(received.noise_variance.numpy(), 10 ** (-snr_db / 10), rtol=1e-5)


def test_snr_conversions_are_inverse():
    snr = tf.constant([-12.0, 0.0, 3.0, 20.0])
    np.testing.assert_allclose(snr_db_from_noise_variance(noise_variance_from_snr_db(snr)), snr, atol=1e-4)


@pytest.mark.parametrize("name", ["rayleigh", "rician"])
def test_fading_has_unit_average_power(name):
    h = make_channel(name, block_length=1).gains([4, NUM_SYMBOLS // 4]).numpy()
    assert abs(np.mean(np.abs(h) ** 2) - 1.0) < 0.02


@pytest.mark.parametrize("k_factor", [1.0, 4.0])
def test_rician_k_factor(k_factor):
    h = make_channel("rician", block_length=1, k_factor=k_factor).gains([1, NUM_SYMBOLS]).numpy().ravel()
    measured_k = np.abs(h.mean()) ** 2 / np.var(h)
    assert abs(measured_k - k_factor) / k_factor < 0.10


def test_rayleigh_is_zero_mean_circular():
    h = make_channel("rayleigh", block_length=1).gains([1, NUM_SYMBOLS]).numpy().ravel()
    assert abs(h.mean()) < 0.02
    assert abs(np.var(h.real) - np.var(h.imag)) < 0.02


@pytest.mark.parametrize("block_length", [1, 7, 128])
def test_fading_constant_within_block(block_length):
    num_symbols = 1000
    h = make_channel("rayleigh", block_length=block_length).gains([3, num_symbols]).numpy()
    num_blocks = -(-num_symbols // block_length)
    for b in range(num_blocks):
        block = h[:, b * block_length : (b + 1) * block_length]
        assert np.all(block == block[:, :1])
    if block_length > 1:
        starts = h[:, ::block_length]
        assert np.all(starts[:, 1:] != starts[:, :-1])


@pytest.mark.parametrize("name", CHANNEL_NAMES)
def test_noiseless_equalised_output_equals_input(name):
    x = unit_qpsk([2, 500])
    received = make_channel(name)(x, snr_db=300.0)
    np.testing.assert_allclose(received.symbols.numpy(), x.numpy(), atol=1e-5)


def test_effective_noise_variance_is_n0_over_gain_power():
    channel = make_channel("rayleigh", block_length=4)
    x = unit_qpsk([2, 64])
    received = channel(x, snr_db=tf.constant([0.0, 10.0]))
    nv = received.noise_variance.numpy()
    assert nv.shape == (2, 64)
    # Within a block the variance is constant; across rows it scales with N0.
    assert np.allclose(nv[:, :4], nv[:, :1])
    assert np.all(nv > 0)


def test_per_row_snr():
    x = unit_qpsk([2, NUM_SYMBOLS // 2])
    received = make_channel("awgn")(x, snr_db=tf.constant([0.0, 20.0]))
    noise_power = np.mean(np.abs((received.symbols - x).numpy()) ** 2, axis=1)
    np.testing.assert_allclose(10 * np.log10(1 / noise_power), [0.0, 20.0], atol=0.15)


def test_channel_is_differentiable():
    features = tf.Variable(tf.random.normal([2, 40]))
    with tf.GradientTape() as tape:
        z = normalize_power(real_to_complex(features))
        y = make_channel("rician")(z, snr_db=5.0).symbols
        loss = tf.reduce_sum(tf.abs(y) ** 2)
    gradient = tape.gradient(loss, features)
    assert gradient is not None and np.all(np.isfinite(gradient.numpy()))


def test_normalize_power_with_mask():
    z = real_to_complex(tf.random.normal([3, 80]))
    mask = tf.sequence_mask([40, 10, 25], 40)
    out = normalize_power(z, mask).numpy()
    for row, length in zip(out, [40, 10, 25]):
        assert abs(np.mean(np.abs(row[:length]) ** 2) - 1.0) < 1e-4
        assert np.all(row[length:] == 0)


def test_real_complex_round_trip():
    x = tf.random.normal([2, 5, 40])
    z = real_to_complex(x)
    assert z.shape == (2, 5, 20)
    assert z.numpy()[0, 0, 0] == complex(x.numpy()[0, 0, 0], x.numpy()[0, 0, 1])
    np.testing.assert_array_equal(complex_to_real(z).numpy(), x.numpy())


def test_unknown_channel_name():
    with pytest.raises(ValueError, match="awgn, rayleigh, rician"):
        make_channel("fading")
