import json

import numpy as np
import pytest

from deepsc_st import human_devset
from deepsc_st.errors import UserError
from deepsc_st.tokens import normalize_text

RATE = 16_000


def bursts(seconds_on_off):
    """A tone switched on and off: [(on_s, off_s), ...] -> float32 waveform at 16 kHz."""
    rng = np.random.default_rng(0)
    pieces = []
    for on, off in seconds_on_off:
        pieces.append(0.3 * np.sin(2 * np.pi * 200 * np.arange(int(on * RATE)) / RATE))
        pieces.append(0.001 * rng.standard_normal(int(off * RATE)))
    return np.concatenate(pieces).astype(np.float32)


def test_long_recordings_are_cut_at_their_longest_pauses():
    audio = bursts([(4, 0.3), (4, 1.0), (4, 0.3), (4, 0.3)])  # 16 s of speech, the longest pause after the second burst
    pieces = human_devset.split_at_pauses(audio, max_s=9.0, min_gap_s=0.15)
    assert len(pieces) == 2
    (_, first_end), (second_start, _) = pieces
    assert 8.3 * RATE < first_end < second_start < 9.3 * RATE  # cut inside the 1 s pause
    [(start, end)] = human_devset.split_at_pauses(audio, max_s=20.0, min_gap_s=0.15)  # short enough: one piece
    assert start == 0 and end > 16.9 * RATE


def test_transcripts_are_normalised_and_hashed():
    transcripts = json.loads(human_devset.TRANSCRIPTS.read_text())
    assert len(transcripts) == 323
    assert {entry["source"] for entry in transcripts.values()} == {"shipped", "known", "game", "override", "whisper"}
    assert all(normalize_text(entry["text"]).text == entry["text"] and len(entry["sha256"]) == 16 for entry in transcripts.values())
    assert not any("librivox" in clip_id.lower() or "pocketsphinx" in clip_id.lower() for clip_id in transcripts)
    assert human_devset.pcm16_hash(np.zeros(10, np.float32)) == human_devset.pcm16_hash(np.zeros(10, np.float64))


def test_missing_packages_name_them(monkeypatch, tmp_path):
    monkeypatch.setattr(human_devset, "WARZONE", tmp_path / "base.wz")
    monkeypatch.setattr(human_devset, "CODEC2", tmp_path / "codec2")
    with pytest.raises(UserError, match="apt-get install asterisk-core-sounds-en-g722 warzone2100-data codec2-examples"):
        human_devset.build_human_devset(tmp_path / "out")
