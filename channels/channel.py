"""The simulated channel: block fading, AWGN and zero-forcing equalisation.

y = h x + n with n ~ CN(0, N0), N0 = 10^(-SNR/10) for unit-energy symbols,
then perfect-CSI zero forcing x_hat = conj(h) y / |h|^2, whose effective noise
variance is N0 / |h|^2 per symbol (what a soft demapper needs).
All operations are differentiable TensorFlow ops on complex64 tensors.
"""

from typing import NamedTuple

import tensorflow as tf
from sionna.phy.channel import AWGN
from sionna.phy.utils import expand_to_rank

from channels.fading import expand_blocks, rayleigh_blocks, rician_blocks
from channels.snr import noise_variance_from_snr_db

CHANNEL_NAMES = ("none", "awgn", "rayleigh", "rician")
DEFAULT_BLOCK_LENGTH = 128  # complex symbols per fading block
DEFAULT_K_FACTOR = 1.0  # Rician K, linear (0 dB)


class Received(NamedTuple):
    """Equalised symbols and their effective noise variance.

    ``symbols``: complex64 [..., M], the zero-forcing estimate of x.
    ``noise_variance``: float32 [..., M], N0 / |h|^2 (0 for ``none``).
    """

    symbols: tf.Tensor
    noise_variance: tf.Tensor


class Channel:
    """One of ``none``, ``awgn``, ``rayleigh``, ``rician`` with perfect-CSI ZF equalisation.

    Parameters
    ----------
    name : channel name, one of :data:`CHANNEL_NAMES`.
    block_length : complex symbols per fading block (1 = fast fading).
    k_factor : Rician K factor, linear (1 = 0 dB).

    Call with ``x`` complex [..., M] (unit average energy per symbol) and
    ``snr_db`` (Es/N0 in dB), a scalar or a tensor of shape ``x.shape[:-1]``
    (one SNR per row, e.g. per utterance). Returns :class:`Received`.
    Random draws come from Sionna's generator: ``sionna.phy.config.seed = s``
    makes them repeatable.
    """

    def __init__(self, name: str, block_length: int = DEFAULT_BLOCK_LENGTH, k_factor: float = DEFAULT_K_FACTOR):
        if name not in CHANNEL_NAMES:
            raise ValueError(f"unknown channel {name!r}; choose one of {', '.join(CHANNEL_NAMES)}")
        if block_length < 1:
            raise ValueError(f"block length must be >= 1 symbol, got {block_length}")
        if k_factor < 0:
            raise ValueError(f"Rician K factor must be >= 0, got {k_factor}")
        self.name = name
        self.block_length = int(block_length)
        self.k_factor = float(k_factor)
        self._awgn = AWGN()

    def __repr__(self) -> str:
        return f"Channel({self.name!r}, block_length={self.block_length}, k_factor={self.k_factor})"

    def gains(self, shape) -> tf.Tensor:
        """Fading gains h, complex64 of ``shape`` = [..., M], constant within each block."""
        shape = tf.convert_to_tensor(shape, tf.int32)
        num_symbols = shape[-1]
        num_blocks = (num_symbols + self.block_length - 1) // self.block_length
        block_shape = tf.concat([shape[:-1], [num_blocks]], axis=0)
        if self.name == "rayleigh":
            h = rayleigh_blocks(block_shape)
        elif self.name == "rician":
            h = rician_blocks(block_shape, self.k_factor)
        else:
            return tf.ones(shape, tf.complex64)
        return expand_blocks(h, self.block_length, num_symbols)

    def __call__(self, x: tf.Tensor, snr_db) -> Received:
        x = tf.cast(x, tf.complex64)
        if self.name == "none":
            return Received(x, tf.zeros(tf.shape(x), tf.float32))
        noise_variance = expand_to_rank(noise_variance_from_snr_db(snr_db), tf.rank(x), axis=-1)
        h = self.gains(tf.shape(x))
        y = self._awgn(h * x, noise_variance)
        gain_power = tf.square(tf.abs(h))
        x_hat = tf.math.conj(h) * y / tf.cast(gain_power, tf.complex64)
        return Received(x_hat, noise_variance / gain_power)


def make_channel(name: str, block_length: int = DEFAULT_BLOCK_LENGTH, k_factor: float = DEFAULT_K_FACTOR) -> Channel:
    """Build a :class:`Channel` by name; unknown names raise ``ValueError`` listing the valid ones."""
    return Channel(name, block_length=block_length, k_factor=k_factor)
