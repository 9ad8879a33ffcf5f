"""Flight of the Amazon Queen (Debian ``flight-of-the-amazon-queen``, CD talkie): speech clips and their subtitles.

Everything follows ScummVM's ``engines/queen`` sources, cited per rule:

* archive ``queen.1c`` (``resource.cpp``: ``detectVersion``, ``readTableEntries``):
  ``QTBL``, version[6], floppy, demo, compression, u16 count, then per entry
  name[12], bundle u8, offset u32 BE, size u32 BE;
* a speech clip ``NAME.SB`` is a bare MP3 stream (the compression tool dropped
  the SB header); it claims 11,025 Hz but the game plays it at the original
  11,840 Hz (``sound.cpp``, ``AudioStreamWrapper``);
* a line is cut at every ``*CC`` command (``talk.cpp``: ``Talk::speak``,
  ``getSpeakCommand``); piece k (from 0) is spoken from prefix + hex(k + 1)
  (``speakSegment``), spaces -> ``0`` in the first 8 characters, + ``.SB``
  (``PCSound::playSound``); ``*GD`` / ``*GM`` pieces are not spoken;
* Joe's remarks, ``QUEEN2.JAS`` (``logic.cpp``: ``readQueenJas``,
  ``makeJoeSpeak``): prefix ``JOE%04d``, n <= 40 a stock response, above 40
  object description n - 40;
* dialogues, ``*.DOG`` (``Talk::load``, ``findDialogueString``,
  ``initialTalk``): prefix ``%2d%4x`` of (talk key, line id) + ``J`` (Joe) or
  ``P`` (the other person); ``SSSSJ`` Joe's first greeting, ``XXXXJ`` /
  ``XXXXP`` the greetings of a second talk;
* cutscenes, ``*.CUT`` (``cutaway.cpp``: ``load``, ``run``,
  ``getObjectType``, ``handlePersonRecord``, ``handleText``, ``findCdCut``):
  object i speaks from the file's name padded with ``_`` to 5 characters +
  ``%02d`` of i; text objects from that + ``1``.

Checked on the package (1.0.0-9): every non-empty spoken piece has a clip, no
clip gets two texts; 6,580 of the 6,745 clips get a subtitle (4.2 h).
The subtitles are what was meant to be said: an actor may differ slightly.
"""

from __future__ import annotations

import io
import re
import struct
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile

from deepsc_st.game_speech.lines import GameLine

PACKAGE = "flight-of-the-amazon-queen"
ARCHIVE = Path("/usr/share/scummvm/flight-of-the-amazon-queen/queen.1c")
PLAYBACK_RATE = 11_840  # Hz: the rate the game plays its 11,025 Hz-labelled clips at
STREAM_RATE = 11_025
JOE_RESPONSES = 40  # logic.h: JOE_RESPONSE_MAX
JOE_VERBS = 12
# talk.h: the commands that change who faces where, plus the two that speak nothing
SPEAK_DEFAULT, SPEAK_PAUSE, SPEAK_NONE = 0, -8, -9
_COMMANDS = {"AO": -7, "FL": -1, "FF": -3, "FB": -4, "FR": -2, "GD": SPEAK_NONE, "GM": SPEAK_NONE, "WT": SPEAK_PAUSE}
# cutaway.h ObjectType
OT_ANIMATION, OT_PERSON, OT_NO_ANIMATION, OT_TEXT_SPEAK, OT_TEXT_DISPLAY_AND_SPEAK, OT_TEXT_DISPLAY = range(6)
# Lines that are not English words: the gorilla and the dog, the pygmy chief before he learns English.
NOT_ENGLISH_SOURCES = re.compile(r"(APE\d*|DOG)\.DOG:person|CHIEF4\.DOG:person")


