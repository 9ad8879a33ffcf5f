import pytest

from baselines.nr_mcs import MCS_TABLES, mcs_table

# TS 38.214 V17, Table 5.1.3.1-1 (64-QAM table): (Q_m, 1024 x R) per I_MCS 0..28, copied from the standard.
TABLE_1 = [
    (2, 120), (2, 157), (2, 193), (2, 251), (2, 308), (2, 379), (2, 449), (2, 526), (2, 602), (2, 679),
    (4, 340), (4, 378), (4, 434), (4, 490), (4, 553), (4, 616), (4, 658),
    (6, 438), (6, 466), (6, 517), (6, 567), (6, 616), (6, 666), (6, 719), (6, 772), (6, 822), (6, 873), (6, 910), (6, 948),
]
# Table 5.1.3.1-2 (256-QAM table), I_MCS 0..27.
TABLE_2 = [
    (2, 120), (2, 193), (2, 308), (2, 449), (2, 602),
    (4, 378), (4, 434), (4, 490), (4, 553), (4, 616), (4, 658),
    (6, 466), (6, 517), (6, 567), (6, 616), (6, 666), (6, 719), (6, 772), (6, 822), (6, 873),
    (8, 682.5), (8, 711), (8, 754), (8, 797), (8, 841), (8, 885), (8, 916.5), (8, 948),
]


@pytest.mark.parametrize("table, standard", [(1, TABLE_1), (2, TABLE_2)])
def test_every_mcs_matches_the_standard(table, standard):
    rows = mcs_table(table)
    assert [mcs.index for mcs in rows] == list(range(len(standard)))
    assert [(mcs.bits_per_symbol, mcs.code_rate * 1024) for mcs in rows] == [(q, pytest.approx(r)) for q, r in standard]
    assert all(mcs.spectral_efficiency == pytest.approx(q * r / 1024) for mcs, (q, r) in zip(rows, standard))


def test_within_a_modulation_the_rate_grows_with_the_index():
    rows = mcs_table(1)
    for a, b in zip(rows, rows[1:]):
        if a.bits_per_symbol == b.bits_per_symbol:
            assert b.code_rate > a.code_rate
    assert rows[16].spectral_efficiency > rows[17].spectral_efficiency  # 16-QAM 658 edges out 64-QAM 438: choose by efficiency, not index


def test_unknown_table():
    assert MCS_TABLES == (1, 2)
    with pytest.raises(ValueError, match="unknown MCS table 3"):
        mcs_table(3)
