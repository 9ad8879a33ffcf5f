import json

import numpy as np
import pytest

from baselines.bler_table import BlerSettings
from baselines.link import CODE_K, DigitalLink
from baselines.link_policy import AdaptiveLink, BudgetLink, LinkDoesNotFit, PaperLink, deepsc_st_symbols, make_link_policy, parse_symbol_budget
from baselines.nr_mcs import mcs_table
from channels import make_channel
from deepsc_st.errors import UserError


def test_deepsc_st_spends_520_symbols_per_second():
    assert deepsc_st_symbols(16_000) == 520  # the paper's Table II
    assert deepsc_st_symbols(80_000) == 20 * 126  # 5 s: 501 frames -> 126 steps of 20 symbols


def test_budget_link_never_exceeds_its_budget_and_picks_the_lowest_qam_order():
    budget = BudgetLink()
    rng = np.random.default_rng(0)
    for _ in range(100):
        samples = int(rng.integers(8_000, 160_000))
        bits = int(rng.integers(1, 7 * deepsc_st_symbols(samples)))
        order, plan = budget.plan(bits, samples)
        symbols = sum(block.n for block in plan) // order
        assert symbols <= budget.budget(samples)
        if order > 2:  # a lower order would have needed a code rate above 0.926
            assert bits > 0.9 * (order - 2) * budget.budget(samples)
    assert budget.plan(64, 48_000)[0] == 2  # a Huffman sentence in 3 s: QPSK


def test_budget_link_sends_and_says_when_bits_do_not_fit():
    budget = BudgetLink()
    rng = np.random.default_rng(1)
    messages = [rng.integers(0, 2, n).astype(np.uint8) for n in (64, 900)]
    results = budget.send(messages, [48_000, 16_000], make_channel("awgn"), 20.0)
    assert [np.array_equal(r.bits, m) for r, m in zip(results, messages)] == [True, True]
    assert all(0 < r.channel_symbols <= budget.budget(n) for r, n in zip(results, (48_000, 16_000)))
    with pytest.raises(LinkDoesNotFit, match=r"6600 bits in a budget of 520 symbols .* need 12.69 bits per symbol"):
        budget.send([np.zeros(6600, np.uint8)], [16_000], make_channel("awgn"), 20.0)  # AMR-WB 6.6 kbit/s, 1 s


def test_an_explicit_budget_per_second():
    assert BudgetLink(1000.0).budget(8_000) == 500
    assert parse_symbol_budget("1000") == 1000.0
    assert parse_symbol_budget(None) is None
    for bad in ("-5", "0", "lots", "inf"):
        with pytest.raises(UserError, match="--symbol-budget"):
            parse_symbol_budget(bad)


def test_paper_policy_is_the_papers_link():
    paper = make_link_policy("paper", CODE_K)
    assert isinstance(paper, PaperLink) and repr(paper.link) == repr(DigitalLink())
    with pytest.raises(UserError, match="unknown link policy 'fast'"):
        make_link_policy("fast", CODE_K)


def fake_table(path, thresholds: dict[int, int]) -> None:
    """A finished table where MCS i has BLER 1 below thresholds[i] dB and 0 from it (same on every channel)."""
    curve = lambda t: [[t - 1, 1.0, 100], [t, 0.0, 500], [t + 1, 0.0, 500]]  # noqa: E731
    curves = {str(m.index): curve(thresholds.get(m.index, 99)) for m in mcs_table(1)}
    settings = json.loads(json.dumps(BlerSettings().__dict__))
    path.write_text(json.dumps({"settings": settings, "curves": {c: curves for c in ("awgn", "rayleigh", "rician")}}))


def test_adaptive_link_takes_the_highest_rate_the_table_allows(tmp_path):
    path = tmp_path / "table.json"
    fake_table(path, {0: -6, 9: 4, 16: 9, 17: 10, 28: 20})
    adaptive = AdaptiveLink(path)
    assert [adaptive.mcs("awgn", snr).index for snr in (-12, -6, 3.9, 4, 9, 9.5, 19.9, 20)] == [0, 0, 0, 9, 16, 16, 16, 28]
    rng = np.random.default_rng(2)
    messages = [rng.integers(0, 2, 500).astype(np.uint8)]
    [result] = adaptive.send(messages, [16_000], make_channel("awgn"), 20.0)
    assert np.array_equal(result.bits, messages[0])
    assert result.bits_per_symbol == pytest.approx(mcs_table(1)[28].spectral_efficiency, rel=0.01)


def test_adaptive_link_without_a_finished_table(tmp_path):
    with pytest.raises(UserError, match="run: deepsc-st bench bler"):
        AdaptiveLink(tmp_path / "missing.json")
    path = tmp_path / "table.json"
    fake_table(path, {})
    table = json.loads(path.read_text())
    del table["curves"]["rician"]["5"]
    path.write_text(json.dumps(table))
    with pytest.raises(UserError, match="not finished"):
        AdaptiveLink(path)
