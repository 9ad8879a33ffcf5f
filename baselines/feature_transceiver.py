"""The feature transceiver: semantic features as float32 bits -> polar + 64-QAM -> CTC decoding (greedy, or beam search with --lm).

Benchmark (3) of the paper (section V-A): the transmitter runs the semantic
encoder (the ASR-only model; softmax of its logits = 29 token posteriors per
step, 25 steps per second), serialises the posteriors as IEEE-754 float32
(:class:`baselines.codecs.Float32FeatureCodec`, 928 bits per step), and the
receiver greedy-decodes the received posteriors. About 6,486 complex symbols
per second (paper: 6,264; see :mod:`baselines.link`).

>>> from channels import make_channel
>>> feature = FeatureTransceiver(asr_model)  # doctest: +SKIP
>>> [sent] = feature.transmit([waveform], make_channel("rician"), 10.0)  # doctest: +SKIP
>>> sent.text, sent.channel_symbols  # doctest: +SKIP
('the cat sat on the mat', 11947)
"""

from __future__ import annotations

import tensorflow as tf

from baselines.codecs import Float32FeatureCodec
from baselines.conventional import ConventionalTransceiver
from baselines.link import FEATURE_CODE_K
from deepsc_st.model import ASRModel
from deepsc_st.tokens import NUM_CLASSES
from deepsc_st.transceiver import ASR_MODEL, Parts, Transmission


class FeatureTransceiver(ConventionalTransceiver):
    """Token posteriors [steps, 29] as float32 bits over the digital link, then CTC decoding at the receiver (greedy, or beam search with ``--lm``).

    Parameters
    ----------
    asr_model : the ASR-only model whose semantic encoder makes the features.
    link : the link policy (default: the paper's, :mod:`baselines.link_policy`).
    batch_size : utterances per semantic-encoder forward pass.

    ``transmit`` returns, per utterance, the text decoded from the received
    posteriors (corrupted values that are NaN or infinite count as 0) and the
    link's symbol count.
    """

    name = "feature"
    code_k = FEATURE_CODE_K

    def __init__(self, asr_model: ASRModel, link=None, **kwargs):
        super().__init__(asr_model, link, **kwargs)
        self.codec = Float32FeatureCodec(NUM_CLASSES)

    @classmethod
    def from_parts(cls, parts: Parts) -> "FeatureTransceiver":
        return cls(parts.model(ASR_MODEL), link=cls.link_from_parts(parts), decoder=parts.ctc_decoder())

    def transmit(self, waveforms, channel, snr_db):
        posteriors = [tf.nn.softmax(logits).numpy() for logits in self.semantic_logits(waveforms)]
        received = self.send([self.codec.encode(p) for p in posteriors], waveforms, channel, snr_db)
        texts = self.decoder.from_posteriors([self.codec.decode(r.bits, len(p)) for r, p in zip(received, posteriors)])
        return [Transmission(t, r.channel_symbols, link_bits_per_symbol=r.bits_per_symbol) for t, r in zip(texts, received)]
