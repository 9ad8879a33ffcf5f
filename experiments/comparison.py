"""The fair comparison: the same systems under several link policies, from finished sweeps.

``deepsc-st compare --sweeps default default-adaptive default-budget --out results/fair``
reads sweep folders that differ only in the conventional systems' link policy
(``paper``, ``adaptive``, ``budget``; :mod:`baselines.link_policy`) and writes into ``--out``:

* ``cer_vs_snr_by_link.{png,pdf}``: CER against SNR, one panel per channel,
  colour = system, line style = link policy;
* ``symbols_vs_snr.{png,pdf}``: complex channel symbols per second of speech
  against SNR (the adaptive link's bandwidth at each SNR; DeepSC-ST is flat);
* ``cer_vs_symbols.{png,pdf}``: CER against symbols per second at 0, 10 and 20 dB;
* ``thresholds_by_link.md`` and ``report.md``: per channel, each system's
  lowest SNR with readable text (CER <= 0.15) under each policy, next to its capacity bound.

Systems without a digital link (DeepSC-ST, SR+DeepSC) are the same in every
sweep; they are drawn once, from the first sweep that has them.
"""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.figure import Figure

from baselines.link_policy import LINK_POLICY_DESCRIPTIONS
from deepsc_st.errors import UserError
from experiments.figures import MARKERS, save_figure
from experiments.results import SWEEP_FILE, CellResult, ResultsFolder, write_text_atomically
from experiments.tables import READABLE_CER, format_bound, format_db, markdown_table, nearest_snr, readable_from

LINESTYLES = {"paper": "-", "adaptive": "--", "budget": ":"}
FILLSTYLES = {"-": "full", "--": "none", ":": "bottom"}  # markers of the CER-vs-bandwidth figure, by line style
CER_VS_SYMBOLS_SNRS = (0.0, 10.0, 20.0)


def load_policies(sweep_folders: list[Path]) -> dict[str, list[CellResult]]:
    """Link policy (``paper``, ``adaptive``, ``budget:...``) -> the cells of the sweep that used it.

    Cells of systems without a digital link are kept only from the first sweep
    that has them. A folder that is not a sweep, or two sweeps with the same
    policy, raise :class:`UserError`.
    """
    policies: dict[str, list[CellResult]] = {}
    seen_unlinked: set[str] = set()
    for folder in map(Path, sweep_folders):
        if not (folder / SWEEP_FILE).is_file():
            raise UserError(f"{folder}: not a sweep folder (no {SWEEP_FILE})")
        results = ResultsFolder(folder)
        policy = results.identity().get("link", "paper")
        if policy in policies:
            raise UserError(f"{folder}: a second sweep with link policy {policy!r}; give one sweep per policy")
        cells = list(results.load_cells().values())
        unlinked = {c.system for c in cells if not _linked(c)}
        policies[policy] = [c for c in cells if _linked(c) or c.system not in seen_unlinked]
        seen_unlinked |= unlinked
    if not policies:
        raise UserError("--sweeps: no sweep folder given")
    return policies


def _linked(cell: CellResult) -> bool:
    """Whether the cell's system sends bits over a digital link (a note means it tried and did not fit)."""
    return cell.link_bits_per_symbol is not None or cell.note is not None


def _style(policy: str) -> str:
    return LINESTYLES.get(policy.split(":")[0], "-.")


def _series(policies: dict[str, list[CellResult]]):
    """(label, colour index, line style, cells) per system and policy, in a stable order."""
    systems = list(dict.fromkeys(c.system for cells in policies.values() for c in sorted(cells, key=lambda c: c.snr_db)))
    for policy, cells in policies.items():
        for system in systems:
            own = sorted((c for c in cells if c.system == system), key=lambda c: (c.channel, c.snr_db))
            if own:
                label = f"{system} ({policy})" if any(_linked(c) for c in own) else system
                yield label, systems.index(system), _style(policy), own


def _finite(value) -> bool:
    return value is not None and not math.isnan(value)


def plot_cer_by_link(policies: dict[str, list[CellResult]], stem: Path) -> list[Path]:
    """CER against SNR per channel: colour = system, line style = link policy."""
    return _plot_per_channel(policies, stem, "cer", "CER", readable_line=True)


def plot_symbols_vs_snr(policies: dict[str, list[CellResult]], stem: Path) -> list[Path]:
    """Complex channel symbols per second of speech against SNR (log scale), per channel."""
    return _plot_per_channel(policies, stem, "symbols_per_16000_samples", "complex symbols per second of speech", log=True)


def _plot_per_channel(policies, stem: Path, field: str, ylabel: str, log: bool = False, readable_line: bool = False) -> list[Path]:
    """``field`` of the cells against SNR, one panel per channel, one line per system and policy."""
    channels = list(dict.fromkeys(c.channel for cells in policies.values() for c in cells))
    figure = Figure(figsize=(4.6 * len(channels), 4.2), layout="constrained")
    axes = figure.subplots(1, len(channels), sharey=True, squeeze=False)[0]
    for ax, channel in zip(axes, channels):
        for label, colour, style, cells in _series(policies):
            points = [(c.snr_db, getattr(c, field)) for c in cells if c.channel == channel and _finite(getattr(c, field)) and (getattr(c, field) > 0 or not log)]
            if points:
                ax.plot(*zip(*points), color=f"C{colour}", linestyle=style, marker=MARKERS[colour % len(MARKERS)], markersize=4, label=label)
        if readable_line:
            ax.axhline(READABLE_CER, color="grey", linewidth=0.8, label=f"readable (CER = {READABLE_CER})")
            ax.set_ylim(-0.03, 1.05)
        if log:
            ax.set_yscale("log")
        ax.set_title(channel.upper() if channel == "awgn" else channel.capitalize())
        ax.set_xlabel("SNR (dB)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(ylabel)
    handles, labels = axes[-1].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)), fontsize="small")
    return save_figure(figure, stem)


