"""Huffman coding of normalised transcripts over the 28 text tokens.

The alphabet is ``deepsc_st.tokens.TOKENS``: space, ``a``..``z`` and the
apostrophe (the CTC blank is not text).  The code is built with ``dahuffman``
from character counts of training transcripts, each count plus one so that
every token has a code word.

End of message: an end-of-message symbol ``EOM`` with frequency 1 takes part
in the code; the encoder appends only as many of its bits as fill the last
byte (none when the text already ends on a byte boundary), so a message is
``8 * ceil(text_bits / 8)`` bits long.  The decoder stops at the first
end-of-message code word or at the end of the bits, so it must be given the
bits that ``encode`` produced, no more.  A Huffman code is complete: every bit
string parses into code words plus an incomplete tail, so corrupted bits
always decode into some text (characters may be changed, lost or added, and a
flipped bit desynchronises the rest of the message) and never raise.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

import numpy as np
from dahuffman import HuffmanCodec

from deepsc_st.tokens import TOKENS

EOM = "<eom>"  # end-of-message symbol, never a text character


class HuffmanTextCodec:
    """Text <-> bits with a fixed Huffman code over ``TOKENS``.

    Build with ``from_transcripts`` or ``from_json``; ``code_table`` maps each
    token and ``EOM`` to ``(code length in bits, code word as int)``.
    """

    def __init__(self, code_table: dict[str, tuple[int, int]]):
        expected = set(TOKENS) | {EOM}
        if set(code_table) != expected:
            raise ValueError(f"code table symbols {sorted(code_table)} are not the tokens plus {EOM!r}")
        self.code_table = {symbol: (int(n), int(v)) for symbol, (n, v) in code_table.items()}
        self._codec = HuffmanCodec(self.code_table, concat="".join, eof=EOM)

    @classmethod
    def from_transcripts(cls, transcripts: Iterable[str]) -> "HuffmanTextCodec":
        """Build the code from normalised transcripts (strings of ``TOKENS`` only)."""
        counts = Counter()
        for text in transcripts:
            counts.update(text)
        unknown = set(counts) - set(TOKENS)
        if unknown:
            raise ValueError(f"characters {sorted(unknown)} are not tokens; normalise the transcripts first")
        frequencies = {token: counts[token] + 1 for token in TOKENS}
        return cls(HuffmanCodec.from_frequencies(frequencies, eof=EOM).get_code_table())

    def to_json(self) -> str:
        """The code table as JSON: ``{"code_table": {symbol: [length, code]}}``."""
        return json.dumps({"code_table": {s: list(c) for s, c in self.code_table.items()}}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "HuffmanTextCodec":
        """Rebuild a codec from ``to_json`` output."""
        return cls({symbol: tuple(code) for symbol, code in json.loads(text)["code_table"].items()})

    def encode(self, text: str) -> np.ndarray:
        """Encode text of ``TOKENS`` characters; uint8 bits (0/1) of shape ``[8 * num_bytes]``."""
        unknown = set(text) - set(TOKENS)
        if unknown:
            raise ValueError(f"characters {sorted(unknown)} are not tokens; normalise the text first")
        return np.unpackbits(np.frombuffer(self._codec.encode(text), dtype=np.uint8))

    def decode(self, bits: np.ndarray) -> str:
        """Decode bits of shape ``[num_bits]`` (any 0/1 pattern, any length) into text."""
        bits = np.asarray(bits, dtype=np.uint8).reshape(-1) != 0
        return self._codec.decode(np.packbits(bits).tobytes())
