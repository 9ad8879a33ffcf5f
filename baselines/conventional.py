"""What the conventional transceivers share: the ASR-only model and the digital link.

Every conventional system (:mod:`baselines.speech_transceiver`,
:mod:`baselines.text_transceiver`, :mod:`baselines.feature_transceiver`)
turns each utterance into source bits, sends the bits of all utterances of a
call in one batch through its link policy (:mod:`baselines.link_policy`:
``paper``, the polar code + 64-QAM of :class:`baselines.link.DigitalLink`;
``adaptive`` or ``budget``, 5G NR LDPC + QAM), and reads text with the project's ASR-only model (the semantic encoder of
:mod:`deepsc_st.model` trained without a channel, the Deep Speech 2 shape)
somewhere along the chain. Symbol counts are what the link reports: whole
codewords, padding included.

Side information: the receiver is told each message's length (AMR-WB frames,
Huffman bits, feature steps) for free, as the codecs' ``decode`` need it; it
is not counted in the channel symbols.
"""

from __future__ import annotations

import numpy as np

from baselines.link import DECODERS, DEFAULT_DECODER, LinkResult
from baselines.link_policy import DEFAULT_LINK_POLICY, LINK_POLICIES, PaperLink, make_link_policy, parse_symbol_budget
from channels import Channel
from deepsc_st.decoding import GREEDY
from deepsc_st.inference import BATCH_SIZE, Recognizer
from deepsc_st.model import ASRModel
from deepsc_st.transceiver import ASR_MODEL, LM_OPTION, Parts, SystemOption, Transceiver

DECODER_OPTION = SystemOption("decoder", "--decoder", DEFAULT_DECODER, "polar SCL decoder of the paper's link: fast or sionna", DECODERS, "polar decoder")
LINK_OPTION = SystemOption(
    "link", "--link", DEFAULT_LINK_POLICY,
    "conventional systems' link: paper (polar + 64-QAM, rate 5/8), adaptive (5G NR MCS per SNR), budget (DeepSC-ST's channel symbols)",
    LINK_POLICIES, "link policy",
)
BUDGET_OPTION = SystemOption(
    "symbol_budget", "--symbol-budget", None,
    "budget link: complex symbols per second of speech (default: what DeepSC-ST sends for each utterance)",
    parse=parse_symbol_budget,
)


class ConventionalTransceiver(Transceiver):
    """Base class: batched ASR (:meth:`semantic_logits`, :meth:`transcribe`) and the link (:meth:`send`).

    Parameters
    ----------
    asr_model : the ASR-only model (:class:`deepsc_st.model.ASRModel`).
    link : the link policy that carries the source bits (default: the paper's
        link at the system's :attr:`code_k`).
    batch_size : utterances per ASR forward pass.

    Every conventional system needs the ASR-only model and takes the link
    policy, the paper link's polar decoder and the budget as options.
    """

    model_kinds = (ASR_MODEL,)
    options = (DECODER_OPTION, LINK_OPTION, BUDGET_OPTION, LM_OPTION)
    code_k: int  # information bits per polar codeword of the system's paper link

    def __init__(self, asr_model: ASRModel, link=None, batch_size: int = BATCH_SIZE, decoder=GREEDY):
        if not isinstance(asr_model, ASRModel):
            raise TypeError(f"{type(self).__name__} needs the ASR-only model (ASRModel), got {type(asr_model).__name__}")
        self.asr_model = asr_model
        self.link = link if link is not None else PaperLink(self.code_k)
        self.recognizer = Recognizer(asr_model, batch_size)
        self.decoder = decoder  # CTC decoding of token scores: greedy or beam search with --lm (Parts.ctc_decoder)

    @classmethod
    def link_from_parts(cls, parts: Parts):
        """The system's link policy as chosen in ``parts``."""
        return make_link_policy(parts.option(LINK_OPTION), cls.code_k, parts.option(DECODER_OPTION), parts.option(BUDGET_OPTION))

    @property
    def models(self) -> dict[str, ASRModel]:
        return {ASR_MODEL.name: self.asr_model}

    def semantic_logits(self, waveforms: list[np.ndarray]) -> list[np.ndarray]:
        """Token logits float32 [steps_i, 29] of each float32 [num_samples_i] 16 kHz waveform; softmax gives the semantic features."""
        return self.recognizer(waveforms)

    def transcribe(self, waveforms: list[np.ndarray]) -> list[str]:
        """ASR text of each 16 kHz waveform (CTC decoding with :attr:`decoder`)."""
        return self.decoder(self.semantic_logits(waveforms))

    def send(self, messages: list[np.ndarray], waveforms: list[np.ndarray], channel: Channel, snr_db: float) -> list[LinkResult]:
        """Send uint8 0/1 bits [num_bits_i] per utterance (``waveforms``: its speech, for the budget) over ``channel`` at Es/N0 ``snr_db`` dB."""
        return self.link.send(messages, [len(w) for w in waveforms], channel, snr_db)
