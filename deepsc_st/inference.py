"""Running a trained model over many waveforms: the batched forward loops.

Every place that turns speech into token scores goes through
:func:`token_logits` (DeepSC-ST's transceiver, validation during training,
and through those ``evaluate``, the model cards and every deepsc-st sweep
cell) or, for an ASR-only model heard by the conventional systems, SR+DeepSC
and the FDSD / KDSD features, :func:`listen` (the same logits and the
speech features in one pass). :func:`spectrogram_batches` is the one
batching rule (input order kept, zero padding to the longest utterance of
each batch).

>>> logits = token_logits(model, [waveform], make_channel("awgn"), snr_db=4.0)  # doctest: +SKIP
>>> logits[0].shape  # doctest: +SKIP
(76, 29)
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np
import tensorflow as tf

from channels import Channel
from deepsc_st.decoding import greedy_decode
from deepsc_st.frontend import NUM_BINS, spectrogram
from deepsc_st.model import ASRModel, CTCModel
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
        logits_per_utterance.extend(_each_utterance(*forward(batch["spectrogram"], batch["frames"], snr)))
    return logits_per_utterance


def _each_utterance(logits, steps) -> list[np.ndarray]:
    """A batch's logits [B, S, 29] cut back to each utterance's own steps [B]: [steps_i, 29] each."""
    return [row[:count] for row, count in zip(logits.numpy(), steps.numpy())]


class Heard(NamedTuple):
    """What an ASR-only model makes of a list of waveforms in one pass (:func:`listen`)."""

    logits: list[np.ndarray]  # token scores [steps_i, 29] of each waveform
    features: np.ndarray  # float64 [num_waveforms, 2 x gru_units]: the last BiGRU block's output averaged over each waveform's own steps


def _compiled_listening(model: ASRModel):
    """``listen(spectrogram [B, T, 161], frames [B]) -> (logits [B, S, 29], steps [B], features [B, 2 x gru_units])``,
    one graph for any B and T, kept on the model. The logits are :meth:`ASRModel.forward`'s (the classifier on the
    hidden states), the features those hidden states averaged over each utterance's steps (batch padding left out)."""
    if "_compiled_listening" in model.__dict__:
        return model.__dict__["_compiled_listening"]

    @tf.function(input_signature=FORWARD_SIGNATURE[:2], autograph=False)
    def listening(spectrogram, frames):
        encoder = model.semantic_encoder
        hidden, steps = encoder.hidden_states(spectrogram, frames, training=False)
        valid = tf.sequence_mask(steps, tf.shape(hidden)[1], hidden.dtype)[:, :, tf.newaxis]
        features = tf.reduce_sum(hidden * valid, axis=1) / tf.cast(steps, hidden.dtype)[:, tf.newaxis]
        return encoder.classifier(hidden), steps, features

    model.__dict__["_compiled_listening"] = listening
    return listening


HEARD_LISTS = 4  # lists each model remembers: a sweep worker's clean test set, decoded and synthesised speech


def listen(model: ASRModel, waveforms: list[np.ndarray], batch_size: int = BATCH_SIZE) -> Heard:
    """An ASR-only model's token logits and speech features of float32 16 kHz waveforms, in one pass over padded batches.

    The recogniser of the conventional systems and SR+DeepSC and the FDSD /
    KDSD features (:func:`deepsc_st.speech_distance.asr_speech_features`)
    both read this, so speech that is both recognised and scored (a speech or
    codec cell's decoded speech) goes through the model once. The last
    :data:`HEARD_LISTS` lists are remembered by content per model and batch
    size (an utterance's padding depends on its batch; the model is
    deterministic at inference, so a remembered answer is the one it would
    compute again). The arrays are shared: do not modify them.
    """
    if not waveforms:
        return Heard([], np.zeros((0, 2 * model.config.gru_units)))
    memories = model.__dict__.setdefault("_heard", {})
    if batch_size not in memories:
        memories[batch_size] = LastListMemory(lambda speech: _listen(model, speech, batch_size), lists=HEARD_LISTS)
    return memories[batch_size](waveforms)


def _listen(model: ASRModel, waveforms: list[np.ndarray], batch_size: int) -> Heard:
    listening = _compiled_listening(model)
    logits_per_utterance, features = [], []
    for batch in spectrogram_batches(waveforms, batch_size):
        logits, steps, pooled = listening(batch["spectrogram"], batch["frames"])
        logits_per_utterance.extend(_each_utterance(logits, steps))
        features.append(pooled.numpy())
    return Heard(logits_per_utterance, np.concatenate(features).astype(np.float64))


class Recognizer:
    """An ASR-only model's token logits [steps_i, 29] of each float32 16 kHz waveform (:func:`listen`'s, remembered).

    A sweep sends the same test set through a system at every channel and
    SNR; a transmitter that recognises the clean speech (text, feature,
    SR+DeepSC) then does it once per worker instead of once per cell.
    """

    def __init__(self, model: ASRModel, batch_size: int = BATCH_SIZE):
        self.model = model
        self.batch_size = batch_size

    def __call__(self, waveforms: list[np.ndarray]) -> list[np.ndarray]:
        return listen(self.model, waveforms, self.batch_size).logits


def decode_each(logits_per_utterance: list[np.ndarray]) -> list[str]:
    """CTC greedy text of each utterance's token scores [steps_i, 29]."""
    return [greedy_decode(logits[np.newaxis], [len(logits)])[0] for logits in logits_per_utterance]
