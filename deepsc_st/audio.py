"""Reading and writing speech: any wav/flac/ogg -> float32 mono at 16 kHz."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile
import soxr

from deepsc_st.errors import UserError
from deepsc_st.frontend import FRAME_LENGTH, SAMPLE_RATE


class AudioError(UserError):
    """The file is missing, not audio, empty, silent or shorter than one frame."""


def to_mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Average the channels and resample to 16 kHz. ``samples``: [n] or [n, channels]."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if sample_rate != SAMPLE_RATE:
        samples = soxr.resample(samples, sample_rate, SAMPLE_RATE).astype(np.float32)
    return samples


def load_audio(path, allow_silent: bool = False) -> np.ndarray:
    """Speech from ``path`` as float32 [num_samples] in [-1, 1] at 16 kHz mono.

    Any sample rate, bit depth or channel count that libsndfile reads is
    converted. Raises :class:`AudioError` with a one-line message for a
    missing, unreadable, empty, silent or too short (< 320 samples) file.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    try:
        samples, sample_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as error:
        raise AudioError(f"{path}: not a readable audio file ({str(error).splitlines()[0]})") from None
    if samples.size == 0:
        raise AudioError(f"{path}: the audio file is empty")
    waveform = to_mono_16k(samples, sample_rate)
    if len(waveform) < FRAME_LENGTH:
        raise AudioError(f"{path}: {len(waveform)} samples at 16 kHz is shorter than one 20 ms frame")
    if not allow_silent and not np.any(np.abs(waveform) > 1e-6):
        raise AudioError(f"{path}: the audio is silent")
    return waveform


def write_audio(path, waveform: np.ndarray) -> None:
    """Write float audio [num_samples] in [-1, 1] at 16 kHz as 16-bit PCM wav, under a temporary name then renamed."""
    path = Path(path)
    pcm = np.clip(np.round(np.asarray(waveform, np.float32) * 32768.0), -32768, 32767).astype(np.int16)
    temporary = path.with_name(path.name + ".part")
    soundfile.write(temporary, pcm, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    os.replace(temporary, path)
