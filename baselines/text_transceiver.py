"""The text transceiver: ASR at the transmitter -> Huffman -> polar + 64-QAM -> text.

Benchmark (2) of the paper (section V-A): the transmitter recognises the
speech with the ASR-only model, and only the text crosses the channel,
Huffman-coded (:class:`baselines.codecs.HuffmanTextCodec`, table from
:func:`load_huffman_codec`). A short sentence
fits one 512-bit codeword, 86 complex symbols (paper: 60 per second; see
:mod:`baselines.link` for why whole codewords cost more). The receiver's
output is text, which the caller speaks in the sender's voice
(``receiver_speech``: synthesised, :mod:`deepsc_st.synthesis`).

>>> from channels import make_channel
>>> text = TextTransceiver(asr_model, HuffmanTextCodec.from_transcripts(transcripts))  # doctest: +SKIP
>>> [sent] = text.transmit([waveform], make_channel("rayleigh"), 10.0)  # doctest: +SKIP
>>> sent.text, sent.channel_symbols, sent.waveform  # doctest: +SKIP
('the cat sat on the mat', 86, None)
"""

from __future__ import annotations

import json
from pathlib import Path

from baselines.codecs import HuffmanTextCodec
from baselines.conventional import ConventionalTransceiver
from baselines.link import TEXT_CODE_K
from deepsc_st.checkpoint import write_atomically
from deepsc_st.data import read_utterances
from deepsc_st.errors import UserError
from deepsc_st.model import ASRModel
from deepsc_st.transceiver import ASR_MODEL, Parts, ReceiverSpeech, SystemOption, Transmission

HUFFMAN_FILE = "huffman.json"
HUFFMAN_OPTION = SystemOption(
    "huffman_table", "--huffman-table", None, "text system: Huffman table JSON or corpus folder (default: huffman.json in the ASR run)"
)


class TextTransceiver(ConventionalTransceiver):
    """ASR text, Huffman-coded, over the digital link.

    Parameters
    ----------
    asr_model : the ASR-only model used at the transmitter.
    huffman_codec : the Huffman code shared by transmitter and receiver.
    link : the link policy (default: the paper's, :mod:`baselines.link_policy`).
    batch_size : utterances per ASR forward pass.

    ``transmit`` returns, per utterance, the Huffman-decoded text (no
    waveform) and the link's symbol count.
    """

    name = "text"
    receiver_speech = ReceiverSpeech.SYNTHESIZED
    options = (*ConventionalTransceiver.options, HUFFMAN_OPTION)
    code_k = TEXT_CODE_K

    def __init__(self, asr_model: ASRModel, huffman_codec: HuffmanTextCodec, link=None, **kwargs):
        super().__init__(asr_model, link, **kwargs)
        self.codec = huffman_codec

    @classmethod
    def from_parts(cls, parts: Parts) -> "TextTransceiver":
        asr_model = parts.model(ASR_MODEL)
        codec = load_huffman_codec(parts.option(HUFFMAN_OPTION), parts.run_dir(ASR_MODEL), parts.run(ASR_MODEL))
        return cls(asr_model, codec, cls.link_from_parts(parts), decoder=parts.ctc_decoder())

    def transmit(self, waveforms, channel, snr_db):
        received = self.send([self.codec.encode(t) for t in self.transcribe(waveforms)], waveforms, channel, snr_db)
        return [Transmission(self.codec.decode(r.bits), r.channel_symbols, link_bits_per_symbol=r.bits_per_symbol) for r in received]


def load_huffman_codec(huffman_table, asr_run_dir, asr_run: dict) -> HuffmanTextCodec:
    """The text system's Huffman code.

    ``huffman_table``: a JSON file (:meth:`HuffmanTextCodec.to_json`) or a
    corpus folder whose training transcripts build the code. None: the
    ``huffman.json`` in the ASR run folder; if it is missing, it is built from
    the training transcripts of the corpus the ASR was trained on (``data`` in
    its ``run.json``) and saved there, so the ASR and the code see the same
    text. Ship ``huffman.json`` with a model whose corpus does not travel.
    """
    if huffman_table is not None:
        path = Path(huffman_table)
        if path.is_dir():
            return HuffmanTextCodec.from_transcripts(u.text for u in read_utterances(path, "train"))
        return _read_huffman_json(path)
    path = Path(asr_run_dir) / HUFFMAN_FILE
    if path.is_file():
        return _read_huffman_json(path)
    corpus = Path(asr_run["data"])
    if not corpus.is_dir():
        raise UserError(
            f"{path} is missing and the ASR model's training corpus {corpus} is not there to build it; "
            "pass --huffman-table JSON_OR_CORPUS"
        )
    codec = HuffmanTextCodec.from_transcripts(u.text for u in read_utterances(corpus, "train"))
    write_atomically(path, lambda p: Path(p).write_text(codec.to_json() + "\n"))
    return codec


def _read_huffman_json(path: Path) -> HuffmanTextCodec:
    try:
        return HuffmanTextCodec.from_json(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: no such Huffman table or corpus folder") from None
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise UserError(f"{path}: not a Huffman table ({str(error).splitlines()[0][:120]})") from None
