"""SR+DeepSC: ASR at the transmitter -> the DeepSC text transceiver -> text.

Benchmark (4) of the paper (section V-A4): the transmitter recognises the
speech with the ASR-only model (the Deep Speech 2 shape); the DeepSC
transformer of Xie et al. (:mod:`deepsc_st.text_model`) sends the text as
learned channel symbols, 8 complex symbols per word token (START and END
included); the receiver decodes the text greedily and speaks it in the
sender's voice (``receiver_speech``: synthesised). Words outside the DeepSC
vocabulary, misrecognised ones included, go as UNK (``--unknown-words unk``,
the paper's rule and the default). The receiver would render UNK as nothing,
but the shipped text model never saw UNK in training (its sentences hold
vocabulary words only) and decodes it as some vocabulary word: on
``data/synth``'s test split at AWGN 20 dB behind the default ASR, 833 of its 4,719 words
were outside the vocabulary and all 4,719 came back as words (SR+DeepSC CER
0.279; 0.263 with those words left out before sending). ``train --unk-words``
teaches a text model to carry UNK (README, SR+DeepSC). With
``--unknown-words nearest`` the transmitter sends the nearest vocabulary word
in edit distance instead (:meth:`deepsc_st.words.WordVocabulary.nearest_known`).

>>> from channels import make_channel
>>> system = SRDeepSCTransceiver(asr_model, text_model, vocabulary)  # doctest: +SKIP
>>> [sent] = system.transmit([waveform], make_channel("awgn"), 20.0)  # doctest: +SKIP
>>> sent.text, sent.channel_symbols  # doctest: +SKIP
('the cat sat on the mat', 64)
"""

from __future__ import annotations

from deepsc_st.errors import UserError
from deepsc_st.decoding import GREEDY
from deepsc_st.inference import BATCH_SIZE, Recognizer
from deepsc_st.model import ASRModel
from deepsc_st.text_link import send_texts
from deepsc_st.text_model import TEXT_KIND, DeepSCText
from deepsc_st.transceiver import ASR_MODEL, LM_OPTION, RUN_LABELS, ModelKind, Parts, ReceiverSpeech, SystemOption, Transceiver, Transmission
from deepsc_st.words import WordVocabulary

DEEPSC_TEXT_MODEL = ModelKind(TEXT_KIND, "--text-model", RUN_LABELS[TEXT_KIND], shipped="sr-deepsc-small")
UNKNOWN_WORDS = ("unk", "nearest")
UNKNOWN_WORDS_OPTION = SystemOption(
    "unknown_words", "--unknown-words", "unk",
    "sr-deepsc: a recognised word outside the DeepSC vocabulary goes as UNK (unk: the paper's rule) or as the nearest vocabulary word (nearest)",
    choices=UNKNOWN_WORDS, what="--unknown-words policy",
)


class SRDeepSCTransceiver(Transceiver):
    """ASR text, sent by the DeepSC text transceiver.

    Parameters
    ----------
    asr_model : the ASR-only model used at the transmitter.
    text_model : the trained DeepSC text transceiver (:class:`deepsc_st.text_model.DeepSCText`).
    vocabulary : its word tokens (``vocabulary.json`` in its run folder).
    unknown_words : "unk" (a word outside the vocabulary goes as UNK) or "nearest" (as the nearest vocabulary word).
    batch_size : utterances per ASR forward pass.
    decoder : the ASR's CTC decoding (greedy, or a beam search with a word language model, ``--lm``).
    """

    name = "sr-deepsc"
    model_kinds = (ASR_MODEL, DEEPSC_TEXT_MODEL)
    options = (UNKNOWN_WORDS_OPTION, LM_OPTION)
    receiver_speech = ReceiverSpeech.SYNTHESIZED

    def __init__(self, asr_model: ASRModel, text_model: DeepSCText, vocabulary: WordVocabulary, unknown_words: str = "unk", batch_size: int = BATCH_SIZE,
                 decoder=GREEDY):
        if not isinstance(asr_model, ASRModel):
            raise UserError(f"sr-deepsc needs the ASR-only model at the transmitter, got {type(asr_model).__name__}")
        self.asr_model, self.text_model, self.vocabulary = asr_model, text_model, vocabulary
        self.unknown_words = UNKNOWN_WORDS_OPTION.check(unknown_words)
        self.recognizer = Recognizer(asr_model, batch_size)
        self.decoder = decoder  # the transmitter's CTC decoding: greedy or beam search with --lm

    @classmethod
    def from_parts(cls, parts: Parts) -> "SRDeepSCTransceiver":
        return cls(
            parts.model(ASR_MODEL), parts.model(DEEPSC_TEXT_MODEL), WordVocabulary.load(parts.run_dir(DEEPSC_TEXT_MODEL)),
            parts.option(UNKNOWN_WORDS_OPTION), decoder=parts.ctc_decoder(),
        )

    @property
    def models(self):
        return {ASR_MODEL.name: self.asr_model, DEEPSC_TEXT_MODEL.name: self.text_model}

    def transcribe(self, waveforms) -> list[str]:
        """The text the transmitter sends for each 16 kHz waveform: ASR text (CTC decoding: greedy, or beam search with --lm), words outside
        the vocabulary replaced by their nearest vocabulary word under ``unknown_words`` "nearest"."""
        texts = self.decoder(self.recognizer(waveforms))
        return [self.vocabulary.nearest_known(text) for text in texts] if self.unknown_words == "nearest" else texts

    def transmit_text(self, texts: list[str], channel, snr_db) -> list[Transmission]:
        """The DeepSC text link alone: ``texts`` over ``channel`` at Es/N0 ``snr_db`` dB."""
        return [Transmission(text, symbols) for text, symbols in send_texts(self.text_model, self.vocabulary, texts, channel, snr_db)]

    def transmit(self, waveforms, channel, snr_db):
        return self.transmit_text(self.transcribe(waveforms), channel, snr_db)
