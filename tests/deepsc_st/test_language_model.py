import json
import sys

import numpy as np
import pytest

from deepsc_st import language_model
from deepsc_st.errors import UserError
from deepsc_st.decoding import GREEDY
from deepsc_st.language_model import BeamSearchDecoder, build_language_model, check_language_model
from deepsc_st.tokens import BLANK_INDEX, TOKENS

TRAIN = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog", "the cat sat down"]
TEST = ["zebras graze quietly"]


def _corpus(folder, train=TRAIN, test=TEST):
    """A corpus folder as read_utterances sees it: metadata.csv and splits.json (no audio is read)."""
    folder.mkdir()
    ids = {"train": [f"spk00-{k:05d}" for k in range(len(train))], "test": [f"spk01-{k:05d}" for k in range(len(test))]}
    rows = [f"{i}|{text}|{text}" for i, text in zip(ids["train"] + ids["test"], train + test)]
    (folder / "metadata.csv").write_text("\n".join(rows) + "\n")
    (folder / "splits.json").write_text(json.dumps(ids))
    (folder / "manifest.json").write_text(json.dumps({"seed": 3, "checksum_sha256": "abc"}))
    return folder


def _scores(frames: list[dict[str, float]]) -> np.ndarray:
    """Token log-scores [frames, 29] from each frame's {token: probability} (the rest of the mass on blank)."""
    probabilities = np.full((len(frames), BLANK_INDEX + 1), 1e-4)
    for row, frame in zip(probabilities, frames):
        for token, p in frame.items():
            row[TOKENS.index(token)] = p
        row[BLANK_INDEX] = max(1.0 - sum(frame.values()), 1e-4)
    return np.log(probabilities / probabilities.sum(axis=1, keepdims=True)).astype(np.float32)


def _spelled(text: str, confusions: dict[int, str] | None = None) -> list[dict[str, float]]:
    """One frame per character then a blank frame; at the positions of ``confusions`` another letter is likelier."""
    frames = []
    for k, character in enumerate(text):
        wrong = (confusions or {}).get(k)
        frames.append({character: 0.4, wrong: 0.55} if wrong else {character: 0.95})
        frames.append({})
    return frames


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("lm")
    out = root / "lm"
    build_language_model([_corpus(root / "corpus")], out, order=3)
    return out


def test_the_model_is_counted_from_the_train_split_only(lm_dir):
    facts = json.loads((lm_dir / language_model.FACTS_FILE).read_text())
    assert facts["sentences"] == len(TRAIN) and facts["words"] == sum(len(s.split()) for s in TRAIN) and facts["order"] == 3
    assert facts["corpora"][0]["seed"] == 3 and facts["corpora"][0]["checksum"] == "abc"
    vocabulary = set((lm_dir / language_model.UNIGRAMS_FILE).read_text().split())
    assert vocabulary == {word for sentence in TRAIN for word in sentence.split()}  # no test word
    assert check_language_model(lm_dir) == lm_dir


def test_beam_search_with_the_language_model_spells_known_words(lm_dir):
    scores = _scores(_spelled("the cat sat", confusions={2: "a", 5: "u"}))
    assert GREEDY([scores]) == ["tha cut sat"]
    assert BeamSearchDecoder(lm_dir)([scores]) == ["the cat sat"]


def test_clear_scores_decode_the_same_with_and_without_the_model(lm_dir):
    scores = [_scores(_spelled(text)) for text in ("the dog sat on the log", "a cat")]
    assert BeamSearchDecoder(lm_dir)(scores) == GREEDY(scores) == ["the dog sat on the log", "a cat"]


def test_sentences_that_another_corpus_tests_with_are_held_out(tmp_path):
    other = _corpus(tmp_path / "other", train=["zebras graze quietly"], test=["the cat sat down", "a cat and a dog"])
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    (recordings / "clip.txt").write_text("the dog sat on the log")
    (recordings / "clip.wav").write_bytes(b"")
    facts = build_language_model([_corpus(tmp_path / "corpus")], tmp_path / "lm", order=3, hold_out=[other, recordings])
    assert facts["sentences"] == 1 and facts["held_out_sentences"] == 4  # TEST's sentence, other's two, the recording's
    assert set((tmp_path / "lm" / language_model.UNIGRAMS_FILE).read_text().split()) == {"the", "cat", "sat", "on", "mat"}


def test_an_existing_model_is_never_overwritten(lm_dir, tmp_path):
    before = (lm_dir / language_model.BINARY_FILE).read_bytes()
    with pytest.raises(UserError, match="already holds a language model; choose a new --out folder"):
        build_language_model([_corpus(tmp_path / "corpus")], lm_dir)
    assert (lm_dir / language_model.BINARY_FILE).read_bytes() == before


def test_bad_language_model_folders_and_missing_tools(tmp_path, monkeypatch):
    with pytest.raises(UserError, match=r"^--lm .*: no language model there \(words.arpa.bin missing\); make one with deepsc-st lm$"):
        check_language_model(tmp_path)
    with pytest.raises(UserError, match="split 'train' is empty"):
        build_language_model([_corpus(tmp_path / "corpus", train=[])], tmp_path / "lm")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match="KenLM's lmplz is missing: make setup builds it"):
        build_language_model([_corpus(tmp_path / "corpus2")], tmp_path / "lm2")


