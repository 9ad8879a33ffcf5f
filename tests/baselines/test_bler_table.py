import math

import pytest

from baselines.bler_table import BLER_CHANNELS, BlerSettings, bler_at, choose_mcs, format_bler_table, load_bler_table, measure_mcs_curve, threshold_snr
from baselines.capacity import shannon_limit_db
from baselines.nr_mcs import mcs_table

CURVE = [[2, 1.0, 100], [3, 0.4, 200], [4, 0.08, 500], [5, 0.12, 500], [6, 0.005, 500], [7, 0.0, 500]]


def test_reading_a_curve():
    assert [bler_at(CURVE, snr) for snr in (-3, 2, 3.5, 4, 7, 30)] == [1.0, 1.0, 0.4, 0.08, 0.0, 0.0]
    assert threshold_snr(CURVE) == 6.0  # 4 dB dips under 10 % but 5 dB does not stay there
    assert threshold_snr(CURVE, target=0.5) == 3.0
    assert threshold_snr([[0, 1.0, 100]]) is None


def test_a_curve_is_repeatable_and_falls_with_snr():
    settings = BlerSettings(block_bits=128, max_blocks=100, snr_high=9)
    mcs = mcs_table(1)[10]  # 16-QAM, R 0.33
    first = measure_mcs_curve(mcs, "awgn", settings)
    assert first == measure_mcs_curve(mcs, "awgn", settings)
    snrs = [snr for snr, _, _ in first]
    assert snrs[0] == math.floor(shannon_limit_db(mcs.spectral_efficiency) - 2) and snrs == list(range(snrs[0], snrs[0] + len(snrs)))
    assert first[0][1] > 0.5 and first[-1][1] <= 0.01


def test_the_shipped_table_is_finished_and_obeys_the_shannon_limit():
    table = load_bler_table()
    for channel in BLER_CHANNELS:
        for mcs in mcs_table(1):
            threshold = threshold_snr(table["curves"][channel][str(mcs.index)])
            limit = shannon_limit_db(mcs.spectral_efficiency)
            if channel == "awgn":
                assert limit < threshold <= limit + 4.0  # 1024-bit LDPC blocks, 1 dB grid: 1.9-3.5 dB from capacity
            elif threshold is not None:
                assert threshold > limit  # fading only costs
    assert choose_mcs(table, "awgn", -20.0).index == 0
    assert choose_mcs(table, "awgn", 30.0).index == 28
    assert choose_mcs(table, "rayleigh", 10.0).spectral_efficiency < choose_mcs(table, "awgn", 10.0).spectral_efficiency
    assert "MCS 28 (64-QAM, R 0.926)" in format_bler_table(table)


def test_a_table_with_other_settings_is_not_used():
    from deepsc_st.errors import UserError

    with pytest.raises(UserError, match="no BLER table measured with these settings"):
        load_bler_table(settings=BlerSettings(block_bits=512))


def test_cli_prints_and_draws_the_finished_table(tmp_path, capsys):
    from experiments.cli import main

    assert main(["bench", "bler", "--figure", str(tmp_path / "bler")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("MCS table 1, 1024-bit blocks") and "MCS 0 (QPSK, R 0.117)" in out
    assert (tmp_path / "bler.png").stat().st_size > 20_000
