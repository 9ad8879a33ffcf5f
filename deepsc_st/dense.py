"""A fully connected layer whose graph stays small on [batch, time, features] inputs.

Keras 3 multiplies an input of rank > 2 by the kernel with ``tf.tensordot``,
which for a dynamic shape wraps its one MatMul in about a dozen shape ops
(Shape, GatherV2, Prod, Pack, ConcatV2, Transpose, Reshape). The text
transceiver's link graph held 69 of them; without them `deepsc-st transmit
--system sr-deepsc` takes about 0.3 s less (README, Development). :class:`Dense` runs the same MatMul on the same [rows, features]
matrix that tensordot builds, so its outputs are bit-identical (tested).
"""

from __future__ import annotations

import keras
import tensorflow as tf


class Dense(keras.layers.Dense):
    """``keras.layers.Dense`` that flattens an input [..., features] to [rows, features] for one MatMul.

    Same weights, same order of operations as Keras (MatMul, then bias, then
    activation). Named ``Dense`` so that weights files keep Keras's paths
    ("dense", "dense_1", ...): a container's layers are stored under their class name.
    """

    def call(self, inputs, training=None):
        if len(inputs.shape) <= 2:
            return super().call(inputs, training=training)
        rows = tf.reshape(inputs, [-1, self.kernel.shape[0]])
        x = tf.reshape(keras.ops.matmul(rows, self.kernel), tf.concat([tf.shape(inputs)[:-1], [self.units]], axis=0))
        x.set_shape(inputs.shape[:-1] + [self.units])
        if self.bias is not None:
            x = keras.ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x
