"""Capacity bounds: below which SNR no code of a given rate can carry a message.

A link that carries R information bits per complex symbol (code rate x bits
per QAM symbol) needs, over AWGN with Gaussian inputs (Shannon),

    log2(1 + Es/N0) >= R   <=>   Es/N0 >= 2^R - 1.

The paper's link (64-QAM, rate 5/8, R = 3.75) thus cannot work below
2^3.75 - 1 = 12.45, i.e. 10.95 dB, whatever the code.

Over block fading with gain h per block (perfect CSI at the receiver) a
message that sits in one fading block fails whatever the code when
log2(1 + |h|^2 Es/N0) < R: the outage probability

    P_out = P(|h|^2 < (2^R - 1) / (Es/N0))

is a lower bound on its message error rate. Rayleigh (|h|^2 ~ Exp(1)):
P_out = 1 - exp(-(2^R - 1) / snr). Rician with K factor K and E|h|^2 = 1:
2 (K + 1) |h|^2 is noncentral chi-square with 2 degrees of freedom and
noncentrality 2 K. A message spread over several fading blocks (the links
interleave over the whole message) averages the blocks' capacities and has
a lower outage: :func:`outage_probability` takes the number of blocks.

>>> round(shannon_limit_db(3.75), 2)
10.95
>>> round(outage_probability("rayleigh", 10.0, 1.0), 4)  # 1 - exp(-0.1)
0.0952
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import ncx2

from channels import DEFAULT_BLOCK_LENGTH, DEFAULT_K_FACTOR

OUTAGE_TRIALS = 4_000  # fading draws per Monte Carlo outage estimate (several blocks)
OUTAGE_SEED = 0


def shannon_limit_db(bits_per_symbol: float) -> float:
    """Lowest Es/N0 (dB) at which R = ``bits_per_symbol`` information bits per complex symbol can cross AWGN."""
    return 10.0 * math.log10(2.0 ** float(bits_per_symbol) - 1.0)


def message_error_bound(channel: str, snr_db: float, bits_per_symbol: float, symbols_per_message: float, block_length: int = DEFAULT_BLOCK_LENGTH) -> float:
    """Lower bound on the message error rate of a code of ``bits_per_symbol`` over ``channel`` at ``snr_db`` dB.

    AWGN: 1 below the Shannon limit, else 0. Block fading: the outage
    probability of a message spread over ceil(``symbols_per_message`` /
    ``block_length``) fading blocks (the links interleave over the whole message).
    """
    blocks = max(1, math.ceil(symbols_per_message / block_length))
    return outage_probability(channel, snr_db, bits_per_symbol, blocks)


def outage_probability(channel: str, snr_db: float, bits_per_symbol: float, blocks: int = 1, k_factor: float = DEFAULT_K_FACTOR) -> float:
    """P(mean over ``blocks`` fading blocks of log2(1 + |h|^2 snr) < R): a lower bound on the message error rate.

    ``channel``: "awgn" (0 or 1: the Shannon limit), "rayleigh" or "rician"
    (K factor ``k_factor``, linear). ``snr_db``: Es/N0, dB. One block:
    closed form; more: Monte Carlo over :data:`OUTAGE_TRIALS` seeded draws.
    """
    snr = 10.0 ** (snr_db / 10.0)
    threshold = (2.0 ** float(bits_per_symbol) - 1.0) / snr  # |h|^2 below which one block fails
    if channel == "awgn":
        return float(threshold > 1.0)
    if channel not in ("rayleigh", "rician"):
        raise ValueError(f"no outage for channel {channel!r}")
    if blocks == 1:
        if channel == "rayleigh":
            return float(-math.expm1(-threshold))
        return float(ncx2.cdf(2.0 * (k_factor + 1.0) * threshold, 2, 2.0 * k_factor))
    rng = np.random.default_rng(OUTAGE_SEED)
    scattered = (rng.standard_normal((OUTAGE_TRIALS, blocks)) + 1j * rng.standard_normal((OUTAGE_TRIALS, blocks))) / math.sqrt(2.0)
    k = k_factor if channel == "rician" else 0.0
    gain = np.abs(math.sqrt(k / (k + 1.0)) + math.sqrt(1.0 / (k + 1.0)) * scattered) ** 2
    capacity = np.log2(1.0 + gain * snr).mean(axis=1)
    return float(np.mean(capacity < bits_per_symbol))
