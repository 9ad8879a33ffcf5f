"""The shipped models load, have the small shape, and their cards are exactly what their measurements say."""

import subprocess
import sys
from pathlib import Path

import pytest

from deepsc_st.checkpoint import load_run
from deepsc_st.codec import SpeechCodec
from deepsc_st.model import ASRModel, DeepSCST
from deepsc_st.text_model import DeepSCText
from deepsc_st.model_card import render_shipped_card
from deepsc_st.shipped import PACKAGE_MODELS, shipped_model_dir
from deepsc_st.transceiver import ASR_MODEL, DEEPSC_ST_MODEL

ROOT = Path(__file__).resolve().parents[1]


SHIPPED = [
    ("asr-small", ASRModel, "small"),
    ("deepsc-st-small", DeepSCST, "small"),
    ("asr-small-games-espeak", ASRModel, "small"),
    ("deepsc-st-small-games-espeak", DeepSCST, "small"),
    ("asr-small-games-texts", ASRModel, "small"),
    ("deepsc-st-small-games-texts", DeepSCST, "small"),
    ("asr-small-mixed", ASRModel, "small"),
    ("asr-small-kokoro", ASRModel, "small"),
    ("asr-small-blends", ASRModel, "small"),
    ("deepsc-st-small-blends", DeepSCST, "small"),
    ("asr-small-kokoro-all", ASRModel, "small"),
    ("deepsc-st-small-kokoro-all", DeepSCST, "small"),
    ("asr-small-games", ASRModel, "small"),
    ("deepsc-st-small-games", DeepSCST, "small"),
    ("asr-small-texts", ASRModel, "small"),
    ("deepsc-st-small-mixed", DeepSCST, "small"),
    ("sr-deepsc-small", DeepSCText, "text-small"),
    ("codec-small", SpeechCodec, "codec-small"),
    ("codec-small-long", SpeechCodec, "codec-small"),
]


def test_every_shipped_folder_is_tested():
    assert sorted(p.parent.name for p in PACKAGE_MODELS.glob("*/MODEL.md")) == sorted(name for name, _, _ in SHIPPED)


@pytest.mark.parametrize("folder, kind, config", SHIPPED)
def test_shipped_model_loads_and_its_card_is_its_measurements(folder, kind, config):
    model_dir = shipped_model_dir(folder)
    assert model_dir == PACKAGE_MODELS / folder
    model, run = load_run(model_dir)  # a version-1 run.json, read through its migration
    assert isinstance(model, kind) and model.config.name == config
    assert (model_dir / "MODEL.md").read_text() == render_shipped_card(model_dir)
    assert (model_dir / "model.weights.h5").stat().st_size < 25e6


def test_the_default_models_are_shipped_and_deepsc_st_was_trained_under_rician_around_8_db():
    _, run = load_run(DEEPSC_ST_MODEL.default_dir())
    low, high = run["snr_db"]
    assert run["channel"] == "rician" and low <= 8.0 <= high
    assert (ASR_MODEL.default_dir() / "huffman.json").is_file()


@pytest.mark.slow
def test_a_plain_install_carries_the_models(tmp_path):
    """``pip install .`` (not editable) into a folder of its own, then the search path run from there."""
    target = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target), str(ROOT)]
    subprocess.run(install, check=True, capture_output=True, cwd=tmp_path)
    probe = f"from deepsc_st.shipped import shipped_model_dir; print(shipped_model_dir('{DEEPSC_ST_MODEL.shipped}'))"
    found = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(target)})
    folder = Path(found.stdout.strip())
    assert folder.is_relative_to(target) and (folder / "model.weights.h5").stat().st_size > 1e6
    assert (folder.parent / ASR_MODEL.shipped / "huffman.json").is_file()
    assert (folder.parent / "sr-deepsc-small" / "vocabulary.json").is_file()
