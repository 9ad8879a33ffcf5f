"""Fréchet and kernel deep speech distances, FDSD and KDSD (Bińkowski et al. 2020).

Both compare two sets of utterances, e.g. real and received speech, through
features of a speech recogniser: here the output of the project ASR model's
last bidirectional GRU block after its BatchNorm (the classifier's input),
mean-pooled over each utterance's valid time steps, giving one vector of
2 x gru_units per utterance. FDSD is the Fréchet distance between Gaussians
fitted to the two feature sets; KDSD is the unbiased squared MMD with a cubic
polynomial kernel. Both are near 0 for sets drawn from the same speech, and
grow as the sets drift apart; KDSD can be slightly negative.
"""

from __future__ import annotations

import numpy as np

from deepsc_st.model import ASRModel
from deepsc_st.inference import BATCH_SIZE, listen


def asr_speech_features(model: ASRModel, waveforms: list[np.ndarray], batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Float64 [num_waveforms, 2 x gru_units]: each float32 16 kHz waveform's hidden states averaged over its own steps
    (:func:`deepsc_st.inference.listen`, which also recognises them in the same pass).

    Batch padding is left out of the average, so a waveform's features do not
    depend on the others in its batch.
    """
    if not waveforms:
        raise ValueError("no waveforms to take speech features of")
    return listen(model, waveforms, batch_size).features


def _feature_sets(real, generated) -> tuple[np.ndarray, np.ndarray]:
    """Both sets as float64 [n, d]; ValueError unless each has at least 2 rows and their widths match."""
    sets = []
    for name, features in (("real", real), ("generated", generated)):
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[0] < 2:
            raise ValueError(f"{name} features must have shape [n >= 2, width], got {features.shape}")
        sets.append(features)
    if sets[0].shape[1] != sets[1].shape[1]:
        raise ValueError(f"feature widths differ: real {sets[0].shape[1]}, generated {sets[1].shape[1]}")
    return sets[0], sets[1]


def frechet_distance(real: np.ndarray, generated: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to ``real`` [m, d] and ``generated`` [n, d], in squared feature units.

    ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 sqrtm(S_r S_g)), with sample covariances S. m, n >= 2.

    Tr sqrtm(S_r S_g) is taken as the sum of the square roots of the
    eigenvalues of R S_g R, R = S_r^(1/2) (both symmetric, so ``eigh``): the
    same matrix square root's trace as ``scipy.linalg.sqrtm(S_r @ S_g)``
    (tests compare the two within 1e-6), about 10x faster on 384-wide
    features of 40 utterances, whose covariance is singular (there sqrtm
    takes about 0.75 s per call and leaves round-off in an imaginary part).
    """
    real, generated = _feature_sets(real, generated)
    mean_gap = real.mean(axis=0) - generated.mean(axis=0)
    cov_real = np.atleast_2d(np.cov(real, rowvar=False))
    cov_generated = np.atleast_2d(np.cov(generated, rowvar=False))
    eigenvalues, eigenvectors = np.linalg.eigh(cov_real)
    root = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T
    cross_trace = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(root @ cov_generated @ root), 0, None)))
    return float(mean_gap @ mean_gap + np.trace(cov_real) + np.trace(cov_generated) - 2 * cross_trace)


def _off_diagonal_mean(kernel: np.ndarray) -> float:
    """Mean of a square kernel matrix without its diagonal (pairs of distinct samples)."""
    n = kernel.shape[0]
    return (kernel.sum() - np.trace(kernel)) / (n * (n - 1))


def kernel_distance(real: np.ndarray, generated: np.ndarray) -> float:
    """Unbiased squared MMD between ``real`` [m, d] and ``generated`` [n, d] with k(x, y) = (x . y / d + 1)^3.

    Mean k over distinct real pairs + over distinct generated pairs - 2 x over
    all real-generated pairs. Unitless; near 0, possibly negative, for
    independent samples of one distribution. Paired sets (generated[i] made
    from real[i]) read low: identical sets give 2 (off-diagonal mean - diagonal
    mean of k) / n <= 0. m, n >= 2; memory grows as (m + n)^2.
    """
    real, generated = _feature_sets(real, generated)
    width = real.shape[1]

    def kernel(x, y):
        return (x @ y.T / width + 1) ** 3

    return float(_off_diagonal_mean(kernel(real, real)) + _off_diagonal_mean(kernel(generated, generated)) - 2 * kernel(real, generated).mean())


def speech_distances(model: ASRModel, real_waveforms: list[np.ndarray], generated_waveforms: list[np.ndarray], batch_size: int = BATCH_SIZE) -> dict:
    """{"fdsd": float, "kdsd": float} between two lists (>= 2 each) of float32 16 kHz waveforms, with ``model``'s features."""
    real = asr_speech_features(model, real_waveforms, batch_size)
    generated = asr_speech_features(model, generated_waveforms, batch_size)
    return {"fdsd": frechet_distance(real, generated), "kdsd": kernel_distance(real, generated)}
