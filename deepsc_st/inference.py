"""Running a trained model over many waveforms: the batched forward loops.

Every place that turns speech into token scores goes through
:func:`token_logits` (validation during training; DeepSC-ST's transceiver
runs its two halves, :func:`transmitted_symbols` and :func:`received_logits`,
and through it ``evaluate``, the model cards and every deepsc-st sweep
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
from deepsc_st.frontend import NUM_BINS, spectrogram
from deepsc_st.model import ASRModel, CTCModel, DeepSCST
from deepsc_st.remember import LastListMemory

BATCH_SIZE = 16  # utterances per forward pass
# (spectrogram [B, T, 161], frames [B]) for any B and T: each compiled forward is traced once
FORWARD_SIGNATURE = [tf.TensorSpec([None, None, NUM_BINS], tf.float32), tf.TensorSpec([None], tf.int32)]


# One graph for any length: the same ops as inside a model, traced once per process.
_spectrogram = tf.function(spectrogram, input_signature=[tf.TensorSpec([None], tf.float32)], autograph=False)


def spectrogram_batches(waveforms: list[np.ndarray], batch_size: int = BATCH_SIZE) -> Iterator[dict]:
    """Padded batches {"spectrogram": float32 [B, T, 161], "frames": int32 [B]} of float32 16 kHz waveforms, in order.

    A plain loop, not ``tf.data``: ``Dataset.from_generator`` sets glibc's
    trim threshold to 128 kB the first time it runs (TensorFlow's
    "memory patch"), which undoes :func:`experiments.cli.keep_freed_memory`;
    the ASR pass of a 200-utterance speech cell, measured in a process running
    cells one after another on one thread, took 10.5 s with ``tf.data`` and
    6.6 s without (same logits and features).
    """
    for start in range(0, len(waveforms), batch_size):
        features = [_spectrogram(waveform).numpy() for waveform in waveforms[start : start + batch_size]]
        frames = np.array([len(f) for f in features], np.int32)
        padded = np.zeros((len(features), frames.max(), NUM_BINS), np.float32)
        for row, f in zip(padded, features):
            row[: len(f)] = f
        yield {"spectrogram": tf.constant(padded), "frames": tf.constant(frames)}


def token_logits(model: CTCModel, waveforms: list[np.ndarray], channel: Channel | None = None, snr_db: float = 0.0, batch_size: int = BATCH_SIZE) -> list[np.ndarray]:
    """Float32 token logits [steps_i, 29] for each float32 16 kHz waveform.

    ``channel``/``snr_db`` (Es/N0, dB): what a DeepSC-ST model's symbols cross
    (:func:`transmitted_symbols`, then :func:`received_logits`); an ASR-only
    model ignores both; None uses the model's training channel and SNR range.
    """
    if not isinstance(model, DeepSCST):
        return semantic_logits(model, waveforms, batch_size)
    return received_logits(model, transmitted_symbols(model, waveforms, batch_size), channel, snr_db)


def semantic_logits(model: CTCModel, waveforms: list[np.ndarray], batch_size: int = BATCH_SIZE) -> list[np.ndarray]:
    """The semantic encoder's token logits [steps_i, 29] for each waveform: before any channel.

    Their softmax is what DeepSC-ST's channel encoder sends (the semantic
    features); for an ASR-only model they equal :func:`token_logits`.
    """
    semantic = compiled_graph(model, "semantic", lambda spectrogram, frames: model.semantic_encoder(spectrogram, frames), FORWARD_SIGNATURE)
    return _in_length_order(waveforms, batch_size, lambda batch: _each_utterance(*semantic(batch["spectrogram"], batch["frames"])))


def _in_length_order(waveforms: list[np.ndarray], batch_size: int, forward) -> list:
    """``forward``'s per-utterance results (a list per padded batch) for each waveform, in the given order, computed
    over batches of similar length: the waveforms sorted by length (stable), so little of a batch is padding.

    An utterance's logits depend on its batch only through float rounding: ``asr-small``'s were bit-identical to
    those of batches in the given order on 200 test utterances (one and two threads; ``listen``'s pooled features
    moved by at most 1.2e-7). It saves a third of the forward time: 200 test utterances padded in their own order
    are 62 % padding (``listen`` 6.4 -> 4.3 s on one thread).
    """
    order = np.argsort([len(waveform) for waveform in waveforms], kind="stable")
    results: list = [None] * len(waveforms)
    positions = iter(order)
    for batch in spectrogram_batches([waveforms[i] for i in order], batch_size):
        for result in forward(batch):
            results[next(positions)] = result
    return results


class Sent(NamedTuple):
    """One padded batch as DeepSC-ST's transmitter sends it (:func:`transmitted_symbols`)."""

    symbols: tf.Tensor  # complex64 [B, S x symbols_per_step], unit average energy
    steps: tf.Tensor  # int32 [B]: each utterance's own steps S_i


