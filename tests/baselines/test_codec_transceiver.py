import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from baselines.codec_transceiver import CODEC_MODEL, bits_to_tokens, parse_codebooks, tokens_to_bits
from channels import make_channel
from deepsc_st.data import load_utterances, read_utterances
from deepsc_st.errors import UserError
from experiments.systems import PROJECT_SYSTEMS
from tests.cli_helpers import assert_one_line_error, run_cli


def test_token_bits_round_trip_msb_first():
    tokens = np.array([[0, 1023, 5], [512, 7, 1000]])
    bits = tokens_to_bits(tokens, 10)
    assert bits.dtype == np.uint8 and bits.size == 60
    assert list(bits[:10]) == [0] * 10 and list(bits[10:20]) == [1] * 10 and list(bits[20:30]) == [0, 0, 0, 0, 0, 0, 0, 1, 0, 1]
    assert np.array_equal(bits_to_tokens(bits, 3, 10), tokens)


def test_a_flipped_bit_gives_another_valid_index():
    bits = tokens_to_bits(np.array([[3, 900]]), 10)
    bits[0] ^= 1  # the most significant bit of the first token
    assert bits_to_tokens(bits, 2, 10).tolist() == [[515, 900]]


def test_codebooks_option_refuses_non_numbers():
    assert parse_codebooks(None) is None and parse_codebooks("3") == 3
    for bad in ("0", "-1", "two"):
        with pytest.raises(UserError, match="--codebooks"):
            parse_codebooks(bad)


@pytest.fixture(scope="module")
def codec_system(overfit_asr_run, codec_run):
    return PROJECT_SYSTEMS.build("codec", {"asr": overfit_asr_run[0], CODEC_MODEL.name: codec_run})


def test_tokens_survive_the_link_exactly_at_30_db(codec_system, espeak_corpus):
    waveforms = [item.waveform for item in load_utterances(espeak_corpus, "test", 3)]
    tokens = codec_system.encode(waveforms)
    hop = codec_system.codec.config.hop
    assert [t.shape for t in tokens] == [(-(-len(w) // hop), 4) for w in waveforms]
    received = codec_system.send([tokens_to_bits(t, 4) for t in tokens], waveforms, make_channel("rayleigh"), 30.0)
    assert all(np.array_equal(bits_to_tokens(r.bits, 4, 4), t) for r, t in zip(received, tokens))  # codec-tiny: 16 entries, 4 bits


def test_transmit_returns_decoded_speech_of_the_input_length(codec_system, espeak_corpus):
    waveforms = [item.waveform for item in load_utterances(espeak_corpus, "test", 2)]
    sent = codec_system.transmit(waveforms, make_channel("awgn"), 20.0)
    config = codec_system.codec.config  # codec-tiny: hop 160 (100 frames/s) x 4 codebooks x 4 bits = 1,600 bit/s
    assert codec_system.bits_per_second == 1600
    for s, w in zip(sent, waveforms):
        assert s.waveform.shape == w.shape and s.waveform.dtype == np.float32 and np.all(np.abs(s.waveform) <= 1)
        bits = -(-len(w) // config.hop) * 16
        assert s.channel_symbols == -(-(-(-bits // 320) * 512) // 6)  # whole polar codewords of 320 bits, 512 coded bits, 64-QAM
        assert s.link_bits_per_symbol == pytest.approx(3.75)


def test_cli_transmit_writes_the_decoded_speech(capsys, tmp_path, overfit_asr_run, codec_run, espeak_corpus):
    utterance = read_utterances(espeak_corpus, "test")[0]
    out = tmp_path / "out.wav"
    args = ["transmit", utterance.wav_path, "--system", "codec", "--asr-model", overfit_asr_run[0], "--codec-model", codec_run]
    code, stdout, err = run_cli(capsys, *args, "--snr", "20", "--out-wav", out, "--codebooks", "3", "--json")
    assert code == 0, err
    assert json.loads(stdout)["system"] == "codec"
    decoded, rate = soundfile.read(out)
    assert rate == 16000 and len(decoded) == len(soundfile.read(utterance.wav_path)[0])
    code, _, err = run_cli(capsys, *args, "--codebooks", "9")
    assert_one_line_error(code, err, "--codebooks 9")
    code, _, err = run_cli(capsys, *args[:-2], "--codec-model", overfit_asr_run[0])
    assert_one_line_error(code, err, "--codec-model")


def test_ship_measures_the_codec_at_each_number_of_codebooks(capsys, tmp_path, overfit_asr_run, codec_run, espeak_corpus):
    out = tmp_path / "codec-model"
    code, card, err = run_cli(capsys, "ship", "--run", codec_run, "--out", out, "--data", espeak_corpus, "--asr-model", overfit_asr_run[0], "--utterances", "3")
    assert code == 0, err
    stored = json.loads((out / "measurements.json").read_text())
    rows = stored["rows"]
    assert [row["codebooks"] for row in rows] == [0, 4, 3, 2, 1]  # the ASR on the sent speech, then 4..1 codebooks (no held-out split here)
    assert [row["bits_per_second"] for row in rows[1:]] == [1600, 1200, 800, 400]
    for row in rows[1:]:
        assert -0.5 <= row["pesq"] <= 4.65 and -1 <= row["stoi"] <= 1 and row["utterances"] == 3 and row["channel"] == "none"
    assert "| test | 4 | 1600 |" in card and "validation mel loss" in card
    assert stored["facts"]["measured_with"]["asr"] == str(overfit_asr_run[0])


def test_bench_codecs_sets_the_codec_beside_amr_wb_on_the_same_utterances(capsys, overfit_asr_run, codec_run, espeak_corpus):
    args = ["bench", "codecs", "--data", espeak_corpus, "--utterances", "2", "--codec-model", codec_run, "--asr-model", overfit_asr_run[0]]
    code, out, err = run_cli(capsys, *args, "--json")
    assert code == 0, err
    result = json.loads(out)
    rows, speed = result["rows"], result["codec_speed"]
    assert speed["real_time_factor"] > 0 and speed["speech_s"] > 1
    assert speed["griffin_lim"]["max_difference"] < 1e-3 and speed["griffin_lim"]["librosa_s"] > 0  # the same waveforms as librosa's
    run_name = Path(codec_run).name  # the codec's rows carry its model folder's name
    assert [row["codec"] for row in rows] == [
        "sent speech", f"{run_name}, 4 codebooks", f"{run_name}, 3 codebooks", f"{run_name}, 2 codebooks",
        "AMR-WB 6.60 kbit/s", "AMR-WB 12.65 kbit/s", "AMR-WB 23.85 kbit/s",
    ]
    assert [row["bits_per_second"] for row in rows[1:]] == [1600, 1200, 800, 6600, 12650, 23850]
    assert all(row["utterances"] == 2 for row in rows)
    amr = rows[-1]
    assert amr["stoi"] > 0.9 and amr["pesq"] > 2.5  # AMR-WB at its highest rate: about 0.93 and 3.0 on these two
