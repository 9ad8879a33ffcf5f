"""SNR <-> noise variance, with SNR defined as Es/N0 per complex symbol.

Transmitted symbols have unit average energy (Es = 1), so the complex noise
variance N0 is ``10 ** (-snr_db / 10)``. The same definition is used for every
system in the project, learned or conventional.
"""

import tensorflow as tf


def noise_variance_from_snr_db(snr_db) -> tf.Tensor:
    """N0 (float32, same shape as ``snr_db``) for Es/N0 = ``snr_db`` dB and Es = 1."""
    snr_db = tf.cast(snr_db, tf.float32)
    return tf.pow(10.0, -snr_db / 10.0)


def snr_db_from_noise_variance(noise_variance) -> tf.Tensor:
    """Es/N0 in dB (float32) for complex noise variance N0 and Es = 1."""
    noise_variance = tf.cast(noise_variance, tf.float32)
    return -10.0 * tf.math.log(noise_variance) / tf.math.log(10.0)
