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

Demapping per axis: Sionna's QAM is a Gray PAM on the even bits (real part)
times a Gray PAM on the odd bits (imaginary part), and the noise is circular
(also after zero forcing by a complex h), so the exact APP LLR of a real-axis
bit depends on Re(y) only. Each axis is demapped by Sionna's ``Demapper``
against that PAM of 2^(Q_m/2) points: the same LLRs as Sionna's QAM demapper
(within 2e-5 on logits up to 65; ``tests/baselines/test_interleaved_qam.py``
holds them side by side) at 1/5 of its cost for 64-QAM, 1/2 for 16-QAM
(``deepsc-st bench link`` times both in the same run).

Speed: Sionna's interleaver draws the same permutation for every call of a
given length (fixed seed), so each length's permutation is taken from it once
and applied as a NumPy gather (:data:`_PERMUTATIONS_KEPT` lengths kept);
the demapper runs XLA-compiled on fixed-size chunks (``jit_compile``: 2.7x
faster than the plain graph of the same Sionna demapper on 2^20 64-QAM
symbols, logits equal within 4e-6; XLA's persistent cache keeps the
compilation between processes). ``seconds`` adds up the wall time of each
stage (``deepsc-st bench link`` prints it).

LLR convention: Sionna's demapper returns logits ln(P(b=1)/P(b=0)), which is
what Sionna's channel decoders and ``baselines.polar_scl.FastPolarSCLDecoder``
take (the tests' zero-error runs at 30 dB would fail on a flipped sign).
"""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from contextlib import contextmanager

import numpy as np
import tensorflow as tf
import sionna.phy
from sionna.phy.fec.interleaving import RandomInterleaver
from sionna.phy.mapping import Constellation, Demapper, Mapper, pam

from channels import Channel

INTERLEAVER_SEED = 512  # fixes the bit permutation; part of the link's definition, like a code's frozen set
LLR_LIMIT = 1000.0  # |LLR| bound: keeps the noiseless "none" channel's infinite LLRs finite
_DEMAP_CHUNK = 1 << 17  # complex symbols demapped at once ([chunk, 2^Q_m] distances)
_SMALL_DEMAP_CHUNK = 1 << 12  # the chunk of calls with fewer symbols (short messages)
_PERMUTATIONS_KEPT = 256  # message lengths whose interleaver permutation is kept


@functools.lru_cache(maxsize=None)
def axis_demapper(bits_per_symbol: int):
    """Sionna's APP demapping of Gray QAM, one axis at a time: (complex64 y [S], float32 N0 [S]) -> logits [Q_m S].

    An XLA-compiled function (traced once per chunk size), one per QAM order that
    every link shares; logits in the order of Sionna's ``Demapper("app", "qam", Q_m)``.
    """
    if bits_per_symbol % 2:
        raise ValueError(f"square QAM needs an even number of bits per symbol, not {bits_per_symbol}")
    half = bits_per_symbol // 2
    axis = Demapper("app", constellation=Constellation("custom", half, points=pam(half) / np.sqrt(2.0)))  # one axis of unit-energy QAM

    @tf.function(jit_compile=True)
    def demap(symbols, noise_variance):
        axes = tf.complex(tf.stack([tf.math.real(symbols), tf.math.imag(symbols)], axis=-1), 0.0)  # [S, 2]: Re, Im as real points
        llr = tf.reshape(axis(axes, tf.stack([noise_variance, noise_variance], axis=-1)), [-1, 2, half])  # [S, axis, bit]
        return tf.reshape(tf.transpose(llr, [0, 2, 1]), [-1])  # bits alternate Re, Im, as in Sionna's QAM labels

    return demap


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
        self._demapper = axis_demapper(self.bits_per_symbol)
        self._permutations: dict[int, np.ndarray] = {}
        self.seconds: dict[str, float] = defaultdict(float)  # wall time per stage, s

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
            llr = self._demap(y, no)
        with timed(self.seconds, "deinterleave"):
            llr_rows = np.split(llr, np.cumsum(symbols)[:-1] * self.bits_per_symbol)
            out = []
            for r, c in zip(llr_rows, coded):
                llr_c = np.empty(c.size, np.float32)
                llr_c[self.permutation(c.size)] = r[: c.size]
                out.append(llr_c)
        return out

    def permutation(self, length: int) -> np.ndarray:
        """Sionna's interleaver permutation of ``length`` bits: interleaved = bits[permutation]."""
        if length not in self._permutations:
            if len(self._permutations) >= _PERMUTATIONS_KEPT:
                self._permutations.pop(next(iter(self._permutations)))
            self._permutations[length] = self.interleaver(tf.range(length, dtype=tf.int32)).numpy()
        return self._permutations[length]

    def _demap(self, symbols: tf.Tensor, noise_variance: tf.Tensor) -> np.ndarray:
        """APP-demap complex64 [S] with float32 N0 [S] to float32 logits [Q_m S], clipped to +-LLR_LIMIT.

        Chunks of one of two fixed sizes (the last one padded), so the compiled demapper is traced at most twice.
        """
        total = int(symbols.shape[0])
        chunk = _SMALL_DEMAP_CHUNK if total <= _SMALL_DEMAP_CHUNK else _DEMAP_CHUNK
        y = np.zeros(-(-total // chunk) * chunk, np.complex64)
        no = np.ones(y.size, np.float32)
        y[:total], no[:total] = symbols.numpy(), noise_variance.numpy()
        # Written into one array, clipped in place: on this project's VM-hosted machines a large fresh array costs more
        # in first-touch page faults than the arithmetic (np.clip of 39 M LLRs into a new array 1.3-1.8 s, in place 0.04 s).
        llr = np.empty(y.size * self.bits_per_symbol, np.float32)
        step = chunk * self.bits_per_symbol
        for i in range(0, y.size, chunk):
            block = llr[i * self.bits_per_symbol : i * self.bits_per_symbol + step]
            block[:] = self._demapper(tf.constant(y[i : i + chunk]), tf.constant(no[i : i + chunk])).numpy()
            np.clip(block, -LLR_LIMIT, LLR_LIMIT, out=block)
        return llr[: total * self.bits_per_symbol]
