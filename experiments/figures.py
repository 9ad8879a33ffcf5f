"""The paper's figures from a sweep: CER / WER vs SNR (Figs. 5-6), FDSD / KDSD vs SNR (Figs. 7-8)
and CTC loss vs epoch (Fig. 4).

Each figure is saved as PNG (150 dpi) and PDF, each written to a temporary
file and renamed into place. Matplotlib is used without pyplot (no global
state, no display needed).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from deepsc_st.errors import UserError
from experiments.results import CellResult, replacing
from experiments.tables import READABLE_CER, linked_cells, message_error_bounds

MARKERS = "osD^vP*X"
FORMATS = ("png", "pdf")


def save_figure(figure: Figure, stem: Path) -> list[Path]:
    """Write ``stem.png`` and ``stem.pdf`` atomically; returns their paths."""
    paths = []
    for fmt in FORMATS:
        path = Path(f"{stem}.{fmt}")
        with replacing(path) as temporary:
            figure.savefig(temporary, format=fmt, dpi=150, bbox_inches="tight")
        paths.append(path)
    return paths


METRIC_LABELS = {"cer": "CER", "wer": "WER", "fdsd": "FDSD", "kdsd": "KDSD"}


def plot_metric_vs_snr(cells: list[CellResult], metric: str, stem: Path, ground_truth: float | None = None) -> list[Path]:
    """``metric`` (a key of :data:`METRIC_LABELS`) against SNR (Es/N0, dB): one panel per channel, one line per system.

    The CER figure also draws each line's 95 % bootstrap band (shaded), the readability line CER = 0.15 and, dashed in
    each digital system's colour, its capacity bound (:func:`draw_capacity_bounds`);
    FDSD / KDSD draw ``ground_truth`` (the transcripts through the synthesiser) when
    given. Cells without the metric (None or NaN: e.g. bits that do not fit
    the budget) are left out. ``cells`` sorted by system, channel and SNR
    (their order gives panel and legend order, and each system's colour and
    marker, the same in every figure of a sweep). Returns the PNG and PDF paths.
    """
    systems = list(dict.fromkeys(c.system for c in cells))
    cells = [c for c in cells if getattr(c, metric) is not None and not math.isnan(getattr(c, metric))]
    if not cells:
        return []
    channels = list(dict.fromkeys(c.channel for c in cells))
    figure = Figure(figsize=(4.2 * len(channels), 3.9), layout="constrained")
    axes = figure.subplots(1, len(channels), sharey=True, squeeze=False)[0]
    highest = max(getattr(c, metric) for c in cells)
    for ax, channel in zip(axes, channels):
        for index, system in enumerate(systems):
            own = [c for c in cells if c.system == system and c.channel == channel]
            if own:
                ax.plot([c.snr_db for c in own], [getattr(c, metric) for c in own], marker=MARKERS[index % len(MARKERS)], color=f"C{index}", label=system)
            banded = [c for c in own if metric == "cer" and c.cer_low is not None]
            if banded:
                ax.fill_between([c.snr_db for c in banded], [c.cer_low for c in banded], [c.cer_high for c in banded], color=f"C{index}", alpha=0.15, linewidth=0)
        if metric == "cer":
            ax.axhline(READABLE_CER, color="grey", linestyle="--", linewidth=1, label=f"readable (CER = {READABLE_CER})")
            draw_capacity_bounds(ax, [c for c in cells if c.channel == channel], systems)
        if ground_truth is not None:
            ax.axhline(ground_truth, color="black", linestyle=":", linewidth=1.2, label="ground truth (transcript synthesised)")
        ax.set_title(channel.upper() if channel == "awgn" else channel.capitalize())
        ax.set_xlabel("SNR (dB)")
        if metric in ("cer", "wer"):
            ax.set_ylim(0, max(1.0, highest) * 1.05)
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel(METRIC_LABELS[metric])
    handles, labels = axes[-1].get_legend_handles_labels()
    # Below the panels, in one row: inside a panel it hid the low-SNR points.
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize="small")
    return save_figure(figure, stem)


def draw_capacity_bounds(ax, cells: list[CellResult], systems: list[str]) -> None:
    """Dashed, in each digital system's colour: the capacity bound of its code rate (:mod:`baselines.capacity`).

    ``cells``: one channel's. AWGN: a vertical line at the Shannon limit of
    the lowest rate the system used (no code of that rate works to its left).
    Fading: at each swept SNR, the outage probability of a message of the
    cell's mean length at the cell's rate, a lower bound on the message
    error rate (drawn on the CER axis; a lost message costs up to CER 1).
    """
    from baselines.capacity import shannon_limit_db

    labelled = False
    for index, system in enumerate(systems):
        linked = linked_cells([c for c in cells if c.system == system])
        if not linked:
            continue
        label = None if labelled else "capacity bound (dashed, system colour)"
        labelled = True
        if linked[0].channel == "awgn":
            ax.axvline(shannon_limit_db(min(c.link_bits_per_symbol for c in linked)), color=f"C{index}", linestyle="--", linewidth=1, label=label)
        else:
            ax.plot(*zip(*message_error_bounds(linked)), color=f"C{index}", linestyle="--", linewidth=1, label=label)


def plot_bler_table(table: dict, stem: Path) -> list[Path]:
    """The adaptive link's measured BLER against SNR (:mod:`baselines.bler_table`): one panel per channel, one curve per MCS.

    Colour runs from MCS 0 (dark) to the highest MCS (light); the dashed line
    is the 10 % target of link adaptation.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    from baselines.bler_table import TARGET_BLER

    channels = list(table["curves"])
    figure = Figure(figsize=(4.6 * len(channels), 4.0), layout="constrained")
    axes = figure.subplots(1, len(channels), sharey=True, squeeze=False)[0]
    colours = colormaps["viridis"]
    for ax, channel in zip(axes, channels):
        curves = table["curves"][channel]
        for index, points in curves.items():
            snrs, blers = [p[0] for p in points], [max(p[1], 1e-3) for p in points]  # BLER 0 drawn at the axis floor
            ax.plot(snrs, blers, color=colours(int(index) / max(1, len(curves) - 1)), linewidth=1)
        ax.axhline(TARGET_BLER, color="grey", linestyle="--", linewidth=1)
        ax.set_yscale("log")
        ax.set_ylim(1e-3, 1.1)
        ax.set_title(channel.upper() if channel == "awgn" else channel.capitalize())
        ax.set_xlabel("SNR (dB)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(f"BLER ({table['settings']['block_bits']}-bit LDPC blocks)")
    figure.colorbar(ScalarMappable(Normalize(0, len(table["curves"][channels[0]]) - 1), colours), ax=list(axes), label="MCS index (Table 5.1.3.1-1)")
    return save_figure(figure, stem)


def read_history(run_dir: Path) -> list[dict[str, float | None]]:
    """The rows of a training run's ``history.csv`` (epoch, loss, val_cer, val_loss) as floats, None where empty."""
    path = Path(run_dir) / "history.csv"
    try:
        with open(path, newline="") as handle:
            return [{key: float(value) if value else None for key, value in row.items()} for row in csv.DictReader(handle)]
    except FileNotFoundError:
        raise UserError(f"{run_dir}: no history.csv (not a training run folder)") from None
    except ValueError as error:
        raise UserError(f"{path}: not a Keras history file ({error})") from None


def _run_label(run_dir: Path) -> str:
    """``<folder> (lr 0.0001)``, the learning rate from ``run.json`` when it is there."""
    try:
        rate = json.loads((Path(run_dir) / "run.json").read_text())["learning_rate"]
        return f"{Path(run_dir).name} (lr {rate:g})"
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        return Path(run_dir).name


def plot_loss_curves(run_dirs: list[Path], stem: Path) -> list[Path]:
    """CTC loss against epoch for training runs (e.g. one per learning rate): training solid, validation dashed."""
    figure = Figure(figsize=(5.5, 3.8), layout="constrained")
    ax = figure.subplots()
    for index, run_dir in enumerate(run_dirs):
        history = read_history(run_dir)
        for column, style, marker, label in (("loss", "-", MARKERS[index % len(MARKERS)], _run_label(run_dir)), ("val_loss", "--", None, None)):
            # Keras numbers epochs from 0 in history.csv; the figure counts from 1.
            points = [(row["epoch"] + 1, row[column]) for row in history if row.get(column) is not None]
            if points:
                ax.plot(*zip(*points), color=f"C{index}", linestyle=style, marker=marker, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("CTC loss")
    ax.set_title("training (solid) and validation (dashed) loss")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return save_figure(figure, stem)
