"""Block fading coefficients: one complex gain h per block of symbols.

Rayleigh: h ~ CN(0, 1). Rician with K factor K: a fixed line-of-sight part
sqrt(K / (K + 1)) (phase 0) plus a scattered part sqrt(1 / (K + 1)) CN(0, 1),
so E|h|^2 = 1 and |E h|^2 / Var h = K. A block length of 1 gives fast fading.
"""

import tensorflow as tf
from sionna.phy.utils import complex_normal


def rayleigh_blocks(shape) -> tf.Tensor:
    """CN(0, 1) gains, complex64 of ``shape`` (e.g. [batch, num_blocks])."""
    return complex_normal(shape)


def rician_blocks(shape, k_factor: float) -> tf.Tensor:
    """Rician gains with K factor ``k_factor`` (linear) and E|h|^2 = 1, complex64 of ``shape``."""
    line_of_sight = (k_factor / (k_factor + 1.0)) ** 0.5
    scattered = (1.0 / (k_factor + 1.0)) ** 0.5
    return tf.complex(line_of_sight, 0.0) + tf.complex(scattered, 0.0) * complex_normal(shape)


def expand_blocks(h: tf.Tensor, block_length: int, num_symbols) -> tf.Tensor:
    """Hold each block gain for ``block_length`` symbols.

    ``h``: complex [..., num_blocks] -> complex [..., num_symbols].
    """
    return tf.repeat(h, block_length, axis=-1)[..., :num_symbols]
