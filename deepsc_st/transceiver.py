"""The interface every system shares, and DeepSC-ST as one such system.

A *transceiver* takes speech at the transmitter and returns what the receiver
recovers: text, optionally a waveform, and the complex channel symbols it
used. The sweep harness and ``deepsc-st transmit`` treat every system (this
one and those in :mod:`baselines`) alike through :class:`Transceiver`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from channels import Channel
from deepsc_st.decoding import greedy_decode
from deepsc_st.evaluate import compiled_forward
from deepsc_st.frontend import NUM_BINS, spectrogram
from deepsc_st.model import DeepSCST


@dataclass
class Transmission:
    """What the receiver recovered from one utterance.

    ``text``: normalised text (tokens only). ``channel_symbols``: complex
    symbols sent over the channel for this utterance. ``waveform``: float32
    [num_samples] at 16 kHz for systems whose receiver outputs speech, else None.
    """

    text: str
    channel_symbols: int
    waveform: np.ndarray | None = None


class Transceiver:
    """Base class: ``transmit(waveforms, channel, snr_db) -> list[Transmission]``.

    ``waveforms``: list of float32 [num_samples] at 16 kHz. ``channel``: a
    :class:`channels.Channel`. ``snr_db``: Es/N0 per complex symbol in dB.
    Randomness (noise, fading) comes from Sionna's generator, seeded by the caller.
    ``receiver_speech``: how the receiver outputs speech, see
    :func:`deepsc_st.synthesis.receiver_speech` ("decoded", "synthesized" or None).
    """

    name = "transceiver"
    receiver_speech: str | None = None

    def transmit(self, waveforms: list[np.ndarray], channel: Channel, snr_db: float) -> list[Transmission]:
        raise NotImplementedError


def spectrogram_batch(waveforms: list[np.ndarray]) -> dict:
    """Padded batch {"spectrogram": [B, T, 161], "frames": [B]} for a list of 16 kHz waveforms."""
    features = [spectrogram(w) for w in waveforms]
    frames = [int(f.shape[0]) for f in features]
    longest = max(frames)
    padded = [tf.pad(f, [[0, longest - n], [0, 0]]) for f, n in zip(features, frames)]
    return {"spectrogram": tf.reshape(tf.stack(padded), [len(frames), longest, NUM_BINS]), "frames": tf.constant(frames, tf.int32)}


class DeepSCSTTransceiver(Transceiver):
    """DeepSC-ST: semantic encoder + channel encoder -> channel -> channel decoder + CTC greedy decoding."""

    name = "deepsc-st"
    receiver_speech = "synthesized"

    def __init__(self, model: DeepSCST, batch_size: int = 16):
        self.model = model
        self.batch_size = batch_size

    def transmit(self, waveforms, channel, snr_db):
        forward = compiled_forward(self.model, channel)
        results = []
        for start in range(0, len(waveforms), self.batch_size):
            batch = spectrogram_batch(waveforms[start : start + self.batch_size])
            logits, steps = forward(batch["spectrogram"], batch["frames"], tf.constant(snr_db, tf.float32))
            symbols_per_step = self.model.config.symbols_per_step
            for text, step_count in zip(greedy_decode(logits.numpy(), steps.numpy()), steps.numpy()):
                results.append(Transmission(text, int(step_count) * symbols_per_step))
        return results
