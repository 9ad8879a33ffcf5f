"""Reading and writing speech: any wav/flac/ogg/mp3 that librosa reads -> float32 mono at 16 kHz.

What libsndfile reads is read and resampled with soundfile and soxr
directly, as librosa would (the same samples: tests/deepsc_st/test_audio.py);
librosa itself (its first use loads scipy.signal and numba, about 2 s) serves
only the audioread fallback and ``trim``.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import numpy as np
import soundfile

from deepsc_st.errors import UserError
from deepsc_st.frontend import FRAME_LENGTH, SAMPLE_RATE

RESAMPLER = "soxr_hq"  # soxr at HQ, the default quality of soxr.resample (librosa.resample's default res_type)
SILENT_PEAK = 1e-6  # audio whose largest |sample| is at most this counts as silent
TRIM_TOP_DB = 40.0  # trim=True: frames more than 40 dB below the loudest frame (RMS) are silence
TRIM_HOP_LENGTH = FRAME_LENGTH // 2  # trim=True: 20 ms analysis frames every 10 ms

# warnings.catch_warnings swaps process-wide state, so threads (deepsc_st.data
# loads with a thread pool) must not interleave inside it.
_FALLBACK_LOCK = threading.Lock()


class AudioError(UserError):
    """The file is missing, not audio, empty, not finite, silent or shorter than one frame."""


def load_audio(path, allow_silent: bool = False, trim: bool = False) -> np.ndarray:
    """Speech from ``path`` as float32 [num_samples] in [-1, 1] at 16 kHz mono.

    Any format, sample rate, bit depth or channel count that librosa reads
    (libsndfile: wav, flac, ogg, mp3, ...; else audioread) is converted:
    channels are averaged, then resampled with soxr (HQ). With ``trim``,
    leading and trailing silence (frames more than ``TRIM_TOP_DB`` dB below
    the loudest one, at 10 ms resolution) is removed, keeping at least one
    20 ms frame (320 samples). Raises :class:`AudioError` with a one-line
    message for a missing, unreadable, empty, NaN/Inf-holding, too short
    (< 320 samples at 16 kHz) or, unless ``allow_silent``, silent file.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    samples, sample_rate = _read(path)
    if samples.size == 0:
        raise AudioError(f"{path}: the audio file is empty")
    if not np.isfinite(samples).all():
        raise AudioError(f"{path}: the audio holds NaN or infinite samples")
    waveform = resample_to_16k(samples.mean(axis=0) if samples.ndim > 1 else samples, sample_rate)
    if len(waveform) < FRAME_LENGTH:
        raise AudioError(f"{path}: {len(waveform)} samples at 16 kHz is shorter than one 20 ms frame")
    if not allow_silent and not np.any(np.abs(waveform) > SILENT_PEAK):
        raise AudioError(f"{path}: the audio is silent")
    return _trim(waveform) if trim else waveform


def write_audio(path, waveform: np.ndarray) -> None:
    """Write float audio [num_samples] in [-1, 1] at 16 kHz as 16-bit PCM wav, under a temporary name then renamed."""
    path = Path(path)
    pcm = np.clip(np.round(np.asarray(waveform, np.float32) * 32768.0), -32768, 32767).astype(np.int16)
    temporary = path.with_name(path.name + ".part")
    soundfile.write(temporary, pcm, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    os.replace(temporary, path)


def resample_to_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """float32 mono ``samples`` [n] at ``sample_rate`` Hz -> [ceil(n * 16000 / sample_rate)] at 16 kHz: soxr HQ, then
    zero-padded or cut to that length, i.e. what ``librosa.resample(..., res_type="soxr_hq")`` returns."""
    if sample_rate == SAMPLE_RATE:
        return samples
    import soxr

    resampled = soxr.resample(samples, sample_rate, SAMPLE_RATE, quality=RESAMPLER)
    length = int(np.ceil(len(samples) * SAMPLE_RATE / sample_rate))
    return np.pad(resampled, (0, max(0, length - len(resampled))))[:length].astype(samples.dtype)


def _read(path: Path) -> tuple[np.ndarray, int]:
    """float32 samples [n] or [channels, n] at the file's own rate, and that rate in Hz."""
    try:
        source = soundfile.SoundFile(path)
    except soundfile.SoundFileRuntimeError:
        return _read_with_audioread(path)
    try:
        with source:
            return source.read(dtype="float32", always_2d=False).T, source.samplerate
    except soundfile.SoundFileError as error:
        raise AudioError(f"{path}: not a readable audio file ({_reason(error)})") from None


def _read_with_audioread(path: Path) -> tuple[np.ndarray, int]:
    """:func:`_read` for what libsndfile cannot open: librosa's audioread fallback.

    Its warnings ("PySoundFile failed", deprecation, audioread's unclosed
    files) stay off stderr: the failure is dropped inside catch_warnings.
    """
    import audioread.exceptions
    import librosa

    with _FALLBACK_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return librosa.load(path, sr=None, mono=False, dtype=np.float32)
        except (soundfile.SoundFileError, audioread.exceptions.DecodeError, EOFError, OSError, RuntimeError, ValueError) as error:
            reason = _reason(error)
    raise AudioError(f"{path}: not a readable audio file ({reason})")


def _reason(error: BaseException) -> str:
    """One line saying why reading failed: libsndfile's message if it gave one, else the first non-empty one."""
    chain = []
    while error is not None:
        chain.append(error)
        error = error.__context__
    ranked = [e for e in chain if isinstance(e, soundfile.SoundFileError)] + chain
    messages = [str(e).strip() for e in ranked if str(e).strip()]
    return messages[0].splitlines()[0] if messages else type(chain[0]).__name__


def _trim(waveform: np.ndarray) -> np.ndarray:
    """``waveform`` [n >= 320] without leading and trailing silence, at least 320 samples (one frame) long."""
    import librosa

    _, (start, end) = librosa.effects.trim(waveform, top_db=TRIM_TOP_DB, frame_length=FRAME_LENGTH, hop_length=TRIM_HOP_LENGTH)
    shortfall = max(0, FRAME_LENGTH - (end - start))
    start = min(max(0, start - shortfall // 2), len(waveform) - FRAME_LENGTH)
    end = max(end, start + FRAME_LENGTH)
    return waveform[start:end]
