"""The speech codec's training data: fixed-length crops of the corpus's waveforms.

Each epoch takes one random crop of :data:`CROP_SECONDS` from every training
utterance (shorter utterances are zero-padded at the end), seeded per
(seed, epoch, utterance) in input order and shuffled afterwards, so a run is
repeatable and a resumed run draws the crops the uninterrupted run would
have. Validation takes the first :data:`CROP_SECONDS` of each validation
utterance (the same crops every epoch). The codec learns from waveforms only:
transcripts are not used.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from deepsc_st.data import LoadedUtterance
from deepsc_st.frontend import SAMPLE_RATE
from deepsc_st.seeds import seed_from

CROP_SECONDS = 1.0
CROP_SAMPLES = int(CROP_SECONDS * SAMPLE_RATE)


def crop_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of one utterance's crop in one epoch, in [0, 2**32)."""
    return seed_from("codec-crop", seed, epoch, index)


def crop(waveform: np.ndarray, start: int, samples: int = CROP_SAMPLES) -> np.ndarray:
    """float32 [samples] from ``start`` (zero-padded past the end)."""
    out = np.zeros(samples, np.float32)
    piece = waveform[start : start + samples]
    out[: piece.size] = piece
    return out


def training_crops(loaded: list[LoadedUtterance], batch_size: int, seed: int, first_epoch: int = 0) -> tf.data.Dataset:
    """Batches float32 [batch_size, CROP_SAMPLES], shuffled; one crop per utterance per epoch (the last partial batch dropped)."""
    epochs = iter(range(first_epoch, 1 << 62))

    def generate():
        epoch = next(epochs)
        for index, item in enumerate(loaded):
            rng = np.random.default_rng(crop_seed(seed, epoch, index))
            yield crop(item.waveform, int(rng.integers(0, max(1, item.waveform.size - CROP_SAMPLES + 1))))

    dataset = tf.data.Dataset.from_generator(generate, output_signature=tf.TensorSpec([CROP_SAMPLES], tf.float32))
    dataset = dataset.shuffle(len(loaded), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def validation_crops(loaded: list[LoadedUtterance], batch_size: int) -> tf.data.Dataset:
    """Batches float32 [<= batch_size, CROP_SAMPLES]: the first second of each utterance, in order."""
    crops = np.stack([crop(item.waveform, 0) for item in loaded])
    return tf.data.Dataset.from_tensor_slices(crops).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def crop_batches_per_epoch(loaded: list[LoadedUtterance], batch_size: int) -> int:
    return len(loaded) // batch_size
