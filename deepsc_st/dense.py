"""A fully connected layer and a layer norm whose graphs stay small on [batch, time, features] inputs.

Keras 3 multiplies an input of rank > 2 by the kernel with ``tf.tensordot``,
which for a dynamic shape wraps its one MatMul in about a dozen shape ops
(Shape, GatherV2, Prod, Pack, ConcatV2, Transpose, Reshape). The text
transceiver's link graph held 69 of them; without them `deepsc-st transmit
--system sr-deepsc` takes about 0.3 s less (README, Development). :class:`Dense` runs the same MatMul on the same [rows, features]
matrix that tensordot builds, so its outputs are bit-identical (tested).
"""

from __future__ import annotations

import keras
import numpy as np
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
        # The output's shape is the input's with the last size changed: shape + [0, ..., units - features], two ops
        # (slicing the shape and concatenating [units] takes seven, and the trace of a graph costs per op).
        widen = np.zeros(len(inputs.shape), np.int32)
        widen[-1] = self.units - self.kernel.shape[0]
        x = tf.reshape(keras.ops.matmul(rows, self.kernel), tf.shape(inputs) + widen)
        x.set_shape(inputs.shape[:-1] + [self.units])
        if self.bias is not None:
            x = keras.ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x


def sequence_norm(epsilon: float = 1e-6) -> keras.layers.LayerNormalization:
    """``keras.layers.LayerNormalization`` over the features of [batch, time, features] inputs (rank 3 only).

    Its axis is given as 2, not -1: for a negative axis Keras reshapes gamma
    and beta to [1, 1, features] in every call (four more operations per
    norm in a graph); the arithmetic and the weights are the same (tested).
    """
    return keras.layers.LayerNormalization(axis=2, epsilon=epsilon)
