import json
import numpy as np
import shutil

import pytest

from baselines.codecs import AmrWbCodec, HuffmanTextCodec
from baselines.feature_transceiver import FeatureTransceiver
from baselines.link import FEATURE_CODE_K, SPEECH_CODE_K, TEXT_CODE_K, DigitalLink
from deepsc_st.audio import load_audio
from deepsc_st.checkpoint import load_run
from tests.cli_helpers import assert_one_line_error, run_cli
from deepsc_st.config import get_config
from deepsc_st.data import read_utterances
from deepsc_st.errors import UserError
from deepsc_st.frontend import num_frames
from deepsc_st.model import output_steps
from deepsc_st import shipped
from deepsc_st.transceiver import ASR_MODEL, DEEPSC_ST_MODEL
from experiments.systems import PROJECT_SYSTEMS


def build_transceiver(name, asr_run_dir=None, deepsc_run_dir=None, **options):
    return PROJECT_SYSTEMS.build(name, {"asr": asr_run_dir, "deepsc-st": deepsc_run_dir}, options)


@pytest.fixture(scope="module")
def asr_run(overfit_asr_run, tmp_path_factory):
    """A copy of the overfit ASR run (the text system writes huffman.json into it)."""
    return shutil.copytree(overfit_asr_run[0], tmp_path_factory.mktemp("systems") / "asr")


@pytest.fixture(scope="module")
def speech_wav(espeak_corpus):
    return read_utterances(espeak_corpus, "train")[0].wav_path


def expected_symbols(system, text, num_samples, asr_run):
    """Complex symbols the link reports for one utterance whose transcript is ``text``."""
    if system == "speech":
        return DigitalLink(k=SPEECH_CODE_K).symbols_for_bits(AmrWbCodec().num_bits(num_samples))
    if system == "text":
        huffman = HuffmanTextCodec.from_json((asr_run / "huffman.json").read_text())
        return DigitalLink(k=TEXT_CODE_K).symbols_for_bits(huffman.encode(text).size)
    steps = int(output_steps(num_frames(num_samples), get_config("tiny")))
    return DigitalLink(k=FEATURE_CODE_K).symbols_for_bits(steps * 29 * 32)


@pytest.fixture(scope="module")
def sentence_asr(sentence_asr_run, tmp_path_factory):
    """A copy of the ASR run that knows the first sentences clean and AMR-WB-decoded."""
    return shutil.copytree(sentence_asr_run, tmp_path_factory.mktemp("systems") / "sentence_asr")


@pytest.mark.parametrize("channel", ["awgn", "rayleigh", "rician"])
@pytest.mark.parametrize("system", ["speech", "text", "feature"])
def test_transmit_returns_the_sentence_at_30_db(capsys, sentence_asr, espeak_corpus, system, channel):
    utterance = read_utterances(espeak_corpus, "train")[0]
    args = ["transmit", utterance.wav_path, "--system", system, "--asr-model", sentence_asr, "--channel", channel, "--snr", "30", "--json"]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    result = json.loads(out)
    assert {k: result[k] for k in ("channel", "snr_db", "system", "text")} == {
        "channel": channel, "snr_db": 30.0, "system": system, "text": utterance.text
    }
    num_samples = len(load_audio(utterance.wav_path))
    assert result["channel_symbols"] == expected_symbols(system, utterance.text, num_samples, sentence_asr)


def test_transmit_unknown_system(capsys, asr_run, speech_wav):
    code, _, err = run_cli(capsys, "transmit", speech_wav, "--system", "carrier-pigeon", "--asr-model", asr_run)
    assert_one_line_error(code, err, "unknown system 'carrier-pigeon'; choose one of deepsc-st, speech, text, feature, sr-deepsc")


def test_transmit_without_a_model(capsys, speech_wav, tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "PACKAGE_MODELS", tmp_path)
    code, _, err = run_cli(capsys, "transmit", speech_wav, "--system", "text")
    assert_one_line_error(code, err, "pass --asr-model RUNDIR")
    code, _, err = run_cli(capsys, "transmit", speech_wav)
    assert_one_line_error(code, err, "pass --model RUNDIR")


