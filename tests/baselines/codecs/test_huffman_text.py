import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from baselines.codecs import HuffmanTextCodec
from deepsc_st.tokens import TOKENS

TRANSCRIPTS = [
    "the quick brown fox jumps over the lazy dog",
    "she sells sea shells by the sea shore",
    "it's a test of the emergency broadcast system",
]
CODEC = HuffmanTextCodec.from_transcripts(TRANSCRIPTS)
TEXT = st.text(alphabet="".join(TOKENS), max_size=300)


@given(TEXT)
def test_round_trip(text):
    bits = CODEC.encode(text)
    assert bits.dtype == np.uint8 and bits.ndim == 1 and bits.size % 8 == 0
    assert CODEC.decode(bits) == text


@given(st.lists(st.integers(0, 1), max_size=2000))
def test_decode_of_any_bits_is_token_text(bits):
    text = CODEC.decode(np.array(bits, dtype=np.uint8))
    assert isinstance(text, str) and set(text) <= set(TOKENS)


@given(TEXT, st.data())
def test_decode_of_corrupted_bits_is_token_text(text, data):
    bits = CODEC.encode(text)
    if bits.size:
        flips = data.draw(st.lists(st.integers(0, bits.size - 1), max_size=10))
        bits[flips] ^= 1
    assert set(CODEC.decode(bits)) <= set(TOKENS)


def test_json_round_trip_keeps_the_code():
    loaded = HuffmanTextCodec.from_json(CODEC.to_json())
    assert loaded.code_table == CODEC.code_table
    text = "the sea shore isn't quiet"
    assert np.array_equal(loaded.encode(text), CODEC.encode(text))


def test_frequent_characters_get_shorter_codes():
    lengths = {symbol: length for symbol, (length, _) in CODEC.code_table.items()}
    assert lengths[" "] < lengths["q"] and lengths["e"] < lengths["z"]
    assert CODEC.encode("the sea").size < 8 * len("the sea")


def test_rejects_characters_outside_the_alphabet():
    with pytest.raises(ValueError, match="not tokens"):
        CODEC.encode("Hello")
    with pytest.raises(ValueError, match="not tokens"):
        HuffmanTextCodec.from_transcripts(["ok", "not ok!"])
