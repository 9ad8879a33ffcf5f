"""What the conventional transceivers share: the ASR-only model and the digital link.

Every conventional system (:mod:`baselines.speech_transceiver`,
:mod:`baselines.text_transceiver`, :mod:`baselines.feature_transceiver`)
turns each utterance into source bits, sends the bits of all utterances of a
call over one :class:`baselines.link.DigitalLink` batch (polar code + 64-QAM),
and reads text with the project's ASR-only model (the semantic encoder of
:mod:`deepsc_st.model` trained without a channel, the Deep Speech 2 shape)
somewhere along the chain. Symbol counts are what the link reports: whole
codewords, padding included.

Side information: the receiver is told each message's length (AMR-WB frames,
Huffman bits, feature steps) for free, as the codecs' ``decode`` need it; it
is not counted in the channel symbols.
"""

from __future__ import annotations

import copy

import numpy as np
import tensorflow as tf

from baselines.link import DigitalLink, LinkResult
from channels import Channel
from deepsc_st.decoding import greedy_decode
from deepsc_st.evaluate import compiled_forward
from deepsc_st.model import ASRModel
from deepsc_st.transceiver import Transceiver, spectrogram_batch


class ConventionalTransceiver(Transceiver):
    """Base class: batched ASR (:meth:`semantic_logits`, :meth:`transcribe`) and the link (:meth:`send`).

    Parameters
    ----------
    asr_model : the ASR-only model (:class:`deepsc_st.model.ASRModel`).
    link : the :class:`baselines.link.DigitalLink` that carries the source
        bits; its fading block length and Rician K factor follow the
        :class:`channels.Channel` given to ``transmit``.
    batch_size : utterances per ASR forward pass.
    """

    def __init__(self, asr_model: ASRModel, link: DigitalLink, batch_size: int = 16):
        if not isinstance(asr_model, ASRModel):
            raise TypeError(f"{type(self).__name__} needs the ASR-only model (ASRModel), got {type(asr_model).__name__}")
        self.asr_model = asr_model
        self.link = link
        self.batch_size = batch_size
        self._forward = compiled_forward(asr_model)

    def semantic_logits(self, waveforms: list[np.ndarray]) -> list[np.ndarray]:
        """Token logits float32 [steps_i, 29] of each float32 [num_samples_i] 16 kHz waveform; softmax gives the semantic features."""
        logits_per_utterance = []
        for start in range(0, len(waveforms), self.batch_size):
            batch = spectrogram_batch(waveforms[start : start + self.batch_size])
            logits, steps = self._forward(batch["spectrogram"], batch["frames"], tf.constant(0.0))
            logits_per_utterance.extend(row[:count] for row, count in zip(logits.numpy(), steps.numpy()))
        return logits_per_utterance

    def transcribe(self, waveforms: list[np.ndarray]) -> list[str]:
        """ASR text of each 16 kHz waveform (CTC greedy decoding)."""
        return [greedy_decode(logits[np.newaxis], [len(logits)])[0] for logits in self.semantic_logits(waveforms)]

    def send(self, messages: list[np.ndarray], channel: Channel, snr_db: float) -> list[LinkResult]:
        """Send uint8 0/1 bits [num_bits_i] per utterance over ``channel`` at Es/N0 ``snr_db`` dB, all in one link batch."""
        link = self.link
        if (link.block_length, link.k_factor) != (channel.block_length, channel.k_factor):
            link = copy.copy(link)  # shares the coder objects; only the channel parameters differ
            link.block_length, link.k_factor = channel.block_length, channel.k_factor
        return link.transmit_many(messages, channel.name, snr_db)
