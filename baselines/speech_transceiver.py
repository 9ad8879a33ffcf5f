"""The speech transceiver: AMR-WB -> polar + 64-QAM -> AMR-WB -> ASR at the receiver.

Benchmark (1) of the paper (section V-A): the speech itself crosses the
channel, coded by AMR-WB (23.85 kbit/s by default); the receiver decodes the
possibly corrupted AMR-WB bits to a waveform and recognises it with the
ASR-only model. About 6,400 complex symbols per second of speech at
23.85 kbit/s (paper: 6,600; see :mod:`baselines.link`).

>>> from channels import make_channel
>>> speech = SpeechTransceiver(asr_model)  # doctest: +SKIP
>>> [sent] = speech.transmit([waveform], make_channel("awgn"), 10.0)  # doctest: +SKIP
>>> sent.text, sent.channel_symbols, sent.waveform.shape  # doctest: +SKIP
('the cat sat on the mat', 12118, (30177,))
"""

from __future__ import annotations

from baselines.codecs import AmrWbCodec
from baselines.conventional import ConventionalTransceiver
from baselines.link import SPEECH_CODE_K
from deepsc_st.model import ASRModel
from deepsc_st.remember import PerItemMemory
from deepsc_st.transceiver import ASR_MODEL, Parts, ReceiverSpeech, Transmission


class SpeechTransceiver(ConventionalTransceiver):
    """AMR-WB speech over the digital link, then ASR on the decoded speech.

    Parameters
    ----------
    asr_model : the ASR-only model used at the receiver.
    mode_kbps : AMR-WB mode in kbit/s, one of ``baselines.codecs.amrwb.MODES_KBPS``.
    link : the link policy (default: the paper's, :mod:`baselines.link_policy`).
    batch_size : utterances per ASR forward pass.

    ``transmit`` returns, per utterance, the recognised text, the decoded
    float32 waveform [num_samples] at 16 kHz, and the link's symbol count.
    """

    name = "speech"
    receiver_speech = ReceiverSpeech.DECODED
    code_k = SPEECH_CODE_K

    def __init__(self, asr_model: ASRModel, mode_kbps: float = 23.85, link=None, **kwargs):
        super().__init__(asr_model, link, **kwargs)
        self.codec = AmrWbCodec(mode_kbps)
        self.encode = PerItemMemory(self.codec.encode)  # a fresh encoder per utterance: bits depend on its samples only

    @classmethod
    def from_parts(cls, parts: Parts) -> "SpeechTransceiver":
        return cls(parts.model(ASR_MODEL), link=cls.link_from_parts(parts), decoder=parts.ctc_decoder())

    def transmit(self, waveforms, channel, snr_db):
        received = self.send(self.encode(waveforms), waveforms, channel, snr_db)
        decoded = [self.codec.decode(r.bits, len(w)) for r, w in zip(received, waveforms)]
        texts = self.transcribe(decoded)
        return [Transmission(t, r.channel_symbols, w, link_bits_per_symbol=r.bits_per_symbol) for t, r, w in zip(texts, received, decoded)]
