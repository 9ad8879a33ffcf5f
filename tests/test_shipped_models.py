"""The models shipped in models/ load, have the small shape and carry their model cards."""

from pathlib import Path

import pytest

from deepsc_st.checkpoint import load_run
from deepsc_st.model import ASRModel, DeepSCST

MODELS = Path(__file__).resolve().parent.parent / "models"


@pytest.mark.parametrize("folder, kind", [("asr-small", ASRModel), ("deepsc-st-small", DeepSCST)])
def test_shipped_model_loads_with_its_card(folder, kind):
    model, run = load_run(MODELS / folder)
    assert isinstance(model, kind) and model.config.name == "small"
    card = (MODELS / folder / "MODEL.md").read_text()
    assert "deepsc-st train --config small" in card and "| test |" in card
    assert (MODELS / folder / "model.weights.h5").stat().st_size < 25e6


def test_deepsc_st_model_was_trained_under_rician_around_8_db():
    _, run = load_run(MODELS / "deepsc-st-small")
    low, high = run["snr_db"]
    assert run["channel"] == "rician" and low <= 8.0 <= high
    assert (MODELS / "asr-small" / "huffman.json").is_file()
