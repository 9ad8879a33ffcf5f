"""The codec transceiver: speech -> neural codec tokens -> digital link -> tokens -> speech -> ASR.

The modern alternative to AMR-WB (:mod:`baselines.speech_transceiver`): the
speech crosses the channel as the discrete tokens of a Language-Codec-style
neural codec (:mod:`deepsc_st.codec`; the shipped ``codec-small``: 50 frames
per second x 4 codebooks x 10 bits = 2.0 kbit/s, about 533 complex symbols per
second on the paper's link at 3.75 bits per symbol, next to DeepSC-ST's 520).
The receiver decodes the received tokens to speech and recognises it with the
ASR-only model; its speech is the decoded speech (FDSD / KDSD, PESQ, STOI).

Bits of the tokens: frame by frame, and within a frame codebook 1 first; each
token as ``log2(codebook size)`` bits, most significant first. A corrupted
token decodes to whatever index its bits became (every 10-bit pattern is an
entry of a 1024-entry codebook): a wrong codebook vector for one frame of one
quantiser. Losing a masked quantiser's token (codebooks 1-3) wipes one third
of that frame's latent channels.

>>> from channels import make_channel
>>> system = CodecTransceiver(asr_model, codec)  # doctest: +SKIP
>>> [sent] = system.transmit([waveform], make_channel("awgn"), 20.0)  # doctest: +SKIP
>>> sent.text, sent.channel_symbols, sent.waveform.shape  # doctest: +SKIP
('the cat sat on the mat', 1078, (30177,))
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from baselines.conventional import ConventionalTransceiver
from baselines.link import CODEC_CODE_K
from deepsc_st.codec import CODEC_KIND, SpeechCodec
from deepsc_st.errors import UserError
from deepsc_st.frontend import SAMPLE_RATE
from deepsc_st.inference import compiled_graph
from deepsc_st.model import ASRModel
from deepsc_st.remember import PerItemMemory
from deepsc_st.transceiver import ASR_MODEL, RUN_LABELS, ModelKind, Parts, ReceiverSpeech, SystemOption, Transmission

CODEC_MODEL = ModelKind(CODEC_KIND, "--codec-model", RUN_LABELS[CODEC_KIND], shipped="codec-small")


def parse_codebooks(value) -> int | None:
    """``--codebooks``: how many of the codec's quantisers to send (a positive whole number), or None for all."""
    if value is None:
        return None
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = 0
    if count < 1:
        raise UserError(f"--codebooks: {value!r} is not a positive whole number of codebooks")
    return count


CODEBOOKS_OPTION = SystemOption(
    "codebooks", "--codebooks", None, "codec system: codebooks (quantisers) sent per frame, 1 to the model's (default: all)", parse=parse_codebooks,
)


def tokens_to_bits(tokens: np.ndarray, bits_per_token: int) -> np.ndarray:
    """int [frames, codebooks] -> uint8 0/1 [frames x codebooks x bits_per_token], frame-major, MSB first."""
    shifts = np.arange(bits_per_token - 1, -1, -1)
    return ((np.asarray(tokens, np.int64)[..., np.newaxis] >> shifts) & 1).astype(np.uint8).reshape(-1)


def bits_to_tokens(bits: np.ndarray, codebooks: int, bits_per_token: int) -> np.ndarray:
    """uint8 0/1 [frames x codebooks x bits_per_token] -> int32 [frames, codebooks] (inverse of :func:`tokens_to_bits`)."""
    weights = 1 << np.arange(bits_per_token - 1, -1, -1)
    return (np.asarray(bits, np.int64).reshape(-1, codebooks, bits_per_token) @ weights).astype(np.int32)


DECODING_THREADS = 2


