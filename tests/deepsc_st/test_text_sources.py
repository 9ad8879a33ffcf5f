"""Text sources beside Austen (deepsc_st/text_sources.py) and how the corpus reads them (deepsc_st/corpus.py:text_pool)."""

import json

import pytest

from deepsc_st import corpus
from deepsc_st.errors import UserError
from deepsc_st.text_sources import fortune_paragraphs, wordnet_examples

FORTUNES = """A clash of doctrine is not a disaster -- it is an opportunity.
%
A dream will always triumph over reality, once it is given the chance.
\t\t-- Stanislaw Lem
%
Q: How many programmers does it take to change a light bulb?
A: None, that is a hardware problem.
%
A halted retreat
\tIs nerve-wracking and dangerous.
%
"""
WORDNET = """  1 This software and database is being provided to you, the LICENSEE, by
00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived to exist; "the team is a unit"
00002137 04 n 02 abstraction 0 | a general concept; "physicists study both the nature of matter and the forces which govern it"; "an article"
"""


def test_fortune_cookies_without_attributions_dialogue_or_verse(tmp_path):
    (tmp_path / "fortunes").write_text(FORTUNES)
    assert list(fortune_paragraphs(tmp_path)) == [
        "A clash of doctrine is not a disaster -- it is an opportunity.",
        "A dream will always triumph over reality, once it is given the chance.",
        "A halted retreat",
    ]


def test_wordnet_example_sentences_of_the_glosses(tmp_path):
    for name in ("data.noun", "data.verb", "data.adj", "data.adv"):
        (tmp_path / name).write_text(WORDNET if name == "data.noun" else "")
    assert list(wordnet_examples(tmp_path)) == [
        "The team is a unit.", "Physicists study both the nature of matter and the forces which govern it.", "An article.",
    ]


def test_a_missing_source_names_its_package(tmp_path):
    with pytest.raises(UserError, match="apt-get install --no-install-recommends wordnet-base"):
        list(wordnet_examples(tmp_path))


def test_unknown_or_repeated_texts_are_refused(tmp_path):
    with pytest.raises(UserError, match="unknown text"):
        corpus.generate_corpus(tmp_path / "c", utterances=4, texts=("bogus",), progress=False)
    assert not (tmp_path / "c").exists()  # refused before anything is written
    with pytest.raises(UserError, match="unknown text 'bible'"):
        corpus.text_pool(("austen", "bible"))
    with pytest.raises(UserError, match="each text once"):
        corpus.text_pool(("wordnet", "wordnet"))


@pytest.mark.slow  # reads the installed novels, cookies and WordNet (about 10 s)
def test_sources_are_pooled_in_order_without_repeats():
    austen, described = corpus.text_pool(("austen",))
    assert austen == corpus.sentence_pool(corpus.read_novels()) and described["usable_sentences"] == len(austen)
    mixed, described = corpus.text_pool(("austen", "fortunes"))
    assert mixed[: len(austen)] == austen and len(mixed) > len(austen) + 5_000
    assert len({normalized for _, normalized in mixed}) == len(mixed)
    assert [source["name"] for source in described["sources"]] == ["austen", "fortunes"]
    wordnet, _ = corpus.text_pool(("wordnet",))
    assert len(wordnet) > 5_000


@pytest.mark.slow  # synthesises a small corpus
def test_a_corpus_of_other_texts_records_them(tmp_path):
    corpus.generate_corpus(tmp_path, utterances=4, seed=0, progress=False, texts=("wordnet",))
    assert json.loads((tmp_path / "generation.json").read_text())["texts"] == ["wordnet"]
    assert json.loads((tmp_path / "manifest.json").read_text())["text_source"]["sources"][0]["name"] == "wordnet"
    with pytest.raises(UserError, match="other parameters"):
        corpus.generate_corpus(tmp_path, utterances=4, seed=0, progress=False)  # Austen into the wordnet corpus
