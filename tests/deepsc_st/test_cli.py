import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.cli_helpers import assert_one_line_error, run_cli
from deepsc_st import shipped
from deepsc_st.config import get_config
from deepsc_st.train import TrainingSettings, train
from experiments.systems import PROJECT_SYSTEMS


@pytest.fixture(scope="module")
def tiny_run(espeak_corpus, tmp_path_factory):
    """A tiny DeepSC-ST run trained for one epoch (its quality does not matter here)."""
    run_dir = tmp_path_factory.mktemp("cli") / "deepsc"
    settings = TrainingSettings(config=get_config("tiny"), data=str(espeak_corpus), channel="awgn", epochs=1, batch_size=4, max_utterances=8, validation_utterances=2)
    train(settings, run_dir, progress=False)
    return run_dir


@pytest.fixture(scope="module")
def speech_wav(espeak_corpus, tmp_path_factory):
    """An espeak-ng sentence re-written at 44.1 kHz, stereo, 24 bit."""
    samples, rate = soundfile.read(espeak_corpus / "wavs" / "utt000.wav", dtype="float32")
    path = tmp_path_factory.mktemp("wav") / "stereo44k.wav"
    stereo = np.repeat(np.interp(np.arange(0, len(samples), rate / 44_100), np.arange(len(samples)), samples)[:, None], 2, axis=1)
    soundfile.write(path, stereo, 44_100, subtype="PCM_24")
    return path


def test_transmit_converts_any_wav_and_prints_text(capsys, tiny_run, speech_wav):
    code, out, err = run_cli(capsys, "transmit", speech_wav, "--model", tiny_run, "--channel", "rayleigh", "--snr", "4", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert isinstance(result["text"], str) and result["channel"] == "rayleigh"
    assert result["channel_symbols"] > 0 and result["channel_symbols"] % 20 == 0


def test_transmit_is_repeatable_with_a_seed(capsys, tiny_run, speech_wav):
    outputs = [run_cli(capsys, "transmit", speech_wav, "--model", tiny_run, "--snr", "-5", "--seed", "3")[1] for _ in range(2)]
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(
    "make_file, fragment",
    [
        (lambda p: p.write_text("this is not audio"), "not a readable audio file"),
        (lambda p: p.write_bytes(b""), "not a readable audio file"),
        (lambda p: soundfile.write(p, np.zeros(0, np.float32), 16_000), "empty"),
        (lambda p: soundfile.write(p, np.zeros(16_000, np.float32), 16_000), "silent"),
        (lambda p: soundfile.write(p, np.full(100, 0.1, np.float32), 16_000), "shorter than one 20 ms frame"),
    ],
    ids=["text-file", "zero-bytes", "empty-wav", "silent-wav", "too-short"],
)
def test_transmit_bad_audio(capsys, tiny_run, tmp_path, make_file, fragment):
    path = tmp_path / "bad.wav"
    make_file(path)
    code, _, err = run_cli(capsys, "transmit", path, "--model", tiny_run)
    assert_one_line_error(code, err, fragment)


def test_transmit_missing_file(capsys, tiny_run, tmp_path):
    code, _, err = run_cli(capsys, "transmit", tmp_path / "nothing.wav", "--model", tiny_run)
    assert_one_line_error(code, err, "no such file")


@pytest.mark.parametrize("command", ["transmit", "evaluate"])
def test_unknown_channel(capsys, tiny_run, speech_wav, espeak_corpus, command):
    first = [speech_wav] if command == "transmit" else ["--data", espeak_corpus]
    code, _, err = run_cli(capsys, command, *first, "--model", tiny_run, "--channel", "nakagami")
    assert_one_line_error(code, err, "none, awgn, rayleigh, rician")


@pytest.mark.parametrize("command", ["transmit", "evaluate"])
def test_non_numeric_snr(capsys, tiny_run, speech_wav, espeak_corpus, command):
    first = [speech_wav] if command == "transmit" else ["--data", espeak_corpus]
    code, _, err = run_cli(capsys, command, *first, "--model", tiny_run, "--snr", "loud")
    assert_one_line_error(code, err, "not a number")


@pytest.mark.parametrize("command", ["transmit", "evaluate"])
def test_missing_model_folder(capsys, speech_wav, espeak_corpus, tmp_path, command):
    first = [speech_wav] if command == "transmit" else ["--data", espeak_corpus]
    code, _, err = run_cli(capsys, command, *first, "--model", tmp_path / "no-such-run")
    assert_one_line_error(code, err, "no such model folder")


@pytest.mark.parametrize("damage", ["missing", "truncated"])
@pytest.mark.parametrize("command", ["transmit", "evaluate"])
def test_missing_or_truncated_checkpoint(capsys, tiny_run, speech_wav, espeak_corpus, tmp_path, damage, command):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_run, broken)
    weights = broken / "model.weights.h5"
    if damage == "missing":
        weights.unlink()
    else:
        weights.write_bytes(weights.read_bytes()[:5000])
    first = [speech_wav] if command == "transmit" else ["--data", espeak_corpus]
    code, _, err = run_cli(capsys, command, *first, "--model", broken)
    assert_one_line_error(code, err, "model.weights.h5")
    if damage == "truncated":
        assert weights.stat().st_size == 5000  # the user's file is left as it was


