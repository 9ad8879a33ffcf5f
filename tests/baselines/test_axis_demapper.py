import numpy as np
import pytest
import tensorflow as tf
from sionna.phy.mapping import BinarySource, Demapper, Mapper

from baselines.axis_demapper import LLR_LIMIT, demap_axes


@pytest.mark.parametrize("bits_per_symbol", [2, 4, 6, 8])
def test_axis_demapper_gives_sionnas_qam_llrs(bits_per_symbol):
    """Per-symbol N0 from 0.01 to 2 (zero-forced fading gives any): the library's QAM demapper and ours agree."""
    rng = np.random.default_rng(bits_per_symbol)
    symbols = 4096
    x = Mapper("qam", bits_per_symbol)(BinarySource(seed=1)([symbols * bits_per_symbol]))
    no = tf.constant(rng.uniform(0.01, 2.0, symbols).astype(np.float32))
    noise = (rng.normal(size=symbols) + 1j * rng.normal(size=symbols)) * np.sqrt(no.numpy() / 2)
    y = x + tf.constant(noise.astype(np.complex64))
    library = Demapper("app", "qam", bits_per_symbol)(y, no).numpy()
    ours = demap_axes(y.numpy(), no.numpy(), bits_per_symbol)
    assert ours.dtype == np.float32 and ours.shape == library.shape == (symbols * bits_per_symbol,)
    np.testing.assert_allclose(ours, library, atol=2e-4 * max(1.0, np.abs(library).max() / 100))
    decided = np.abs(library) > 1e-3
    assert np.array_equal(ours[decided] > 0, library[decided] > 0)


def test_demap_axes_at_high_snr_and_without_noise():
    """Far label sets underflow at 40 dB (summed again on their own) and N0 = 0 gives infinite logits: both as Sionna, clipped."""
    x = Mapper("qam", 6)(BinarySource(seed=2)([1, 600]))[0]
    for no in (1e-4, 0.0):
        noise = tf.fill(x.shape, tf.constant(no, tf.float32))
        library = np.clip(Demapper("app", "qam", 6)(x, noise).numpy(), -LLR_LIMIT, LLR_LIMIT)
        ours = demap_axes(x.numpy(), noise.numpy(), 6)
        assert np.all(np.isfinite(ours)) and np.array_equal(ours > 0, library > 0)
        np.testing.assert_allclose(ours, library, rtol=1e-5)


def test_demap_axes_refuses_odd_orders_and_unequal_lengths():
    with pytest.raises(ValueError, match="even number"):
        demap_axes(np.zeros(4, np.complex64), np.ones(4, np.float32), 3)
    with pytest.raises(ValueError, match="4 symbols but 3 noise variances"):
        demap_axes(np.zeros(4, np.complex64), np.ones(3, np.float32), 6)
