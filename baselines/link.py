"""The conventional baselines' digital link: polar code + 64-QAM over ``channels``.

One message (e.g. one utterance's source bits) travels as::

    bits -> pad to whole codewords -> polar encoder (N = 512, K info bits)
         -> random bit interleaver over all the message's coded bits
         -> pad coded bits to whole 64-QAM symbols -> 64-QAM mapper
         -> the given channels.Channel (block fading, AWGN, zero forcing)
         -> APP demapper with the per-symbol effective N0 / |h|^2 -> LLRs
         -> deinterleaver -> SCL decoder (list 4) -> bits (padding removed)

The frozen set is Sionna's 5G reliability order
(:func:`sionna.phy.fec.polar.utils.generate_5g_ranking`); there is no CRC, so
the SCL decoder picks the path with the best metric. Pad bits (to whole
codewords, and to whole QAM symbols) are random, drawn from Sionna's
generator: they keep the 64-QAM symbols equiprobable, so the average symbol
energy stays 1 as the SNR definition (Es/N0, ``channels.snr``) assumes; an
all-zero padding codeword would map to a single low-energy point.
All symbols of one message go out as one channel row, so a fading block
(128 symbols by default) straddles codeword boundaries as in a real frame.

Interleaving: Sionna's ``RandomInterleaver`` with a fixed seed (known to
both ends) permutes all coded bits of one message, so each codeword is spread
over the whole message and over all six bit levels of the 64-QAM symbols.
Without it, a codeword's 86 symbols sit in one or two fading blocks, and a
deep fade (|h|^2 < 0.02 in about 2 % of Rayleigh blocks) loses the codeword
even at 30 dB; with it, a deep fade costs each codeword a few bits, which the
code corrects. (A row-column interleaver of depth N would be worse than none
over AWGN: with a multiple of 6 codewords it puts all bits of a codeword on
the same, possibly weakest, bit level.) A one-codeword message (short text)
is spread over only 86 symbols and keeps most of that 2 % outage.
Random draws (pad bits, noise, fading) come from Sionna's generator:
``sionna.phy.config.seed = s`` makes a transmission repeatable.

LLR convention: Sionna's demapper returns logits ln(P(b=1)/P(b=0)), which is
what Sionna's ``PolarSCLDecoder`` and ``baselines.polar_scl.FastPolarSCLDecoder``
take (the tests' zero-error runs at 30 dB would fail on a flipped sign).

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
from sionna.phy.fec.interleaving import Deinterleaver, RandomInterleaver
from sionna.phy.fec.polar import PolarEncoder, PolarSCLDecoder
from sionna.phy.fec.polar.utils import generate_5g_ranking
from sionna.phy.mapping import BinarySource, Demapper, Mapper

from channels import Channel

CODEWORD_LENGTH = 512  # N, coded bits per polar codeword
CODE_K = 320  # information bits per codeword (rate 5/8), see the module docstring
SPEECH_CODE_K = CODE_K  # 6,400 symbols per second of AMR-WB 23.85 kbit/s (paper 6,600)
FEATURE_CODE_K = CODE_K  # 6,486 symbols per 26 x 29 float32 features (paper 6,264)
TEXT_CODE_K = CODE_K  # 86 symbols (one codeword) for ~15 Huffman-coded chars (paper 60)
LIST_SIZE = 4
BITS_PER_SYMBOL = 6  # 64-QAM
DECODERS = ("fast", "sionna")
DEFAULT_DECODER = "fast"

INTERLEAVER_SEED = 512  # fixes the bit permutation; part of the link's definition, like the frozen set
LLR_LIMIT = 1000.0  # |LLR| bound: keeps the noiseless "none" channel's infinite LLRs finite
_DEMAP_CHUNK = 1 << 16  # complex symbols demapped at once ([chunk, 64] distances)
_DECODE_CHUNK = 256  # codewords decoded at once (bounds the SCL decoders' list memory)


class LinkResult(NamedTuple):
    """What one message's trip over the link returns.

    ``bits``: uint8 0/1 [num_bits], the decoded message (padding removed).
    ``channel_symbols``: complex symbols sent for it, padding included.
    ``codewords``: polar codewords it took.
    """

    bits: np.ndarray
    channel_symbols: int
    codewords: int


class DigitalLink:
    """Polar code (N = 512, SCL list 4) + 64-QAM over one of the project's channels.

    Parameters
    ----------
    k : information bits per codeword, 1 <= k <= n (:data:`CODE_K` = rate 5/8).
    n : codeword length, a power of two <= 1024.
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
        self._source = BinarySource()
        self._encoder = PolarEncoder(self.frozen_pos, self.n)
        self._interleaver = RandomInterleaver(seed=INTERLEAVER_SEED)
        self._deinterleaver = Deinterleaver(self._interleaver)
        self._mapper = Mapper("qam", BITS_PER_SYMBOL)
        self._demapper = Demapper("app", "qam", BITS_PER_SYMBOL)
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
        symbols = [self.symbols_for_bits(m.size) for m in messages]

        info = self._source([sum(codewords), self.k]).numpy().astype(np.uint8)
        info_rows = np.split(info, np.cumsum(codewords)[:-1])
        for rows, message in zip(info_rows, messages):
            rows.reshape(-1)[: message.size] = message
        coded = self._encoder(tf.constant(info, tf.float32)).numpy().astype(np.uint8)

        # One channel row per message; bits past a row's own codewords are random pad/filler.
        row_bits = self._source([len(messages), BITS_PER_SYMBOL * max(symbols)]).numpy().astype(np.uint8)
        for row, cw in zip(row_bits, np.split(coded, np.cumsum(codewords)[:-1])):
            row[: cw.size] = self._interleaver(tf.constant(cw.reshape(-1))).numpy()
        x = self._mapper(tf.constant(row_bits, tf.float32))
        received = channel(x, snr_db)

        sent = tf.sequence_mask(symbols, max(symbols))
        llr = self._demap(
            tf.boolean_mask(received.symbols, sent), tf.boolean_mask(received.noise_variance, sent)
        )
        llr_rows = np.split(llr, np.cumsum(symbols)[:-1] * BITS_PER_SYMBOL)
        llr_codewords = np.concatenate(
            [self._deinterleaver(tf.constant(r[: c * self.n])).numpy() for r, c in zip(llr_rows, codewords)]
        ).reshape(-1, self.n)

        decoded = self._decode(llr_codewords)
        return [
            LinkResult(rows.reshape(-1)[: message.size].copy(), s, c)
            for rows, message, s, c in zip(np.split(decoded, np.cumsum(codewords)[:-1]), messages, symbols, codewords)
        ]

    def _demap(self, symbols: tf.Tensor, noise_variance: tf.Tensor) -> np.ndarray:
        """APP-demap complex64 [S] with float32 N0 [S] to float32 logits [6 S], clipped to +-LLR_LIMIT."""
        chunks = [
            self._demapper(symbols[i : i + _DEMAP_CHUNK], noise_variance[i : i + _DEMAP_CHUNK]).numpy()
            for i in range(0, int(symbols.shape[0]), _DEMAP_CHUNK)
        ]
        return np.clip(np.concatenate(chunks), -LLR_LIMIT, LLR_LIMIT)

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
