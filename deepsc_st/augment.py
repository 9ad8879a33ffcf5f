"""Waveform augmentation for training: what synthetic speech lacks that recordings of people have.

Each training utterance, anew each epoch, goes through (each step with its
own probability, :class:`Augmentation`):

1. speed perturbation, factor 0.9-1.1 (resampled with soxr: tempo and pitch
   move together, as in Kaldi's speed perturbation); never so fast that CTC
   could no longer align the transcript;
2. vocal-tract-length perturbation: every frequency scaled by 0.9-1.1, the
   duration kept (Jaitly & Hinton 2013 warp a filterbank; here the waveform,
   :func:`warp_frequencies`);
3. room reverberation: convolution with a shoebox room impulse response
   (pyroomacoustics image source method, RT60 0.1-0.8 s; a bank of
   :data:`RIR_BANK_SIZE` rooms drawn once per seed);
4. band-limiting: telephone band 300-3,400 Hz (4th-order Butterworth);
5. additive coloured noise (spectrum ~ 1/f^alpha, alpha 0-2: white to brown)
   at 5-30 dB SNR;
6. random gain, -6 to +6 dB, clipped to [-1, 1].

The transcript is never touched. Randomness comes from a generator seeded
per utterance and epoch (:func:`example_seed`), so a training run is
repeatable whatever order tf.data's parallel workers take.

>>> augmenter = WaveformAugmenter(Augmentation(), seed=0)  # doctest: +SKIP
>>> noisy = augmenter(waveform, np.random.default_rng(example_seed(0, 1, 17)), min_samples=8_000)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import soxr

from deepsc_st.frontend import FRAME_LENGTH, SAMPLE_RATE
from deepsc_st.seeds import seed_from

RIR_BANK_SIZE = 48  # rooms per seed
MAX_REFLECTION_ORDER = 30  # caps the image-source method's cost (about 0.1 s per room)
TELEPHONE_BAND_HZ = (300.0, 3400.0)


@dataclass(frozen=True)
class Augmentation:
    """Probabilities (0-1) and ranges of each step; ranges are (low, high), drawn uniformly."""

    speed_probability: float = 0.5
    speed: tuple[float, float] = (0.9, 1.1)
    vtlp_probability: float = 0.3
    vtlp: tuple[float, float] = (0.9, 1.1)
    reverb_probability: float = 0.4
    rt60_s: tuple[float, float] = (0.1, 0.8)
    telephone_probability: float = 0.15
    noise_probability: float = 0.5
    noise_snr_db: tuple[float, float] = (5.0, 30.0)
    noise_colour: tuple[float, float] = (0.0, 2.0)
    gain_db: tuple[float, float] = (-6.0, 6.0)


def example_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of one utterance's augmentation in one epoch, in [0, 2**32)."""
    return seed_from("augment", seed, epoch, index)


@functools.lru_cache(maxsize=4)
def room_impulse_responses(seed: int, rt60_s: tuple[float, float], count: int = RIR_BANK_SIZE) -> tuple[np.ndarray, ...]:
    """``count`` float32 impulse responses of random shoebox rooms at 16 kHz, each normalised to unit energy."""
    import pyroomacoustics

    rng = np.random.default_rng(seed)
    responses = []
    while len(responses) < count:
        room = rng.uniform([3.0, 3.0, 2.4], [10.0, 8.0, 4.0])
        rt60 = rng.uniform(*rt60_s)
        try:
            absorption, order = pyroomacoustics.inverse_sabine(rt60, room)
        except ValueError:  # this room cannot reach that RT60: draw another
            continue
        shoebox = pyroomacoustics.ShoeBox(room, fs=SAMPLE_RATE, materials=pyroomacoustics.Material(absorption), max_order=min(order, MAX_REFLECTION_ORDER))
        shoebox.add_source(rng.uniform(0.5, room - 0.5))
        shoebox.add_microphone(rng.uniform(0.5, room - 0.5))
        shoebox.compute_rir()
        response = np.asarray(shoebox.rir[0][0], np.float64)
        responses.append((response / np.sqrt(np.sum(response**2))).astype(np.float32))
    return tuple(responses)


def coloured_noise(length: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-power noise [length] whose power spectrum falls as 1/f^alpha (0 white, 1 pink, 2 brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(length))
    frequencies = np.fft.rfftfreq(length)
    frequencies[0] = frequencies[1] if length > 2 else 1.0
    noise = np.fft.irfft(spectrum / frequencies ** (alpha / 2), n=length)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def warp_frequencies(waveform: np.ndarray, factor: float) -> np.ndarray:
    """The waveform with every frequency scaled by ``factor`` and its duration kept.

    librosa's pitch shift (resampling, then a phase-vocoder time stretch back
    to the same length) moves formants and pitch together, the whole-spectrum
    warp that VTLP applies to a filterbank.
    """
    import librosa

    shifted = librosa.effects.pitch_shift(np.asarray(waveform, np.float32), sr=SAMPLE_RATE, n_steps=12 * np.log2(factor), res_type="soxr_hq")
    return shifted[: len(waveform)]


@functools.lru_cache(maxsize=1)
def _telephone_filter() -> np.ndarray:
    import scipy.signal  # here and in WaveformAugmenter, not at the top: only training augments (a transmit need not load it)

    return scipy.signal.butter(4, TELEPHONE_BAND_HZ, btype="bandpass", fs=SAMPLE_RATE, output="sos")


class WaveformAugmenter:
    """Applies :class:`Augmentation` to float32 16 kHz waveforms; rooms are drawn once from ``seed``."""

    def __init__(self, augmentation: Augmentation = Augmentation(), seed: int = 0):
        self.augmentation = augmentation
        self.seed = seed

    def __call__(self, waveform: np.ndarray, rng: np.random.Generator, min_samples: int = 0) -> np.ndarray:
        """The augmented float32 [m] waveform; a speed-up never takes it below ``min_samples`` samples."""
        import scipy.signal

        settings = self.augmentation
        audio = np.asarray(waveform, np.float64)
        if rng.random() < settings.speed_probability:
            factor = min(rng.uniform(*settings.speed), len(audio) / max(min_samples, 1))
            if factor > 0 and abs(factor - 1.0) > 1e-3:
                audio = soxr.resample(audio, SAMPLE_RATE * factor, SAMPLE_RATE)
        if rng.random() < settings.vtlp_probability and len(audio) > FRAME_LENGTH:
            audio = warp_frequencies(audio, rng.uniform(*settings.vtlp))
        if rng.random() < settings.reverb_probability:
            rooms = room_impulse_responses(self.seed, settings.rt60_s)
            wet = scipy.signal.oaconvolve(audio, rooms[rng.integers(len(rooms))])[: len(audio)]
            audio = wet * np.sqrt(np.mean(audio**2) / (np.mean(wet**2) + 1e-12))  # same loudness as the dry speech
        if rng.random() < settings.telephone_probability:
            audio = scipy.signal.sosfilt(_telephone_filter(), audio)
        if rng.random() < settings.noise_probability:
            noise = coloured_noise(len(audio), rng.uniform(*settings.noise_colour), rng)
            snr_db = rng.uniform(*settings.noise_snr_db)
            audio = audio + noise * np.sqrt(np.mean(audio**2) / 10 ** (snr_db / 10))
        audio = audio * 10 ** (rng.uniform(*settings.gain_db) / 20)
        return np.clip(audio, -1.0, 1.0).astype(np.float32)
