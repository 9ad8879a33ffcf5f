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

import numpy as np

from baselines.link import DECODERS, DEFAULT_DECODER, DigitalLink, LinkResult
from channels import Channel
from deepsc_st.inference import BATCH_SIZE, decode_each, token_logits
from deepsc_st.model import ASRModel
from deepsc_st.transceiver import ASR_MODEL, Parts, SystemOption, Transceiver

DECODER_OPTION = SystemOption("decoder", "--decoder", DEFAULT_DECODER, "polar SCL decoder of the conventional links: fast or sionna", DECODERS, "polar decoder")


class ConventionalTransceiver(Transceiver):
    """Base class: batched ASR (:meth:`semantic_logits`, :meth:`transcribe`) and the link (:meth:`send`).

    Parameters
    ----------
    asr_model : the ASR-only model (:class:`deepsc_st.model.ASRModel`).
    link : the :class:`baselines.link.DigitalLink` that carries the source bits.
    batch_size : utterances per ASR forward pass.

    Every conventional system needs the ASR-only model and takes the link's
    polar decoder as an option (:data:`DECODER_OPTION`).
    """

    model_kinds = (ASR_MODEL,)
    options = (DECODER_OPTION,)
    code_k: int  # information bits per polar codeword of the system's link

    def __init__(self, asr_model: ASRModel, link: DigitalLink, batch_size: int = BATCH_SIZE):
        if not isinstance(asr_model, ASRModel):
            raise TypeError(f"{type(self).__name__} needs the ASR-only model (ASRModel), got {type(asr_model).__name__}")
        self.asr_model = asr_model
        self.link = link
        self.batch_size = batch_size

    @classmethod
    def link_from_parts(cls, parts: Parts) -> DigitalLink:
        """The system's link with the decoder chosen in ``parts``."""
        return DigitalLink(k=cls.code_k, decoder=parts.option(DECODER_OPTION))

    @property
    def models(self) -> dict[str, ASRModel]:
        return {ASR_MODEL.name: self.asr_model}

    def semantic_logits(self, waveforms: list[np.ndarray]) -> list[np.ndarray]:
        """Token logits float32 [steps_i, 29] of each float32 [num_samples_i] 16 kHz waveform; softmax gives the semantic features."""
        return token_logits(self.asr_model, waveforms, batch_size=self.batch_size)

    def transcribe(self, waveforms: list[np.ndarray]) -> list[str]:
        """ASR text of each 16 kHz waveform (CTC greedy decoding)."""
        return decode_each(self.semantic_logits(waveforms))

    def send(self, messages: list[np.ndarray], channel: Channel, snr_db: float) -> list[LinkResult]:
        """Send uint8 0/1 bits [num_bits_i] per utterance over ``channel`` at Es/N0 ``snr_db`` dB, all in one link batch."""
        return self.link.transmit_many(messages, channel, snr_db)