def test_registry_and_defaults(tmp_path, monkeypatch):
    assert PROJECT_SYSTEMS.names == ("deepsc-st", "speech", "text", "feature", "sr-deepsc", "codec")
    assert [kind.option for kind in PROJECT_SYSTEMS.model_kinds] == ["--model", "--asr-model", "--text-model", "--codec-model"]
    assert [option.flag for option in PROJECT_SYSTEMS.options] == ["--lm", "--decoder", "--link", "--symbol-budget", "--huffman-table", "--unknown-words", "--codebooks"]
    monkeypatch.setattr(shipped, "PACKAGE_MODELS", tmp_path)
    assert (ASR_MODEL.shipped, DEEPSC_ST_MODEL.shipped) == ("asr-small-games-texts", "deepsc-st-small-games-texts")
    with pytest.raises(UserError, match=r"no shipped asr-small-games-texts model found; pass --asr-model"):
        ASR_MODEL.default_dir()
    (tmp_path / DEEPSC_ST_MODEL.shipped).mkdir()
    assert DEEPSC_ST_MODEL.default_dir() == tmp_path / DEEPSC_ST_MODEL.shipped
    other = tmp_path / "elsewhere"
    (other / DEEPSC_ST_MODEL.shipped).mkdir(parents=True)
    monkeypatch.setenv(shipped.MODELS_ENV, str(other))
    assert DEEPSC_ST_MODEL.default_dir() == other / DEEPSC_ST_MODEL.shipped  # the environment comes first on the search path
    with pytest.raises(UserError, match="polar decoder 'slow'; choose one of fast, sionna"):
        build_transceiver("speech", decoder="slow")


def test_model_of_the_wrong_kind(asr_run):
    with pytest.raises(UserError, match="--model .* is an ASR-only run .* it takes a DeepSC-ST run"):
        build_transceiver("deepsc-st", deepsc_run_dir=asr_run)


def test_huffman_table_sources(asr_run, espeak_corpus, tmp_path):
    run = shutil.copytree(asr_run, tmp_path / "asr", ignore=shutil.ignore_patterns("huffman.json"))
    built = build_transceiver("text", asr_run_dir=run).codec  # default: made from the run's training corpus, then kept
    transcripts = [u.text for u in read_utterances(espeak_corpus, "train")]
    assert built.code_table == HuffmanTextCodec.from_transcripts(transcripts).code_table
    assert HuffmanTextCodec.from_json((run / "huffman.json").read_text()).code_table == built.code_table

    uniform = HuffmanTextCodec.from_transcripts([])
    (tmp_path / "table.json").write_text(uniform.to_json())
    assert build_transceiver("text", asr_run_dir=run, huffman_table=tmp_path / "table.json").codec.code_table == uniform.code_table
    assert build_transceiver("text", asr_run_dir=run, huffman_table=espeak_corpus).codec.code_table == built.code_table

    (tmp_path / "broken.json").write_text("{}")
    with pytest.raises(UserError, match="not a Huffman table"):
        build_transceiver("text", asr_run_dir=run, huffman_table=tmp_path / "broken.json")
    (run / "huffman.json").unlink()
    stored = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**stored, "data": str(tmp_path / "gone")}))
    with pytest.raises(UserError, match="huffman.json is missing .* pass --huffman-table"):
        build_transceiver("text", asr_run_dir=run)


@pytest.mark.parametrize("system", ["text", "speech"])
def test_transmit_writes_the_received_speech(capsys, sentence_asr, espeak_corpus, tmp_path, system):
    utterance = read_utterances(espeak_corpus, "train")[0]
    out_wav = tmp_path / "received.wav"
    args = ["transmit", utterance.wav_path, "--system", system, "--asr-model", sentence_asr, "--snr", "30", "--user", "spk00", "--out-wav", out_wav]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    assert out.strip() == utterance.text
    received = load_audio(out_wav)
    if system == "text":  # the receiver speaks the recovered text in spk00's (deterministic) voice, written as 16-bit PCM
        from deepsc_st.synthesis import RegisteredVoices

        assert np.allclose(received, RegisteredVoices().synthesize(utterance.text, "spk00"), atol=1.5 / 32768)
    else:  # AMR-WB's decoded speech: still readable
        asr = FeatureTransceiver(load_run(sentence_asr)[0])
        assert asr.transcribe([received]) == [utterance.text]


def test_transmit_out_wav_errors(capsys, sentence_asr, speech_wav, tmp_path):
    base = ["transmit", speech_wav, "--asr-model", sentence_asr]
    code, _, err = run_cli(capsys, *base, "--system", "text", "--user", "alice", "--out-wav", tmp_path / "a.wav")
    assert_one_line_error(code, err, "unknown user 'alice'; registered users: spk00")
    code, _, err = run_cli(capsys, *base, "--system", "feature", "--out-wav", tmp_path / "a.wav")
    assert_one_line_error(code, err, "the feature system's receiver outputs no speech")
    code, _, err = run_cli(capsys, *base, "--system", "text", "--out-wav", tmp_path / "missing" / "a.wav")
    assert_one_line_error(code, err, "no such folder")
    assert not list(tmp_path.rglob("*.wav"))