def test_mismatched_checkpoint(capsys, tiny_run, speech_wav, tmp_path):
    broken = tmp_path / "mismatch"
    shutil.copytree(tiny_run, broken)
    run = json.loads((broken / "run.json").read_text())
    run["config"]["gru_units"] = 32
    (broken / "run.json").write_text(json.dumps(run))
    code, _, err = run_cli(capsys, "transmit", speech_wav, "--model", broken)
    assert_one_line_error(code, err, "cannot load checkpoint")


def test_evaluate_prints_scores(capsys, tiny_run, espeak_corpus):
    code, out, err = run_cli(capsys, "evaluate", "--model", tiny_run, "--data", espeak_corpus, "--split", "test", "--channel", "awgn", "--snr", "0", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert {"cer", "wer", "utterances", "symbols_per_16000_samples"} <= set(result)
    assert result["utterances"] == 20


def test_evaluate_uses_the_shipped_models_by_default(capsys, tiny_run, espeak_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "PACKAGE_MODELS", tmp_path)
    shutil.copytree(tiny_run, tmp_path / "deepsc-st-small-games-texts")
    code, out, err = run_cli(capsys, "evaluate", "--data", espeak_corpus, "--channel", "awgn", "--snr", "8", "--utterances", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["model"] == str(tmp_path / "deepsc-st-small-games-texts")
    code, _, err = run_cli(capsys, "evaluate", "--data", espeak_corpus, "--channel", "none")
    assert_one_line_error(code, err, "no shipped asr-small-games-texts model found; pass --model RUNDIR")


def test_a_model_option_takes_a_shipped_model_by_name(capsys, tiny_run, espeak_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "PACKAGE_MODELS", tmp_path / "models")
    shutil.copytree(tiny_run, tmp_path / "models" / "deepsc-st-other")
    code, out, err = run_cli(capsys, "evaluate", "--model", "deepsc-st-other", "--data", espeak_corpus, "--channel", "awgn", "--snr", "8", "--utterances", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["model"] == str(tmp_path / "models" / "deepsc-st-other")
    assert PROJECT_SYSTEMS.model_dirs({"deepsc-st": "deepsc-st-other"})["deepsc-st"] == tmp_path / "models" / "deepsc-st-other"
    monkeypatch.chdir(tmp_path / "models")  # a folder of that name in the working directory comes first
    assert shipped.model_folder("deepsc-st-other") == Path("deepsc-st-other")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "transmit", str(next(Path(espeak_corpus).rglob("*.wav"))), "--model", "no-such-model")
    assert_one_line_error(code, err, "no-such-model: no such model folder or shipped model")


def test_evaluate_unknown_split_and_missing_data(capsys, tiny_run, espeak_corpus, tmp_path):
    code, _, err = run_cli(capsys, "evaluate", "--model", tiny_run, "--data", espeak_corpus, "--split", "dev")
    assert_one_line_error(code, err, "unknown split")
    code, _, err = run_cli(capsys, "evaluate", "--model", tiny_run, "--data", tmp_path / "nowhere")
    assert_one_line_error(code, err, "no such data folder")


def test_info_json(capsys):
    code, out, _ = run_cli(capsys, "info", "--config", "tiny", "--json")
    info = json.loads(out)
    assert code == 0 and info["symbols_per_16000_samples"] == 520 and info["steps_per_second"] == 25
    assert info["trainable_params"] - info["asr_trainable_params"] == 7309  # the channel codec


def test_train_bad_arguments(capsys, espeak_corpus, tmp_path):
    code, _, err = run_cli(capsys, "train", "--data", espeak_corpus, "--out", tmp_path / "r", "--snr", "20:0")
    assert_one_line_error(code, err, "LOW:HIGH")
    code, _, err = run_cli(capsys, "train", "--data", espeak_corpus, "--out", tmp_path / "r", "--config", "huge")
    assert_one_line_error(code, err, "paper, small, medium, tiny")
    code, _, err = run_cli(capsys, "train", "--data", espeak_corpus, "--out", tmp_path / "r", "--resume")
    assert_one_line_error(code, err, "nothing to resume")


def test_ship_writes_a_model_folder(capsys, tiny_run, espeak_corpus, tmp_path):
    code, out, err = run_cli(capsys, "ship", "--run", tiny_run, "--out", tmp_path / "shipped", "--data", espeak_corpus, "--utterances", "2")
    assert code == 0, err
    assert "# DeepSC-ST trained under awgn" in out
    assert {"MODEL.md", "model.weights.h5", "run.json", "history.csv", "measurements.json"} <= {p.name for p in (tmp_path / "shipped").iterdir()}
