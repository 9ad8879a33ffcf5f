"""One measurement path: a card row, ``deepsc-st evaluate`` and a sweep cell give the same number."""

import json

import pytest

from channels import make_channel
from deepsc_st.checkpoint import load_run
from deepsc_st.config import get_config
from deepsc_st.data import load_utterances
from deepsc_st.measure import measure, measurement_seed
from deepsc_st.model_card import measure_run
from deepsc_st.train import TrainingSettings, train
from deepsc_st.transceiver import DeepSCSTTransceiver
from experiments.sweep import SweepSettings, run_sweep
from tests.cli_helpers import run_cli

pytestmark = pytest.mark.slow  # trains a tiny DeepSC-ST run


@pytest.fixture(scope="module")
def deepsc_run(espeak_corpus, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("one-path") / "deepsc"
    settings = TrainingSettings(config=get_config("tiny"), data=str(espeak_corpus), channel="rayleigh", epochs=1, batch_size=4, max_utterances=8, validation_utterances=2)
    train(settings, run_dir, progress=False)
    return run_dir


def test_card_evaluate_and_sweep_cell_agree(capsys, deepsc_run, espeak_corpus, tmp_path):
    model, run = load_run(deepsc_run)
    card = {(row["channel"], row["snr_db"]): row for row in measure_run(model, run, espeak_corpus, utterances=6)}
    code, out, err = run_cli(capsys, "evaluate", "--model", deepsc_run, "--data", espeak_corpus, "--channel", "rayleigh", "--snr", "0", "--utterances", "6", "--json")
    assert code == 0, err
    evaluated = json.loads(out)
    settings = SweepSettings(
        name="one-path", data=str(espeak_corpus), utterances=6, systems=("deepsc-st",), channels=("rayleigh",), snrs=(0.0,),
        models={"deepsc-st": str(deepsc_run)}, results=str(tmp_path), workers=1, speech_quality=False,
    )
    run_sweep(settings, progress=False)
    [cell] = [json.loads(path.read_text()) for path in (tmp_path / "one-path" / "cells").glob("*.json")]
    row = card[("rayleigh", 0.0)]
    for key in ("cer", "wer", "utterances", "symbols_per_16000_samples", "cell_seed", "examples"):
        assert row[key] == evaluated[key] == cell[key], key
    assert 0 < row["cer"]  # a one-epoch model over Rayleigh at 0 dB makes errors: the agreement covers the noise draws


def test_a_measurement_does_not_depend_on_what_ran_before(deepsc_run, espeak_corpus):
    model, _ = load_run(deepsc_run)
    transceiver, utterances, channel = DeepSCSTTransceiver(model), load_utterances(espeak_corpus, "test", 4), make_channel("rayleigh")
    first = measure(transceiver, utterances, channel, -4.0, seed=7)
    measure(transceiver, utterances, make_channel("awgn"), 3.0, seed=2)  # other draws in between
    again = measure(transceiver, utterances, channel, -4.0, seed=7)
    assert [t.text for t in first.transmissions] == [t.text for t in again.transmissions]
    assert first.cell_seed == again.cell_seed == measurement_seed(7, "deepsc-st", "rayleigh", -4.0)
    other_seed = measure(transceiver, utterances, channel, -4.0, seed=8)
    assert other_seed.cell_seed != first.cell_seed
