"""Beneath a Steel Sky (Debian ``beneath-a-steel-sky``, CD talkie v0.0372): speech clips and their subtitles.

Everything follows ScummVM's ``engines/sky`` sources:

* ``sky.dnr`` indexes ``sky.dsk`` (``disk.cpp``, ``Disk::loadFile``): per file
  a uint16 number, a 24-bit offset (bit 23: times 16) and 24 bits of flags
  (size in bits 0-21; bit 23: stored uncompressed; bit 22: drop the header);
  a compressed file keeps its 22-byte header (``struc.h``, ``DataFileHeader``)
  and the rest is RNC method 1 (``rnc_deco.cpp``, ported below with its CRCs);
* text number t is spoken from file 50000 + ``_speechConvertTable[t >> 12]`` +
  (t & 0xFFF) (``sound.cpp``, ``Sound::startSpeech``); ``Logic::stdSpeak``
  gives the subtitle and the speech the same number;
* speech: 8-bit unsigned mono at 11,025 Hz after the 22-byte header, header
  field 6 (``s_tot_size``) bytes in all;
* subtitles: file 60600 + section, Huffman-coded with version 372's tree
  (``text.cpp``, ``Text::getText``; ``hufftext.cpp``); the game writes quotes
  as `...'.

Checked on the package (0.0372-8): all 3,491 speech files map to one English
line each (1.9 h). The CD intro's voice-overs have no subtitles and are left out.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

from deepsc_st.game_speech.lines import GameLine

PACKAGE = "beneath-a-steel-sky"
FOLDER = Path("/usr/share/scummvm/beneath-a-steel-sky")
RATE = 11_025  # Hz
HEADER_BYTES = 22  # DataFileHeader: 11 x uint16 LE
SPEECH_FILES = 50_000
SPEECH_SECTION_STARTS = (0, 600, 1100, 2430, 3380, 4530, 5080, 5230)  # Sound::_speechConvertTable
TEXT_FILES = 60_600  # + section (English)
SECTIONS = 8
RNC_SIGNATURE = 0x524E4301  # "RNC" 1

HUFFMAN_TREE_372 = (  # Text::_huffTree_00372 (hufftext.cpp), (left, right, character) per node, flattened
    "1,20,0,2,7,0,3,4,0,0,0,32,5,6,0,0,0,101,0,0,97,8,15,0,9,12,0,10,11,0,0,0,111,0,0,115,13,14,0,"
    "0,0,116,0,0,110,16,19,0,17,18,0,0,0,46,0,0,105,0,0,114,21,44,0,22,31,0,23,28,0,24,27,0,25,26,0,"
    "0,0,0,0,0,69,0,0,117,29,30,0,0,0,109,0,0,65,32,39,0,33,36,0,34,35,0,0,0,108,0,0,73,37,38,0,0,0,"
    "100,0,0,82,40,43,0,41,42,0,0,0,78,0,0,83,0,0,84,45,68,0,46,55,0,47,52,0,48,51,0,49,50,0,0,0,79,"
    "0,0,104,0,0,99,53,54,0,0,0,68,0,0,103,56,63,0,57,60,0,58,59,0,0,0,76,0,0,67,61,62,0,0,0,112,0,0,"
    "85,64,67,0,65,66,0,0,0,33,0,0,121,0,0,77,69,88,0,70,79,0,71,76,0,72,75,0,73,74,0,0,0,80,0,0,118,"
    "0,0,72,77,78,0,0,0,63,0,0,98,80,85,0,81,84,0,82,83,0,0,0,39,0,0,102,0,0,44,86,87,0,0,0,71,0,0,66,"
    "89,108,0,90,99,0,91,96,0,92,95,0,93,94,0,0,0,86,0,0,107,0,0,70,97,98,0,0,0,113,0,0,119,100,105,0,"
    "101,104,0,102,103,0,0,0,75,0,0,45,0,0,87,106,107,0,0,0,74,0,0,42,109,128,0,110,117,0,111,114,0,"
    "112,113,0,0,0,122,0,0,89,115,116,0,0,0,106,0,0,43,118,123,0,119,122,0,120,121,0,0,0,81,0,0,133,"
    "0,0,41,124,127,0,125,126,0,0,0,90,0,0,139,0,0,60,129,150,0,130,139,0,131,136,0,132,135,0,133,134,"
    "0,0,0,149,0,0,126,0,0,138,137,138,0,0,0,135,0,0,58,140,145,0,141,144,0,142,143,0,0,0,127,0,0,93,"
    "0,0,35,146,149,0,147,148,0,0,0,120,0,0,88,0,0,145,151,172,0,152,163,0,153,158,0,154,157,0,155,"
    "156,0,0,0,136,0,0,96,0,0,50,159,162,0,160,161,0,0,0,48,0,0,131,0,0,49,164,169,0,165,168,0,166,"
    "167,0,0,0,47,0,0,40,0,0,61,170,171,0,0,0,134,0,0,94,173,190,0,174,181,0,175,178,0,176,177,0,0,0,"
    "51,0,0,57,179,180,0,0,0,152,0,0,52,182,187,0,183,186,0,184,185,0,0,0,125,0,0,56,0,0,92,188,189,"
    "0,0,0,34,0,0,144,191,206,0,192,199,0,193,196,0,194,195,0,0,0,38,0,0,141,197,198,0,0,0,53,0,0,54,"
    "200,203,0,201,202,0,0,0,146,0,0,143,204,205,0,0,0,142,0,0,147,207,220,0,208,213,0,209,212,0,210,"
    "211,0,0,0,140,0,0,55,0,0,128,214,217,0,215,216,0,0,0,129,0,0,153,218,219,0,0,0,36,0,0,64,221,230,"
    "0,222,227,0,223,226,0,224,225,0,0,0,91,0,0,154,0,0,95,228,229,0,0,0,62,0,0,150,231,236,0,232,235,"
    "0,233,234,0,0,0,130,0,0,37,0,0,9,237,240,0,238,239,0,0,0,156,0,0,151,241,242,0,0,0,123,243,244,"
    "0,0,0,148,0,0,33"
)
_NODES = [int(x) for x in HUFFMAN_TREE_372.split(",")]
HUFFMAN_TREE = [tuple(_NODES[k: k + 3]) for k in range(0, len(_NODES), 3)]


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
        table.append(value)
    return table


_CRC = _crc_table()


def rnc_crc(data: bytes) -> int:
    """RNC's CRC-16 of ``data``."""
    crc = 0
    for byte in data:
        crc ^= byte
        crc = _CRC[crc & 0xFF] ^ (crc >> 8)
    return crc


