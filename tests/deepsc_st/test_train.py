import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from channels import make_channel
from deepsc_st.checkpoint import load_run, read_state
from deepsc_st.config import get_config
from deepsc_st.data import load_utterances
from deepsc_st.errors import UserError
from deepsc_st.measure import measure
from deepsc_st.train import TrainingSettings, train
from deepsc_st.transceiver import DeepSCSTTransceiver

pytestmark = pytest.mark.slow  # every test here trains


def settings(data, **overrides):
    values = dict(config=get_config("tiny"), data=str(data), channel="none", epochs=2, batch_size=4, learning_rate=3e-3)
    values.update(overrides)
    return TrainingSettings(**values)


def test_tiny_overfits_twenty_utterances(overfit_asr_run, espeak_corpus):
    run_dir, elapsed = overfit_asr_run
    model, run = load_run(run_dir)
    result = measure(DeepSCSTTransceiver(model), load_utterances(espeak_corpus, "test"), make_channel("none"), 0.0)
    print(f"overfit: CER {result.cer:.3f} after {elapsed:.0f} s")
    assert result.utterances == 20 and result.system == "asr" and result.symbols_per_16000_samples == 0
    assert result.cer < 0.05


def test_run_folder_contents(overfit_asr_run):
    run_dir, _ = overfit_asr_run
    assert read_state(run_dir)["epochs_done"] == 60
    with open(run_dir / "history.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["epoch"]) for row in rows] == list(range(60))
    assert {"loss", "val_loss", "val_cer"} <= set(rows[0])
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    assert any((run_dir / "logs").rglob("events.out.tfevents.*"))
    assert len(list(run_dir.glob("epoch-*.weights.h5"))) == 1


def test_more_epochs_continue_the_run(espeak_corpus, tmp_path):
    run_dir = tmp_path / "run"
    train(settings(espeak_corpus, epochs=1, max_utterances=8), run_dir, progress=False)
    result = train(settings(espeak_corpus, epochs=2, max_utterances=8), run_dir, progress=False)
    assert result["epochs_done"] == 2
    assert read_state(run_dir) == {"epochs_done": 2, "checkpoint": "epoch-0002.weights.h5"}
    with open(run_dir / "history.csv") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["0", "1"]


def test_different_settings_refuse_the_run_folder(espeak_corpus, tmp_path):
    run_dir = tmp_path / "run"
    train(settings(espeak_corpus, epochs=1, max_utterances=8), run_dir, progress=False)
    with pytest.raises(UserError, match="learning_rate"):
        train(settings(espeak_corpus, epochs=2, max_utterances=8, learning_rate=1e-3), run_dir, progress=False)


def test_deepsc_trains_under_a_channel_with_snr_range(espeak_corpus, tmp_path):
    run_dir = tmp_path / "deepsc"
    train(settings(espeak_corpus, channel="rayleigh", snr_db=(0.0, 10.0), epochs=1, max_utterances=8), run_dir, progress=False)
    model, run = load_run(run_dir)
    assert run["kind"] == "deepsc-st" and run["snr_db"] == [0.0, 10.0]
    result = measure(DeepSCSTTransceiver(model), load_utterances(espeak_corpus, "test", 4), make_channel("awgn"), 5.0)
    assert result.utterances == 4 and len(result.transmissions) == 4 and result.system == "deepsc-st"
    assert all(t.channel_symbols > 0 and t.channel_symbols % 20 == 0 for t in result.transmissions)  # 20 complex symbols per step
    assert 500 <= result.symbols_per_16000_samples <= 560


def test_freeze_encoder_trains_only_the_channel_codec(espeak_corpus, tmp_path):
    asr_dir, run_dir = tmp_path / "asr", tmp_path / "frozen"
    train(settings(espeak_corpus, epochs=1, max_utterances=8), asr_dir, progress=False)
    frozen = settings(espeak_corpus, channel="awgn", epochs=1, max_utterances=8, init_from=str(asr_dir), freeze_encoder=True)
    train(frozen, run_dir, progress=False)
    after_one, run = load_run(run_dir)
    train(dataclasses.replace(frozen, epochs=2), run_dir, progress=False)  # resumes with the encoder still frozen
    after_two, _ = load_run(run_dir)
    asr, _ = load_run(asr_dir)
    assert run["freeze_encoder"] is True
    for model in (after_one, after_two):
        for expected, actual in zip(asr.semantic_encoder.get_weights(), model.semantic_encoder.get_weights(), strict=True):
            np.testing.assert_array_equal(actual, expected)  # BatchNorm statistics included
    codec_one, codec_two = after_one.channel_encoder.get_weights(), after_two.channel_encoder.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(codec_one, codec_two))
    with pytest.raises(UserError, match="needs a channel and --init-from"):
        train(settings(espeak_corpus, channel="awgn", freeze_encoder=True), tmp_path / "no-init", progress=False)
    other_config = dataclasses.replace(get_config("tiny"), gru_dropout=0.5)
    with pytest.raises(UserError, match=r"config differs from 'tiny' \(gru_dropout 0.0 != 0.5\)"):
        train(dataclasses.replace(frozen, config=other_config), tmp_path / "other-config", progress=False)