class Archive:
    """The entries of ``queen.1c``: name -> (offset, size)."""

    def __init__(self, path: Path = ARCHIVE):
        self.data = Path(path).read_bytes()
        if self.data[:4] != b"QTBL":
            raise ValueError(f"{path}: not a queen.1c archive (no QTBL header)")
        (count,) = struct.unpack_from(">H", self.data, 13)
        self.entries = {}
        for k in range(count):
            record = self.data[15 + 21 * k: 36 + 21 * k]
            _, offset, size = struct.unpack(">BII", record[12:])
            self.entries[record[:12].split(b"\0")[0].decode("latin-1").upper()] = (offset, size)

    def read(self, name: str, skip: int = 0) -> bytes:
        offset, size = self.entries[name.upper()]
        return self.data[offset + skip: offset + size]


def _int16(data: bytes, offset: int) -> int:
    return struct.unpack_from(">h", data, offset)[0]


def _uint16(data: bytes, offset: int) -> int:
    return struct.unpack_from(">H", data, offset)[0]


def _string(data: bytes, offset: int, align: int = 2) -> tuple[str, int]:
    """``Talk::getString``: a length byte, the characters, then the offset aligned (only after a non-empty string)."""
    length = data[offset]
    offset += 1
    if not length:
        return "", offset
    return data[offset: offset + length].decode("latin-1"), (offset + length + align - 1) & ~(align - 1)


def _command(line: str, at: int) -> tuple[int, int]:
    """``Talk::getSpeakCommand`` for the command starting at ``at`` (just after ``*``): (command, next index)."""
    pair = line[at: at + 2]
    if pair in _COMMANDS:
        return _COMMANDS[pair], at + 2
    if pair == "XY":  # *XY00(237,112): a position
        return 0, at + 13
    if len(pair) == 2 and pair.isdigit():
        return int(pair), at + 2
    return SPEAK_DEFAULT, at + 2


def spoken_pieces(line: str) -> list[tuple[int, str, int]]:
    """``Talk::speak``: (piece index from 0, text, command) of every piece of ``line`` that is spoken."""
    pieces, start, index, at = [], 0, 0, 0
    while at < len(line):
        if line[at] != "*":
            at += 1
            continue
        text = line[start:at]
        command, at = _command(line, at + 1)
        if command != SPEAK_NONE:
            pieces.append((index, text, command))
        index, start = index + 1, at
    if start < at:
        pieces.append((index, line[start:at], SPEAK_DEFAULT))
    return pieces


def clip_name(prefix: str) -> str:
    """``PCSound::playSound``: spaces -> ``0`` in the first 8 characters, + ``.SB``, upper case."""
    return ("".join("0" if k < 8 and c == " " else c for k, c in enumerate(prefix)) + ".SB").upper()


def cutscene_prefix(cutscene: str, index: int) -> str:
    """``findCdCut``: the cutscene's name padded with ``_`` to 5 characters, then ``%02d`` of the object (from 1)."""
    return cutscene.ljust(5, "_")[:5] + f"{index:02d}"[:2]


def _pieces(line: str, prefix: str, speaker: str, source: str):
    for index, text, _ in spoken_pieces(line):
        yield clip_name(prefix + f"{index + 1:x}"), text, speaker, source


class _Objects:
    """``QUEEN.JAS``'s object table (names, images) and ``QUEEN2.JAS``'s text sections."""

    def __init__(self, archive: Archive):
        jas = archive.read("QUEEN.JAS", 20)
        rooms, names, objects, descriptions = struct.unpack_from(">4H", jas, 0)
        self.objects = [struct.unpack_from(">hHHHhHHh", jas, 8 + 16 * k) for k in range(objects)]
        lines = re.split(r"\r\n|\n|\r", archive.read("QUEEN2.JAS").decode("latin-1"))
        self.descriptions = lines[:descriptions]
        self.names = lines[descriptions: descriptions + names]
        joe = descriptions + names + rooms + JOE_VERBS
        self.joe_responses = lines[joe: joe + JOE_RESPONSES]

    def name(self, number: int) -> str | None:
        if not 0 < number <= len(self.objects):
            return None
        index = abs(self.objects[number - 1][0])
        return self.names[index - 1] if 0 < index <= len(self.names) else None

    def image(self, number: int) -> int:
        return self.objects[number - 1][7] if 0 < number <= len(self.objects) else 0


