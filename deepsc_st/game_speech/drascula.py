"""Drascula: The Vampire Strikes Back (Debian ``drascula``, English talkie): speech clips and their subtitles.

Everything follows ScummVM's ``engines/drascula`` and ``devtools/create_drascula`` sources:

* audio ``NAME.ALS`` (``sound.cpp``, ``playFile``): unsigned 8-bit mono PCM at
  11,025 Hz; the game plays bytes 32 to size - 32 (``3.ALS``: 73,959 to
  117,158, its workaround for a delayed voice; the rest is silence);
* text ``drascula.dat`` (``loadDrasculaDat``, ``loadTexts``;
  ``create_drascula.cpp``): ``DRASCULA``, a version byte, 13 fixed-size
  tables, the number of languages, then 15 text tables (John, D, B, BJ, E, I,
  L, P, T, VB, and five that are not speech), each with one block per language
  (English first) of length-prefixed, NUL-terminated strings; entry 0 is empty;
* clip <-> line (``talk.cpp``): every speaker's file number is its table line:
  ``N.ALS`` John's line N, ``VB12.ALS`` Von Braun's line 12, ``DN.ALS`` line N
  of the D table (Drascula 1-39, John 56-67, the blind man 68-78, the
  bartender 82; ``animation.cpp``); ``D83`` (``talk_trunk``) plays with John's
  empty line 83 and is skipped;
* in conversations (``converse.cpp``) John's clip is subtitled with the menu
  phrase of ``OP_*.CAL`` (bytes inverted, ``\\xa7`` = space); a clip whose
  phrase and table line differ beyond punctuation or a typo is skipped.

Checked on the package (1.0+ds4-2): 717 of its 783 clips get a subtitle (45 min).
"""

from __future__ import annotations

import difflib
import re
import struct
from collections import defaultdict
from pathlib import Path

import numpy as np

from deepsc_st.game_speech.lines import GameLine

PACKAGE = "drascula"
FOLDER = Path("/usr/share/scummvm/drascula/en")
RATE = 11_025  # Hz
FIXED_TABLE_RECORD_BYTES = (4, 4, 4, 2, 4, 2, 4, 2, 2, 20, 20, 10, 8)  # the 13 tables before the texts
TEXT_TABLES = ("text", "textd", "textb", "textbj", "texte", "texti", "textl", "textp", "textt", "textvb",
               "textsys", "texthis", "textverbs", "textmisc", "textd1")
# file prefix -> (text table, speaker; None: by line number, see d_speaker)
SPEAKERS = {"": ("text", "john"), "D": ("textd", None), "B": ("textb", "drunk"), "BJ": ("textbj", "bj"),
            "E": ("texte", "skeleton"), "I": ("texti", "igor"), "L": ("textl", "werewolf"),
            "P": ("textp", "pianist"), "T": ("textt", "bartender"), "VB": ("textvb", "vonbraun")}
MAX_CHARACTERS_PER_VOICED_SECOND = 38.0  # typical 19: a longer subtitle was not what was recorded
# lines of only laughter, groans or humming, and drawn-out words: no words to learn
_NOT_WORDS = re.compile(r"(?:HA|JA)+|A+H+|O+H+|U+M+|HM+|S?H{2,}|HIC|BLA|GR+|Z{2,}|P?S{2,}T")


def d_speaker(number: int) -> str | None:
    """Who speaks ``D<number>.ALS`` (``animation.cpp``)."""
    if 1 <= number <= 39:
        return "drascula"
    if 56 <= number <= 67:
        return "john"
    if 68 <= number <= 78:
        return "blindman"
    return "bartender" if number == 82 else None


def load_texts(path: Path) -> dict[str, list[str]]:
    """The English strings of every text table of ``drascula.dat``, entry 0 the empty placeholder."""
    data = Path(path).read_bytes()
    if data[:8] != b"DRASCULA":
        raise ValueError(f"{path}: not a drascula.dat")
    at = 9

    def uint16() -> int:
        nonlocal at
        at += 2
        return struct.unpack_from(">H", data, at - 2)[0]

    for size in FIXED_TABLE_RECORD_BYTES:
        count = uint16()
        at += count * size
    languages = uint16()
    tables = {}
    for name in TEXT_TABLES:
        count = uint16()
        for language in range(languages):
            length = uint16()
            block, at = data[at: at + length], at + length
            if language == 0:  # English
                strings, start = [""], 4  # each string's stride is the uint16 two bytes before the previous one
                for _ in range(1, count):
                    start += struct.unpack_from(">H", block, start - 2)[0]
                    strings.append(block[start: block.index(b"\0", start)].decode("cp437"))
                tables[name] = strings
    if at != len(data):
        raise ValueError(f"{path}: unexpected layout ({at} of {len(data)} bytes read)")
    return tables