class CodecTransceiver(ConventionalTransceiver):
    """Neural codec tokens over the digital link, then ASR on the decoded speech.

    Parameters
    ----------
    asr_model : the ASR-only model used at the receiver.
    codec : the trained speech codec (:class:`deepsc_st.codec.SpeechCodec`, 16 kHz).
    codebooks : quantisers sent per frame (default: all of the codec's).
    link : the link policy (default: the paper's, :mod:`baselines.link_policy`).

    ``transmit`` returns, per utterance, the recognised text, the decoded
    float32 waveform [num_samples] at 16 kHz, and the link's symbol count.
    """

    name = "codec"
    model_kinds = (ASR_MODEL, CODEC_MODEL)
    options = (*ConventionalTransceiver.options, CODEBOOKS_OPTION)
    receiver_speech = ReceiverSpeech.DECODED
    code_k = CODEC_CODE_K

    def __init__(self, asr_model: ASRModel, codec: SpeechCodec, codebooks: int | None = None, link=None, **kwargs):
        super().__init__(asr_model, link, **kwargs)
        if codec.config.sample_rate != SAMPLE_RATE:
            raise UserError(f"the codec system needs a {SAMPLE_RATE} Hz codec; {codec.config.name} runs at {codec.config.sample_rate} Hz")
        self.codebooks = codec.config.quantizers if codebooks is None else codebooks
        if not 1 <= self.codebooks <= codec.config.quantizers:
            raise UserError(f"--codebooks {self.codebooks}: {codec.config.name} has 1 to {codec.config.quantizers} codebooks")
        self.codec = codec
        self.bits_per_token = int(round(codec.config.bits_per_code))
        codebooks = self.codebooks
        self._encode = compiled_graph(codec, ("encode", codebooks), lambda waveform: codec.encode(waveform, codebooks), [tf.TensorSpec([None, None], tf.float32)])
        self._decoder_output = compiled_graph(codec, ("decode", codebooks), codec.decoder_output, [tf.TensorSpec([None, None, codebooks], tf.int32)])
        # Both depend on one utterance's samples or tokens only: a sweep encodes the clean speech once per
        # worker, and decodes tokens that arrived unchanged (error-free cells) once. Two utterances are
        # decoded at a time: one's Griffin-Lim (numpy) runs while the other's decoder (TensorFlow) does.
        self._encode_one = PerItemMemory(lambda waveform: self._encode(tf.constant(waveform[np.newaxis], tf.float32)).numpy()[0])
        self._decode_one = PerItemMemory(self._decoded_waveform, threads=DECODING_THREADS)

    @classmethod
    def from_parts(cls, parts: Parts) -> "CodecTransceiver":
        return cls(parts.model(ASR_MODEL), parts.model(CODEC_MODEL), parts.option(CODEBOOKS_OPTION), link=cls.link_from_parts(parts), decoder=parts.ctc_decoder())

    @property
    def models(self):
        return {ASR_MODEL.name: self.asr_model, CODEC_MODEL.name: self.codec}

    @property
    def bits_per_second(self) -> float:
        """Source bit rate with the codebooks sent, bit/s."""
        return self.codec.config.frame_rate * self.codebooks * self.bits_per_token

    def encode(self, waveforms: list[np.ndarray]) -> list[np.ndarray]:
        """Tokens int32 [frames_i, codebooks] of each float32 [num_samples_i] 16 kHz waveform; frames_i = ceil(num_samples_i / hop).

        One utterance per call: in a padded batch the non-causal convolutions
        would see the padding of shorter utterances as their continuation.
        """
        return self._encode_one(waveforms)

    def decode(self, tokens: list[np.ndarray], lengths: list[int]) -> list[np.ndarray]:
        """Waveforms float32 [lengths_i] in [-1, 1] at 16 kHz of tokens int [frames_i, codebooks], one utterance per call."""
        return self._decode_one(tokens, [np.array([n]) for n in lengths])

    def _decoded_waveform(self, tokens: np.ndarray, length: np.ndarray) -> np.ndarray:
        """float32 [length[0]] in [-1, 1] of one utterance's tokens int [frames, codebooks]."""
        return np.clip(self.codec.waveform(self._decoder_output(tf.constant(tokens[np.newaxis], tf.int32)), int(length[0]))[0], -1.0, 1.0)

    def transmit(self, waveforms, channel, snr_db):
        sent_tokens = self.encode(waveforms)
        received = self.send([tokens_to_bits(t, self.bits_per_token) for t in sent_tokens], waveforms, channel, snr_db)
        tokens = [bits_to_tokens(r.bits, self.codebooks, self.bits_per_token) for r in received]
        decoded = self.decode(tokens, [len(w) for w in waveforms])
        texts = self.transcribe(decoded)
        return [Transmission(t, r.channel_symbols, w, link_bits_per_symbol=r.bits_per_symbol) for t, r, w in zip(texts, received, decoded)]

