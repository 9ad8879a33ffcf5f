"""Grow a trained semantic encoder to more GRU units without changing what it computes.

Training a wider model from scratch would throw away the hours of CPU
training behind a shipped one, so the wider model starts as the narrower one
(``train --init-from NARROW_RUN``):

- every old unit, BatchNorm channel and classifier input keeps its trained
  weights and statistics; everything new keeps the wider model's fresh
  initialisation (random kernels, zero biases, BatchNorm mean 0, variance 1,
  scale 1, offset 0);
- nothing new reaches an old unit: the rows of the old units' input and recurrent
  weights that read a new unit are zero, and so are the classifier's rows for
  the new units' outputs.

So in inference mode the wider encoder's logits equal the narrower one's (up to
float rounding), while the gradients reach the zero weights through the new
units' outputs and training can put the new units to use (Chen et al. 2016,
Net2Net, with zero instead of split outgoing weights).
"""

from __future__ import annotations

import numpy as np

from .model import SemanticEncoder

GATES = 3  # Keras GRU gate blocks along the last axis: update, reset, candidate


def widen_semantic_encoder(narrow: SemanticEncoder, wide: SemanticEncoder) -> None:
    """Copy ``narrow``'s weights into ``wide`` (more ``gru_units``, otherwise the same config) as described above.

    ``wide`` must be built and untrained: its own initialisation supplies everything new.
    """
    old, new = narrow.config.gru_units, wide.config.gru_units
    for (conv_narrow, conv_wide) in zip(narrow.conv_blocks, wide.conv_blocks):
        for layer_narrow, layer_wide in zip(conv_narrow, conv_wide):
            layer_wide.set_weights(layer_narrow.get_weights())
    channels = _bidirectional_channels(old, new)  # every BiGRU block's output, and what the next block or the classifier reads
    inputs_map = None  # the first BiGRU reads the conv features, whose layout does not change
    for (gru_narrow, norm_narrow), (gru_wide, norm_wide) in zip(narrow.recurrent_blocks, wide.recurrent_blocks):
        for direction in ("forward_layer", "backward_layer"):
            trained, fresh = getattr(gru_narrow, direction).get_weights(), getattr(gru_wide, direction).get_weights()
            getattr(gru_wide, direction).set_weights(_widen_gru(trained, fresh, old=old, new=new, inputs_map=inputs_map))
        norm_wide.set_weights([_scatter_rows(fresh, trained, channels) for trained, fresh in zip(norm_narrow.get_weights(), norm_wide.get_weights())])
        inputs_map = channels
    kernel, bias = narrow.classifier.get_weights()
    wide_kernel = np.zeros((2 * new, kernel.shape[1]), kernel.dtype)
    wide_kernel[channels] = kernel
    wide.classifier.set_weights([wide_kernel, bias])


def _widen_gru(trained: list, fresh: list, *, old: int, new: int, inputs_map) -> list:
    """One GRU direction's weights: kernel [inputs, 3 x units], recurrent kernel [units, 3 x units], bias [2, 3 x units]."""
    (kernel, recurrent, bias), (wide_kernel, wide_recurrent, wide_bias) = trained, fresh
    old_columns = np.concatenate([gate * new + np.arange(old) for gate in range(GATES)])
    kernel_rows = np.arange(kernel.shape[0]) if inputs_map is None else inputs_map
    wide_kernel, wide_recurrent, wide_bias = wide_kernel.copy(), wide_recurrent.copy(), wide_bias.copy()
    wide_kernel[:, old_columns] = 0.0
    wide_kernel[np.ix_(kernel_rows, old_columns)] = kernel
    wide_recurrent[:, old_columns] = 0.0
    wide_recurrent[np.ix_(np.arange(old), old_columns)] = recurrent
    wide_bias[:, old_columns] = bias
    return [wide_kernel, wide_recurrent, wide_bias]


def _bidirectional_channels(old: int, new: int) -> np.ndarray:
    """Where the narrow BiGRU's 2 x old output channels (forward, then backward) sit among the wide one's 2 x new."""
    return np.concatenate([np.arange(old), new + np.arange(old)])


def _scatter_rows(fresh: np.ndarray, trained: np.ndarray, rows: np.ndarray) -> np.ndarray:
    fresh = fresh.copy()
    fresh[rows] = trained
    return fresh
