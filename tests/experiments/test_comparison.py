"""The fair comparison across link policies, from sweeps of the fake systems."""

import pytest

from deepsc_st.errors import UserError
from experiments.cli import main
from experiments.comparison import load_policies, write_comparison
from experiments.sweep import SweepSettings, run_sweep
from tests.experiments.test_sweep_fakes import CORPUS_ENV, FAKES


@pytest.fixture(scope="module")
def sweeps(espeak_corpus, tmp_path_factory):
    """A paper-link sweep of oracle + qpsk and a budget-link sweep of every fake (qpsk ignores the link; unfit never fits)."""
    root = tmp_path_factory.mktemp("compare")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CORPUS_ENV, str(espeak_corpus))
        common = dict(data=str(espeak_corpus), channels=("awgn", "rayleigh"), snrs=(0.0, 10.0, 20.0), utterances=4, results=str(root), workers=1)
        run_sweep(SweepSettings(name="paper", systems=("oracle", "qpsk"), **common), FAKES, progress=False)
        run_sweep(SweepSettings(name="budget", systems=("oracle", "qpsk", "unfit"), options={"link": "budget"}, **common), FAKES, progress=False)
    return root


def test_comparison_writes_figures_table_and_report(sweeps, tmp_path):
    report = write_comparison([sweeps / "paper", sweeps / "budget"], tmp_path / "fair")
    for stem in ("cer_vs_snr_by_link", "symbols_vs_snr", "cer_vs_symbols"):
        assert (tmp_path / "fair" / f"{stem}.png").stat().st_size > 5_000
    table = (tmp_path / "fair" / "thresholds_by_link.md").read_text()
    assert "| awgn | qpsk (paper) |" in table and "| awgn | qpsk (budget:deepsc-st) |" in table
    assert "| awgn | unfit (budget:deepsc-st) | does not fit the budget |" in table
    assert table.count("| awgn | oracle |") == 1  # no link: drawn once
    assert "4.77 dB" in table
    text = report.read_text()
    assert "Systems whose bits do not fit" in text and "cer_vs_symbols.png" in text


def test_policies_come_from_the_sweeps(sweeps):
    policies = load_policies([sweeps / "paper", sweeps / "budget"])
    assert list(policies) == ["paper", "budget:deepsc-st"]
    assert {c.system for c in policies["budget:deepsc-st"]} == {"qpsk", "unfit"}
    with pytest.raises(UserError, match="a second sweep with link policy 'paper'"):
        load_policies([sweeps / "paper", sweeps / "paper"])


def test_cli_compare_needs_sweep_folders(tmp_path, capsys):
    assert main(["compare", "--sweeps", str(tmp_path), "--out", str(tmp_path / "fair")]) == 2
    assert capsys.readouterr().err.strip() == f"deepsc-st: error: {tmp_path}: not a sweep folder (no sweep.json)"