def transmitted_symbols(model: DeepSCST, waveforms: list[np.ndarray], batch_size: int = BATCH_SIZE) -> list[Sent]:
    """DeepSC-ST's transmitter (semantic + channel encoder) over padded batches of float32 16 kHz waveforms, in order.

    Deterministic at inference and independent of the channel, so a sweep's
    cells can send the same batches (:class:`deepsc_st.transceiver.DeepSCSTTransceiver` remembers them).
    """
    transmit = compiled_graph(model, "transmit", lambda spectrogram, frames: model.transmit({"spectrogram": spectrogram, "frames": frames}), FORWARD_SIGNATURE)
    return [Sent(*transmit(batch["spectrogram"], batch["frames"])) for batch in spectrogram_batches(waveforms, batch_size)]


def received_logits(model: DeepSCST, sent: list[Sent], channel: Channel | None, snr_db: float) -> list[np.ndarray]:
    """Float32 token logits [steps_i, 29] of each utterance of ``sent`` after ``channel`` at ``snr_db`` (Es/N0, dB) and the channel decoder.

    ``channel=None``: the model's training channel and SNR range (``snr_db`` ignored). The
    noise and fading come from Sionna's generator, one draw per batch in order.
    """
    key = None if channel is None else (channel.name, channel.block_length, channel.k_factor)

    def reception(symbols, snr):
        return model.receive_over(symbols, channel, None if channel is None else snr)

    receive = compiled_graph(model, ("receive", key), reception, [tf.TensorSpec([None, None], tf.complex64), tf.TensorSpec([], tf.float32)])
    snr = tf.constant(snr_db, tf.float32)
    logits_per_utterance = []
    for batch in sent:
        logits_per_utterance.extend(_each_utterance(receive(batch.symbols, snr), batch.steps))
    return logits_per_utterance


def compiled_graph(model, key, function, input_signature):
    """``function`` as one graph for any batch and length (``input_signature``), kept on the model under ``key``: traced once.

    The model's Python (loops over layers, no tensor-dependent branches) is
    traced as written: autograph would change nothing and cost time in every
    ``transmit`` (about 0.3 s per trace of the ASR, 1.3 s for the codec's two
    graphs, 1.5 s for the DeepSC text link).
    """
    graphs = model.__dict__.setdefault("_compiled_graphs", {})
    if key not in graphs:
        graphs[key] = tf.function(function, input_signature=input_signature, autograph=False)
    return graphs[key]


def _each_utterance(logits, steps) -> list[np.ndarray]:
    """A batch's logits [B, S, 29] cut back to each utterance's own steps [B]: [steps_i, 29] each."""
    return [row[:count] for row, count in zip(logits.numpy(), steps.numpy())]


class Heard(NamedTuple):
    """What an ASR-only model makes of a list of waveforms in one pass (:func:`listen`)."""

    logits: list[np.ndarray]  # token scores [steps_i, 29] of each waveform
    features: np.ndarray  # float64 [num_waveforms, 2 x gru_units]: the last BiGRU block's output averaged over each waveform's own steps


def _listening(model: ASRModel, spectrogram, frames):
    """(logits [B, S, 29], steps [B], features [B, 2 x gru_units]) of a padded batch: the logits are
    :meth:`ASRModel.forward`'s (the classifier on the hidden states), the features those hidden states
    averaged over each utterance's steps (batch padding left out)."""
    encoder = model.semantic_encoder
    hidden, steps = encoder.hidden_states(spectrogram, frames, training=False)
    valid = tf.sequence_mask(steps, tf.shape(hidden)[1], hidden.dtype)[:, :, tf.newaxis]
    features = tf.reduce_sum(hidden * valid, axis=1) / tf.cast(steps, hidden.dtype)[:, tf.newaxis]
    return encoder.classifier(hidden), steps, features


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
    listening = compiled_graph(model, "listen", lambda spectrogram, frames: _listening(model, spectrogram, frames), FORWARD_SIGNATURE)

    def heard(batch):
        logits, steps, pooled = listening(batch["spectrogram"], batch["frames"])
        return zip(_each_utterance(logits, steps), pooled.numpy())

    logits_per_utterance, features = zip(*_in_length_order(waveforms, batch_size, heard))
    return Heard(list(logits_per_utterance), np.stack(features).astype(np.float64))


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

