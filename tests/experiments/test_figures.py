"""Sweep figures (experiments/figures.py)."""

import experiments.figures as figures
from experiments.results import CellResult


def _cell(system, snr_db, fdsd):
    return CellResult(
        system=system, channel="awgn", snr_db=snr_db, cer=0.1, wer=0.2, utterances=4, symbols_per_16000_samples=100.0, seed=0, cell_seed=1,
        elapsed_s=0.1, fdsd=fdsd,
    )


def test_a_system_keeps_its_colour_when_another_has_no_value_for_a_metric(monkeypatch, tmp_path):
    drawn = []
    monkeypatch.setattr(figures, "save_figure", lambda figure, stem: drawn.append(figure) or [])
    cells = [_cell(system, snr, fdsd) for system, fdsd in (("deepsc-st", 5.0), ("feature", None), ("codec", 20.0)) for snr in (0.0, 10.0)]
    for metric in ("cer", "fdsd"):
        figures.plot_metric_vs_snr(cells, metric, tmp_path / metric)
    colours = [{line.get_label(): line.get_color() for line in figure.axes[0].lines} for figure in drawn]
    assert "feature" not in colours[1]
    assert colours[1]["codec"] == colours[0]["codec"] != colours[0]["feature"]
