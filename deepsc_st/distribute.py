"""Training on several devices or machines with tf.distribute: ``deepsc-st train --strategy mirrored|multi-worker``.

Synchronous data parallelism: every replica holds the whole model, each
training step splits the global batch (``--batch-size``) across the
replicas, and their gradients are summed before one shared update. Three
things make N replicas train like one process with the same global batch:

* each replica's loss is divided by the number of replicas
  (:func:`replica_share`), so the summed gradient is the global batch's;
* BatchNormalization uses the global batch's statistics
  (:class:`BatchNormalization`: Keras's ``synchronized=True`` ignores
  the masks our recurrent blocks pass);
* every worker builds the same shuffled dataset (same seed) and tf.distribute
  splits each global batch between the workers.

``multi-worker`` reads the cluster from ``TF_CONFIG`` (each machine runs the
same command with its own ``task.index``); worker 0 is the chief and the only
one that writes the run folder (checkpoints, ``history.csv``, logs), which
the others must be able to read to resume (a shared file system).
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import tensorflow as tf

from deepsc_st.errors import UserError

STRATEGIES = ("none", "mirrored", "multi-worker")


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The tf.distribute strategy ``name``: none (this process's default), mirrored (all local devices) or multi-worker (``TF_CONFIG``).

    Create it before TensorFlow runs anything else: a multi-worker strategy starts the collective-ops server.
    """
    if name not in STRATEGIES:
        raise UserError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        try:
            cluster = json.loads(os.environ["TF_CONFIG"])
            workers = cluster["cluster"]["worker"]
            cluster["task"]["index"]
        except (KeyError, TypeError, ValueError):
            raise UserError("--strategy multi-worker needs TF_CONFIG: {\"cluster\": {\"worker\": [HOST:PORT, ...]}, \"task\": {\"type\": \"worker\", \"index\": I}}") from None
        if not workers:
            raise UserError("TF_CONFIG names no workers")
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True for the process that writes the run folder: the only one, or worker 0 (or the "chief" task) of a multi-worker cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict())


def replica_share(loss: tf.Tensor) -> tf.Tensor:
    """``loss`` (a replica's mean over its part of the batch) divided by the replicas in sync: the gradients tf.distribute sums are then the global batch's."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / tf.cast(replicas, loss.dtype) if replicas > 1 else loss


def loggable(value: tf.Tensor) -> tf.Tensor:
    """A step's logged scalar as ``fit`` can combine it over replicas: a [1]-vector under a multi-worker strategy
    (Keras 3 averages those along axis 0, which fails for a scalar; the average is a scalar again), else itself."""
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return tf.reshape(value, [1])
    return value


class BatchNormalization(keras.layers.BatchNormalization):
    """Keras's BatchNormalization, whose training statistics are the global batch's under tf.distribute, masked or not.

    With one replica it is Keras's layer; with several, the masked sums behind
    mean and variance are all-reduced across replicas (the two passes of
    Keras's masked moments: mean, then squared deviations). It keeps Keras's
    class name because weight files address the layers of a list by class
    name: the shipped models load into it unchanged.
    """

    def _moments(self, inputs, mask):
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return super()._moments(inputs, mask)
        axes = self._reduction_axes
        weight = tf.ones_like(inputs) if mask is None else tf.cast(tf.broadcast_to(tf.expand_dims(mask, -1), tf.shape(inputs)), inputs.dtype)
        total, count = context.all_reduce(tf.distribute.ReduceOp.SUM, [tf.reduce_sum(inputs * weight, axes), tf.reduce_sum(weight, axes)])
        mean = total / (count + keras.backend.epsilon())
        squares = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.reduce_sum(tf.square((inputs - mean) * weight), axes))
        return mean, squares / (count + keras.backend.epsilon())


class PrebuiltModel(keras.Model):
    """A Keras model whose weights all exist before ``fit`` (built when it is made) and whose training compiles no loss or metric.

    Keras's ``fit`` under a tf.distribute strategy first averages one
    distributed batch with ``strategy.reduce`` to build such state, which
    fails for batches that are dicts (ours) and would take that batch from
    the epoch; there is nothing to build here, so it is skipped.
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        return None

    def trainable_parameter_count(self) -> int:
        return trainable_parameter_count(self)


def trainable_parameter_count(model: keras.Model) -> int:
    """Trainable parameters of any Keras model (a system may hold models that are not :class:`PrebuiltModel`)."""
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))
