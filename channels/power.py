"""Power normalisation and packing of real features into complex symbols."""

import tensorflow as tf


def real_to_complex(x: tf.Tensor) -> tf.Tensor:
    """Read consecutive (real, imag) pairs as complex symbols.

    ``x``: float [..., 2M] -> complex64 [..., M].
    """
    x = tf.cast(x, tf.float32)
    pairs = tf.reshape(x, tf.concat([tf.shape(x)[:-1], [-1, 2]], axis=0))
    return tf.complex(pairs[..., 0], pairs[..., 1])


def complex_to_real(z: tf.Tensor) -> tf.Tensor:
    """Inverse of :func:`real_to_complex`: complex [..., M] -> float32 [..., 2M]."""
    pairs = tf.stack([tf.math.real(z), tf.math.imag(z)], axis=-1)
    return tf.reshape(pairs, tf.concat([tf.shape(z)[:-1], [-1]], axis=0))


def normalize_power(z: tf.Tensor, mask: tf.Tensor | None = None) -> tf.Tensor:
    """Scale each row so its average energy per complex symbol is 1.

    ``z``: complex [batch, M]. ``mask``: optional bool [batch, M] marking the
    symbols that are really sent (padding is excluded from the average and
    set to 0). Returns complex [batch, M].
    """
    energy = tf.square(tf.abs(z))
    if mask is None:
        mean_energy = tf.reduce_mean(energy, axis=-1, keepdims=True)
    else:
        weights = tf.cast(mask, energy.dtype)
        count = tf.maximum(tf.reduce_sum(weights, axis=-1, keepdims=True), 1.0)
        mean_energy = tf.reduce_sum(energy * weights, axis=-1, keepdims=True) / count
        z = z * tf.cast(weights, z.dtype)
    scale = tf.math.rsqrt(mean_energy + 1e-12)
    return z * tf.complex(scale, tf.zeros_like(scale))
