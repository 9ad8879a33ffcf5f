import numpy as np

from deepsc_st.tokens import BLANK_INDEX, NUM_CLASSES, TOKENS, ids_to_text, normalize_text, text_to_ids


def test_token_set():
    assert len(TOKENS) == 28 and NUM_CLASSES == 29 and BLANK_INDEX == 28
    assert TOKENS[0] == " " and TOKENS[1] == "a" and TOKENS[26] == "z" and TOKENS[27] == "'"


def test_ids_round_trip():
    text = "it's a test"
    ids = text_to_ids(text)
    assert ids.dtype == np.int32 and ids.max() < BLANK_INDEX
    assert ids_to_text(ids) == text


def test_numbers_ordinals_years_and_currency():
    assert normalize_text("On May 3rd, 1999 I paid $5.").text == "on may third nineteen ninety nine i paid five dollars"
    assert normalize_text("2,500 people in the 1990s").text == "two thousand five hundred people in the nineteen nineties"
    assert normalize_text("21st").text == "twenty first"
    assert normalize_text("3.5%").text == "three point five percent"


def test_punctuation_dropped_and_other_characters_counted():
    result = normalize_text('"Hello," she said -- caf\u00e9 \u2603 \u4e2d!')
    assert result.text == "hello she said cafe"
    assert result.removed == 2


def test_apostrophes_kept_inside_words_only():
    assert normalize_text("'Don't,' he said \u2018twice\u2019").text == "don't he said twice"