def _joe_remarks(objects: _Objects):
    for n, line in enumerate(objects.joe_responses, 1):
        yield from _pieces(line, f"JOE{n:04d}", "JOE", f"QUEEN2.JAS:response:{n}")
    for n, line in enumerate(objects.descriptions, 1):
        yield from _pieces(line, f"JOE{n + JOE_RESPONSES:04d}", "JOE", f"QUEEN2.JAS:description:{n}")


def _dialogue(archive: Archive, name: str):
    data = archive.read(name, 20)  # DOG_HEADER_SIZE
    levels, talk_key, joe_lines, person_lines = abs(_int16(data, 0)), _int16(data, 4), _int16(data, 6), _int16(data, 8)
    person_offset, greeting_offset = _uint16(data, 22), _uint16(data, 26)
    joe_offset = 32 + levels * 96
    person = re.sub(r"\d+$", "", name.rsplit(".", 1)[0]) or name

    def table(offset: int, count: int) -> dict[int, str]:
        lines: dict[int, str] = {}
        for _ in range(count):
            identifier = _int16(data, offset + 2)
            text, offset = _string(data, offset + 4, 4)
            lines.setdefault(identifier, text)  # findDialogueString: the first match
        return lines

    for identifier, line in table(joe_offset, joe_lines).items():
        yield from _pieces(line, f"{talk_key:2d}{identifier:4x}J", "JOE", f"{name}:joe:{identifier}")
    for identifier, line in table(person_offset, person_lines).items():
        yield from _pieces(line, f"{talk_key:2d}{identifier:4x}P", person, f"{name}:person:{identifier}")
    if not _uint16(data, joe_offset + 2):
        first, _ = _string(data, joe_offset + 4)
        if first[:1] != "0":
            yield from _pieces(first, f"{talk_key:2d}SSSSJ", "JOE", f"{name}:joe_first")
    person_again, offset = _string(data, greeting_offset)
    joe_again, _ = _string(data, offset)
    if joe_again[:1] != "0":
        yield from _pieces(joe_again, f"{talk_key:2d}XXXXJ", "JOE", f"{name}:joe_again")
    yield from _pieces(person_again, f"{talk_key:2d}XXXXP", person, f"{name}:person_again")


def _cutscene_objects(data: bytes, count: int, objects: _Objects) -> list[tuple[int, int]] | None:
    """(object number, ObjectType) of each of a cutscene's ``count`` objects (``Cutaway::run`` /
    ``getObjectType`` / ``handleAnimation``), or None when the records do not parse to the game-state block."""
    game_state = _uint16(data, 6)
    found, at = [], 12
    for _ in range(count):
        record = struct.unpack_from(">17h", data, at)
        at += 34
        at += 2 + 2 * max(_int16(data, at), 0)
        number, animation_list, execute, from_object = record[0], record[4], record[5], record[12]
        number = 0 if number == -1 else number  # OBJECT_ROOMFADE is Joe
        kind = OT_ANIMATION
        if (number > 0 and not animation_list and objects.image(number) in (-3, -4)) or (number == 0 and not animation_list):
            kind = OT_PERSON
        if from_object > 0:
            kind = OT_NO_ANIMATION
        kind = {-2: OT_TEXT_SPEAK, -3: OT_TEXT_DISPLAY_AND_SPEAK, -4: OT_TEXT_DISPLAY}.get(number, kind)
        if kind == OT_ANIMATION and not execute:
            kind = OT_NO_ANIMATION
        if kind == OT_ANIMATION:  # frames of 9 int16 until a header of -2
            while (header := _int16(data, at)) != -2:
                if header > 1000:
                    return None
                at += 20
            at += 2
        found.append((number, kind))
    # one int16 before the game state; three files also carry an empty animation list (-2) never read
    return found if game_state - at == 2 or (game_state - at == 4 and _int16(data, at) == -2) else None