def test_the_deepsc_st_receiver_decodes_with_the_language_model_of_its_lm_option(lm_dir):
    from channels import make_channel
    from deepsc_st.config import get_config
    from deepsc_st.model import build_model
    from deepsc_st.transceiver import LM_OPTION, DeepSCSTTransceiver, Parts

    parts = Parts(options={LM_OPTION.name: str(lm_dir)})
    model = build_model(get_config("tiny"), channel="awgn")
    parts.model = lambda kind: model
    transceiver = DeepSCSTTransceiver.from_parts(parts)
    assert isinstance(transceiver.decoder, BeamSearchDecoder) and transceiver.decoder.lm_dir == lm_dir
    waveforms = [np.random.default_rng(0).normal(0, 0.1, 16_000).astype(np.float32)]
    [sent] = transceiver.transmit(waveforms, make_channel("awgn"), 10.0)
    assert [sent.text] == transceiver.decoder([sent.token_scores])
    greedy = Parts()
    greedy.model = lambda kind: model
    assert DeepSCSTTransceiver.from_parts(greedy).decoder is GREEDY


def test_the_shipped_language_model_is_found_by_name_and_spells_corpus_words():
    from deepsc_st.shipped import PACKAGE_MODELS

    folder = check_language_model("lm-words")
    assert folder == PACKAGE_MODELS / "lm-words"
    facts = json.loads((folder / language_model.FACTS_FILE).read_text())
    assert facts["vocabulary"] == len((folder / language_model.UNIGRAMS_FILE).read_text().split()) and facts["order"] == 4
    assert (folder / language_model.BINARY_FILE).stat().st_size < 10e6
    scores = _scores(_spelled("mister darcy", confusions={1: "e", 8: "o"}))
    assert GREEDY([scores]) == ["mester dorcy"]
    assert BeamSearchDecoder("lm-words")([scores]) == ["mister darcy"]


def test_a_sweep_records_the_language_model_it_decoded_with():
    from deepsc_st.shipped import PACKAGE_MODELS
    from experiments.sweep import changed_options
    from experiments.systems import PROJECT_SYSTEMS

    recorded = changed_options({"lm": "lm-words"}, PROJECT_SYSTEMS)
    assert json.loads(json.dumps(recorded)) == {"lm": str(PACKAGE_MODELS / "lm-words")}
    assert changed_options({}, PROJECT_SYSTEMS) == {}


def test_every_system_that_decodes_ctc_scores_takes_the_language_model_once_per_parts(lm_dir):
    from deepsc_st.transceiver import LM_OPTION, Parts
    from experiments.systems import PROJECT_SYSTEMS

    assert all(LM_OPTION in system.options for system in PROJECT_SYSTEMS.systems)  # deepsc-st, speech, text, feature, sr-deepsc, codec
    parts = Parts(options={LM_OPTION.name: str(lm_dir)})
    assert isinstance(parts.ctc_decoder(), BeamSearchDecoder) and parts.ctc_decoder() is parts.ctc_decoder()
    assert Parts().ctc_decoder() is GREEDY


def test_received_posteriors_decode_even_when_the_link_corrupted_some(lm_dir):
    """The feature system's receiver gets posteriors back as float32 bits: NaN, negative or huge values count as 0 or 1."""
    posteriors = np.exp(_scores(_spelled("the cat sat", confusions={2: "a", 5: "u"})))
    assert GREEDY.from_posteriors([posteriors]) == ["tha cut sat"]
    corrupted = posteriors.copy()
    corrupted[1, 3], corrupted[3, 5], corrupted[7, 0] = np.nan, -3.0, 1e30  # blank frames: a letter corrupted in each
    assert BeamSearchDecoder(lm_dir).from_posteriors([posteriors]) == ["the cat sat"]
    assert GREEDY.from_posteriors([corrupted]) == ["tcha cut sat"]  # the NaN frame reads as "c" (argmax takes NaN)
    assert BeamSearchDecoder(lm_dir).from_posteriors([corrupted]) == ["the cat sat"]


def test_text_sources_add_their_sentences_less_the_measured_ones_and_those_quoting_them(tmp_path, monkeypatch):
    from deepsc_st import corpus

    pool = ["a bird sang in the tree", "the cat sat down", "zebras graze quietly", "she said zebras graze quietly today", "the dog sat on the log"]
    monkeypatch.setattr(corpus, "text_pool", lambda texts: ([(text, text) for text in pool], {"texts": texts}))
    build_language_model([_corpus(tmp_path / "corpus")], tmp_path / "lm", order=3, texts=("fortunes",))
    facts = json.loads((tmp_path / "lm" / language_model.FACTS_FILE).read_text())
    # the test sentence, the sentence quoting it and the two the corpus already trains with are not counted (again)
    assert facts["corpora"][-1] == {"texts": ["fortunes"], "sentences": 1} and facts["sentences"] == len(TRAIN) + 1
    vocabulary = set((tmp_path / "lm" / language_model.UNIGRAMS_FILE).read_text().split())
    assert {"bird", "tree"} <= vocabulary and not {"zebras", "today"} & vocabulary


def test_quotes_finds_a_run_of_whole_words():
    assert language_model.quotes("she said zebras graze quietly today", {"zebras graze quietly"})
    assert not language_model.quotes("zebras grazed quietly", {"zebras graze quietly"})
    assert not language_model.quotes("the zebras graze", {"zebras graze"})  # shorter than three words: too common to hold out