class _RncBits:
    """``RncDecoder``'s bit reader and Huffman tables (``inputBits``, ``makeHufftable``, ``inputValue``)."""

    def __init__(self, data: bytes):
        self.data, self.source = data, 18
        self.low, self.high, self.count = self._uint16(18), 0, 0

    def _uint16(self, at: int) -> int:
        return (self.data[at] if at < len(self.data) else 0) | ((self.data[at + 1] if at + 1 < len(self.data) else 0) << 8)

    def bits(self, amount: int) -> int:
        high, low, count = self.high, self.low, self.count - amount
        value = ((1 << amount) - 1) & low
        if count < 0:
            count += amount
            remainder = (high << (16 - count)) & 0xFFFF
            high >>= count
            low = ((low >> count) | remainder) & 0xFFFF
            self.source += 2
            high = self._uint16(self.source)
            amount -= count
            count = 16 - amount
        remainder = (high << (16 - amount)) & 0xFFFF
        self.high, self.low, self.count = high >> amount, ((low >> amount) | remainder) & 0xFFFF, count & 0xFF
        return value

    def update(self, table: list[int]) -> None:
        """Read a Huffman table into ``table`` [64] in place; a block that sends none keeps the last one."""
        number = self.bits(5)
        lengths = [self.bits(4) & 0xFF for _ in range(number)]
        code = at = 0
        for length in range(1, 17):
            for symbol in range(number):
                if lengths[symbol] == length:
                    reversed_code = int(format((code >> (16 - length)) & 0xFFFF, f"0{length}b")[::-1], 2)
                    table[at], table[at + 1], table[at + 2 + 0x1E] = (1 << length) - 1, reversed_code, (length << 8) | symbol
                    at += 2
                    code = (code + (1 << (16 - length))) & 0xFFFF

    def value(self, table: list[int]) -> int:
        at = 0
        while (table[at] & self.low) != table[at + 1]:
            at += 2
            if at >= 32:
                raise ValueError("RNC: Huffman code not found")
        entry = table[at + 2 + 0x1E]
        self.bits(entry >> 8)
        value = entry & 0xFF
        return value if value < 2 else self.bits(value - 1) | (1 << (value - 1))