def _cutscene(archive: Archive, name: str, objects: _Objects):
    data = archive.read(name, 20)
    count = abs(_int16(data, 2))
    _, at = _string(data, _uint16(data, 8))  # the entry string
    lines = []
    for _ in range(count):
        line, at = _string(data, at)
        lines.append(line)
    kinds = _cutscene_objects(data, count, objects)
    if kinds is None:
        return
    base = name.rsplit(".", 1)[0]
    for index, (line, (number, kind)) in enumerate(zip(lines, kinds), 1):
        prefix, source = cutscene_prefix(base, index), f"{name}:object:{index}"
        if kind in (OT_TEXT_SPEAK, OT_TEXT_DISPLAY_AND_SPEAK):  # handleText: the whole line from piece 1
            yield clip_name(prefix + "1"), line, "UNKNOWN", source
        elif kind == OT_PERSON and line != "*" and not line.startswith("#"):
            speaker = "JOE" if number == 0 else (objects.name(number) or f"OBJ{number}").upper()
            yield from _pieces(line, prefix, speaker, source)


_MARKERS = re.compile(r"\*(XY[^()]*\([^)]*\)|..)", re.S)
_SOUND_TAGS = re.compile(r"<[^<>]*>")  # <gulp>, <sneeze>: sounds, not words


def subtitle_text(raw: str) -> str | None:
    """A subtitle without commands, font codes (``^_``, ``@``) and ``<sound>`` tags; None when it is not
    English words (nothing left, a file name, or symbol swearing such as ``&#($!!``)."""
    text = _SOUND_TAGS.sub(" ", _MARKERS.sub(" ", raw).replace("*", " ").replace("^_", "").replace("@", " "))
    text = re.sub(r"\s+", " ", text).strip()
    if not re.search(r"[A-Za-z]", text) or re.fullmatch(r"\S+\.(CUT|DOG)", text, re.I) or re.search(r"[&#$%][^A-Za-z\s]*[!?]", text):
        return None
    return text


def lines(archive: Archive) -> list[GameLine]:
    """Every clip of ``archive`` with one English subtitle, in clip-name order."""
    objects = _Objects(archive)
    texts: dict[str, set[str]] = defaultdict(set)
    who: dict[str, tuple[str, str]] = {}
    sources = [_joe_remarks(objects)]
    sources += [_dialogue(archive, n) for n in sorted(archive.entries) if n.endswith(".DOG")]
    sources += [_cutscene(archive, n, objects) for n in sorted(archive.entries) if n.endswith(".CUT")]
    for source in sources:
        for clip, text, speaker, origin in source:
            texts[clip].add(text)
            who.setdefault(clip, (speaker, origin))
    found = []
    for clip in sorted(c for c in archive.entries if c.endswith(".SB") and len(texts.get(c, ())) == 1):
        speaker, origin = who[clip]
        text = subtitle_text(next(iter(texts[clip])))
        if text is not None and not NOT_ENGLISH_SOURCES.match(origin):
            found.append(GameLine(f"queen-{clip[:-3]}", text, speaker.lower(), f"queen.1c:{clip} ({origin})", clip))
    return found


def decode(line: GameLine, archive: Archive) -> tuple[np.ndarray, int]:
    """float32 mono samples of ``line``'s clip and the rate the game plays them at (Hz)."""
    samples, rate = soundfile.read(io.BytesIO(archive.read(line.clip)), dtype="float32", always_2d=True)
    return samples.mean(axis=1), PLAYBACK_RATE if rate == STREAM_RATE else rate