def test_kill_9_then_rerun_resumes_after_last_finished_epoch(espeak_corpus, tmp_path):
    run_dir = tmp_path / "killed"
    def command(epochs):
        return [
            sys.executable, "-m", "experiments.cli", "train", "--config", "tiny", "--data", str(espeak_corpus),
            "--channel", "none", "--out", str(run_dir), "--epochs", str(epochs), "--batch-size", "4", "--max-utterances", "8", "--quiet",
        ]

    process = subprocess.Popen(command(200), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and read_state(run_dir).get("epochs_done", 0) < 1:
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = read_state(run_dir)["epochs_done"]
    assert done >= 1
    load_run(run_dir)  # the weights on disk are complete
    rerun = subprocess.run(command(done + 1), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resuming {run_dir} after epoch {done}" in rerun.stderr
    assert read_state(run_dir)["epochs_done"] == done + 1
    with open(run_dir / "history.csv") as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == list(range(done + 1))
    assert json.loads((run_dir / "run.json").read_text())["channel"] == "none"


def test_cosine_schedule_decays_to_five_percent_over_the_run():
    settings = TrainingSettings(config=get_config("tiny"), data="unused", epochs=4, learning_rate=1e-3, lr_schedule="cosine")
    schedule = settings.learning_rate_schedule(batches_per_epoch=10)
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert float(schedule(0)) == pytest.approx(1e-3) and float(schedule(20)) == pytest.approx(0.525e-3)
    assert float(schedule(40)) == pytest.approx(0.05e-3)
    assert settings.to_run()["lr_schedule"] == "cosine" and settings.to_run()["epochs"] == 4
    constant = TrainingSettings(config=get_config("tiny"), data="unused", learning_rate=1e-3)
    assert constant.learning_rate_schedule(10) == 1e-3


def test_warmup_cosine_rises_over_two_epochs_then_decays():
    settings = TrainingSettings(config=get_config("text-tiny"), data="unused", epochs=6, learning_rate=1e-3, lr_schedule="warmup-cosine")
    schedule = settings.learning_rate_schedule(batches_per_epoch=10)
    assert float(schedule(0)) == pytest.approx(0.0) and float(schedule(10)) == pytest.approx(0.5e-3)
    assert float(schedule(20)) == pytest.approx(1e-3) and float(schedule(60)) == pytest.approx(0.05e-3)


def test_unknown_schedule_is_refused_before_training(tmp_path):
    with pytest.raises(UserError, match="unknown learning-rate schedule 'step'"):
        train(TrainingSettings(config=get_config("tiny"), data=str(tmp_path), lr_schedule="step"), tmp_path / "run", progress=False)


def test_several_corpora_train_together(espeak_corpus, tmp_path):
    from deepsc_st.model_card import card_facts
    from deepsc_st.train import load_corpora
    from tests.conftest import write_espeak_corpus

    other = write_espeak_corpus(tmp_path / "other", voice="en-gb", rate=170)
    both = f"{espeak_corpus},{other}"
    loaded = load_corpora(both, "train", 3, progress=False)
    assert [item.utterance.wav_path.parents[1] for item in loaded] == [espeak_corpus] * 3 + [other] * 3
    result = train(settings(both, epochs=1, max_utterances=4, validation_utterances=2), tmp_path / "run", progress=False)
    assert result["epochs_done"] == 1
    model, run = load_run(tmp_path / "run")
    facts = card_facts(tmp_path / "run", model, run, [], espeak_corpus, 1.0, None)
    assert [corpus["data"] for corpus in facts["corpus"]] == [str(espeak_corpus), str(other)]
