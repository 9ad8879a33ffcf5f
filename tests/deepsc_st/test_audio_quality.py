import numpy as np
import pytest

from deepsc_st.audio_quality import mean_quality, pesq_wb, stoi, utterance_quality
from deepsc_st.errors import UserError
from deepsc_st.remember import PerItemMemory


def voiced(seconds: float = 2.0, sample_rate: int = 16_000) -> np.ndarray:
    """Speech-like test signal: harmonics of a 150 Hz voice with vibrato, in 3 Hz syllable bursts; peak 0.5."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    pitch = 150.0 * t * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t))
    signal = np.sin(2 * np.pi * 3 * t) ** 2 * sum(np.sin(2 * np.pi * k * pitch) / k for k in (1, 2, 3, 4, 6, 8))
    return 0.5 * signal / np.abs(signal).max()


def test_identical_speech_scores_the_top_of_both_scales():
    speech = voiced()
    assert pesq_wb(speech, speech) == pytest.approx(4.644, abs=0.001)  # the maximum of P.862.2's MOS-LQO mapping
    assert stoi(speech, speech) == pytest.approx(1.0, abs=1e-6)
    assert pesq_wb(voiced(sample_rate=24_000), voiced(sample_rate=24_000), sample_rate=24_000) == pytest.approx(4.644, abs=0.001)


def test_noise_lowers_both_scores_and_the_longer_signal_is_cropped():
    speech = voiced()
    noise = np.random.default_rng(0).standard_normal(len(speech) + 800)
    slightly, very = speech + 0.002 * noise[: len(speech)], speech + 0.05 * noise[: len(speech)]
    assert 4.644 > pesq_wb(speech, slightly) > pesq_wb(speech, very) >= 1.0
    assert 1.0 > stoi(speech, slightly) > stoi(speech, very) > 0.5
    assert stoi(speech, np.concatenate([slightly, noise[:800]])) == stoi(speech, slightly)


@pytest.mark.parametrize(
    "reference, degraded, message",
    [
        (np.zeros(0), voiced(), "empty"),
        (voiced(), np.full(32_000, np.nan), "NaN"),
        (np.zeros(32_000), voiced(), "silent"),
        (voiced(), np.zeros(32_000), "silent"),
        (voiced()[None], voiced()[None], "one channel"),
    ],
)
def test_unscorable_input_is_a_user_error(reference, degraded, message):
    for score in (pesq_wb, stoi):
        with pytest.raises(UserError, match=message):
            score(reference, degraded)


def test_too_short_or_speechless_input_is_a_user_error():
    with pytest.raises(UserError, match="1/4 s"):
        pesq_wb(voiced(0.2), voiced(0.2))
    with pytest.raises(UserError, match="0.4 s"):
        stoi(voiced(0.3), voiced(0.3))
    click = np.zeros(32_000)
    click[1_000:1_500] = np.random.default_rng(0).standard_normal(500)  # 31 ms of noise in 2 s of silence
    with pytest.raises(UserError, match="no speech"):
        pesq_wb(click, click)


def test_mean_quality_leaves_out_unscorable_pairs_and_a_memory_gives_the_same_means():
    speech = voiced()
    noisy = speech + 0.01 * np.random.default_rng(1).standard_normal(len(speech))
    sent, received = [speech, speech, speech], [noisy, speech, np.zeros_like(speech)]  # the silent output cannot be scored
    plain = mean_quality(sent, received)
    assert plain["scored"] == {"pesq": 2, "stoi": 2}
    assert plain["pesq"] == pytest.approx((pesq_wb(speech, noisy) + pesq_wb(speech, speech)) / 2)
    memory = PerItemMemory(utterance_quality)
    assert mean_quality(sent, received, scores=memory) == plain == mean_quality(sent, received, scores=memory)
