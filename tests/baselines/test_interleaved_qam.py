import numpy as np
import sionna.phy
import tensorflow as tf
from sionna.phy.mapping import BinarySource

from baselines.interleaved_qam import random_bits


def test_random_bits_are_sionnas_binary_source_draws():
    sionna.phy.config.seed = 7
    expected = [BinarySource()([3, 1000]).numpy(), BinarySource()([17]).numpy()]  # the second draw continues the stream
    sionna.phy.config.seed = 7
    got = [random_bits([3, 1000]), random_bits([17])]
    assert all(g.dtype == np.uint8 and np.array_equal(g, e) for g, e in zip(got, expected))
    assert 0.4 < got[0].mean() < 0.6


def test_permutations_are_sionnas_random_interleaver_in_any_order_of_lengths():
    """Asked for lengths in any order (longer than every earlier one, shorter, repeated), each permutation is the one
    Sionna's RandomInterleaver applies, bit for bit."""
    from sionna.phy.fec.interleaving import RandomInterleaver

    from baselines.interleaved_qam import INTERLEAVER_SEED, InterleavedQam

    qam, sionnas = InterleavedQam(6), RandomInterleaver(seed=INTERLEAVER_SEED)
    for length in (1, 7, 100, 4268, 50_000, 3, 131_073, 4268, 99_999, 2):
        ours = qam.permutation(length)
        np.testing.assert_array_equal(ours, sionnas(tf.range(length, dtype=tf.int32)).numpy())
        assert np.array_equal(np.sort(ours), np.arange(length))