def plot_cer_vs_symbols(policies: dict[str, list[CellResult]], stem: Path, snrs=CER_VS_SYMBOLS_SNRS) -> list[Path]:
    """CER against symbols per second at the swept SNRs nearest ``snrs``: rows = channels, columns = SNRs."""
    cells_all = [c for cells in policies.values() for c in cells]
    channels = list(dict.fromkeys(c.channel for c in cells_all))
    columns = list(dict.fromkeys(nearest_snr(cells_all, snr) for snr in snrs))
    figure = Figure(figsize=(3.8 * len(columns), 3.2 * len(channels)), layout="constrained")
    axes = figure.subplots(len(channels), len(columns), sharex=True, sharey=True, squeeze=False)
    for row, channel in enumerate(channels):
        for column, snr in enumerate(columns):
            ax = axes[row][column]
            for label, colour, style, cells in _series(policies):
                for c in cells:
                    if c.channel == channel and c.snr_db == snr and _finite(c.cer) and c.symbols_per_16000_samples > 0:
                        marker = MARKERS[colour % len(MARKERS)]
                        filled = FILLSTYLES.get(style, "left")
                        ax.plot([c.symbols_per_16000_samples], [c.cer], marker=marker, fillstyle=filled, color=f"C{colour}", linestyle="", label=label)
            ax.set_xscale("log")
            ax.set_ylim(-0.03, 1.05)
            ax.set_title(f"{channel}, {format_db(snr)}", fontsize="medium")
            ax.grid(True, which="both", alpha=0.3)
            if row == len(channels) - 1:
                ax.set_xlabel("symbols per second")
            if column == 0:
                ax.set_ylabel("CER")
    by_label = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            by_label.setdefault(label, handle)
    figure.legend(list(by_label.values()), list(by_label), loc="outside lower center", ncols=min(4, len(by_label)), fontsize="small")
    return save_figure(figure, stem)


def thresholds_by_link(policies: dict[str, list[CellResult]]) -> str:
    """Markdown: per channel and system, the readable-text threshold under each policy and the capacity bound."""
    rows = []
    channels = list(dict.fromkeys(c.channel for cells in policies.values() for c in cells))
    for channel in channels:
        for label, _, _, cells in _series(policies):
            own = [c for c in cells if c.channel == channel]
            if not own:
                continue
            if all(c.note for c in own):
                rows.append([channel, label, "does not fit the budget", "—", "—"])
                continue
            threshold = readable_from([(c.snr_db, c.cer) for c in own])
            ours = f"not reached at {format_db(max(c.snr_db for c in own))}" if threshold is None else format_db(threshold)
            symbols = [c.symbols_per_16000_samples for c in own if _finite(c.symbols_per_16000_samples)]
            span = f"{min(symbols):,.0f}–{max(symbols):,.0f}" if symbols and max(symbols) - min(symbols) > 0.5 else (f"{symbols[0]:,.0f}" if symbols else "—")
            rows.append([channel, label, ours, format_bound(own), span])
    return markdown_table(["channel", "system (link)", f"lowest SNR with CER ≤ {READABLE_CER}", "capacity bound", "symbols per second"], rows)


def write_comparison(sweep_folders: list[Path], out: Path) -> Path:
    """Write the comparison figures, table and ``report.md`` of ``sweep_folders`` into ``out``; returns the report's path."""
    policies = load_policies(sweep_folders)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plot_cer_by_link(policies, out / "cer_vs_snr_by_link")
    plot_symbols_vs_snr(policies, out / "symbols_vs_snr")
    plot_cer_vs_symbols(policies, out / "cer_vs_symbols")
    table = thresholds_by_link(policies)
    write_text_atomically(out / "thresholds_by_link.md", table)
    notes = sorted({f"- {c.system} ({policy}): {c.note}" for policy, cells in policies.items() for c in cells if c.note})
    sweeps = ", ".join(f"`{Path(f).name}` ({p})" for f, p in zip(sweep_folders, policies))
    text = "\n".join([
        "# Fair comparison: the same systems under several link policies\n",
        f"Sweeps: {sweeps}. Link policies: {'; '.join(f'`{name}` = {text}' for name, text in LINK_POLICY_DESCRIPTIONS.items())}. "
        "The adaptive link's MCSs are TS 38.214 Table 5.1.3.1-1's, their BLER measured by `deepsc-st bench bler`. "
        "SNR is Es/N0 per complex symbol for every system.\n",
        "## Readable text and capacity bounds\n",
        table,
        "Capacity bound: AWGN, the Shannon limit 2^R − 1 of the lowest rate R (information bits per complex symbol) the link used; "
        f"fading, the SNR from which the outage probability of a message of the cell's mean length is at most {READABLE_CER}.\n",
        *(["Systems whose bits do not fit:\n", *notes, ""] if notes else []),
        "## CER against SNR by link policy\n",
        "![CER by link policy](cer_vs_snr_by_link.png)\n",
        "## Bandwidth: channel symbols per second of speech\n",
        "![symbols per second](symbols_vs_snr.png)\n",
        "## CER against bandwidth at fixed SNRs\n",
        "![CER vs symbols](cer_vs_symbols.png)\n",
    ])
    report = out / "report.md"
    write_text_atomically(report, text)
    return report
