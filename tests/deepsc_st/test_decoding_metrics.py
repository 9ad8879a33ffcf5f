import numpy as np
import pytest

from deepsc_st.decoding import greedy_decode
from deepsc_st.metrics import character_error_rate, word_error_rate
from deepsc_st.tokens import BLANK_INDEX, text_to_ids


def one_hot(ids, length):
    logits = np.full((length, 29), -10.0)
    for step, token in enumerate(ids):
        logits[step, token] = 10.0
    return logits


def test_greedy_decode_merges_repeats_and_drops_blanks():
    h, e, l, o = text_to_ids("helo")
    b = BLANK_INDEX
    path = [h, h, e, b, l, l, b, l, o, o, b]
    logits = one_hot(path, 12)[None]
    assert greedy_decode(logits, [11]) == ["hello"]
    assert greedy_decode(logits, [3]) == ["he"]


def test_error_rates():
    assert character_error_rate(["abcd"], ["abxd"]) == 0.25
    assert word_error_rate(["the cat sat", "a dog"], ["the cat", "a dog"]) == 0.2
    assert character_error_rate(["same"], ["same"]) == 0.0


def test_cer_interval_brackets_the_corpus_cer_and_is_repeatable():
    from deepsc_st.metrics import cer_interval, character_errors

    references = ["the cat sat", "on the mat", "a dog", "ran far away", "hello there"]
    hypotheses = ["the cat sat", "on a mat", "", "ran far away", "help there"]
    errors, lengths = character_errors(references, hypotheses)
    assert errors.sum() / lengths.sum() == pytest.approx(character_error_rate(references, hypotheses))
    assert list(lengths) == [len(r) for r in references] and errors[2] == 5
    low, high = cer_interval(references, hypotheses, seed=1)
    assert low < character_error_rate(references, hypotheses) < high
    assert cer_interval(references, hypotheses, seed=1) == (low, high)
    assert cer_interval(["same"], ["same"]) == (0.0, 0.0)
