import librosa
import numpy as np
import pytest

from deepsc_st.griffin_lim import griffin_lim_waveform


def chirp_magnitudes(n_fft: int, hop: int, frames: int, seed: int = 0):
    """A rising chirp with a little noise and its centred STFT magnitudes [frames + 1, bins] (librosa's framing)."""
    t = np.arange(frames * hop) / 16_000
    rng = np.random.default_rng(seed)
    signal = (0.5 * np.sin(2 * np.pi * (200 + 900 * t) * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    return signal, np.abs(librosa.stft(signal, n_fft=n_fft, hop_length=hop, center=True, pad_mode="constant")).T.astype(np.float32)


@pytest.mark.parametrize("n_fft, hop", [(1024, 320), (640, 160), (512, 128)])
def test_it_gives_librosas_griffin_lim(n_fft, hop):
    _, magnitudes = chirp_magnitudes(n_fft, hop, frames=60)
    length = 60 * hop
    ours = griffin_lim_waveform(magnitudes, length, n_fft, hop, iterations=32, seed=3)
    theirs = librosa.griffinlim(magnitudes.T, n_iter=32, hop_length=hop, n_fft=n_fft, window="hann", center=True, length=length, random_state=3)
    assert ours.dtype == np.float32 and ours.shape == (length,)
    assert np.max(np.abs(ours - theirs)) < 1e-3 * np.max(np.abs(theirs))


def test_it_is_repeatable_and_the_seed_matters():
    _, magnitudes = chirp_magnitudes(1024, 320, frames=30)
    first = griffin_lim_waveform(magnitudes, 30 * 320, 1024, 320, iterations=4, seed=0)
    assert np.array_equal(first, griffin_lim_waveform(magnitudes, 30 * 320, 1024, 320, iterations=4, seed=0))
    assert not np.allclose(first, griffin_lim_waveform(magnitudes, 30 * 320, 1024, 320, iterations=4, seed=1))


def test_more_iterations_match_the_magnitudes_better():
    _, magnitudes = chirp_magnitudes(1024, 320, frames=40)

    def spectral_error(iterations):
        rebuilt = griffin_lim_waveform(magnitudes, 40 * 320, 1024, 320, iterations=iterations)
        again = np.abs(librosa.stft(rebuilt, n_fft=1024, hop_length=320, center=True, pad_mode="constant")).T
        return np.mean(np.abs(again - magnitudes))

    assert spectral_error(32) < 0.5 * spectral_error(1)


def complex_expression_griffin_lim(magnitudes, length, n_fft, hop, iterations, seed):
    """The same algorithm written with numpy's complex arithmetic (the implementation before the in-place one)."""
    import scipy.fft
    import scipy.signal

    frames = magnitudes.shape[0]
    window = scipy.signal.get_window("hann", n_fft, fftbins=True).astype(np.float32)
    overlap, half = -(-n_fft // hop), n_fft // 2

    def overlap_add(framed):
        total = np.zeros((frames - 1 + overlap, hop), np.float32)
        padded = np.zeros((frames, overlap * hop), np.float32)
        padded[:, : framed.shape[1]] = framed
        for block in range(overlap):
            total[block : block + frames] += padded[:, block * hop : (block + 1) * hop]
        return total.reshape(-1)

    norm = 1 / np.maximum(overlap_add(np.tile(window**2, (frames, 1))), np.finfo(np.float32).tiny)
    padded = np.zeros(length + 2 * half, np.float32)

    def waveform(spectrum):
        return (overlap_add(scipy.fft.irfft(spectrum, n=n_fft, axis=1) * window) * norm)[half : half + length]

    def spectrum(signal):
        padded[half : half + length] = signal
        return scipy.fft.rfft(np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:frames] * window, axis=1)

    phases = np.exp(2j * np.pi * np.random.RandomState(seed).random(size=magnitudes.shape[::-1])).astype(np.complex64).T
    estimate, previous = phases * magnitudes, None
    for _ in range(iterations):
        rebuilt = spectrum(waveform(estimate))
        estimate = rebuilt if previous is None else rebuilt - np.complex64(0.99 / 1.99) * previous
        estimate = estimate / (np.abs(estimate) + np.finfo(np.float32).tiny) * magnitudes
        previous = rebuilt
    return waveform(estimate)


@pytest.mark.parametrize("n_fft, hop", [(1024, 320), (512, 128), (1024, 300)])
def test_in_place_arithmetic_gives_the_complex_expressions_bit_for_bit(n_fft, hop):
    _, magnitudes = chirp_magnitudes(n_fft, hop, frames=25)
    length = 25 * hop
    for iterations in (1, 5):
        assert np.array_equal(
            griffin_lim_waveform(magnitudes, length, n_fft, hop, iterations, seed=2),
            complex_expression_griffin_lim(magnitudes, length, n_fft, hop, iterations, seed=2),
        )