def rnc_unpack(data: bytes) -> bytes | None:
    """``RncDecoder::unpackM1``: the unpacked bytes, None if ``data`` is not RNC-packed; a ValueError on a CRC mismatch."""
    if len(data) < 18 or struct.unpack_from(">I", data, 0)[0] != RNC_SIGNATURE:
        return None
    unpacked_length, packed_length = struct.unpack_from(">II", data, 4)
    unpacked_crc, packed_crc = struct.unpack_from(">HH", data, 12)
    blocks = data[17]
    if rnc_crc(data[18: 18 + packed_length]) != packed_crc:
        raise ValueError("RNC: packed CRC mismatch")
    reader, out = _RncBits(data), bytearray()
    raw, positions, lengths = [0] * 64, [0] * 64, [0] * 64
    reader.bits(2)
    while True:
        for table in (raw, positions, lengths):
            reader.update(table)
        counts = reader.bits(16)
        while True:
            length = reader.value(raw)
            if length:
                out += data[reader.source: reader.source + length]
                reader.source += length
                a, b = reader._uint16(reader.source), reader._uint16(reader.source + 2)
                reader.low = ((reader.low & ((1 << reader.count) - 1)) | (a << reader.count)) & 0xFFFF
                reader.high = ((a >> (16 - reader.count)) | (b << reader.count)) & 0xFFFF
            if counts > 1:
                distance, length = reader.value(positions) + 1, reader.value(lengths) + 2
                start = len(out) - distance
                if start < 0:
                    raise ValueError("RNC: bad back-reference")
                if distance >= length:
                    out += out[start: start + length]
                else:  # overlaps what it copies: byte by byte
                    for k in range(length):
                        out.append(out[start + k])
            counts = (counts - 1) & 0xFFFF
            if counts == 0:
                break
        blocks = (blocks - 1) & 0xFF
        if blocks == 0:
            break
    out = bytes(out[:unpacked_length])
    if len(out) != unpacked_length or rnc_crc(out) != unpacked_crc:
        raise ValueError("RNC: unpacked CRC mismatch")
    return out


class Disk:
    """The files of ``sky.dsk`` by number, as ``Disk::loadFile`` returns them (header kept)."""

    def __init__(self, folder: Path = FOLDER):
        self.index = Path(folder, "sky.dnr").read_bytes()
        self.disk = Path(folder, "sky.dsk").read_bytes()
        self.entries: dict[int, int] = {}
        for k in range(struct.unpack_from("<I", self.index, 0)[0]):
            self.entries.setdefault(struct.unpack_from("<H", self.index, 4 + 8 * k)[0], 4 + 8 * k)  # the first match

    def load(self, number: int) -> bytes:
        at = self.entries[number]
        flags = int.from_bytes(self.index[at + 5: at + 8], "little")
        offset = struct.unpack_from("<I", self.index, at + 2)[0] & 0xFFFFFF
        offset = (offset & 0x7FFFFF) << 4 if offset >> 23 & 1 else offset & 0x7FFFFF
        stored = self.disk[offset: offset + (flags & 0x3FFFFF)]
        if flags >> 23 & 1 or not struct.unpack_from("<H", stored, 0)[0] >> 7 & 1:
            return stored  # stored uncompressed
        unpacked = rnc_unpack(stored[HEADER_BYTES:])
        if unpacked is None:
            return stored
        return unpacked if flags >> 22 & 1 else stored[:HEADER_BYTES] + unpacked


