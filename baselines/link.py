"""The paper's digital link: polar code + 64-QAM over ``channels`` (the ``paper`` link policy).

One message (e.g. one utterance's source bits) travels as::

    bits -> pad to whole codewords -> polar encoder (N = 512, K info bits; Sionna's codewords,
         computed on packed bits by baselines.polar_encoder)
         -> baselines.interleaved_qam: interleave, 64-QAM, channel, demap, deinterleave
         -> SCL decoder (list 4) -> bits (padding removed)

The frozen set is Sionna's 5G reliability order
(:func:`sionna.phy.fec.polar.utils.generate_5g_ranking`); there is no CRC, so
the SCL decoder picks the path with the best metric. Pad bits (to whole
codewords) are random, drawn from Sionna's generator: an all-zero padding
codeword would map to a single low-energy point. Interleaving, padding to
whole symbols and the LLR convention are :mod:`baselines.interleaved_qam`'s.
A one-codeword message (short text) is spread over only 86 symbols and keeps
most of a fading block's outage (about 2 % of Rayleigh blocks at 30 dB).
Random draws (pad bits, noise, fading) come from Sionna's generator:
``sionna.phy.config.seed = s`` makes a transmission repeatable.

Code rate
---------
One rate serves speech and features: K = 320 of N = 512 (rate 5/8), 64-QAM,
i.e. 3.75 information bits per complex symbol. Symbols per 16,000 samples
(1 s), counted with the padding (``symbols_for_bits``):

- speech, AMR-WB 23.85 kbit/s: 23,850 bits -> 75 codewords -> 38,400 coded
  bits -> 6,400 symbols (paper 6,600: -3.0 %);
- features, 26 steps x 29 float32 = 24,128 bits -> 76 codewords -> 38,912
  coded bits -> 6,486 symbols (paper 6,264: +3.5 %);
- text, Huffman ~4.2 bits/char x ~15 chars = 63 bits (64 after the codec's
  byte padding) -> 1 codeword -> 86 symbols (paper 60).

Text differs because a block code sends whole codewords: the smallest
message costs one 512-bit codeword, ceil(512 / 6) = 86 64-QAM symbols,
however few bits it carries. The paper's 60 symbols (360 coded bits) is less
than one codeword, so it can only come from counting fractional codewords
(bits / rate / 6); at our rate that count would give 63 / (5/8) / 6 = 16.8
symbols, so the paper also assumed more text bits or a lower rate. For
utterances longer than about 5 s (> 320 Huffman bits) our text count per
second falls towards that fractional figure.
"""

from typing import NamedTuple, Sequence

import numpy as np
import tensorflow as tf
from sionna.phy.fec.polar import PolarSCLDecoder
from sionna.phy.fec.polar.utils import generate_5g_ranking

from baselines.interleaved_qam import InterleavedQam, random_bits, timed
from baselines.polar_encoder import FastPolarEncoder
from channels import Channel

CODEWORD_LENGTH = 512  # N, coded bits per polar codeword
CODE_K = 320  # information bits per codeword (rate 5/8), see the module docstring
SPEECH_CODE_K = CODE_K  # 6,400 symbols per second of AMR-WB 23.85 kbit/s (paper 6,600)
FEATURE_CODE_K = CODE_K  # 6,486 symbols per 26 x 29 float32 features (paper 6,264)
TEXT_CODE_K = CODE_K  # 86 symbols (one codeword) for ~15 Huffman-coded chars (paper 60)
CODEC_CODE_K = CODE_K  # about 540 symbols per second of codec-small's 2.0 kbit/s tokens
LIST_SIZE = 4
BITS_PER_SYMBOL = 6  # 64-QAM
DECODERS = ("fast", "sionna")
DEFAULT_DECODER = "fast"

_DECODE_CHUNK = 256  # codewords decoded at once (bounds the SCL decoders' list memory)


class LinkResult(NamedTuple):
    """What one message's trip over the link returns.

    ``bits``: uint8 0/1 [num_bits], the decoded message (padding removed).
    ``channel_symbols``: complex symbols sent for it, padding included.
    ``codewords``: channel codewords it took.
    ``bits_per_symbol``: information bits per complex symbol of the code it
    was sent with (pad bits counted as information): its capacity bound's rate.
    """

    bits: np.ndarray
    channel_symbols: int
    codewords: int
    bits_per_symbol: float


