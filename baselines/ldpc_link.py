"""The 5G NR data link: LDPC (TS 38.212) + QAM at any code rate, over ``channels``.

One message travels as::

    bits -> code blocks (LdpcLink.plan) -> Sionna LDPC5GEncoder per block
         (rate matching to n_i bits; below the mother rate 1/5: cyclic repetition)
         -> baselines.interleaved_qam: interleave, QAM, channel, demap, deinterleave
         -> repetitions' LLRs summed -> Sionna LDPC5GDecoder (BP, at most 20 iterations,
            stopped early per codeword once every parity check holds) -> bits

Code blocks (at a code rate; a symbol budget cuts equal blocks instead, see
:meth:`LdpcLink.plan`): a message longer than :data:`MAX_BLOCK_BITS` = 1024
information bits goes as 1024-bit blocks only, the last one filled up with
random pad bits (at most 1023 bits: under 2 % of a 5 s AMR-WB message); a
shorter message gets the smallest size of :data:`BLOCK_SIZES` that holds it.
1024 bits is the block the BLER table of link adaptation is measured with
(:mod:`baselines.bler_table`), which also decodes 1.6x faster per bit than
3824-bit blocks on a CPU. Standard 5G cuts the transport block into equal
blocks and adds CRCs; we keep few block sizes because compiling a decoder
costs 0.2-2 s against 0.15 s to decode 200 blocks once it is compiled, and a
sweep meets a new code rate in almost every cell: long messages then need one
decoder per MCS. No CRC is added (the receiver is not told which blocks
failed, as in the paper's polar link).

Rates below 1/5: Sionna's LDPC5GEncoder stops at the base graph's mother rate
1/5 ("outer repetition coding currently not supported"). 5G reaches lower
rates by reading its circular buffer more than once; we do the same: the
n_0 = 5 k mother codeword is repeated cyclically up to n bits, and the
receiver adds the LLRs of every copy of a bit before decoding (chase combining).

Decoding runs in a compiled graph per (k, n_0) code; codes with at least
:data:`XLA_MIN_CODEWORDS` codewords in a call are XLA-compiled in batches of
that many (2-3x the throughput of the plain graph, about 1.5 s to compile).
Early stopping (:class:`EarlyStoppingDecoder`): a codeword keeps the first
iterate whose hard decisions satisfy every parity check (the usual syndrome
test of BP receivers) and a batch stops iterating once all of its codewords
have one. Above a code's threshold most codewords stop after 2-5 of the 20
iterations (decoding 1.7-2.7x faster, measured on 640 1024-bit blocks);
below it the syndrome tests cost about 20 % more. Sionna's decoder runs a
fixed number of iterations (no early stop "due to batching"); the outputs
were the same codewords as its 20-iteration decoding in every case measured
(tests/baselines/test_ldpc_link.py).

>>> import numpy as np
>>> from channels import make_channel
>>> link = LdpcLink(bits_per_symbol=2)  # QPSK
>>> plan = link.plan(300, code_rate=0.12)
>>> [(block.k, block.n) for block in plan]
[(512, 4268)]
>>> [out] = link.transmit_many([np.ones(300, np.uint8)], [plan], make_channel("awgn"), 0.0)
>>> out.channel_symbols, bool(np.all(out.bits == 1))
(2134, True)
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np
import tensorflow as tf
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder

from baselines.interleaved_qam import InterleavedQam, random_bits, timed
from baselines.link import LinkResult
from channels import Channel

BLOCK_SIZES = (16, 32, 64, 128, 256, 512, 1024)  # information bits per code block
MAX_BLOCK_BITS = BLOCK_SIZES[-1]
MOTHER_RATE = 1 / 5  # base graph 2's lowest rate; lower rates repeat the mother codeword
MAX_CODE_RATE = 948 / 1024  # the highest rate of the NR MCS tables (TS 38.214)
DECODER_ITERATIONS = 20
XLA_MIN_CODEWORDS = 64
# Coded bits sent through the channel in one batch (one draw of pad bits, fading and noise). A 200-utterance
# AMR-WB cell at the lowest MCS (QPSK, rate 0.117) is 211 M coded bits, which as one batch held 12.9 GB in one sweep
# worker (killed by the kernel on a 24 GB machine); 40-utterance cells stay under this bound and are sent as before.
MAX_BATCH_CODED_BITS = 1 << 26


class Block(NamedTuple):
    """One code block: ``k`` information bits sent as ``n`` coded bits (n > 5 k: repetition)."""

    k: int
    n: int

    @property
    def mother_length(self) -> int:
        """Coded bits the LDPC code itself produces: n, or k / :data:`MOTHER_RATE` = 5 k when the rest is repetition."""
        return min(self.n, round(self.k / MOTHER_RATE))


class EarlyStoppingDecoder(LDPC5GDecoder):
    """Sionna's 5G BP decoder that freezes each codeword at its first iterate satisfying every parity check.

    The loop (Sionna's) ends when every codeword of the batch is frozen or
    after ``num_iter`` iterations; a frozen codeword's output does not depend
    on what else is in its batch.
    """

    def _satisfies_checks(self, x_hat: tf.Tensor) -> tf.Tensor:
        """Decoder-internal LLRs [num_vns, batch] (bit 1 where <= 0, Sionna's hard decision) -> bool [batch]."""
        hard = tf.cast(tf.less_equal(x_hat, 0.0), tf.int32)
        parity = tf.math.unsorted_segment_sum(tf.gather(hard, self._vn_idx), self._cn_idx, self._num_cns)
        return tf.reduce_all(tf.equal(parity % 2, 0), axis=0)

    def _bp_iter(self, msg_v2c, msg_c2v, llr_ch, x_hat, it, num_iter):
        frozen = self._satisfies_checks(x_hat)[tf.newaxis, :]
        msg_v2c, msg_c2v, llr_ch, updated, it, num_iter = super()._bp_iter(msg_v2c, msg_c2v, llr_ch, x_hat, it, num_iter)
        return msg_v2c, msg_c2v, llr_ch, tf.where(frozen, x_hat, updated), it, num_iter

    def _stop_cond(self, msg_v2c, msg_c2v, llr_ch, x_hat, it, num_iter):
        return tf.logical_and(it < num_iter, tf.logical_not(tf.reduce_all(self._satisfies_checks(x_hat))))


class _Code:
    """Sionna's LDPC5G encoder and the early-stopping decoder for one (k, n_0), with compiled decoding."""

    def __init__(self, k: int, n: int):
        self.k, self.n = k, n
        self.encoder = LDPC5GEncoder(k, n)
        decoder = EarlyStoppingDecoder(self.encoder, num_iter=DECODER_ITERATIONS, hard_out=True, return_infobits=True)
        self.graph = tf.function(decoder, input_signature=[tf.TensorSpec([None, n], tf.float32)])
        self.xla = tf.function(decoder, jit_compile=True)

    def decode(self, llr: np.ndarray) -> np.ndarray:
        """float32 logits [C, n] -> uint8 information bits [C, k]."""
        if llr.shape[0] < XLA_MIN_CODEWORDS:
            return self.graph(tf.constant(llr)).numpy().astype(np.uint8)
        chunks = []
        for start in range(0, llr.shape[0], XLA_MIN_CODEWORDS):
            chunk = llr[start : start + XLA_MIN_CODEWORDS]
            padded = np.zeros((XLA_MIN_CODEWORDS, self.n), np.float32)
            padded[: len(chunk)] = chunk
            chunks.append(self.xla(tf.constant(padded)).numpy()[: len(chunk)])
        return np.concatenate(chunks).astype(np.uint8)


_codes: dict[tuple[int, int], _Code] = {}


def _code(k: int, n: int) -> _Code:
    """The (cached) code of ``k`` information bits and ``n`` mother coded bits."""
    if (k, n) not in _codes:
        _codes[(k, n)] = _Code(k, n)
    return _codes[(k, n)]


def block_sizes_for_bits(num_bits: int, exact: bool = False) -> list[int]:
    """Information bits per code block for a message of ``num_bits`` bits (at least one block).

    ``exact``: cut the message into equal blocks (as 5G segments a transport
    block), at least 16 bits each, instead of padding it to :data:`BLOCK_SIZES`.
    """
    if exact:
        count = max(1, -(-int(num_bits) // MAX_BLOCK_BITS))
        return [max(BLOCK_SIZES[0], -(-int(num_bits) // count))] * count
    if num_bits > MAX_BLOCK_BITS:
        return [MAX_BLOCK_BITS] * -(-int(num_bits) // MAX_BLOCK_BITS)
    return [next(size for size in BLOCK_SIZES if size >= num_bits)]


class LdpcLink:
    """5G NR LDPC + QAM of order ``bits_per_symbol`` over one of the project's channels.

    A message's coded length is planned by the caller (:meth:`plan`): from a
    code rate (the MCS's) or from a number of channel symbols (a budget).
    """

    def __init__(self, bits_per_symbol: int):
        self.bits_per_symbol = int(bits_per_symbol)
        self.qam = InterleavedQam(self.bits_per_symbol)

    def __repr__(self) -> str:
        return f"LdpcLink(bits_per_symbol={self.bits_per_symbol})"

    def plan(self, num_bits: int, code_rate: float | None = None, symbols: int | None = None) -> tuple[Block, ...]:
        """The code blocks of a ``num_bits`` message, at ``code_rate`` or filling at most ``symbols`` channel symbols.

        At a code rate each block gets n = Q_m ceil(k / (R Q_m)) coded bits
        (whole symbols) and the blocks come from :data:`BLOCK_SIZES` (few
        codes to compile in a sweep); with ``symbols`` the message is cut into
        equal blocks (no budget spent on pad bits) that share the symbols in
        proportion to k, each rounded down to whole symbols. Rates above
        :data:`MAX_CODE_RATE` raise ``ValueError``.
        """
        if (code_rate is None) == (symbols is None):
            raise ValueError("give a code rate or a number of symbols")
        sizes = block_sizes_for_bits(num_bits, exact=symbols is not None)
        m = self.bits_per_symbol
        if code_rate is not None:
            lengths = [m * math.ceil(k / (code_rate * m) - 1e-9) for k in sizes]
        else:
            lengths = [m * (int(symbols) * k // sum(sizes)) for k in sizes]
        blocks = tuple(Block(k, n) for k, n in zip(sizes, lengths))
        if any(block.k > MAX_CODE_RATE * block.n for block in blocks):
            raise ValueError(f"{num_bits} bits do not fit: a block's code rate would exceed {MAX_CODE_RATE:.3f}")
        return blocks

    def symbols_for_plan(self, plan: Sequence[Block]) -> int:
        """Complex symbols a message planned as ``plan`` takes."""
        return self.qam.symbols_for_coded_bits(sum(block.n for block in plan))

    def transmit_many(self, messages: Sequence[np.ndarray], plans: Sequence[Sequence[Block]], channel: Channel, snr_db: float) -> list[LinkResult]:
        """Send each 0/1 message [num_bits_i] coded as ``plans[i]`` as its own channel row at Es/N0 ``snr_db`` dB.

        Consecutive messages go through the channel together, in batches of at most
        :data:`MAX_BATCH_CODED_BITS` coded bits (a longer message alone): memory stays bounded, and the
        draws (pad bits, fading, noise) are made per batch, in order, so a run is repeatable.
        """
        messages = [np.asarray(m).reshape(-1).astype(np.uint8) for m in messages]
        if any(np.any(m > 1) for m in messages):
            raise ValueError("message bits must be 0 or 1")
        if len(plans) != len(messages):
            raise ValueError(f"{len(messages)} messages but {len(plans)} plans")
        results: list[LinkResult] = []
        for start, stop in _batches([sum(block.n for block in plan) for plan in plans], MAX_BATCH_CODED_BITS):
            results += self._transmit_batch(messages[start:stop], plans[start:stop], channel, snr_db)
        return results

    def _transmit_batch(self, messages: list[np.ndarray], plans: Sequence[Sequence[Block]], channel: Channel, snr_db: float) -> list[LinkResult]:
        """:meth:`transmit_many` for one batch of checked messages."""
        blocks = [block for plan in plans for block in plan]
        bounds = np.cumsum([len(plan) for plan in plans])[:-1]  # where each message's blocks start in ``blocks``
        info_bits = [sum(block.k for block in plan) for plan in plans]
        rows = np.split(random_bits([sum(info_bits)]), np.cumsum(info_bits)[:-1])  # random pad bits
        for row, message in zip(rows, messages):
            if message.size > row.size:
                raise ValueError(f"a plan for {row.size} bits cannot carry a {message.size}-bit message")
            row[: message.size] = message
        info = [bits for row, plan in zip(rows, plans) for bits in np.split(row, np.cumsum([b.k for b in plan])[:-1])]
        with timed(self.qam.seconds, "encode"):
            coded = self._encode(blocks, info)
        llr_rows = self.qam.send([np.concatenate(own) for own in _split(coded, bounds)], channel, snr_db)
        llr = [part for row, plan in zip(llr_rows, plans) for part in np.split(row, np.cumsum([b.n for b in plan])[:-1])]
        with timed(self.qam.seconds, "decode"):
            decoded = self._decode(blocks, llr)
        results = []
        for own, message, plan, info_bits_i in zip(_split(decoded, bounds), messages, plans, info_bits):
            symbols = self.symbols_for_plan(plan)
            results.append(LinkResult(np.concatenate(own)[: message.size].copy(), symbols, len(plan), info_bits_i / symbols))
        return results

    def _encode(self, blocks, info: list[np.ndarray]) -> list[np.ndarray]:
        """uint8 information bits [k] per block -> uint8 coded bits [n] (mother codeword repeated cyclically)."""
        coded: list[np.ndarray | None] = [None] * len(blocks)
        for (k, n0), members in _group(blocks).items():
            words = _code(k, n0).encoder(tf.constant(np.stack([info[j] for j in members]), tf.float32)).numpy().astype(np.uint8)
            for j, word in zip(members, words):
                coded[j] = np.resize(word, blocks[j].n)  # np.resize repeats cyclically
        return coded

    def _decode(self, blocks, llr: list[np.ndarray]) -> list[np.ndarray]:
        """float32 logits [n] per block -> uint8 information bits [k] (copies of a bit summed first)."""
        decoded: list[np.ndarray | None] = [None] * len(blocks)
        for (k, n0), members in _group(blocks).items():
            mother = np.stack([_combine(llr[j], n0) for j in members])
            for j, bits in zip(members, _code(k, n0).decode(mother)):
                decoded[j] = bits
        return decoded


def _batches(sizes: Sequence[int], limit: int) -> list[tuple[int, int]]:
    """[start, stop) ranges of consecutive items whose ``sizes`` add up to at most ``limit`` (an item over it alone)."""
    ranges, start, total = [], 0, 0
    for index, size in enumerate(sizes):
        if index > start and total + size > limit:
            ranges.append((start, index))
            start, total = index, 0
        total += size
    if len(sizes):
        ranges.append((start, len(sizes)))
    return ranges


def _split(items: list, bounds) -> list[list]:
    """``items`` cut at the indices ``bounds``: one list per message."""
    edges = [0, *bounds, len(items)]
    return [items[a:b] for a, b in zip(edges[:-1], edges[1:])]


def _group(blocks) -> dict[tuple[int, int], list[int]]:
    """Block positions by their (k, mother length) code."""
    groups: dict[tuple[int, int], list[int]] = {}
    for j, block in enumerate(blocks):
        groups.setdefault((block.k, block.mother_length), []).append(j)
    return groups


def _combine(llr: np.ndarray, n0: int) -> np.ndarray:
    """Sum the LLRs of every copy of each of the ``n0`` mother bits: float32 [n] -> [n0]."""
    padded = np.zeros(-(-llr.size // n0) * n0, np.float32)
    padded[: llr.size] = llr
    return padded.reshape(-1, n0).sum(axis=0)
