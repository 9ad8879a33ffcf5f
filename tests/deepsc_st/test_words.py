import pytest

from deepsc_st.errors import UserError
from deepsc_st.words import END, PAD, SPECIAL_TOKENS, START, UNK, VOCABULARY_FILE, WordVocabulary


def test_special_tokens_come_first_then_words_by_frequency():
    words = WordVocabulary.from_transcripts(["b a", "a c", "a b"])
    assert (PAD, START, END, UNK) == (0, 1, 2, 3) and len(SPECIAL_TOKENS) == 4
    assert words.words == ["a", "b", "c"] and len(words) == 7
    assert words.encode("a b c") == [START, 4, 5, 6, END]


def test_unknown_words_go_as_unk_and_come_back_as_nothing():
    words = WordVocabulary.from_transcripts(["the cat sat"])
    tokens = words.encode("the dog sat")
    assert tokens[2] == UNK
    assert words.decode(tokens[1:] + [PAD, PAD]) == "the sat"


def test_decoding_stops_at_end_and_skips_start_and_pad():
    words = WordVocabulary.from_transcripts(["one two three"])
    one, two, three = (words.ids[w] for w in ("one", "two", "three"))
    assert words.decode([START, one, PAD, two, END, three]) == "one two"


def test_size_keeps_the_most_frequent_words():
    words = WordVocabulary.from_transcripts(["a a a b b c"], size=6)
    assert words.words == ["a", "b"] and len(words) == 6


def test_save_and_load(tmp_path):
    words = WordVocabulary.from_transcripts(["hello there world", "hello again"])
    words.save(tmp_path)
    assert WordVocabulary.load(tmp_path).words == words.words
    (tmp_path / VOCABULARY_FILE).write_text('{"words": 3}')
    with pytest.raises(UserError, match="not a DeepSC word vocabulary"):
        WordVocabulary.load(tmp_path)
    with pytest.raises(UserError, match="no such file"):
        WordVocabulary.load(tmp_path / "missing")


def test_nearest_known_replaces_unknown_words_by_the_nearest_and_on_a_tie_the_more_frequent():
    words = WordVocabulary.from_transcripts(["the house the horse the", "mouse"])  # the, horse, house, mouse
    assert words.nearest_known("the hous the horze") == "the house the horse"
    assert words.nearest_known("louse") == "house"  # house and mouse are both one edit away; equal counts: alphabetical order
    assert words.nearest_known("") == "" and WordVocabulary([]).nearest_known("cat") == "cat"
