"""What every digital link shares: coded bits -> one interleaved QAM channel row per message -> LLRs.

One message's coded bits (all its codewords, concatenated) travel as::

    coded bits -> random bit interleaver over the whole message
         -> pad to whole QAM symbols -> QAM mapper (Q_m bits per symbol)
         -> the given channels.Channel (block fading, AWGN, zero forcing)
         -> APP demapper per axis with the per-symbol effective N0 / |h|^2 -> LLRs
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

Speed: Sionna's interleaver draws the same permutation for every call of a
given length (fixed seed), so each length's permutation is made once and
applied as a NumPy gather (the latest kept, up to :data:`_PERMUTATION_BYTES_KEPT`). It is
made without sorting: Sionna's permutation of n bits is the stable argsort of
n uniforms drawn statelessly from the seed, whose element i depends on i
alone, so it is the stable order of a longer draw restricted to the indices
below n (:meth:`InterleavedQam.permutation`; equal to Sionna's for every
length tested). A link-adapted sweep meets a new length for almost every
message of every cell. The demapper is
:func:`baselines.axis_demapper.demap_axes` (exact per-axis APP LLRs, numba).
``seconds`` adds up the wall time of each stage (``deepsc-st bench link`` prints it).

LLR convention: Sionna's demapper returns logits ln(P(b=1)/P(b=0)), which is
what Sionna's channel decoders and ``baselines.polar_scl.FastPolarSCLDecoder``
take (the tests' zero-error runs at 30 dB would fail on a flipped sign).
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager

import numpy as np
import sionna.phy
import tensorflow as tf
from sionna.phy.fec.interleaving import RandomInterleaver
from sionna.phy.mapping import Mapper

from channels import Channel

INTERLEAVER_SEED = 512  # fixes the bit permutation; part of the link's definition, like a code's frozen set
# Interleaver permutations kept (int32; a 200-utterance cell at the lowest MCS brings ~200 new lengths of ~1 M bits,
# 4 MB each, and a sweep worker holds one InterleavedQam per QAM order): the oldest go first.
_PERMUTATION_BYTES_KEPT = 1 << 29


def random_bits(shape) -> np.ndarray:
    """uint8 0/1 [shape] from Sionna's generator: the draws of Sionna's ``BinarySource()(shape)``, bit for bit.

    The same op on the same generator (int32 uniform in [0, 2) from
    ``sionna.phy.config.tf_rng``), without BinarySource's float32 copy: for a
    200-utterance speech cell that copy was 156 MB, and a large fresh array costs
    more in first-touch page faults here than the draw itself (one thread, 38 M
    bits: 0.29-2.0 s through BinarySource, 0.24-0.29 s here; equal, tested).
    """
    return tf.cast(sionna.phy.config.tf_rng.uniform(shape, 0, 2, tf.int32), tf.uint8).numpy()


@contextmanager
def timed(seconds: dict, stage: str):
    """Add the wall time of the ``with`` block to ``seconds[stage]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds[stage] += time.perf_counter() - start


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
        self.interleaver = RandomInterleaver(seed=INTERLEAVER_SEED)
        self._mapper = Mapper("qam", self.bits_per_symbol)
        self._permutations: dict[int, np.ndarray] = {}
        self._order = np.empty(0, np.int32)  # stable argsort of the interleaver's longest uniform draw so far
        self._llr = np.empty(0, np.float32)  # the demapper's output, kept from call to call (grows to the largest)
        self.seconds: dict[str, float] = defaultdict(float)  # wall time per stage, s

    def symbols_for_coded_bits(self, num_coded_bits: int) -> int:
        """Complex symbols a message of ``num_coded_bits`` coded bits takes (whole symbols)."""
        return -(-int(num_coded_bits) // self.bits_per_symbol)

    def send(self, coded: list[np.ndarray], channel: Channel, snr_db: float) -> list[np.ndarray]:
        """Send each message's coded bits (uint8 0/1 [n_i]) as one row; return float32 logits [n_i] per message.

        ``snr_db``: Es/N0 per complex symbol, dB. Logits are clipped to +-:data:`baselines.axis_demapper.LLR_LIMIT`.
        """
        if not coded:
            return []
        symbols = [self.symbols_for_coded_bits(c.size) for c in coded]
        with timed(self.seconds, "interleave"):
            rows = random_bits([len(coded), self.bits_per_symbol * max(symbols)])
            for row, bits in zip(rows, coded):
                row[: bits.size] = bits.reshape(-1)[self.permutation(bits.size)]
        with timed(self.seconds, "map"):
            x = self._mapper(tf.constant(rows))  # uint8 bits: the mapper casts them to int32 either way (float32 rows cost 0.4-2.2 s more per speech cell)
        with timed(self.seconds, "channel"):
            received = channel(x, snr_db)
            sent = tf.sequence_mask(symbols, max(symbols))
            y, no = tf.boolean_mask(received.symbols, sent), tf.boolean_mask(received.noise_variance, sent)
        with timed(self.seconds, "demap"):
            needed = sum(symbols) * self.bits_per_symbol
            if self._llr.size < needed:  # a fresh 156 MB array: 1.5 s of page faults, as much as demapping into it
                self._llr = np.empty(needed, np.float32)
            from baselines.axis_demapper import demap_axes  # here, not at the top: numba loads only when a link demaps

            llr = demap_axes(y.numpy(), no.numpy(), self.bits_per_symbol, out=self._llr)
        with timed(self.seconds, "deinterleave"):
            llr_rows = np.split(llr, np.cumsum(symbols)[:-1] * self.bits_per_symbol)
            out = []
            for r, c in zip(llr_rows, coded):
                llr_c = np.empty(c.size, np.float32)
                llr_c[self.permutation(c.size)] = r[: c.size]
                out.append(llr_c)
        return out

    def permutation(self, length: int) -> np.ndarray:
        """Sionna's interleaver permutation int32 [length]: interleaved = bits[permutation].

        Sionna's ``RandomInterleaver`` sorts ``length`` float32 uniforms from
        ``tf.random.stateless_uniform`` with the seed (1337, seed) (``tf.argsort``:
        equal values in index order). Those uniforms are the first ``length`` of
        any longer draw, so the permutation is the longer draw's stable order
        with the indices from ``length`` on removed: one sort of the longest
        draw so far, then a filter per length.
        """
        if length not in self._permutations:
            kept = sum(permutation.nbytes for permutation in self._permutations.values())
            while self._permutations and kept + self._order.itemsize * length > _PERMUTATION_BYTES_KEPT:
                kept -= self._permutations.pop(next(iter(self._permutations))).nbytes
            if length > self._order.size:
                longest = max(length, 2 * self._order.size)
                uniforms = tf.random.stateless_uniform([longest], (1337, self.interleaver.seed), minval=0, maxval=1, dtype=tf.float32)
                self._order = np.argsort(uniforms.numpy(), kind="stable").astype(np.int32)
            self._permutations[length] = self._order[self._order < length]
        return self._permutations[length]
