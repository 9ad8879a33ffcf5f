"""Training, shipping and counting the DeepSC text transceiver of SR+DeepSC with the project's own commands."""

import csv
import json

import numpy as np
import pytest

from deepsc_st.checkpoint import read_json, read_state
from deepsc_st.config import get_config
from deepsc_st.data import read_utterances
from deepsc_st.errors import UserError
from deepsc_st.shipped import PACKAGE_MODELS
from deepsc_st.train import TrainingSettings, train
from deepsc_st.words import VOCABULARY_FILE, WordVocabulary
from tests.cli_helpers import assert_one_line_error, run_cli

pytestmark = pytest.mark.slow  # every test here trains or builds the paper's models


def settings(data, **overrides):
    values = dict(config=get_config("text-tiny"), data=str(data), channel="awgn", snr_db=(5.0, 15.0), epochs=1, batch_size=8, learning_rate=3e-3)
    return TrainingSettings(**{**values, **overrides})


def test_a_text_run_fixes_its_vocabulary_and_resumes(espeak_corpus, tmp_path):
    run_dir = tmp_path / "run"
    train(settings(espeak_corpus), run_dir, progress=False)
    run = read_json(run_dir / "run.json")
    words = {w for u in read_utterances(espeak_corpus, "train") for w in u.text.split()}
    assert run["kind"] == "deepsc-text" and run["config"]["vocabulary_size"] == len(words) + 4
    assert set(WordVocabulary.load(run_dir).words) == words
    result = train(settings(espeak_corpus, epochs=2), run_dir, progress=False)
    assert result["epochs_done"] == 2 and result["sentences_per_second"] > 0
    assert read_state(run_dir) == {"epochs_done": 2, "checkpoint": "epoch-0002.weights.h5"}
    with open(run_dir / "history.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["0", "1"] and {"loss", "val_loss", "val_cer", "epoch_s"} <= set(rows[0])
    assert any((run_dir / "logs").rglob("events.out.tfevents.*"))
    with pytest.raises(UserError, match="different snr_db"):
        train(settings(espeak_corpus, epochs=3, snr_db=(0.0, 15.0)), run_dir, progress=False)


def test_a_text_run_starts_from_another_with_its_weights_and_vocabulary(text_run, espeak_corpus, tmp_path):
    from deepsc_st.checkpoint import load_run

    source, _ = load_run(text_run)
    started = settings(espeak_corpus, init_from=str(text_run), snr_db=(20.0, 30.0), learning_rate=0.0)  # lr 0: the weights stay the source's
    train(started, tmp_path / "fine", progress=False)
    assert WordVocabulary.load(tmp_path / "fine").words == WordVocabulary.load(text_run).words
    tuned, run = load_run(tmp_path / "fine")
    assert run["init_from"] == str(text_run)
    assert all((a == b).all() for a, b in zip(tuned.get_weights(), source.get_weights()))
    with pytest.raises(UserError, match=r"not a 'text-small' run \(deepsc-text\) with the same configuration"):
        train(settings(espeak_corpus, init_from=str(text_run), config=get_config("text-small")), tmp_path / "other", progress=False)


def test_random_words_replace_a_fraction_of_the_words_anew_each_epoch_under_the_seed():
    from deepsc_st.text_training import token_batches

    sentences = [[1, *range(10, 50), 2] for _ in range(50)]  # START, 40 words, END
    def epochs(seed):
        batches = token_batches(sentences, 25, seed=seed, random_words=0.25, vocabulary_size=1000)
        return [np.concatenate([batch.numpy() for batch in batches]) for _ in range(2)]

    first, second = epochs(0)
    for epoch in (first, second):
        assert (epoch[:, 0] == 1).all() and (epoch[:, -1] == 2).all()  # START and END stay
        replaced = epoch[:, 1:-1] != np.arange(10, 50)
        assert 0.2 < replaced.mean() < 0.3 and (epoch[:, 1:-1][replaced] >= 4).all()  # words only, never PAD/START/END/UNK
    assert not np.array_equal(first, second)
    assert all(np.array_equal(a, b) for a, b in zip(epochs(0), (first, second)))  # repeatable under the seed
    assert np.array_equal(np.concatenate(list(token_batches(sentences, 25))), np.array(sentences))  # off without a seed


def test_unk_words_replace_a_fraction_of_the_words_by_unk_and_leave_the_random_words_as_they_were():
    from deepsc_st.text_training import token_batches
    from deepsc_st.words import UNK

    sentences = [[1, *range(10, 50), 2] for _ in range(50)]
    def epoch(**fractions):
        return np.concatenate([batch.numpy() for batch in token_batches(sentences, 25, seed=0, vocabulary_size=1000, **fractions)])

    unknown = epoch(unk_words=0.1)
    assert 0.05 < (unknown[:, 1:-1] == UNK).mean() < 0.15 and (unknown[:, 1:-1] != np.arange(10, 50)).mean() == (unknown[:, 1:-1] == UNK).mean()
    assert (unknown[:, 0] == 1).all() and (unknown[:, -1] == 2).all()
    both, random_only = epoch(random_words=0.25, unk_words=0.1), epoch(random_words=0.25)
    kept = both != UNK
    assert np.array_equal(both[kept], random_only[kept])  # the UNK draw has its own stream: the random words are unchanged


def test_speech_only_settings_are_refused(capsys, espeak_corpus, tmp_path):
    with pytest.raises(UserError, match="it takes no --augment$"):
        train(settings(espeak_corpus, augment=True), tmp_path / "run", progress=False)
    code, _, err = run_cli(capsys, "train", "--config", "text-tiny", "--data", espeak_corpus, "--out", tmp_path / "r", "--spec-augment")
    assert_one_line_error(code, err, "it takes no --spec-augment")
    assert not (tmp_path / "run").exists() and not (tmp_path / "r").exists()


def test_ship_measures_the_text_link_and_sr_deepsc_end_to_end(capsys, text_run, sentence_asr_run, espeak_corpus, tmp_path):
    shipped = tmp_path / "sr-deepsc"
    args = ["ship", "--run", text_run, "--out", shipped, "--data", espeak_corpus, "--asr-model", sentence_asr_run, "--utterances", "3"]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "# DeepSC text transceiver of SR+DeepSC trained under awgn at 20:30 dB" in out and "BLEU-1" in out
    assert {"MODEL.md", "model.weights.h5", "run.json", "history.csv", "measurements.json", VOCABULARY_FILE} <= {p.name for p in shipped.iterdir()}
    stored = json.loads((shipped / "measurements.json").read_text())
    rows = stored["rows"]
    assert stored["facts"]["measured_with"] == {"asr": str(sentence_asr_run)}
    text_rows = [r for r in rows if r["input"] == "text"]
    assert len(text_rows) == 12 and {r["system"] for r in text_rows} == {"sr-deepsc:text"}
    at_20 = next(r for r in text_rows if r["channel"] == "awgn" and r["snr_db"] == 20.0)
    assert at_20["cer"] == 0.0 and at_20["bleu1"] == 1.0  # it learnt these sentences at 20-30 dB
    assert at_20["padded_symbols_per_16000_samples"] > at_20["symbols_per_16000_samples"] > 0
    [asr] = [r for r in rows if r["system"] == "asr"]
    assert asr["channel"] == "none" and asr["symbols_per_16000_samples"] == 0
    end_to_end = [r for r in rows if r["system"] == "sr-deepsc"]
    assert [r["unknown_words"] for r in end_to_end] == ["unk"] * 6 + ["nearest"] * 6
    assert "| test | speech | sr-deepsc | nearest | awgn | 20 |" in (shipped / "MODEL.md").read_text()


def test_info_adds_the_paired_text_model(capsys):
    """``info --config paper`` pairs text-paper (tests/deepsc_st/test_model.py checks 92,212,016 on the built
    paper models); ``small`` pairs the shipped sr-deepsc-small, whose vocabulary fixes its size."""
    code, out, _ = run_cli(capsys, "info", "--config", "text-paper", "--json")
    assert code == 0 and json.loads(out)["trainable_params"] == 6_423_283 and json.loads(out)["symbols_per_token"] == 8
    code, out, err = run_cli(capsys, "info", "--config", "small", "--json")
    assert code == 0, err
    info = json.loads(out)
    words = read_json(PACKAGE_MODELS / "sr-deepsc-small" / "run.json")["config"]["vocabulary_size"]
    text = 964_368 + 129 * words + 8 * (2 * 128 * 512 + 512 + 128)  # one shared V x 128 table + classifier bias; 8 working feed-forwards
    assert info["deepsc_text_config"] == "text-small" and info["deepsc_text_trainable_params"] == text == 3_134_430
    assert info["sr_deepsc_trainable_params"] == info["asr_trainable_params"] + text


def test_evaluate_measures_a_text_run_as_sr_deepsc(capsys, text_run, espeak_corpus):
    code, out, err = run_cli(capsys, "evaluate", "--model", text_run, "--data", espeak_corpus, "--channel", "awgn", "--snr", "30", "--utterances", "3", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["system"] == "sr-deepsc" and result["utterances"] == 3 and result["symbols_per_16000_samples"] > 0


def test_unspoken_text_is_the_text_pool_minus_every_spoken_sentence(espeak_corpus, tmp_path):
    from deepsc_st.corpus import generate_corpus, read_novels, sentence_pool
    from deepsc_st.text_training import unspoken_sentences

    generate_corpus(tmp_path, utterances=20, seed=2, progress=False, splits=("test", "validation"))
    spoken = {u.text for u in read_utterances(tmp_path, "all")}
    unspoken = unspoken_sentences(tmp_path)
    assert not spoken & set(unspoken) and len(unspoken) == len(sentence_pool(read_novels())) - len(spoken)
    with pytest.raises(UserError, match="not an embedded corpus"):
        unspoken_sentences(espeak_corpus)
    with pytest.raises(UserError, match="a speech run needs their speech"):
        train(TrainingSettings(config=get_config("tiny"), data=str(espeak_corpus), unspoken_text=True), tmp_path / "run", progress=False)
    with pytest.raises(UserError, match="--random-words changes the sentences of a text run"):
        train(TrainingSettings(config=get_config("tiny"), data=str(espeak_corpus), random_words=0.2), tmp_path / "run", progress=False)
