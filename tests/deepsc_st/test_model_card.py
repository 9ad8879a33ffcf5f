from deepsc_st.checkpoint import load_run
from deepsc_st.config import get_config
from deepsc_st.model_card import training_command, write_model_card
from deepsc_st.train import TrainingSettings, train


def test_model_card_of_a_deepsc_run(espeak_corpus, tmp_path):
    run_dir = tmp_path / "run"
    settings = TrainingSettings(config=get_config("tiny"), data=str(espeak_corpus), channel="rician", snr_db=(8.0, 8.0), epochs=1, batch_size=4, max_utterances=8, validation_utterances=2)
    train(settings, run_dir, progress=False)
    card = write_model_card(run_dir, tmp_path / "shipped", espeak_corpus, utterances=4)
    text = card.read_text()
    assert "DeepSC-ST trained under rician at 8 dB" in text
    assert f"--channel rician --snr 8 --out {run_dir} --epochs 1 --batch-size 4" in text
    assert "Training time:" in text and "Trained at commit:" in text
    assert text.count("| test | ") == 12  # 3 channels x 4 SNRs
    assert "| epoch | minutes (cumulative) | training loss | validation CER |" in text
    assert text.count("\n| 1 | ") == 1  # one row for the one epoch
    model, run = load_run(tmp_path / "shipped")
    assert run["kind"] == "deepsc-st" and model.config.name == "tiny"


def test_training_command_with_snr_range_and_init():
    run = {"config": {"name": "small"}, "data": "data/synth", "channel": "awgn", "snr_db": [0.0, 20.0], "batch_size": 16,
           "learning_rate": 5e-4, "seed": 1, "init_from": "models/asr-small", "max_utterances": None}
    assert training_command(run, 3, "runs/x") == (
        "deepsc-st train --config small --data data/synth --channel awgn --snr 0:20 --out runs/x "
        "--epochs 3 --batch-size 16 --lr 0.0005 --seed 1 --init-from models/asr-small"
    )
    assert training_command({**run, "freeze_encoder": True}, 3, "runs/x").endswith("--init-from models/asr-small --freeze-encoder")


def test_card_lists_the_runs_it_was_initialised_from(espeak_corpus, tmp_path):
    common = dict(config=get_config("tiny"), data=str(espeak_corpus), epochs=1, batch_size=4, max_utterances=8, validation_utterances=2)
    train(TrainingSettings(channel="none", **common), tmp_path / "asr", progress=False)
    finetune = TrainingSettings(channel="none", learning_rate=3e-4, lr_schedule="cosine", spec_augment=True, init_from=str(tmp_path / "asr"), **common)
    train(finetune, tmp_path / "asr-ft", progress=False)
    text = write_model_card(tmp_path / "asr-ft", tmp_path / "shipped", espeak_corpus, utterances=2, note="Read the notes.").read_text()
    first, second = text.index(f"--out {tmp_path / 'asr'} "), text.index(f"--out {tmp_path / 'asr-ft'} ")
    assert first < second  # training order
    assert "--lr 0.0003 --seed 0 --lr-schedule cosine --spec-augment --init-from" in text
    assert f"- First `{tmp_path / 'asr'}`: 1 epochs, validation CER" in text and "min (this run)" in text
    assert text.rstrip().endswith("## Notes\n\nRead the notes.")
