"""Fast batched successive-cancellation-list (SCL) decoder for polar codes.

Algorithm.  LLR-based SCL (Tal & Vardy) with the exact path metric of
Balatsoukas-Stimming et al., ``PM += log(1 + exp(-(1 - 2u) * llr))``, and the
tree pruning of Sionna's ``PolarSCLDecoder(use_fast_scl=True)``: all-frozen
(rate-0) and repetition nodes are decoded in one step (Hashemi et al.).  It
replicates that decoder decision for decision: exact box-plus
``f(x, y) = log(1 + e^(x+y)) - log(e^x + e^y)``, LLRs clipped to +-30 in
box-plus and path metrics, a list that starts as one path plus ``L - 1``
copies penalised by 30, at every information bit the ``2L`` candidates
ordered [bit 0 of slots 0..L-1, bit 1 of slots 0..L-1] and stably sorted by
metric (ties go to the lower index), and as output the first path of lowest
metric.  Only float32 rounding differs (Sionna: float32 in TF, float64 with
``cpu_only``).

Memory.  All paths run the tree in lockstep, so when the LLRs of stage ``s``
(or a left child's partial sums) are written, every path's previous values
there are dead.  Each path therefore writes its own slot and keeps a
per-stage pointer to the slot it reads: cloning a path copies
``2 log2(n) + 1`` pointers, never LLRs.  Decisions are logged per list slot
and the winner is traced back at the end, so bit vectors are not copied
either.  Small groups of codewords share one schedule run (see
``_decode_group``) so that short nodes still fill the SIMD lanes.

Sign convention.  Like Sionna's decoders, the input is logits,
``log p(b=1) / p(b=0)`` (BPSK ``x = 1 - 2b`` over AWGN: ``-2y / sigma^2``).

Why numba.  SCL is sequential and data dependent within a codeword (a sort
and path selection after every information bit) but independent across
codewords.  A TF graph must unroll the tree and move all ``2L`` paths'
memory at every bit, which is why Sionna's is slow; a tight scalar loop with
SIMD box-plus (a branch-free float32 ``log1p(exp(-a))`` that LLVM
vectorises) is what the algorithm wants.  ``numba.njit`` compiles exactly
that from Python, ``prange`` spreads codeword groups over the cores, and
``cache=True`` keeps the ~15 s compilation out of later processes.  A C
extension would need a build step; numba is already a dependency.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import get_num_threads, njit, prange
from numba.core import types
from numba.extending import intrinsic

__all__ = ["FastPolarSCLDecoder"]

_F, _G, _COMBINE, _RATE0, _REP = range(5)
_LLR_MAX = np.float32(30.0)
_ZERO = np.float32(0.0)
_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U8 = np.uint64(8)
_U16 = np.uint64(16)
_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_JIT = {"cache": True, "error_model": "numpy", "fastmath": {"contract"}}


@intrinsic
def _int_bits_as_float32(typingctx, bits):
    """Reinterpret an int32 bit pattern as float32 (used to build 2**-k)."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