def subtitle(section: bytes, number: int) -> str:
    """``Text::getText``: line ``number & 0xFFF`` of a decompressed text ``section``, Huffman-decoded."""
    offset, block, line = 0, number & 0xFE0, number & 0x1F
    for k in range(block >> 5):
        offset += struct.unpack_from("<H", section, 4 + 2 * k)[0]
    skips = block + struct.unpack_from("<H", section, 0)[0]
    for k in range(line):
        skip = section[skips + k]
        offset += (skip & 0x7F) << 3 if skip & 0x80 else skip
    at = (offset >> 2) + struct.unpack_from("<H", section, 2)[0]
    bit = ((offset & 3 ^ 3) + 1) << 1
    out = bytearray()
    while True:
        node = 0
        while True:
            if bit:
                bit -= 1
            else:
                at, bit = at + 1, 7
            node = HUFFMAN_TREE[node][(section[at] >> bit) & 1]
            if HUFFMAN_TREE[node][0] == HUFFMAN_TREE[node][1] == 0:
                break
        if (character := HUFFMAN_TREE[node][2]) == 0:
            return out.decode("latin-1")
        out.append(character)
        if len(out) > 2000:
            raise ValueError(f"text {number} has no end")


def text_number(file_number: int, lines_per_section: list[int]) -> int | None:
    """The text number whose speech is ``file_number`` (``Sound::startSpeech`` inverted), None when none or several."""
    found = []
    for section, start in enumerate(SPEECH_SECTION_STARTS):
        line = file_number - SPEECH_FILES - start
        end = SPEECH_SECTION_STARTS[section + 1] - start if section + 1 < SECTIONS else 0x1000
        if 0 <= line < min(end, lines_per_section[section]):
            found.append(section << 12 | line)
    return found[0] if len(found) == 1 else None


def lines(disk: Disk) -> list[GameLine]:
    """Every speech file of ``disk`` with one English subtitle, in file-number order."""
    sections = [disk.load(TEXT_FILES + section) for section in range(SECTIONS)]
    counts = [struct.unpack_from("<H", s, 2)[0] - struct.unpack_from("<H", s, 0)[0] for s in sections]
    found = []
    for number in sorted(n for n in disk.entries if SPEECH_FILES <= n < SPEECH_FILES + 6000):
        text_id = text_number(number, counts)
        if text_id is None:
            continue
        text = subtitle(sections[text_id >> 12], text_id).replace("`", "'")
        text = re.sub(r"\s+", " ", "".join(c if 0x20 <= ord(c) < 0x7F else " " for c in text)).strip()
        if re.search(r"[A-Za-z]", text):
            found.append(GameLine(f"sky-{number}", text, "unknown", f"sky.dsk:{number} (text {text_id})", str(number)))
    return found


def decode(line: GameLine, disk: Disk) -> tuple[np.ndarray, int]:
    """float32 mono samples in [-1, 1] of ``line``'s speech file, and their rate (Hz)."""
    data = disk.load(int(line.clip))
    total = struct.unpack_from("<H", data, 12)[0]
    return (np.frombuffer(data[HEADER_BYTES:total], np.uint8).astype(np.float32) - 128.0) / 128.0, RATE
