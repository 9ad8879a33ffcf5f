"""The text transceiver: ASR at the transmitter -> Huffman -> polar + 64-QAM -> text.

Benchmark (2) of the paper (section V-A): the transmitter recognises the
speech with the ASR-only model, and only the text crosses the channel,
Huffman-coded (:class:`baselines.codecs.HuffmanTextCodec`). A short sentence
fits one 512-bit codeword, 86 complex symbols (paper: 60 per second; see
:mod:`baselines.link` for why whole codewords cost more). The receiver's
output is text; speech synthesis at the receiver is not part of this class.

>>> from channels import make_channel
>>> text = TextTransceiver(asr_model, HuffmanTextCodec.from_transcripts(transcripts))  # doctest: +SKIP
>>> [sent] = text.transmit([waveform], make_channel("rayleigh"), 10.0)  # doctest: +SKIP
>>> sent.text, sent.channel_symbols, sent.waveform  # doctest: +SKIP
('the cat sat on the mat', 86, None)
"""

from __future__ import annotations

from baselines.codecs import HuffmanTextCodec
from baselines.conventional import ConventionalTransceiver
from baselines.link import TEXT_CODE_K, DigitalLink
from deepsc_st.model import ASRModel
from deepsc_st.transceiver import Transmission


class TextTransceiver(ConventionalTransceiver):
    """ASR text, Huffman-coded, over the digital link.

    Parameters
    ----------
    asr_model : the ASR-only model used at the transmitter.
    huffman_codec : the Huffman code shared by transmitter and receiver.
    link : the digital link (default ``DigitalLink(k=TEXT_CODE_K)``).
    batch_size : utterances per ASR forward pass.

    ``transmit`` returns, per utterance, the Huffman-decoded text (no
    waveform) and the link's symbol count.
    """

    name = "text"
    receiver_speech = "synthesized"

    def __init__(self, asr_model: ASRModel, huffman_codec: HuffmanTextCodec, link: DigitalLink | None = None, batch_size: int = 16):
        super().__init__(asr_model, link if link is not None else DigitalLink(k=TEXT_CODE_K), batch_size)
        self.codec = huffman_codec

    def transmit(self, waveforms, channel, snr_db):
        received = self.send([self.codec.encode(t) for t in self.transcribe(waveforms)], channel, snr_db)
        return [Transmission(self.codec.decode(r.bits), r.channel_symbols) for r in received]