def _words(text: str) -> str:
    return " ".join(re.findall(r"[A-Z0-9']+", text.upper()))


def same_line(a: str, b: str) -> bool:
    """Whether two subtitles are one line up to punctuation and a typo (same word count, 93 % alike)."""
    a, b = _words(a), _words(b)
    return a == b or (len(a.split()) == len(b.split()) and difflib.SequenceMatcher(None, a, b).ratio() >= 0.93)


def menu_phrases(folder: Path) -> dict[int, list[str]]:
    """John's clip number -> the conversation menu phrases that play it (``OP_*.CAL``)."""
    phrases = defaultdict(list)
    for path in sorted(folder.glob("*")):
        if not re.fullmatch(r"OP_\d+\.CAL", path.name, re.I):
            continue
        text = bytes(~b & 0xFF for b in path.read_bytes()).decode("latin-1").replace("\r", "")
        rows = [row for row in text.split("\n") if row.strip()]
        for phrase, sound in zip(rows[0:4], rows[4:8]):
            if match := re.fullmatch(r"(\d+)\.als", sound.strip(), re.I):
                phrases[int(match.group(1))].append(phrase.replace("\xa7", " ").strip())
    return phrases


def _span(path: Path) -> tuple[int, int]:
    """Bytes of ``path`` the game plays."""
    size = path.stat().st_size
    if path.name.upper() == "3.ALS" and size == 145_166:
        return 73_959, 117_158
    return 32, max(32, size - 32)


def decode(line: GameLine) -> tuple[np.ndarray, int]:
    """float32 mono samples in [-1, 1] of ``line``'s clip, and their rate (Hz)."""
    start, end = _span(Path(line.clip))
    raw = Path(line.clip).read_bytes()[start:end]
    return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0, RATE


def _voiced_seconds(samples: np.ndarray) -> float:
    """Seconds of 10 ms frames whose peak is above 0.03."""
    frames = samples[: len(samples) // 110 * 110].reshape(-1, 110)
    return float((np.abs(frames).max(axis=1) > 0.03).sum()) * 0.01


def lines(folder: Path = FOLDER) -> list[GameLine]:
    """Every clip with one English subtitle, in file-name order."""
    tables = load_texts(folder / "drascula.dat")
    menus = menu_phrases(folder)
    found = []
    for path in sorted(folder.glob("*.ALS")):
        match = re.fullmatch(r"([A-Z]*)(\d+)\.ALS", path.name.upper())
        if not match or match.group(1) not in SPEAKERS or path.name.upper() == "D83.ALS":
            continue  # S*: sound effects, F*: never played
        prefix, number = match.group(1), int(match.group(2))
        table, speaker = SPEAKERS[prefix]
        if number >= len(tables[table]):
            continue
        text = re.sub(r"\s+", " ", "".join(c if c.isprintable() else " " for c in tables[table][number])).strip()
        speaker = d_speaker(number) if prefix == "D" else speaker
        words = re.findall(r"[A-Z']+", text.upper())
        if not text or speaker is None or "(" in text or not words or all(_NOT_WORDS.fullmatch(w.strip("'")) for w in words):
            continue
        if sum(w in ("HA", "JA") for w in words) >= 2 or any(re.search(r"([A-Z])\1\1", w) for w in words):
            continue  # laughter, drawn-out words
        if prefix == "" and number in menus and not all(same_line(text, phrase) for phrase in menus[number]):
            continue
        line = GameLine(f"drascula-{path.stem.upper()}", text, speaker, f"{path.name} (drascula.dat {table}[{number}])", str(path))
        if len(text) / max(_voiced_seconds(decode(line)[0]), 0.05) > MAX_CHARACTERS_PER_VOICED_SECOND:
            continue
        found.append(line)
    return found
