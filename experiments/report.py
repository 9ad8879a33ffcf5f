"""Figures, Markdown tables and ``report.md`` of a sweep folder, regenerated from its cells.

Files written into ``results/<name>/`` (each atomically):

* ``cer_vs_snr.{png,pdf}``, ``wer_vs_snr.{png,pdf}``: Figs. 5-6;
* ``fdsd_vs_snr.{png,pdf}``, ``kdsd_vs_snr.{png,pdf}``: Figs. 7-8, when measured;
* ``loss_vs_epoch.{png,pdf}``: Fig. 4, when training runs are given;
* ``thresholds.md``, ``symbols.md`` (Table II), ``parameters.md``
  (section V-B), ``examples.md`` (Table IV);
* ``report.md``: all of the above with the sweep's settings.
"""

from __future__ import annotations

from pathlib import Path

from baselines.link_policy import LINK_POLICY_DESCRIPTIONS
from experiments.figures import plot_loss_curves, plot_metric_vs_snr
from experiments.results import RESULTS_CSV, CellResult, ResultsFolder, write_text_atomically
from experiments.tables import (
    READABLE_CER,
    SPEECH_METRICS,
    examples_table,
    nearest_snr,
    parameters_table,
    speech_quality_table,
    symbols_table,
    threshold_table,
)

LOSS_FIGURE = "loss_vs_epoch"


def write_report(
    folder: ResultsFolder, cells: list[CellResult], example_snr: float, loss_runs: list[Path], ground_truth: dict | None = None
) -> Path:
    """Write the figures, tables and ``report.md`` for ``cells`` (sorted by system, channel, SNR).

    ``example_snr``: SNR (dB) of the example sentences (the nearest swept one is
    shown). ``loss_runs``: training run folders for the loss figure; without
    them an existing loss figure is kept and shown. ``ground_truth``: {"fdsd",
    "kdsd"} of the transcripts through the synthesiser, or None. Returns the path of ``report.md``.
    """
    path = folder.path
    for metric in ("cer", "wer"):
        plot_metric_vs_snr(cells, metric, path / f"{metric}_vs_snr")
    quality_metrics = [m for m in SPEECH_METRICS if any(getattr(c, m) is not None for c in cells)]
    for metric in quality_metrics:
        plot_metric_vs_snr(cells, metric, path / f"{metric}_vs_snr", (ground_truth or {}).get(metric))
    if loss_runs:
        plot_loss_curves(loss_runs, path / LOSS_FIGURE)
    tables = {
        "thresholds": threshold_table(cells),
        "symbols": symbols_table(cells),
        "parameters": parameters_table(cells),
        "examples": examples_table(cells, example_snr),
    }
    for name, table in tables.items():
        heading = f"Example sentences at {nearest_snr(cells, example_snr):g} dB\n\n" if name == "examples" else ""
        write_text_atomically(path / f"{name}.md", heading + table)
    if quality_metrics:
        tables["speech_quality"] = speech_quality_table(cells, ground_truth)
        write_text_atomically(path / "speech_quality.md", tables["speech_quality"])
    report = path / "report.md"
    write_text_atomically(report, _report_text(folder, cells, tables, example_snr))
    return report


def _quality_subset(cells: list[CellResult]) -> str:
    """The sentence under the speech-quality table that says over how many utterances PESQ / STOI were averaged."""
    counts = sorted({c.quality_utterances for c in cells if c.quality_utterances is not None})
    if not counts:
        return ""
    scored = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return (
        f"PESQ and STOI are means over the first utterances of each cell that PESQ could score: {scored} of "
        f"{cells[0].utterances} (`quality_utterances` in `{RESULTS_CSV}`; `--quality-utterances N` sets how many are tried).\n"
    )


def _figure(stem: str, caption: str) -> str:
    return f"![{caption}]({stem}.png)\n\n{caption} ([PDF]({stem}.pdf))\n"


