"""Everything between transmitted and received complex symbols.

One implementation serves DeepSC-ST (differentiable, inside training) and the
conventional baselines (QAM symbols): power normalisation and real/complex
packing (:mod:`channels.power`), SNR as Es/N0 per complex symbol
(:mod:`channels.snr`), block fading draws (:mod:`channels.fading`) and the
channel itself with perfect-CSI zero-forcing equalisation
(:mod:`channels.channel`).

>>> import tensorflow as tf
>>> from channels import make_channel
>>> x = tf.complex(tf.ones([2, 256]), tf.zeros([2, 256]))
>>> received = make_channel("rayleigh")(x, snr_db=10.0)
>>> received.symbols.shape, received.noise_variance.shape
(TensorShape([2, 256]), TensorShape([2, 256]))
"""

from channels.channel import CHANNEL_NAMES, DEFAULT_BLOCK_LENGTH, DEFAULT_K_FACTOR, Channel, Received, make_channel
from channels.power import complex_to_real, normalize_power, real_to_complex
from channels.snr import noise_variance_from_snr_db, snr_db_from_noise_variance

__all__ = [
    "CHANNEL_NAMES",
    "DEFAULT_BLOCK_LENGTH",
    "DEFAULT_K_FACTOR",
    "Channel",
    "Received",
    "make_channel",
    "complex_to_real",
    "normalize_power",
    "real_to_complex",
    "noise_variance_from_snr_db",
    "snr_db_from_noise_variance",
]
