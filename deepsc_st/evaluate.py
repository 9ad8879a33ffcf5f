"""Evaluation: decode a split through a channel at one SNR and score it."""

from __future__ import annotations

import numpy as np
import sionna.phy
import tensorflow as tf

from channels import Channel
from deepsc_st.data import LoadedUtterance, evaluation_dataset
from deepsc_st.decoding import greedy_decode
from deepsc_st.errors import UserError
from deepsc_st.frontend import NUM_BINS
from deepsc_st.metrics import character_error_rate, word_error_rate
from deepsc_st.model import ASRModel, CTCModel


def compiled_forward(model: CTCModel, channel: Channel | None = None):
    """``forward(spectrogram [B, T, 161], frames [B], snr_db []) -> (logits, steps)`` as one graph for any B and T.

    ``channel=None`` uses the model's training channel and SNR range (``snr_db`` is then ignored).
    Graphs are kept on the model, one per channel setting, so each is traced once.
    """
    key = None if channel is None else (channel.name, channel.block_length, channel.k_factor)
    cache = model.__dict__.setdefault("_compiled_forward", {})
    if key in cache:
        return cache[key]
    signature = [
        tf.TensorSpec([None, None, NUM_BINS], tf.float32),
        tf.TensorSpec([None], tf.int32),
        tf.TensorSpec([], tf.float32),
    ]

    @tf.function(input_signature=signature)
    def forward(spectrogram, frames, snr_db):
        batch = {"spectrogram": spectrogram, "frames": frames}
        if channel is None:
            return model.forward(batch, training=False)
        return model.forward(batch, training=False, channel=channel, snr_db=snr_db)

    cache[key] = forward
    return forward


def recognise(model: CTCModel, loaded: list[LoadedUtterance], channel: Channel, snr_db: float, batch_size: int = 16) -> tuple[list[str], int]:
    """Recovered texts for ``loaded`` and the complex channel symbols sent for them in total."""
    if isinstance(model, ASRModel) and channel.name != "none":
        raise UserError("an ASR-only model sends no channel symbols; use --channel none")
    forward = compiled_forward(model, channel)
    hypotheses, symbols = [], 0
    for batch in evaluation_dataset(loaded, batch_size):
        logits, steps = forward(batch["spectrogram"], batch["frames"], tf.constant(snr_db, tf.float32))
        hypotheses.extend(greedy_decode(logits.numpy(), steps.numpy()))
        if not isinstance(model, ASRModel):
            symbols += int(np.sum(steps.numpy())) * model.config.symbols_per_step
    return hypotheses, symbols


def evaluate(model: CTCModel, loaded: list[LoadedUtterance], channel: Channel, snr_db: float, seed: int = 0, batch_size: int = 16) -> dict:
    """CER, WER, utterance count and symbols per 16,000 samples for one channel and SNR (Es/N0, dB)."""
    sionna.phy.config.seed = seed
    hypotheses, symbols = recognise(model, loaded, channel, snr_db, batch_size)
    references = [item.utterance.text for item in loaded]
    samples = sum(len(item.waveform) for item in loaded)
    return {
        "channel": channel.name,
        "snr_db": float(snr_db),
        "cer": character_error_rate(references, hypotheses),
        "wer": word_error_rate(references, hypotheses),
        "utterances": len(loaded),
        "symbols_per_16000_samples": symbols * 16_000 / samples,
        "examples": [{"id": item.utterance.id, "reference": ref, "hypothesis": hyp} for item, ref, hyp in zip(loaded[:3], references, hypotheses)],
    }