def _report_text(folder: ResultsFolder, cells: list[CellResult], tables: dict[str, str], example_snr: float) -> str:
    identity = folder.identity()
    snrs = sorted({c.snr_db for c in cells})
    models = ", ".join(f"{kind} `{identifier}`" for kind, identifier in identity["models"].items() if identifier) or "none"
    parts = [
        f"# SNR sweep `{folder.path.name}`\n",
        f"- data: `{identity['data']}`, split `{identity['split']}`, {cells[0].utterances} utterances, seed {identity['seed']}",
        f"- models: {models}",
        f"- link of the conventional systems: `{identity.get('link', 'paper')}` ({LINK_POLICY_DESCRIPTIONS[identity.get('link', 'paper').split(':')[0]]})",
        f"- CTC decoding: {'beam search with the word language model `' + identity['options']['lm'] + '` (`--lm`)' if identity.get('options', {}).get('lm') else 'greedy'}",
        f"- systems: {', '.join(dict.fromkeys(c.system for c in cells))}; channels: {', '.join(dict.fromkeys(c.channel for c in cells))}",
        f"- SNR (Es/N0 per complex symbol): {', '.join(f'{s:g}' for s in snrs)} dB; {len(cells)} cells, all numbers in [{RESULTS_CSV}]({RESULTS_CSV})\n",
        f"## Readable text: lowest SNR with CER ≤ {READABLE_CER}\n",
        f"The lowest swept SNR from which the CER stays ≤ {READABLE_CER} at every higher swept SNR. "
        "The paper (Weng et al., section V-C) reports readable DeepSC-ST text above about −2 dB over AWGN "
        "and about 4 dB for the conventional transceivers, DeepSC-ST steady across channels for SNR ≥ 0 dB, "
        "and that SR+DeepSC obtains no readable text under the adopted fading channels.\n",
        tables["thresholds"],
        "Capacity bound: below it no code of the rate the system's link used can deliver its messages "
        "(AWGN: the Shannon limit 2^R − 1 for R information bits per complex symbol; fading: the SNR from which "
        f"the outage probability of a message of the cell's mean length falls to {READABLE_CER}). "
        "The paper's link (64-QAM, rate 5/8, R = 3.75) needs at least 10.95 dB over AWGN, whatever the code, "
        "so the paper's 4 dB for the conventional transceivers cannot hold under Es/N0.\n",
        "## CER and WER against SNR (paper Figs. 5 and 6)\n",
        _figure("cer_vs_snr", f"Character error rate, shaded: its 95 % bootstrap interval over the utterances; grey dashed: readable text (CER = {READABLE_CER}); dashed in a system's colour: its capacity bound."),
        _figure("wer_vs_snr", "Word error rate."),
    ]
    if "speech_quality" in tables:
        reference = identity.get("speech_reference", {}).get("split", "?")
        parts += [
            "## Speech quality: FDSD and KDSD against SNR (paper Figs. 7 and 8)\n",
            "Distances, in the ASR model's features (last BiGRU block, mean over time), between the speech each receiver "
            f"outputs and real speech of the `{reference}` split; lower is better. DeepSC-ST, the text transceiver and SR+DeepSC "
            "speak their recovered text in the sender's voice; the speech transceiver outputs decoded AMR-WB. "
            "Dotted: the test transcripts themselves through the synthesiser. "
            f"With {cells[0].utterances} utterances per set and features wider than that, the covariances are "
            "rank-deficient, so FDSD carries a large bias shared by every system (compare differences between systems); "
            "KDSD is unbiased at any set size.\n",
            _figure("fdsd_vs_snr", "Fréchet deep speech distance."),
            _figure("kdsd_vs_snr", "Kernel deep speech distance."),
            tables["speech_quality"],
            _quality_subset(cells),
        ]
    if (folder.path / f"{LOSS_FIGURE}.png").is_file():
        parts += ["## Training loss (paper Fig. 4)\n", _figure(LOSS_FIGURE, "CTC loss per epoch of the given training runs.")]
    parts += [
        "## Channel symbols per 16,000 samples (paper Table II)\n",
        "Ours: complex symbols sent for the whole test set x 16,000 / its samples. SR+DeepSC sends 8 symbols per word "
        "token of each sentence, unpadded; the paper's 120 fits sentences padded to a fixed length (see the "
        "sr-deepsc-small model card).\n",
        tables["symbols"],
        "## Trainable parameters (paper section V-B)\n",
        "SR+DeepSC: the ASR plus the DeepSC text transceiver. The paper's 92,212,016 is 85,788,733 (Deep Speech 2) "
        "+ 6,423,283 (DeepSC with the published code's identity feed-forward and V = 14,179 words; `deepsc-st info --config paper`).\n",
        tables["parameters"],
        f"## Example sentences at {nearest_snr(cells, example_snr):g} dB (paper Table IV)\n",
        tables["examples"],
    ]
    return "\n".join(parts)
