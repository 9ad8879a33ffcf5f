"""Exact APP LLRs of square QAM symbols, one axis at a time (numba): the links' demapper.

Demapping per axis: Sionna's QAM is a Gray PAM on the even bits (real part)
times a Gray PAM on the odd bits (imaginary part), and the noise is circular
(also after zero forcing by a complex h), so the exact APP LLR of a real-axis
bit depends on Re(y) only. :func:`demap_axes` computes the exact APP LLRs of
each axis against that PAM of 2^(Q_m/2) points (numba, float64): Sionna's QAM
demapper's LLRs (float32) to within rounding (``tests/baselines/test_axis_demapper.py``
holds them side by side; ``deepsc-st bench link`` times both in the same run).

The demapper was Sionna's ``Demapper`` per axis, XLA-compiled, before
:func:`demap_axes`: one thread, 6.6 M 64-QAM symbols at 4 dB (a 200-utterance
speech cell), 3.3-3.5 s there against 1.56 s here, largest difference 3.8e-6
and no sign flipped (/tmp script, 2026-12-02).

Its own module so that numba (about 0.1 s to import) loads only when a link
demaps: ``deepsc-st transmit`` through deepsc-st or sr-deepsc sends no QAM.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange
from sionna.phy.mapping import pam

LLR_LIMIT = 1000.0  # |LLR| bound: keeps the noiseless "none" channel's infinite LLRs finite
_DEMAP_BLOCK = 4096  # symbols per block of the demapper's parallel loop


@functools.lru_cache(maxsize=None)
def axis_constellation(bits_per_symbol: int) -> tuple[np.ndarray, np.ndarray]:
    """(points float64 [M], labels uint8 [M, Q_m / 2]) of one axis of Sionna's unit-energy Gray QAM, M = 2^(Q_m / 2).

    Sionna's QAM is ``pam(Q_m / 2) / sqrt(2)`` on each axis (float32, as its
    ``Constellation`` stores it); point j carries the bits of j, most significant
    first, as in Sionna's ``SymbolLogits2LLRs``.
    """
    if bits_per_symbol % 2:
        raise ValueError(f"square QAM needs an even number of bits per symbol, not {bits_per_symbol}")
    half = bits_per_symbol // 2
    points = (pam(half).real / np.sqrt(2.0)).astype(np.float32).astype(np.float64)
    labels = np.array([[int(bit) for bit in np.binary_repr(j, half)] for j in range(1 << half)], np.uint8)
    return points, labels


def demap_axes(symbols: np.ndarray, noise_variance: np.ndarray, bits_per_symbol: int, out: np.ndarray | None = None) -> np.ndarray:
    """Exact APP logits ln(P(b=1)/P(b=0)) float32 [Q_m S] of complex64 symbols [S] with float32 N0 [S], clipped to +-:data:`LLR_LIMIT`.

    Sionna's ``Demapper("app", "qam", Q_m)`` computed one axis at a time (see the
    module docstring); logits in its order (per symbol, bit i of the real axis,
    then bit i of the imaginary axis, for i = 0 .. Q_m / 2 - 1). N0 below
    float32's smallest normal number is raised to it, as Sionna does. ``out``:
    a float32 array of at least Q_m S values to write them into (its start is returned).
    """
    points, labels = axis_constellation(bits_per_symbol)
    symbols = np.ascontiguousarray(symbols, np.complex64).reshape(-1)
    noise_variance = np.ascontiguousarray(noise_variance, np.float32).reshape(-1)
    if symbols.size != noise_variance.size:
        raise ValueError(f"{symbols.size} symbols but {noise_variance.size} noise variances")
    llr = np.empty(symbols.size * bits_per_symbol, np.float32) if out is None else out[: symbols.size * bits_per_symbol]
    _demap_axes(symbols, noise_variance, points, labels, LLR_LIMIT, llr)
    return llr


@njit(cache=True, error_model="numpy", parallel=True)
def _demap_axes(symbols, noise_variance, points, labels, limit, llr):
    """:func:`demap_axes` into ``llr``, in float64, blocks of :data:`_DEMAP_BLOCK` symbols on numba's threads.

    Each bit's log-sum-exp over its two label sets uses the exponentials of
    all points relative to the nearest one; a set whose sum underflows (a far
    set at high SNR) is summed again relative to its own nearest point, as
    ``tf.reduce_logsumexp`` does. With one point per set (QPSK) the logit is
    the difference of the two exponents.
    """
    num_points, half = labels.shape
    tiny = np.float64(np.finfo(np.float32).tiny)
    for block in prange((symbols.size + _DEMAP_BLOCK - 1) // _DEMAP_BLOCK):
        exponent = np.empty(num_points)
        relative = np.empty(num_points)
        for s in range(block * _DEMAP_BLOCK, min(symbols.size, (block + 1) * _DEMAP_BLOCK)):
            no = max(np.float64(noise_variance[s]), tiny)
            for axis in range(2):
                value = np.float64(symbols[s].real) if axis == 0 else np.float64(symbols[s].imag)
                nearest = -np.inf
                for j in range(num_points):
                    exponent[j] = -((value - points[j]) ** 2) / no
                    nearest = max(nearest, exponent[j])
                if num_points == 2:
                    bit_llr = exponent[1] - exponent[0] if labels[1, 0] else exponent[0] - exponent[1]
                    llr[s * 2 + axis] = min(max(bit_llr, -limit), limit)
                    continue
                for j in range(num_points):
                    relative[j] = np.exp(exponent[j] - nearest)
                for i in range(half):
                    ones = zeros = 0.0
                    for j in range(num_points):
                        if labels[j, i]:
                            ones += relative[j]
                        else:
                            zeros += relative[j]
                    if ones > 0.0 and zeros > 0.0:
                        bit_llr = np.log(ones / zeros)
                    else:
                        top_ones = top_zeros = -np.inf
                        for j in range(num_points):
                            if labels[j, i]:
                                top_ones = max(top_ones, exponent[j])
                            else:
                                top_zeros = max(top_zeros, exponent[j])
                        ones = zeros = 0.0
                        for j in range(num_points):
                            if labels[j, i]:
                                ones += np.exp(exponent[j] - top_ones)
                            else:
                                zeros += np.exp(exponent[j] - top_zeros)
                        bit_llr = (top_ones + np.log(ones)) - (top_zeros + np.log(zeros))
                    llr[(s * half + i) * 2 + axis] = min(max(bit_llr, -limit), limit)
