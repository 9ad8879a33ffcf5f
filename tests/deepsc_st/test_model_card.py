import json
import shlex

import pytest

from deepsc_st import shipped
from deepsc_st.checkpoint import load_run
from deepsc_st.config import get_config
from deepsc_st.model_card import _ancestor_line, render_shipped_card, write_model_card
from deepsc_st.settings import from_arguments
from deepsc_st.train import TrainingSettings, train
from experiments.cli import build_parser

pytestmark = pytest.mark.slow  # trains tiny runs


def test_model_card_of_a_deepsc_run(espeak_corpus, tmp_path):
    run_dir = tmp_path / "run"
    settings = TrainingSettings(config=get_config("tiny"), data=str(espeak_corpus), channel="rician", snr_db=(8.0, 8.0), epochs=1, batch_size=4, max_utterances=8, validation_utterances=2)
    train(settings, run_dir, progress=False)
    card = write_model_card(run_dir, tmp_path / "shipped", espeak_corpus, utterances=4, human_data=espeak_corpus)
    text = card.read_text()
    assert "| human | awgn | 20 |" in text and "| 20 |" in text.split("| human |")[1]  # the human-speech row: all of that folder
    assert "DeepSC-ST trained under rician at 8 dB" in text
    assert f"deepsc-st train --config tiny --data {espeak_corpus} --channel rician --snr 8 --epochs 1 --batch-size 4" in text
    assert f"--max-utterances 8 --validation-utterances 2 --out {run_dir}" in text
    assert "Training time:" in text and "Trained at commit:" in text
    assert text.count("| test | ") == 12  # 3 channels x 4 SNRs
    assert "| epoch | minutes (cumulative) | training loss | validation CER |" in text
    assert text.count("\n| 1 | ") == 1  # one row for the one epoch
    assert render_shipped_card(tmp_path / "shipped") == text  # the card is its measurements.json and history.csv
    model, run = load_run(tmp_path / "shipped")
    assert run["kind"] == "deepsc-st" and model.config.name == "tiny"


def test_remeasuring_in_place_keeps_the_facts(espeak_corpus, tmp_path):
    run_dir = tmp_path / "run"
    train(TrainingSettings(config=get_config("tiny"), data=str(espeak_corpus), epochs=1, batch_size=4, max_utterances=8, validation_utterances=2), run_dir, progress=False)
    shipped = tmp_path / "shipped"
    write_model_card(run_dir, shipped, espeak_corpus, utterances=2, note="first")
    before = json.loads((shipped / "measurements.json").read_text())
    write_model_card(shipped, shipped, espeak_corpus, utterances=3)
    after = json.loads((shipped / "measurements.json").read_text())
    assert after["facts"] == before["facts"] and after["facts"]["commands"][-1].endswith(f"--out {run_dir}")
    assert [row["utterances"] for row in after["rows"]] == [3]


def test_the_card_command_trains_the_same_settings():
    settings = TrainingSettings(
        config=get_config("small"), data="data/synth", channel="awgn", snr_db=(0.0, 20.0), epochs=3, learning_rate=5e-4, seed=1,
        lr_schedule="cosine", spec_augment=True, k_factor=4.0, init_from="models/asr-small", freeze_encoder=True,
    )
    command = settings.command_line("runs/x")
    assert command == (
        "deepsc-st train --config small --data data/synth --channel awgn --snr 0:20 --epochs 3 --batch-size 16 --lr 0.0005 "
        "--lr-schedule cosine --spec-augment --seed 1 --k-factor 4 --init-from models/asr-small --freeze-encoder --out runs/x"
    )
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert from_arguments(TrainingSettings, args) == settings and args.out == "runs/x"
    asr = TrainingSettings(config=get_config("small"), data="data/synth")
    assert "--snr" not in asr.command_line("runs/asr")  # no channel, no SNR


