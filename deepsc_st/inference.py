"""Running a trained model over many waveforms: the one batched forward loop.

Every place that turns speech into token scores goes through
:func:`token_logits`: DeepSC-ST's transceiver, the conventional systems' ASR,
validation during training, and (through those) ``evaluate``, the model cards
and every sweep cell. :func:`spectrogram_batches` is the one batching rule
(input order kept, zero padding to the longest utterance of each batch), also
used by :mod:`deepsc_st.speech_distance` for its features.

>>> logits = token_logits(model, [waveform], make_channel("awgn"), snr_db=4.0)  # doctest: +SKIP
>>> logits[0].shape  # doctest: +SKIP
(76, 29)
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import tensorflow as tf

from channels import Channel
from deepsc_st.decoding import greedy_decode
from deepsc_st.frontend import NUM_BINS, spectrogram
from deepsc_st.model import CTCModel
from deepsc_st.remember import LastListMemory

BATCH_SIZE = 16  # utterances per forward pass
# (spectrogram [B, T, 161], frames [B], snr_db []) for any B and T: each compiled forward is traced once
FORWARD_SIGNATURE = [tf.TensorSpec([None, None, NUM_BINS], tf.float32), tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.float32)]


def _features_and_frames(waveform):
    features = spectrogram(waveform)
    return features, tf.shape(features)[0]


def spectrogram_batches(waveforms: list[np.ndarray], batch_size: int = BATCH_SIZE) -> Iterator[dict]:
    """Padded batches {"spectrogram": float32 [B, T, 161], "frames": int32 [B]} of float32 16 kHz waveforms, in order."""
    dataset = tf.data.Dataset.from_generator(lambda: iter(waveforms), output_signature=tf.TensorSpec([None], tf.float32))
    dataset = dataset.map(tf.autograph.experimental.do_not_convert(_features_and_frames), num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.padded_batch(batch_size, padded_shapes=([None, NUM_BINS], []))
    for features, frames in dataset.prefetch(tf.data.AUTOTUNE):
        yield {"spectrogram": features, "frames": frames}


def compiled_forward(model: CTCModel, channel: Channel | None = None):
    """``forward(spectrogram [B, T, 161], frames [B], snr_db []) -> (logits [B, S, 29], steps [B])`` as one graph for any B and T.

    ``channel=None`` uses the model's training channel and SNR range (``snr_db`` is then ignored).
    Graphs are kept on the model, one per channel setting, so each is traced once. The model's Python
    (loops over layers, no tensor-dependent branches) is traced as written: autograph would cost about
    0.3 s more per trace (``transmit``) and change nothing.
    """
    key = None if channel is None else (channel.name, channel.block_length, channel.k_factor)
    cache = model.__dict__.setdefault("_compiled_forward", {})
    if key in cache:
        return cache[key]
    @tf.function(input_signature=FORWARD_SIGNATURE, autograph=False)
    def forward(spectrogram, frames, snr_db):
        batch = {"spectrogram": spectrogram, "frames": frames}
        if channel is None:
            return model.forward(batch, training=False)
        return model.forward(batch, training=False, channel=channel, snr_db=snr_db)

    cache[key] = forward
    return forward


def token_logits(model: CTCModel, waveforms: list[np.ndarray], channel: Channel | None = None, snr_db: float = 0.0, batch_size: int = BATCH_SIZE) -> list[np.ndarray]:
    """Float32 token logits [steps_i, 29] for each float32 16 kHz waveform.

    ``channel``/``snr_db`` (Es/N0, dB): what a DeepSC-ST model's symbols cross;
    an ASR-only model ignores both; None uses the model's training channel and SNR range.
    """
    return _per_utterance(compiled_forward(model, channel), waveforms, snr_db, batch_size)


def semantic_logits(model: CTCModel, waveforms: list[np.ndarray], batch_size: int = BATCH_SIZE) -> list[np.ndarray]:
    """The semantic encoder's token logits [steps_i, 29] for each waveform: before any channel.

    Their softmax is what DeepSC-ST's channel encoder sends (the semantic
    features); for an ASR-only model they equal :func:`token_logits`.
    """
    cache = model.__dict__.setdefault("_compiled_forward", {})
    if "semantic" not in cache:
        cache["semantic"] = tf.function(
            lambda spectrogram, frames, snr_db: model.semantic_encoder(spectrogram, frames), input_signature=FORWARD_SIGNATURE, autograph=False
        )
    return _per_utterance(cache["semantic"], waveforms, 0.0, batch_size)


def _per_utterance(forward, waveforms: list[np.ndarray], snr_db: float, batch_size: int) -> list[np.ndarray]:
    """``forward`` over padded batches of ``waveforms``, cut back to each utterance's own steps."""
    snr = tf.constant(snr_db, tf.float32)
    logits_per_utterance = []
    for batch in spectrogram_batches(waveforms, batch_size):
        logits, steps = forward(batch["spectrogram"], batch["frames"], snr)
        logits_per_utterance.extend(row[:count] for row, count in zip(logits.numpy(), steps.numpy()))
    return logits_per_utterance


class Recognizer(LastListMemory):
    """An ASR-only model's token logits [steps_i, 29] of each float32 16 kHz waveform, remembering the last list it heard.

    A sweep sends the same test set through a system at every channel and
    SNR; a transmitter that recognises the clean speech (text, feature,
    SR+DeepSC) then does it once per worker instead of once per cell. Only an
    identical list reuses the answer (an utterance's padding depends on its
    batch), and the model is deterministic at inference, so a remembered
    answer is the one it would compute again. The arrays are shared: do not modify them.
    """

    def __init__(self, model: CTCModel, batch_size: int = BATCH_SIZE):
        super().__init__(lambda waveforms: token_logits(model, waveforms, batch_size=batch_size))


def decode_each(logits_per_utterance: list[np.ndarray]) -> list[str]:
    """CTC greedy text of each utterance's token scores [steps_i, 29]."""
    return [greedy_decode(logits[np.newaxis], [len(logits)])[0] for logits in logits_per_utterance]
