import json
import struct

import numpy as np
import pytest

from deepsc_st import game_speech
from deepsc_st.corpus import corpus_checksum
from deepsc_st.data import read_utterances
from deepsc_st.errors import UserError
from deepsc_st.game_speech import drascula, queen, steel_sky
from deepsc_st.game_speech.lines import GameLine

RATE = 16_000


# Flight of the Amazon Queen


def test_a_queen_line_is_cut_at_its_commands_and_grab_commands_speak_nothing():
    assert queen.spoken_pieces("Hello there.*FLHow are you?") == [(0, "Hello there.", -1), (1, "How are you?", 0)]
    assert queen.spoken_pieces("Take this.*GDThanks!") == [(1, "Thanks!", 0)]  # the grab piece keeps its number
    assert queen.spoken_pieces("Over here!*XY00(237,112)Quick.") == [(0, "Over here!", 0), (1, "Quick.", 0)]
    assert queen.spoken_pieces("") == []


def test_queen_clip_names_follow_the_game():
    assert queen.clip_name(f"{2:2d}{6:4x}J" + "1") == "020006J1.SB"  # talk key 2, line 6, Joe, piece 1
    assert queen.clip_name("JOE0399" + "2") == "JOE03992.SB"
    assert queen.cutscene_prefix("C12A", 6) == "C12A_06"
    assert queen.cutscene_prefix("CINTR", 12) == "CINTR12"


@pytest.mark.parametrize("raw, text", [
    ("Wow, a real human bone!*24", "Wow, a real human bone!"),
    ("<gulp> Thanks^_.", "Thanks."),
    ("<koff>", None),
    ("&#($!!", None),
    ("c1a.CUT", None),
])
def test_queen_subtitles_lose_commands_and_tags(raw, text):
    assert queen.subtitle_text(raw) == text


def test_queen_archive_reads_its_table(tmp_path):
    entries = [("A.SB", b"abc"), ("QUEEN2.JAS", b"line one\r\nline two")]
    header = b"QTBL" + b"CEM10\0" + bytes([0, 0, 1]) + struct.pack(">H", len(entries))
    offset, table, blobs = len(header) + 21 * len(entries), b"", b""
    for name, blob in entries:
        table += name.encode().ljust(12, b"\0") + struct.pack(">BII", 1, offset + len(blobs), len(blob))
        blobs += blob
    (tmp_path / "queen.1c").write_bytes(header + table + blobs)
    archive = queen.Archive(tmp_path / "queen.1c")
    assert archive.read("a.sb") == b"abc" and archive.read("QUEEN2.JAS", skip=8) == b"\r\nline two"
    (tmp_path / "other").write_bytes(b"RIFF....")
    with pytest.raises(ValueError, match="QTBL"):
        queen.Archive(tmp_path / "other")


# Drascula


def _drascula_dat(tables: dict[str, list[str]]) -> bytes:
    """A drascula.dat in the layout create_drascula writes: English and one other language per text table."""
    def block(strings):
        data = b"\0\0"
        for text in [""] + strings:  # entry 0 is the empty placeholder
            body = text.encode("cp437") + b"\0"
            body += b"\0" * (-len(body) % 4)
            data += struct.pack(">H", len(body) + 2) + body
        return data

    out = b"DRASCULA" + bytes([6]) + struct.pack(">H", 0) * len(drascula.FIXED_TABLE_RECORD_BYTES) + struct.pack(">H", 2)
    for name in drascula.TEXT_TABLES:
        strings = tables.get(name, [])
        out += struct.pack(">H", len(strings) + 1)
        for language_strings in (strings, ["OTRA"] * len(strings)):
            data = block(language_strings)
            out += struct.pack(">H", len(data)) + data
    return out


def _als(seconds: float, rng) -> bytes:
    """An .ALS clip: 32 bytes the game skips, unsigned 8-bit noise loud enough to count as voiced, 32 more."""
    return b"\x80" * 32 + rng.integers(60, 196, int(seconds * drascula.RATE), dtype=np.uint8).tobytes() + b"\x80" * 32


def test_drascula_texts_are_read_in_english(tmp_path):
    tables = {"text": ["HELLO THERE.", "I'M JOHN HACKER, AND YOU?"], "textvb": ["WHO ARE YOU?"]}
    (tmp_path / "drascula.dat").write_bytes(_drascula_dat(tables))
    texts = drascula.load_texts(tmp_path / "drascula.dat")
    assert texts["text"] == [""] + tables["text"] and texts["textvb"] == ["", "WHO ARE YOU?"] and texts["textb"] == [""]
    (tmp_path / "drascula.dat").write_bytes(_drascula_dat(tables) + b"extra")
    with pytest.raises(ValueError, match="layout"):
        drascula.load_texts(tmp_path / "drascula.dat")


def test_drascula_lines_follow_the_game(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "drascula.dat").write_bytes(_drascula_dat({
        "text": ["HELLO THERE.", "HA, HA, HA", "LET'S TALK ABOUT THE WEATHER", "", "SO LONG"],
        "textvb": ["WHO ARE YOU?"],
        "textd": ["I AM DRASCULA"] * 83,
    }))
    for name in ("1", "2", "3", "4", "5", "VB1", "VB7", "D1", "D83", "S1", "F1"):
        (tmp_path / f"{name}.ALS").write_bytes(_als(1.5, rng))
    (tmp_path / "5.ALS").write_bytes(_als(0.1, rng))  # "SO LONG" in a tenth of a second: not what was recorded
    # a conversation menu (4 phrases, 4 clips; bytes inverted) plays clip 3 under another phrase than line 3
    (tmp_path / "OP_1.CAL").write_bytes(bytes(~b & 0xFF for b in b"TELL ME ABOUT YOUR MOTHER\nYES\nNO\nBYE\n3.als\n10.als\n11.als\n12.als\n"))
    found = {line.id: line for line in drascula.lines(tmp_path)}
    assert set(found) == {"drascula-1", "drascula-VB1", "drascula-D1"}
    assert found["drascula-1"].text == "HELLO THERE." and found["drascula-1"].speaker == "john"
    assert found["drascula-VB1"].speaker == "vonbraun" and found["drascula-D1"].speaker == "drascula"
    samples, rate = drascula.decode(found["drascula-1"])
    assert rate == 11_025 and len(samples) == int(1.5 * 11_025) and samples.dtype == np.float32 and np.abs(samples).max() <= 1.0


