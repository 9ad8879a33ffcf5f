"""Is :func:`deepsc_st.model.ctc_loss` right and fast? Against ``tf.nn.ctc_loss`` with dense labels.

Both get the same random logits and labels in the same run: the loss and its
gradient must agree, and the time of one loss-and-gradient is compared.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from deepsc_st.model import ctc_loss
from deepsc_st.tokens import BLANK_INDEX, NUM_CLASSES


def _dense_ctc_loss(logits, steps, labels, label_length):
    """The library call with dense labels, which TensorFlow computes with a scan over time."""
    return tf.reduce_mean(tf.nn.ctc_loss(labels=labels, logits=logits, label_length=label_length, logit_length=steps,
                                         logits_time_major=False, blank_index=BLANK_INDEX))


def run_ctc_benchmark(batch: int = 32, steps: int = 250, max_label: int = 76, repeats: int = 5, seed: int = 0) -> dict:
    """Median seconds of loss + gradient on [batch, steps, 29] logits for both, and their largest differences."""
    rng = np.random.default_rng(seed)
    logits = tf.constant(rng.standard_normal((batch, steps, NUM_CLASSES)), tf.float32)
    step_counts = tf.constant(rng.integers(steps * 4 // 5, steps + 1, batch), tf.int32)
    label_length = tf.constant(rng.integers(max_label * 2 // 3, max_label + 1, batch), tf.int32)
    labels = tf.constant(rng.integers(0, BLANK_INDEX, (batch, max_label)), tf.int32)
    labels *= tf.cast(tf.sequence_mask(label_length, max_label), tf.int32)

    def timed(loss_fn):
        @tf.function
        def loss_and_gradient(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = loss_fn(x, step_counts, labels, label_length)
            return loss, tape.gradient(loss, x)

        loss, gradient = loss_and_gradient(logits)  # trace
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            loss_and_gradient(logits)[1].numpy()
            times.append(time.perf_counter() - start)
        return float(np.median(times)), loss.numpy(), gradient.numpy()

    dense_s, dense_loss, dense_gradient = timed(_dense_ctc_loss)
    sparse_s, sparse_loss, sparse_gradient = timed(ctc_loss)
    return {
        "batch": f"{batch} x {steps} steps, labels up to {max_label}",
        "dense_labels_s": dense_s,
        "sparse_labels_s": sparse_s,
        "speedup": dense_s / sparse_s,
        "loss_difference": float(abs(dense_loss - sparse_loss)),
        "max_gradient_difference": float(np.max(np.abs(dense_gradient - sparse_gradient))),
    }