class DigitalLink:
    """Polar code (N = 512, SCL list 4) + 64-QAM over one of the project's channels.

    Parameters
    ----------
    k : information bits per codeword, 1 <= k <= n (:data:`CODE_K` = rate 5/8).
    n : codeword length, a power of two, 8 <= n <= 1024.
    list_size : SCL list size, a power of two.
    decoder : ``"fast"`` (:class:`baselines.polar_scl.FastPolarSCLDecoder`) or
        ``"sionna"`` (Sionna's ``PolarSCLDecoder`` with its NumPy back end,
        ``cpu_only=True``, about 6-25 kbit/s on a CPU core, 10-50x slower than ``"fast"``).
        Both run the same SCL algorithm and give the same block error rate.

    The channel (its fading block length and K factor included) is the
    :class:`channels.Channel` given to each call.

    >>> import numpy as np
    >>> from channels import make_channel
    >>> link = DigitalLink(decoder="sionna")
    >>> out = link.transmit(np.ones(1000, np.uint8), make_channel("awgn"), snr_db=30.0)
    >>> out.bits.shape, out.codewords, out.channel_symbols
    ((1000,), 4, 342)
    """

    def __init__(
        self,
        k: int = CODE_K,
        n: int = CODEWORD_LENGTH,
        list_size: int = LIST_SIZE,
        decoder: str = DEFAULT_DECODER,
    ):
        if not 1 <= k <= n:
            raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
        if decoder not in DECODERS:
            raise ValueError(f"unknown decoder {decoder!r}; choose one of {', '.join(DECODERS)}")
        self.k = int(k)
        self.n = int(n)
        self.list_size = int(list_size)
        self.decoder = decoder
        self.frozen_pos, _ = generate_5g_ranking(self.k, self.n)
        self.qam = InterleavedQam(BITS_PER_SYMBOL)
        self._encoder = FastPolarEncoder(self.frozen_pos, self.n)
        if decoder == "fast":
            from baselines.polar_scl import FastPolarSCLDecoder

            self._decoder = FastPolarSCLDecoder(self.frozen_pos, self.n, list_size=self.list_size)
        else:
            self._decoder = PolarSCLDecoder(self.frozen_pos, self.n, list_size=self.list_size, cpu_only=True)

    def __repr__(self) -> str:
        return f"DigitalLink(k={self.k}, n={self.n}, list_size={self.list_size}, decoder={self.decoder!r})"

    @property
    def rate(self) -> float:
        """Code rate k / n."""
        return self.k / self.n

    def codewords_for_bits(self, num_bits: int) -> int:
        """Polar codewords a message of ``num_bits`` bits takes (at least 1)."""
        return max(1, -(-int(num_bits) // self.k))

    def symbols_for_bits(self, num_bits: int) -> int:
        """Complex 64-QAM symbols a message of ``num_bits`` bits takes, padding included."""
        return -(-self.codewords_for_bits(num_bits) * self.n // BITS_PER_SYMBOL)

    def transmit(self, bits: np.ndarray, channel: Channel, snr_db: float) -> LinkResult:
        """Send one message.

        ``bits``: 0/1 values, [num_bits] (any integer or bool dtype).
        ``channel``: the :class:`channels.Channel` the symbols cross.
        ``snr_db``: Es/N0 per complex symbol, dB.
        """
        return self.transmit_many([bits], channel, snr_db)[0]

    def transmit_many(self, messages: Sequence[np.ndarray], channel: Channel, snr_db: float) -> list[LinkResult]:
        """Send several messages, each padded on its own and sent as its own channel row.

        The codewords of all messages are encoded, demapped and decoded as one
        batch. ``messages``: sequence of 0/1 arrays [num_bits_i]; returns one
        :class:`LinkResult` per message, in order.
        """
        messages = [np.asarray(m).reshape(-1).astype(np.uint8) for m in messages]
        if not messages:
            return []
        if any(np.any(m > 1) for m in messages):
            raise ValueError("message bits must be 0 or 1")
        codewords = [self.codewords_for_bits(m.size) for m in messages]
        info = random_bits([sum(codewords), self.k])  # random pad bits
        info_rows = np.split(info, np.cumsum(codewords)[:-1])
        for rows, message in zip(info_rows, messages):
            rows.reshape(-1)[: message.size] = message
        with timed(self.qam.seconds, "encode"):
            coded = self._encoder(info)
        llr = self.qam.send([c.reshape(-1) for c in np.split(coded, np.cumsum(codewords)[:-1])], channel, snr_db)
        with timed(self.qam.seconds, "decode"):
            decoded = self._decode(np.concatenate(llr).reshape(-1, self.n))
        return [
            LinkResult(rows.reshape(-1)[: message.size].copy(), self.symbols_for_bits(message.size), c, self.rate * BITS_PER_SYMBOL)
            for rows, message, c in zip(np.split(decoded, np.cumsum(codewords)[:-1]), messages, codewords)
        ]

    def _decode(self, llr: np.ndarray) -> np.ndarray:
        """SCL-decode float32 logits [C, n] to uint8 information bits [C, k]."""
        chunks = []
        for i in range(0, llr.shape[0], _DECODE_CHUNK):
            block = llr[i : i + _DECODE_CHUNK]
            if self.decoder == "fast":
                bits = self._decoder.decode(block)
            else:
                bits = self._decoder(tf.constant(block)).numpy()
            chunks.append(np.asarray(bits).astype(np.uint8))
        return np.concatenate(chunks)
