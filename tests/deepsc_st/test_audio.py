import math
import subprocess
import sys
import warnings

import librosa
import numpy as np
import pytest
import soundfile
import soxr

from deepsc_st.audio import AudioError, load_audio, write_audio
from deepsc_st.frontend import FRAME_LENGTH, SAMPLE_RATE

SECONDS = 0.5
CD_RATE = 44_100


def tone(rate=SAMPLE_RATE, seconds=SECONDS, hertz=440.0, amplitude=0.5):
    """A sine, float32 [round(rate * seconds)]."""
    t = np.arange(round(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * hertz * t)).astype(np.float32)


@pytest.fixture(autouse=True)
def no_warnings():
    """Fail a test whose load_audio lets a warning out (DeprecationWarning aside: Python hides it outside __main__)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", DeprecationWarning)
        yield
    assert [str(w.message) for w in caught] == []


def test_16k_wav_is_bit_identical_to_soundfile(tmp_path):
    path = tmp_path / "speech.wav"
    soundfile.write(path, tone(), SAMPLE_RATE, subtype="PCM_16")
    expected, _ = soundfile.read(path, dtype="float32")
    waveform = load_audio(path)
    assert waveform.dtype == np.float32 and waveform.shape == (8_000,)
    assert np.array_equal(waveform, expected)


def test_44k_stereo_24bit_equals_soxr_on_channel_mean(tmp_path):
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.stack([tone(CD_RATE), tone(CD_RATE, hertz=660.0)], axis=1), CD_RATE, subtype="PCM_24")
    samples, _ = soundfile.read(path, dtype="float32")
    expected = soxr.resample(samples.mean(axis=1), CD_RATE, SAMPLE_RATE)
    waveform = load_audio(path)
    assert waveform.dtype == np.float32 and waveform.shape == (8_000,)
    assert np.array_equal(waveform, expected)
    assert np.array_equal(waveform, librosa.load(path, sr=SAMPLE_RATE, mono=True, res_type="soxr_hq", dtype=np.float32)[0])


def test_resampled_length_rounds_up_like_librosa(tmp_path):
    path = tmp_path / "odd.wav"
    soundfile.write(path, tone(CD_RATE)[:-1], CD_RATE, subtype="PCM_16")  # 22_049 samples -> 7_999.6
    samples, _ = soundfile.read(path, dtype="float32")
    expected = soxr.resample(samples, CD_RATE, SAMPLE_RATE)
    waveform = load_audio(path)
    assert len(waveform) == math.ceil(len(samples) * SAMPLE_RATE / CD_RATE) == 8_000
    assert np.array_equal(waveform[: len(expected)], expected)
    assert np.array_equal(waveform, librosa.load(path, sr=SAMPLE_RATE, res_type="soxr_hq", dtype=np.float32)[0])


def test_reading_a_wav_does_not_load_librosa(tmp_path):
    """librosa's first use costs about 2 s of imports (scipy.signal, numba): ``transmit`` should not pay them for a wav."""
    path = tmp_path / "speech.wav"
    soundfile.write(path, tone(CD_RATE), CD_RATE, subtype="PCM_16")
    probe = f"import sys; from deepsc_st.audio import load_audio; load_audio({str(path)!r}); print(sorted(m for m in ('librosa', 'scipy.signal') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "[]"


@pytest.mark.skipif("MP3" not in soundfile.available_formats(), reason="libsndfile here was built without MP3 (needs >= 1.1 with mpg123/lame)")
def test_mp3_is_decoded(tmp_path):
    path = tmp_path / "speech.mp3"
    original = tone(CD_RATE)
    soundfile.write(path, original, CD_RATE, format="MP3")
    waveform = load_audio(path)
    assert waveform.shape == (8_000,)
    assert np.corrcoef(waveform, soxr.resample(original, CD_RATE, SAMPLE_RATE))[0, 1] > 0.999


def assert_error(path, fragment, capfd, **kwargs):
    with pytest.raises(AudioError) as raised:
        load_audio(path, **kwargs)
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and fragment in message and "\n" not in message
    assert capfd.readouterr().err == ""


def test_missing_file(tmp_path, capfd):
    assert_error(tmp_path / "absent.wav", "no such file", capfd)


def test_text_file_is_not_audio(tmp_path, capfd):
    path = tmp_path / "notes.wav"
    path.write_text("hello, this is not audio\n")
    assert_error(path, "not a readable audio file (Error opening", capfd)


def test_zero_byte_file_is_not_audio(tmp_path, capfd):
    path = tmp_path / "zero.mp3"
    path.write_bytes(b"")
    assert_error(path, "not a readable audio file (", capfd)


def test_empty_wav(tmp_path, capfd):
    path = tmp_path / "empty.wav"
    soundfile.write(path, np.zeros((0, 2), np.float32), CD_RATE, subtype="PCM_16")
    assert_error(path, "the audio file is empty", capfd)


def test_shorter_than_one_frame(tmp_path, capfd):
    path = tmp_path / "short.wav"
    soundfile.write(path, tone()[: FRAME_LENGTH - 1], SAMPLE_RATE, subtype="PCM_16")
    assert_error(path, f"{FRAME_LENGTH - 1} samples at 16 kHz is shorter than one 20 ms frame", capfd)


def test_silent_unless_allowed(tmp_path, capfd):
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(8_000, np.float32), SAMPLE_RATE, subtype="PCM_16")
    assert_error(path, "the audio is silent", capfd)
    assert np.array_equal(load_audio(path, allow_silent=True), np.zeros(8_000, np.float32))


@pytest.mark.parametrize("rate", [SAMPLE_RATE, CD_RATE])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_samples(tmp_path, capfd, rate, bad):
    path = tmp_path / "broken.wav"
    samples = tone(rate)
    samples[100] = bad
    soundfile.write(path, samples, rate, subtype="FLOAT")
    assert_error(path, "the audio holds NaN or infinite samples", capfd)


def test_trim_removes_leading_and_trailing_silence(tmp_path):
    path = tmp_path / "padded.wav"
    gap = np.zeros(round(SAMPLE_RATE * SECONDS), np.float32)
    speech = tone()
    soundfile.write(path, np.concatenate([gap, speech, gap]), SAMPLE_RATE, subtype="FLOAT")
    assert len(load_audio(path)) == 3 * len(speech)
    trimmed = load_audio(path, trim=True)
    assert abs(len(trimmed) - len(speech)) <= 2 * FRAME_LENGTH
    np.testing.assert_allclose(np.sum(trimmed**2), np.sum(speech**2), rtol=1e-6)


def test_trim_keeps_at_least_one_frame(tmp_path):
    path = tmp_path / "click.wav"
    samples = np.zeros(1_000, np.float32)
    samples[-10:] = 0.5
    soundfile.write(path, samples, SAMPLE_RATE, subtype="FLOAT")
    trimmed = load_audio(path, trim=True)
    assert np.array_equal(trimmed, samples[-FRAME_LENGTH:])


def test_write_audio_round_trip(tmp_path):
    path = tmp_path / "out.wav"
    waveform = np.random.default_rng(0).uniform(-0.99, 0.99, 8_000).astype(np.float32)
    write_audio(path, waveform)
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]
    info = soundfile.info(path)
    assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")
    np.testing.assert_allclose(load_audio(path), waveform, atol=0.5 / 32768)


def test_write_audio_clips_out_of_range(tmp_path):
    path = tmp_path / "loud.wav"
    write_audio(path, np.array([2.0, -2.0] * FRAME_LENGTH, np.float32))
    pcm, _ = soundfile.read(path, dtype="int16")
    assert np.array_equal(pcm[:2], [32767, -32768])
