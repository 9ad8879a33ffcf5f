import numpy as np
import pytest
import tensorflow as tf
from sionna.phy.fec.polar import PolarEncoder
from sionna.phy.fec.polar.utils import generate_5g_ranking

from baselines.polar_encoder import FastPolarEncoder


@pytest.mark.parametrize("k, n", [(5, 8), (9, 16), (20, 32), (40, 64), (100, 256), (320, 512), (700, 1024)])
def test_codewords_equal_sionnas_polar_encoder(k, n):
    """Within a word (n < 64) and across words; 5G frozen sets from n = 32 on (Sionna's ranking starts there), random ones below."""
    frozen_pos = generate_5g_ranking(k, n)[0] if n >= 32 else np.sort(np.random.default_rng(k).choice(n, n - k, replace=False))
    info = np.random.default_rng(n).integers(0, 2, (37, k)).astype(np.uint8)
    expected = PolarEncoder(frozen_pos, n)(tf.constant(info, tf.float32)).numpy()
    codewords = FastPolarEncoder(frozen_pos, n)(info)
    assert codewords.dtype == np.uint8 and codewords.shape == (37, n)
    np.testing.assert_array_equal(codewords, expected)


def test_a_single_information_bit_gives_a_row_of_the_polar_transform():
    """n = 8, nothing frozen, Sionna's bit order (x_j = XOR of u_i over every i whose bits include j's):
    only u_0 = 1 gives e_0, only u_7 = 1 gives all ones, only u_5 = 1 gives ones at 0, 1, 4, 5."""
    encoder = FastPolarEncoder([], 8)
    units = np.eye(8, dtype=np.uint8)
    np.testing.assert_array_equal(encoder(units[[0, 7, 5]]), [units[0], np.ones(8), [1, 1, 0, 0, 1, 1, 0, 0]])


def test_no_codewords_and_bad_shapes():
    encoder = FastPolarEncoder(generate_5g_ranking(10, 32)[0], 32)
    assert encoder(np.zeros((0, 10), np.uint8)).shape == (0, 32)
    with pytest.raises(ValueError, match=r"shape \[codewords, 10\]"):
        encoder(np.zeros((3, 11), np.uint8))
    with pytest.raises(ValueError, match="power of two >= 8"):
        FastPolarEncoder([], 4)
    with pytest.raises(ValueError, match="power of two >= 8"):
        FastPolarEncoder([], 48)
