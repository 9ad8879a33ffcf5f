import json

import pytest

from baselines.sr_deepsc_transceiver import DEEPSC_TEXT_MODEL, SRDeepSCTransceiver
from channels import make_channel
from deepsc_st.checkpoint import load_run
from deepsc_st.data import load_utterances, read_utterances
from deepsc_st.errors import UserError
from deepsc_st.words import WordVocabulary
from experiments.systems import PROJECT_SYSTEMS
from tests.cli_helpers import assert_one_line_error, run_cli


@pytest.mark.parametrize("channel", ["rician"])  # every channel: the card rows of tests/deepsc_st/test_text_training.py
def test_transmit_returns_the_asr_text_and_eight_symbols_per_token(capsys, sentence_asr_run, text_run, espeak_corpus, channel):
    utterance = read_utterances(espeak_corpus, "train")[0]
    args = ["transmit", utterance.wav_path, "--system", "sr-deepsc", "--asr-model", sentence_asr_run, "--text-model", text_run]
    code, out, err = run_cli(capsys, *args, "--channel", channel, "--snr", "30", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["text"] == utterance.text and result["system"] == "sr-deepsc"
    assert result["channel_symbols"] == (len(utterance.text.split()) + 2) * 8  # START, words, END


def test_text_link_alone_and_out_of_vocabulary_words(sentence_asr_run, text_run, espeak_corpus):
    system = PROJECT_SYSTEMS.build("sr-deepsc", {"asr": sentence_asr_run, DEEPSC_TEXT_MODEL.name: text_run})
    texts = [u.text for u in read_utterances(espeak_corpus, "train")[:3]]
    sent = system.transmit_text(texts + ["the zebra sat", ""], make_channel("awgn"), 30.0)
    assert [s.text for s in sent[:3]] == texts
    assert "zebra" not in sent[3].text  # an unknown word goes as UNK
    assert sent[3].channel_symbols == 5 * 8 and (sent[4].text, sent[4].channel_symbols) == ("", 0)


def test_unknown_words_option_sends_the_nearest_vocabulary_word(capsys, sentence_asr_run, text_run, espeak_corpus):
    models = {"asr": sentence_asr_run, DEEPSC_TEXT_MODEL.name: text_run}
    assert PROJECT_SYSTEMS.build("sr-deepsc", models).unknown_words == "unk"
    system = PROJECT_SYSTEMS.build("sr-deepsc", models, {"unknown_words": "nearest"})
    [loaded] = load_utterances(espeak_corpus, "train", 1)
    [text] = system.transcribe([loaded.waveform])
    assert text == loaded.utterance.text and all(word in system.vocabulary.ids for word in text.split())
    code, _, err = run_cli(capsys, "transmit", loaded.utterance.wav_path, "--system", "sr-deepsc", "--asr-model", sentence_asr_run, "--text-model", text_run, "--unknown-words", "maybe")
    assert_one_line_error(code, err, "unknown --unknown-words policy 'maybe'")


def test_long_texts_go_as_several_sentences(sentence_asr_run, text_run, espeak_corpus):
    system = PROJECT_SYSTEMS.build("sr-deepsc", {"asr": sentence_asr_run, DEEPSC_TEXT_MODEL.name: text_run})
    max_words = system.text_model.config.max_tokens - 2
    words = " ".join(["the cat sat on the mat"] * 10).split()[: max_words + 5]
    [sent] = system.transmit_text([" ".join(words)], make_channel("awgn"), 30.0)
    assert sent.channel_symbols == (len(words) + 2 * 2) * 8


def test_needs_the_asr_only_model_and_a_text_run(sentence_asr_run, text_run):
    text_model, _ = load_run(text_run)
    with pytest.raises(UserError, match="ASR-only model"):
        SRDeepSCTransceiver(text_model, text_model, WordVocabulary.load(text_run))
    with pytest.raises(UserError, match="--text-model .* is an ASR-only run .* it takes a DeepSC text run"):
        PROJECT_SYSTEMS.build("sr-deepsc", {"asr": sentence_asr_run, DEEPSC_TEXT_MODEL.name: sentence_asr_run})


def test_missing_text_model_is_a_one_line_error(capsys, sentence_asr_run, espeak_corpus, tmp_path):
    wav = read_utterances(espeak_corpus, "train")[0].wav_path
    code, _, err = run_cli(capsys, "transmit", wav, "--system", "sr-deepsc", "--asr-model", sentence_asr_run, "--text-model", tmp_path / "nothing")
    assert_one_line_error(code, err, "no such model folder")