def test_card_lists_the_runs_it_was_initialised_from(espeak_corpus, tmp_path):
    common = dict(config=get_config("tiny"), data=str(espeak_corpus), epochs=1, batch_size=4, max_utterances=8, validation_utterances=2)
    train(TrainingSettings(channel="none", **common), tmp_path / "asr", progress=False)
    finetune = TrainingSettings(channel="none", learning_rate=3e-4, lr_schedule="cosine", spec_augment=True, init_from=str(tmp_path / "asr"), **common)
    train(finetune, tmp_path / "asr-ft", progress=False)
    text = write_model_card(tmp_path / "asr-ft", tmp_path / "shipped", espeak_corpus, utterances=2, note="Read the notes.").read_text()
    first, second = text.index(f"--out {tmp_path / 'asr'}\n"), text.index(f"--out {tmp_path / 'asr-ft'}\n")
    assert first < second  # training order
    assert "--lr 0.0003 --lr-schedule cosine --spec-augment --seed 0" in text and f"--init-from {tmp_path / 'asr'}" in text
    assert f"- First `{tmp_path / 'asr'}`: 1 epochs, validation CER" in text and "min (this run)" in text
    assert text.rstrip().endswith("## Notes\n\nRead the notes.")


def test_the_earlier_runs_read_first_then_in_training_order():
    runs = [{"run": f"runs/{name}", "epochs": 2, "val_cer": 0.5, "seconds": 120.0} for name in ("a", "b", "c")]
    assert [_ancestor_line(order, run).split(" `")[0] for order, run in enumerate(runs)] == ["- First", "- Then", "- Then"]
    assert _ancestor_line(1, runs[1]) == "- Then `runs/b`: 2 epochs, validation CER 0.5000, 2.0 min."


def test_a_run_initialised_from_a_shipped_model_takes_over_its_history(espeak_corpus, tmp_path):
    common = dict(config=get_config("tiny"), data=str(espeak_corpus), epochs=1, batch_size=4, max_utterances=8, validation_utterances=2)
    train(TrainingSettings(**common), tmp_path / "first", progress=False)
    write_model_card(tmp_path / "first", tmp_path / "shipped", espeak_corpus, utterances=2)  # its card knows how it was made
    train(TrainingSettings(init_from=str(tmp_path / "shipped"), **common), tmp_path / "second", progress=False)
    facts = json.loads(write_model_card(tmp_path / "second", tmp_path / "next", espeak_corpus, utterances=2).with_name("measurements.json").read_text())["facts"]
    assert [command.rsplit(" --out ", 1)[1] for command in facts["commands"]] == [str(tmp_path / "first"), str(tmp_path / "second")]
    assert [ancestor["run"] for ancestor in facts["ancestors"]] == [str(tmp_path / "first")]
    # Shipped over the folder it started from, then shipped again (new measurements): its own line is not doubled.
    write_model_card(tmp_path / "second", tmp_path / "shipped", espeak_corpus, utterances=2)
    again = json.loads(write_model_card(tmp_path / "second", tmp_path / "again", espeak_corpus, utterances=2).with_name("measurements.json").read_text())["facts"]
    assert again["commands"] == facts["commands"] and again["ancestors"] == facts["ancestors"]


def test_a_run_initialised_from_a_shipped_model_by_name_takes_over_its_history(espeak_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "PACKAGE_MODELS", tmp_path / "models")
    common = dict(config=get_config("tiny"), data=str(espeak_corpus), epochs=1, batch_size=4, max_utterances=8, validation_utterances=2)
    train(TrainingSettings(**common), tmp_path / "first", progress=False)
    write_model_card(tmp_path / "first", tmp_path / "models" / "asr-first", espeak_corpus, utterances=2)
    train(TrainingSettings(init_from="asr-first", **common), tmp_path / "second", progress=False)
    facts = json.loads(write_model_card(tmp_path / "second", tmp_path / "next", espeak_corpus, utterances=2).with_name("measurements.json").read_text())["facts"]
    assert [command.rsplit(" --out ", 1)[1] for command in facts["commands"]] == [str(tmp_path / "first"), str(tmp_path / "second")]
    assert "--init-from asr-first" in facts["commands"][1]