@intrinsic
def _float32_bits(typingctx, value):
    """Reinterpret a float32 as its int32 bit pattern."""
    sig = types.int32(types.float32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return sig, codegen


@njit(inline="always", **_JIT)
def _log1p_exp_neg(a):
    """``log(1 + exp(-a))`` for float32 ``a >= 0``, abs. error < 2e-7.

    Branch-free so that loops calling it vectorise.  ``a`` is capped at 40
    (error < 5e-18) to keep every intermediate a normal float: subnormals
    would slow the CPU down by orders of magnitude.
    """
    a = min(a, np.float32(40.0))
    k = np.int32(a * _LOG2E + np.float32(0.5))
    kf = np.float32(k)
    r = (kf * _LN2_HI - a) + kf * _LN2_LO  # -a + k ln2, |r| <= 0.35
    p = np.float32(0.008291637) * r + np.float32(0.041915543)  # exp(r), rel. err 1e-7
    p = p * r + np.float32(0.16667667)
    p = p * r + np.float32(0.49998894)
    p = p * r + np.float32(0.99999964)
    p = p * r + np.float32(1.0000001)
    e = p * _int_bits_as_float32((np.int32(127) - k) << np.int32(23))  # exp(-a)
    t = e / (np.float32(2.0) + e)  # log1p(e) = 2 atanh(t), 0 < t <= 1/3
    t2 = t * t
    q = np.float32(0.14021713) * t2 + np.float32(0.13996661)  # atanh(t) / t, err 3e-9
    q = q * t2 + np.float32(0.20011169)
    q = q * t2 + np.float32(0.33333191)
    q = q * t2 + np.float32(1.0)
    return np.float32(2.0) * t * q


@njit(inline="always", **_JIT)
def _pad8(count):
    """Round a uint64 count up to a multiple of 8."""
    return (count + np.uint64(7)) // np.uint64(8) * np.uint64(8)


@njit(inline="always", **_JIT)
def _clip(x):
    return min(max(x, -_LLR_MAX), _LLR_MAX)


@njit(**_JIT)
def _decode_group(logits, first, ops, n, list_size, offs, llr, bits, xs, ys, ptr_llr,
                  ptr_left, pm, m0, m1, order, choice, newid, cand, key, sel, nchild,
                  parent, bit, out):
    """SCL-decode codewords ``first, first+1, ...`` of ``logits`` in lockstep.

    All codewords follow the same schedule, so a group of ``C`` codewords is
    decoded as one list of ``P = C * L`` paths (codeword ``c`` owns paths and
    list slots ``c*L .. c*L+L-1``); only the path selection runs per
    codeword.  Codewords missing at the end of the batch decode zeros and are
    not written out.

    ``logits``: float32 [B, N]; ``out``: float32 [B, k].  ``ops``: int32
    [num_ops, 3] rows (op, stage, first position).  ``offs``: uint64 [n+1],
    start of stage ``s`` in the flat buffers ``llr`` (float32) and ``bits``
    (uint8 partial sums, left children in the first half, right children in
    the second); stage ``s < n`` holds ``P`` slots of ``2**s`` values padded
    to a multiple of 8, stage ``n`` of ``llr`` holds the ``C`` channels.
    ``ptr_llr`` [n+1, P], ``ptr_left`` [n, P] (uint64): slot each path reads.
    ``pm``, ``m0``, ``m1`` (float32 [P]): path metric and its increments for
    bit 0 / 1, by path.  ``order`` / ``newid`` (int64 [P]): path of each list
    slot before / after a decision; ``choice`` (uint8 [P]): its bit.
    ``parent``, ``bit`` [C, k, L]: decision log by slot.  ``xs``, ``ys``,
    ``cand``, ``key``, ``sel``, ``nchild``: scratch.

    Buffer indices are uint64 so that numba emits no negative-index
    wraparound, which would block vectorisation.
    """
    L = list_size
    C = pm.shape[0] // L
    P = np.uint64(C * L)
    n = np.uint64(n)
    N = _U1 << n
    half = offs[n]  # bits[:half]: left children, bits[half:]: right children
    for c in range(C):
        row = min(first + c, logits.shape[0] - 1)
        sign = np.float32(-1.0) if first + c < logits.shape[0] else _ZERO
        for j in range(N):  # Sionna negates logits into llr = log p(0)/p(1)
            llr[offs[n] + np.uint64(c) * N + j] = sign * logits[row, j]
    for p in range(C * L):
        ptr_llr[n, p] = p // L
        pm[p] = _ZERO if p % L == 0 else _LLR_MAX
        order[p] = p
    t = 0
    for o in range(ops.shape[0]):
        op = ops[o, 0]
        s = np.uint64(ops[o, 1])
        is_right = (np.uint64(ops[o, 2]) >> s) & _U1
        size = _U1 << s
        if op == _F or op == _G:
            h = size >> _U1
            child = offs[s - _U1]
            if h >= _U8:  # per path: contiguous, vectorised
                for p in range(P):
                    src = offs[s] + ptr_llr[s, p] * size
                    if op == _F:
                        for j in range(h):
                            xs[p * h + j] = llr[src + j]
                            ys[p * h + j] = llr[src + h + j]
                    else:
                        u = child + ptr_left[s - _U1, p] * h
                        for j in range(h):
                            sign = np.float32(1 - 2 * np.int32(bits[u + j]))
                            llr[child + p * h + j] = sign * llr[src + j] + llr[src + h + j]
            else:  # one flat loop over (path, j): short inner loops cost more than they do
                for i in range(P * h):
                    p = i >> (s - _U1)
                    j = i & (h - _U1)
                    src = offs[s] + ptr_llr[s, p] * size + j
                    if op == _F:
                        xs[i] = llr[src]
                        ys[i] = llr[src + h]
                    else:
                        sign = np.float32(1 - 2 * np.int32(bits[child + ptr_left[s - _U1, p] * h + j]))
                        llr[child + i] = sign * llr[src] + llr[src + h]
            for p in range(P):
                ptr_llr[s - _U1, p] = p
            if op == _F:
                for i in range(_pad8(P * h)):  # stage buffers are padded to 8
                    x = _clip(xs[i])
                    y = _clip(ys[i])
                    z = x + y
                    llr[child + i] = (max(z, _ZERO) - max(x, y) + _log1p_exp_neg(abs(z))
                                      - _log1p_exp_neg(abs(x - y)))
        elif op == _COMBINE:
            h = size >> _U1
            dst = is_right * half + offs[s]
            right = half + offs[s - _U1]
            if h >= _U8:
                for p in range(P):
                    a = offs[s - _U1] + ptr_left[s - _U1, p] * h
                    for j in range(h):
                        b = bits[right + p * h + j]
                        bits[dst + p * size + j] = bits[a + j] ^ b
                        bits[dst + p * size + h + j] = b
            else:
                for i in range(P * h):
                    p = i >> (s - _U1)
                    j = i & (h - _U1)
                    b = bits[right + i]
                    bits[dst + p * size + j] = bits[offs[s - _U1] + ptr_left[s - _U1, p] * h + j] ^ b
                    bits[dst + p * size + h + j] = b
            if is_right == _U0:
                for p in range(P):
                    ptr_left[s, p] = p
        else:  # rate-0 node (incl. frozen leaf) or repetition node (incl. info leaf)
            # the node's LLRs: slot p of each path (just written), or the channels
            root = s == n
            src = offs[s]
            for i in range(_pad8(np.uint64(C) * N if root else P * size)):
                v = _clip(llr[src + i])
                xs[i] = v
                ys[i] = _log1p_exp_neg(abs(v))
            if size == _U1:  # leaf
                for p in range(P):
                    m0[p] = max(-xs[p], _ZERO) + ys[p]  # log(1 + exp(-v)): bit 0
                    m1[p] = max(xs[p], _ZERO) + ys[p]  # log(1 + exp(v)): bit 1
            else:
                for p in range(P):
                    a0 = _ZERO
                    a1 = _ZERO
                    base = (p // np.uint64(L) if root else p) * size
                    for j in range(base, base + size):  # same, summed over the codeword
                        a0 += max(-xs[j], _ZERO) + ys[j]
                        a1 += max(xs[j], _ZERO) + ys[j]
                    m0[p] = a0
                    m1[p] = a1
            if op == _RATE0:
                for p in range(C * L):
                    pm[p] += m0[p]
                    choice[p] = 0
                    newid[p] = p
            else:
                # per codeword: keep the L best of the 2L extensions of its slots
                # (slot r + bit 0 is candidate r, + bit 1 is L + r), in the
                # stable order of their path metrics, as Sionna does
                for c in range(C):
                    base = c * L
                    # metrics are >= 0, so their bit patterns sort like them; the
                    # candidate index in the low bits makes keys unique, in the
                    # stable order
                    in_order = True  # better extensions ascending, all below the worse ones
                    max_lo = _U0
                    min_hi = ~_U0
                    for r in range(L):
                        path = order[base + r]
                        cand[r] = pm[path] + m0[path]
                        cand[L + r] = pm[path] + m1[path]
                        k0 = (np.uint64(_float32_bits(cand[r])) << _U16) | np.uint64(r)
                        k1 = (np.uint64(_float32_bits(cand[L + r])) << _U16) | np.uint64(L + r)
                        key[r] = k0
                        key[L + r] = k1
                        lo = min(k0, k1)
                        in_order &= lo > max_lo
                        max_lo = max(max_lo, lo)
                        min_hi = min(min_hi, max(k0, k1))
                    if in_order and max_lo < min_hi:  # common: every slot keeps its better child
                        for r in range(L):
                            one = key[L + r] < key[r]
                            choice[base + r] = one
                            newid[base + r] = order[base + r]
                            pm[order[base + r]] = cand[r + L * one]
                            parent[c, t, r] = r
                            bit[c, t, r] = one
                        continue
                    for e in range(2 * L):
                        rank = 0
                        for d in range(2 * L):
                            rank += np.int64(key[d] < key[e])
                        if rank < L:
                            sel[rank] = e
                    for r in range(L):
                        nchild[r] = 0
                    for r in range(L):  # the first child of a slot keeps its path
                        one = sel[r] >= L
                        slot = sel[r] - L * one
                        choice[base + r] = one
                        sel[r] = slot
                        newid[base + r] = order[base + slot] if nchild[slot] == 0 else -1
                        nchild[slot] += 1
                    free = 0
                    for r in range(L):  # further children take over dropped paths
                        if newid[base + r] < 0:
                            while nchild[free] > 0:
                                free += 1
                            q = order[base + free]
                            free += 1
                            origin = order[base + sel[r]]
                            for ss in range(n + _U1):
                                ptr_llr[ss, q] = ptr_llr[ss, origin]
                            for ss in range(n):
                                ptr_left[ss, q] = ptr_left[ss, origin]
                            newid[base + r] = q
                    for r in range(L):
                        pm[newid[base + r]] = cand[sel[r] + L * choice[base + r]]
                        parent[c, t, r] = sel[r]
                        bit[c, t, r] = choice[base + r]
                        order[base + r] = newid[base + r]
                t += 1
            if not root:  # write the node's codeword (all 0 or all 1) for its parent
                dst = is_right * half + offs[s]
                for r in range(C * L):
                    p = np.uint64(newid[r])
                    for j in range(size):
                        bits[dst + p * size + j] = choice[r]
                    if is_right == _U0:
                        ptr_left[s, p] = p
    for c in range(min(C, logits.shape[0] - first)):
        best = 0
        for r in range(1, L):
            if pm[order[c * L + r]] < pm[order[c * L + best]]:
                best = r
        for tt in range(t - 1, -1, -1):
            out[first + c, tt] = bit[c, tt, best]
            best = parent[c, tt, best]


@njit(parallel=True, **_JIT)
def _decode_batch(logits, ops, n, k, list_size, group, chunks, offs, out):
    """Decode ``logits`` float32 [B, N] into ``out`` float32 [B, k].

    The groups of ``group`` codewords are split into at most ``chunks``
    parallel work items, each with one workspace (zeroed once, so that padding
    lanes stay finite).
    """
    L = list_size
    P = group * L
    groups = (logits.shape[0] + group - 1) // group
    chunks = min(groups, chunks)
    for chunk in prange(chunks):
        llr = np.zeros(np.int64(offs[n]) + np.int64(_pad8(np.uint64(group) << np.uint64(n))),
                       np.float32)
        bits = np.zeros(2 * np.int64(offs[n]), np.uint8)
        xs = np.zeros(np.int64(_pad8(np.uint64(P) << np.uint64(n))), np.float32)
        ys = np.zeros_like(xs)
        ptr_llr = np.zeros((n + 1, P), np.uint64)
        ptr_left = np.zeros((n, P), np.uint64)
        pm = np.zeros(P, np.float32)
        m0 = np.zeros(P, np.float32)
        m1 = np.zeros(P, np.float32)
        order = np.zeros(P, np.int64)
        choice = np.zeros(P, np.uint8)
        newid = np.zeros(P, np.int64)
        cand = np.zeros(2 * L, np.float32)
        key = np.zeros(2 * L, np.uint64)
        sel = np.zeros(L, np.int64)
        nchild = np.zeros(L, np.int64)
        parent = np.zeros((group, k, L), np.int64)
        bit = np.zeros((group, k, L), np.float32)
        for g in range(chunk * groups // chunks, (chunk + 1) * groups // chunks):
            _decode_group(logits, g * group, ops, n, L, offs, llr, bits, xs, ys, ptr_llr,
                          ptr_left, pm, m0, m1, order, choice, newid, cand, key, sel,
                          nchild, parent, bit, out)


def _schedule(frozen: np.ndarray) -> np.ndarray:
    """Flatten Sionna's pruned SCL decoding tree into int32 rows (op, stage, start)."""
    n_bits = len(frozen)
    ops = []

    def visit(start, size):
        stage = size.bit_length() - 1
        node = frozen[start:start + size]
        if node.all():
            ops.append((_RATE0, stage, start))
        elif not node[-1] and node[:-1].all():
            ops.append((_REP, stage, start))
        else:
            half = size // 2
            ops.append((_F, stage, start))
            visit(start, half)
            ops.append((_G, stage, start))
            visit(start + half, half)
            if size < n_bits:
                ops.append((_COMBINE, stage, start))

    visit(0, n_bits)
    return np.array(ops, dtype=np.int32).reshape(-1, 3)


class FastPolarSCLDecoder:
    """SCL decoder equivalent to ``sionna.phy.fec.polar.PolarSCLDecoder``
    (``crc_degree=None``, ``use_fast_scl=True``) for the code of
    ``sionna.phy.fec.polar.PolarEncoder(frozen_pos, n)``.

    Parameters
    ----------
    frozen_pos : array of int, shape [n - k]
        Frozen bit positions (e.g. ``generate_5g_ranking(k, n)[0]``).
    n : int
        Codeword length, a power of two.
    list_size : int
        List size ``L >= 1``.
    """

    def __init__(self, frozen_pos, n: int, list_size: int = 4):
        n = int(n)
        if n < 2 or n & (n - 1):
            raise ValueError(f"n must be a power of two >= 2, got {n}")
        if int(list_size) != list_size or list_size < 1:
            raise ValueError(f"list_size must be a positive integer, got {list_size}")
        frozen_pos = np.asarray(frozen_pos, dtype=np.int64).reshape(-1)
        if frozen_pos.size and (frozen_pos.min() < 0 or frozen_pos.max() >= n):
            raise ValueError(f"frozen positions must lie in [0, {n})")
        frozen = np.zeros(n, dtype=bool)
        frozen[frozen_pos] = True
        if frozen.sum() != len(frozen_pos):
            raise ValueError("frozen_pos contains duplicates")
        self.n = n
        self.k = n - len(frozen_pos)
        self.list_size = int(list_size)
        self.frozen_pos = np.sort(frozen_pos)
        self.info_pos = np.flatnonzero(~frozen)
        self._stages = n.bit_length() - 1
        self._ops = _schedule(frozen)
        # codewords decoded in lockstep: 16 paths fill two AVX registers
        self._group = max(1, 16 // self.list_size)
        paths = self._group * self.list_size
        stage_len = [((paths << s) + 7) & ~7 for s in range(self._stages)]
        self._offs = np.concatenate([[0], np.cumsum(stage_len)]).astype(np.uint64)

    def decode(self, llr: np.ndarray) -> np.ndarray:
        """Decode logits ``log p(b=1)/p(b=0)`` of shape [..., n] (cast to float32).

        Returns float32 0/1 info-bit estimates of shape [..., k], in the order
        of ``info_pos`` (ascending), as Sionna's encoder and decoder use.
        """
        llr = np.asarray(llr)
        if llr.shape[-1:] != (self.n,):
            raise ValueError(f"expected LLRs of shape [..., {self.n}], got {llr.shape}")
        flat = np.ascontiguousarray(llr.reshape(-1, self.n), dtype=np.float32)
        out = np.zeros((flat.shape[0], self.k), dtype=np.float32)
        if flat.shape[0] and self.k:
            _decode_batch(flat, self._ops, self._stages, self.k, self.list_size,
                          self._group, 4 * get_num_threads(), self._offs, out)
        return out.reshape(llr.shape[:-1] + (self.k,))

    __call__ = decode