def test_drascula_clip_speakers_by_number():
    assert [drascula.d_speaker(n) for n in (1, 39, 56, 68, 78, 82, 83)] == ["drascula", "drascula", "john", "blindman", "blindman", "bartender", None]
    assert drascula.same_line("DON'T DE AFRAID!", "Don't be afraid") and not drascula.same_line("YES", "NO THANKS")


# Beneath a Steel Sky


def test_rnc_checksums_and_packing():
    assert steel_sky.rnc_crc(b"123456789") == 0xBB3D  # CRC-16/ARC's check value
    assert steel_sky.rnc_unpack(b"not packed at all, just bytes") is None
    header = struct.pack(">IIIHHBB", steel_sky.RNC_SIGNATURE, 4, 4, 0, 0x1234, 0, 1)
    with pytest.raises(ValueError, match="packed CRC"):
        steel_sky.rnc_unpack(header + b"abcd")


def _huffman_codes() -> dict[int, str]:
    codes, stack = {}, [(0, "")]
    while stack:
        node, code = stack.pop()
        left, right, character = steel_sky.HUFFMAN_TREE[node]
        if left == right == 0:
            codes[character] = code
        else:
            stack += [(left, code + "0"), (right, code + "1")]
    return codes


def test_steel_sky_subtitles_are_huffman_decoded():
    codes = _huffman_codes()
    bits = "".join(codes[ord(c)] for c in "We're WAY up!") + codes[0]
    bits += "0" * (-len(bits) % 8)
    section = struct.pack("<HH", 4, 4) + int(bits, 2).to_bytes(len(bits) // 8, "big")
    assert steel_sky.subtitle(section, 0) == "We're WAY up!"


def test_steel_sky_speech_files_map_to_one_text_number():
    lines = [600, 500, 1330, 950, 1150, 550, 150, 4]
    assert steel_sky.text_number(50_000, lines) == 0
    assert steel_sky.text_number(50_601, lines) == (1 << 12) | 1
    assert steel_sky.text_number(55_233, lines) == (7 << 12) | 3
    assert steel_sky.text_number(55_234, lines) is None  # past the last section's lines
    assert steel_sky.text_number(50_599, [599] + lines[1:]) is None  # past section 0's text table


# the corpus


def _tone(seconds: float) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * 11_025)) / 11_025)).astype(np.float32)


def test_the_corpus_is_written_in_the_corpus_layout(tmp_path):
    lines = [
        (GameLine(f"queen-JOE{k:04d}1", f"Line number {k}, I think.", "joe", f"queen.1c:JOE{k:04d}1.SB", ""), lambda line: (_tone(2.0), 11_025))
        for k in range(60)
    ]
    lines.append((GameLine("queen-LONG1", "Hm.", "joe", "x", ""), lambda line: (_tone(6.0), 11_025)))  # too short for its clip
    lines.append((GameLine("drascula-9", "!!!", "john", "x", ""), lambda line: (_tone(2.0), 11_025)))  # no words
    counts = game_speech.write_corpus(tmp_path / "games", lines, seed=3, progress=False)
    assert counts["utterances"] == 60 and counts["by_game"] == {"queen": 60}
    assert counts["skipped"] == {"subtitle implausibly short or long for the clip": 1, "no words in the subtitle": 1}
    splits = json.loads((tmp_path / "games/splits.json").read_text())
    ids = [i for split in splits.values() for i in split]
    assert len(ids) == len(set(ids)) == 60 and len(splits["test"]) == 3 and len(splits["validation"]) == 1
    train = read_utterances(tmp_path / "games", "train")
    assert len(train) == 56 and train[0].text == "line number zero i think"
    manifest = json.loads((tmp_path / "games/manifest.json").read_text())
    assert manifest["checksum_sha256"] == corpus_checksum(tmp_path / "games", ids) and set(manifest["packages"]) == set(game_speech.PACKAGES)
    assert game_speech.split_ids(ids, 3) == splits


def test_another_corpus_is_never_overwritten(tmp_path):
    (tmp_path / "synth").mkdir()
    (tmp_path / "synth/metadata.csv").write_text("spk00-00001|Hello.|hello\n")
    (tmp_path / "synth/manifest.json").write_text(json.dumps({"seed": 0, "checksum_sha256": "abc"}))
    line = (GameLine("queen-A1", "Hello there, friend.", "joe", "x", ""), lambda line: (_tone(2.0), 11_025))
    with pytest.raises(UserError, match="holds other files"):
        game_speech.write_corpus(tmp_path / "synth", [line], progress=False)
    assert (tmp_path / "synth/metadata.csv").read_text() == "spk00-00001|Hello.|hello\n"
    game_speech.write_corpus(tmp_path / "games", [line] * 30, progress=False)
    game_speech.write_corpus(tmp_path / "games", [line] * 30, progress=False)  # its own folder: rebuilt


def test_missing_games_are_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setattr(queen, "ARCHIVE", tmp_path / "none.1c")
    with pytest.raises(UserError, match="apt-get install flight-of-the-amazon-queen drascula beneath-a-steel-sky"):
        game_speech.game_lines()
