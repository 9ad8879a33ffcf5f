import numpy as np
import pytest

from deepsc_st.augment import Augmentation, WaveformAugmenter, coloured_noise, example_seed, room_impulse_responses, warp_frequencies
from deepsc_st.data import load_utterances, min_ctc_samples, training_batches_per_epoch, training_dataset

TONE = (0.3 * np.sin(2 * np.pi * 440 * np.arange(32_000) / 16_000)).astype(np.float32)


def test_same_seed_same_augmentation_and_other_seeds_differ():
    augmenter = WaveformAugmenter(seed=0)
    first = augmenter(TONE, np.random.default_rng(example_seed(0, 0, 5)))
    again = augmenter(TONE, np.random.default_rng(example_seed(0, 0, 5)))
    other = augmenter(TONE, np.random.default_rng(example_seed(0, 1, 5)))  # the next epoch
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert first.dtype == np.float32 and np.max(np.abs(first)) <= 1.0


def test_speed_up_never_goes_below_what_ctc_needs():
    always_fast = WaveformAugmenter(Augmentation(speed_probability=1.0, speed=(1.1, 1.1), vtlp_probability=0, reverb_probability=0, noise_probability=0))
    assert len(always_fast(TONE, np.random.default_rng(0))) == pytest.approx(32_000 / 1.1, abs=2)
    assert len(always_fast(TONE, np.random.default_rng(0), min_samples=31_000)) >= 31_000


def test_each_step_does_what_it_says():
    rng = np.random.default_rng(1)
    pink = coloured_noise(1 << 15, 1.0, rng)
    spectrum = np.abs(np.fft.rfft(pink)) ** 2
    assert np.mean(pink**2) == pytest.approx(1.0, rel=1e-6) and spectrum[10:100].mean() > 10 * spectrum[-1000:].mean()
    warped = warp_frequencies(TONE, 1.1)
    peak = np.argmax(np.abs(np.fft.rfft(warped))) * 16_000 / len(warped)
    assert len(warped) == len(TONE) and peak == pytest.approx(484, abs=10)  # 440 Hz x 1.1
    rooms = room_impulse_responses(0, (0.1, 0.8), count=3)
    assert len(rooms) == 3 and all(np.sum(r.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-4) for r in rooms)


def test_augmented_batches_keep_transcripts_buckets_and_seed(espeak_corpus):
    loaded = load_utterances(espeak_corpus, "train", 8)
    dataset = training_dataset(loaded, 4, seed=0, augmenter=WaveformAugmenter(seed=0))
    first = [(b["labels"].numpy().tolist(), b["spectrogram"].numpy()) for b in dataset]
    second = [b["spectrogram"].numpy() for b in dataset]  # the next epoch of the same pipeline
    plain = [b["labels"].numpy().tolist() for b in training_dataset(loaded, 4, seed=0)]
    assert [labels for labels, _ in first] == plain  # transcripts and batch order untouched
    assert len(first) == training_batches_per_epoch(loaded, 4)  # speed perturbation moves no utterance to another bucket
    fresh = [b["spectrogram"].numpy() for b in training_dataset(loaded, 4, seed=0, augmenter=WaveformAugmenter(seed=0))]
    assert all(np.array_equal(a, b) for (_, a), b in zip(first, fresh, strict=True))  # repeatable from the seed
    assert any(a.shape != b.shape or not np.array_equal(a, b) for (_, a), b in zip(first, second))  # new draws each epoch
    assert min_ctc_samples("aab") == (4 - 1) * 4 * 160
