"""What every digital link shares: coded bits -> one interleaved QAM channel row per message -> LLRs.

One message's coded bits (all its codewords, concatenated) travel as::

    coded bits -> random bit interleaver over the whole message
         -> pad to whole QAM symbols -> QAM mapper (Q_m bits per symbol)
         -> the given channels.Channel (block fading, AWGN, zero forcing)
         -> APP demapper with the per-symbol effective N0 / |h|^2 -> LLRs
         -> deinterleaver -> LLRs of the coded bits, in order

Each message is its own channel row, so a fading block (128 symbols by
default) straddles codeword boundaries as in a real frame. Bits past a
message's coded bits (to whole symbols, and to the longest row of the batch)
are random, drawn from Sionna's generator: they keep the QAM symbols
equiprobable, so the average symbol energy stays 1 as the SNR definition
(Es/N0, ``channels.snr``) assumes.

Interleaving: Sionna's ``RandomInterleaver`` with a fixed seed (known to
both ends) permutes all coded bits of one message, so each codeword is spread
over the whole message and over all bit levels of the QAM symbols. Without
it, a 64-QAM codeword of 512 bits sits in one or two fading blocks, and a
deep fade (|h|^2 < 0.02 in about 2 % of Rayleigh blocks) loses the codeword
even at 30 dB; with it, a deep fade costs each codeword a few bits, which the
code corrects. (A row-column interleaver of depth N would be worse than none
over AWGN: with a multiple of 6 codewords it puts all bits of a codeword on
the same, possibly weakest, bit level.) A message of fewer symbols than a
fading block keeps that block's outage.

LLR convention: Sionna's demapper returns logits ln(P(b=1)/P(b=0)), which is
what Sionna's channel decoders and ``baselines.polar_scl.FastPolarSCLDecoder``
take (the tests' zero-error runs at 30 dB would fail on a flipped sign).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from sionna.phy.fec.interleaving import Deinterleaver, RandomInterleaver
from sionna.phy.mapping import BinarySource, Demapper, Mapper

from channels import Channel

INTERLEAVER_SEED = 512  # fixes the bit permutation; part of the link's definition, like a code's frozen set
LLR_LIMIT = 1000.0  # |LLR| bound: keeps the noiseless "none" channel's infinite LLRs finite
_DEMAP_CHUNK = 1 << 16  # complex symbols demapped at once ([chunk, 2^Q_m] distances)


class InterleavedQam:
    """Interleaved QAM rows over a :class:`channels.Channel`, one row per message.

    Parameters
    ----------
    bits_per_symbol : Q_m, the QAM order (2 = QPSK, 4 = 16-QAM, 6 = 64-QAM, 8 = 256-QAM).

    >>> import numpy as np
    >>> from channels import make_channel
    >>> qam = InterleavedQam(6)
    >>> [llr] = qam.send([np.ones(512, np.uint8)], make_channel("awgn"), 30.0)
    >>> llr.shape, bool(np.all(llr > 0)), qam.symbols_for_coded_bits(512)
    ((512,), True, 86)
    """

    def __init__(self, bits_per_symbol: int):
        self.bits_per_symbol = int(bits_per_symbol)
        self.source = BinarySource()
        self.interleaver = RandomInterleaver(seed=INTERLEAVER_SEED)
        self.deinterleaver = Deinterleaver(self.interleaver)
        self._mapper = Mapper("qam", self.bits_per_symbol)
        self._demapper = Demapper("app", "qam", self.bits_per_symbol)

    def symbols_for_coded_bits(self, num_coded_bits: int) -> int:
        """Complex symbols a message of ``num_coded_bits`` coded bits takes (whole symbols)."""
        return -(-int(num_coded_bits) // self.bits_per_symbol)

    def send(self, coded: list[np.ndarray], channel: Channel, snr_db: float) -> list[np.ndarray]:
        """Send each message's coded bits (uint8 0/1 [n_i]) as one row; return float32 logits [n_i] per message.

        ``snr_db``: Es/N0 per complex symbol, dB. Logits are clipped to +-:data:`LLR_LIMIT`.
        """
        if not coded:
            return []
        symbols = [self.symbols_for_coded_bits(c.size) for c in coded]
        rows = self.source([len(coded), self.bits_per_symbol * max(symbols)]).numpy().astype(np.uint8)
        for row, bits in zip(rows, coded):
            row[: bits.size] = self.interleaver(tf.constant(bits.reshape(-1))).numpy()
        received = channel(self._mapper(tf.constant(rows, tf.float32)), snr_db)
        sent = tf.sequence_mask(symbols, max(symbols))
        llr = self._demap(tf.boolean_mask(received.symbols, sent), tf.boolean_mask(received.noise_variance, sent))
        llr_rows = np.split(llr, np.cumsum(symbols)[:-1] * self.bits_per_symbol)
        return [self.deinterleaver(tf.constant(r[: c.size])).numpy() for r, c in zip(llr_rows, coded)]

    def _demap(self, symbols: tf.Tensor, noise_variance: tf.Tensor) -> np.ndarray:
        """APP-demap complex64 [S] with float32 N0 [S] to float32 logits [Q_m S], clipped to +-LLR_LIMIT."""
        chunks = [
            self._demapper(symbols[i : i + _DEMAP_CHUNK], noise_variance[i : i + _DEMAP_CHUNK]).numpy()
            for i in range(0, int(symbols.shape[0]), _DEMAP_CHUNK)
        ]
        return np.clip(np.concatenate(chunks), -LLR_LIMIT, LLR_LIMIT)
