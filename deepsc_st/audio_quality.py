"""Speech quality of received speech against the sent speech: wide-band PESQ (ITU-T P.862.2, PyPI ``pesq``) and STOI (PyPI ``pystoi``).

Both take two float waveforms [samples] at ``sample_rate`` (any scale; the
longer is cropped to the shorter) and return one float: PESQ as MOS-LQO,
from about 1.0 to 4.64 for identical signals; STOI from 0 to 1. Input that
gives no score (empty, silent, NaN or infinite, too short, no speech found)
raises :class:`~deepsc_st.errors.UserError` with a one-line message.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pesq as pesq_package
from pystoi import stoi as pystoi_stoi
from scipy.signal import resample_poly

from deepsc_st.errors import UserError

PESQ_RATE = 16_000  # wide-band PESQ is defined at 16 kHz


def _aligned(reference, degraded) -> tuple[np.ndarray, np.ndarray]:
    """float64 [n] each: both cropped to the shorter; UserError for input that cannot be scored."""
    reference, degraded = (np.asarray(signal, np.float64) for signal in (reference, degraded))
    for name, signal in (("reference", reference), ("degraded", degraded)):
        if signal.ndim != 1:
            raise UserError(f"{name} speech must be one channel of samples, got shape {signal.shape}")
    length = min(len(reference), len(degraded))
    reference, degraded = reference[:length], degraded[:length]
    for name, signal in (("reference", reference), ("degraded", degraded)):
        if length == 0:
            raise UserError(f"{name} speech is empty")
        if not np.all(np.isfinite(signal)):
            raise UserError(f"{name} speech has NaN or infinite samples")
        if not np.any(signal):
            raise UserError(f"{name} speech is silent (all samples zero)")
    return reference, degraded


def pesq_wb(reference, degraded, sample_rate: int = 16_000) -> float:
    """Wide-band PESQ (MOS-LQO) of ``degraded`` against ``reference``; other rates are resampled to 16 kHz first.

    PESQ needs at least 1/4 s and speech in the reference.
    """
    reference, degraded = _aligned(reference, degraded)
    if sample_rate != PESQ_RATE:
        divisor = math.gcd(PESQ_RATE, sample_rate)
        reference, degraded = (resample_poly(signal, PESQ_RATE // divisor, sample_rate // divisor) for signal in (reference, degraded))
    try:
        return float(pesq_package.pesq(PESQ_RATE, reference, degraded, "wb"))
    except pesq_package.NoUtterancesError:
        raise UserError("PESQ found no speech in the reference") from None
    except pesq_package.BufferTooShortError:
        raise UserError(f"PESQ needs at least 1/4 s of speech, got {len(reference) / PESQ_RATE:.3f} s") from None


def stoi(reference, degraded, sample_rate: int = 16_000) -> float:
    """STOI (Taal et al. 2011) of ``degraded`` against ``reference``.

    It needs about 0.4 s of non-silent speech (30 frames of 25.6 ms at 10 kHz) in the reference.
    """
    reference, degraded = _aligned(reference, degraded)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        score = float(pystoi_stoi(reference, degraded, sample_rate))
    if any("Not enough STFT frames" in str(warning.message) for warning in caught):
        raise UserError("STOI needs at least 0.4 s of non-silent speech in the reference")
    return score


def utterance_quality(reference, degraded, sample_rate: int = 16_000) -> dict:
    """{"pesq", "stoi"} of one pair of float waveforms, each None when the pair cannot be scored by it
    (silent or NaN output of a corrupted decode, speech too short)."""
    scores = {}
    for name, score in (("pesq", pesq_wb), ("stoi", stoi)):
        try:
            scores[name] = score(reference, degraded, sample_rate)
        except UserError:
            scores[name] = None
    return scores


def mean_quality(sent: list[np.ndarray], received: list[np.ndarray], sample_rate: int = 16_000, scores=None) -> dict:
    """{"pesq", "stoi"}: means over the utterance pairs (16 kHz float waveforms) that can be scored, None when none can.

    A received utterance that cannot be scored is left out of that mean, not
    counted as a worst score; ``"scored"`` says how many pairs each mean is
    over. ``scores``: ``(sent, received) -> [utterance_quality of each pair]``
    to use instead (a sweep worker's :class:`deepsc_st.remember.PerItemMemory`).
    """
    pairs = scores(sent, received) if scores is not None else [utterance_quality(r, d, sample_rate) for r, d in zip(sent, received)]
    means, scored = {}, {}
    for name in ("pesq", "stoi"):
        values = [pair[name] for pair in pairs if pair[name] is not None]
        means[name], scored[name] = (float(np.mean(values)) if values else None), len(values)
    return {**means, "scored": scored}
