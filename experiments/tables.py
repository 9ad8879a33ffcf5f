"""Markdown tables of a sweep next to the paper's numbers (Tables II and IV, section V-B, readability).

Every function takes the sweep's cells (:class:`experiments.results.CellResult`,
sorted by system, channel and SNR) and returns a Markdown table as a string.
"""

from __future__ import annotations

import math

from experiments.results import CellResult

READABLE_CER = 0.15  # the paper's "readable text" threshold (Figs. 5-6)
SPEECH_METRICS = ("fdsd", "kdsd")  # Figs. 7-8
DECODED_SPEECH_METRICS = ("pesq", "stoi")  # of decoded speech against the sent speech

# Weng et al., Table II: complex symbols per 16,000 samples (1 s of speech).
PAPER_SYMBOLS = {"deepsc-st": 520, "speech": 6600, "feature": 6264, "text": 60, "sr-deepsc": 120}
# Section V-B: trainable parameters. The speech, text and feature systems read
# text with the ASR model, the paper's Deep Speech 2.
PAPER_PARAMETERS = {
    "deepsc-st": (85_796_042, "DeepSC-ST"),
    "speech": (85_788_733, "Deep Speech 2"),
    "text": (85_788_733, "Deep Speech 2"),
    "feature": (85_788_733, "Deep Speech 2"),
    "sr-deepsc": (92_212_016, "SR+DeepSC"),
}
# Section V-C: lowest SNR (dB) with readable text (CER <= 0.15) over AWGN.
PAPER_READABLE_SNR = {("deepsc-st", "awgn"): -2, ("speech", "awgn"): 4, ("text", "awgn"): 4, ("feature", "awgn"): 4}
# Section V-C: "SR+DeepSC obtains no readable text under the adopted fading channels".
PAPER_NEVER_READABLE = {("sr-deepsc", "rayleigh"), ("sr-deepsc", "rician")}


def readable_from(points: list[tuple[float, float]]) -> float | None:
    """The lowest SNR from which CER <= 0.15 at every higher swept SNR too.

    ``points``: (snr_db, cer) pairs. None when even the highest SNR is not readable.
    """
    threshold = None
    for snr_db, cer in sorted(points, reverse=True):
        if not cer <= READABLE_CER:  # NaN (no numbers) is not readable either
            break
        threshold = snr_db
    return threshold


def _grouped(cells: list[CellResult], *fields: str) -> dict[tuple, list[CellResult]]:
    groups: dict[tuple, list[CellResult]] = {}
    for cell in cells:
        groups.setdefault(tuple(getattr(cell, f) for f in fields), []).append(cell)
    return groups


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    def line(values):
        return "| " + " | ".join(str(v).replace("|", "\\|") for v in values) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(row) for row in rows)]) + "\n"


def format_db(value: float) -> str:
    return f"{value:g} dB".replace("-", "−")


def linked_cells(cells: list[CellResult]) -> list[CellResult]:
    """The cells that sent bits over a digital link (those have a capacity bound)."""
    return [c for c in cells if c.link_bits_per_symbol is not None and c.symbols_per_utterance]


def message_error_bounds(linked: list[CellResult]) -> list[tuple[float, float]]:
    """(snr_db, lower bound on the message error rate) of each linked cell (:func:`baselines.capacity.message_error_bound`)."""
    from baselines.capacity import message_error_bound

    return [(c.snr_db, message_error_bound(c.channel, c.snr_db, c.link_bits_per_symbol, c.symbols_per_utterance)) for c in linked]


def bound_threshold(group: list[CellResult]) -> float | None:
    """The SNR (dB) below which the capacity bound of one system's code on one channel forbids readable text.

    AWGN: the Shannon limit of the lowest rate used. Fading: the lowest swept
    SNR from which the message error bound (outage) stays <= 0.15. None for
    systems without a digital link, or when the bound never allows it.
    """
    from baselines.capacity import shannon_limit_db

    linked = linked_cells(group)
    if not linked:
        return None
    if linked[0].channel == "awgn":
        return shannon_limit_db(min(c.link_bits_per_symbol for c in linked))
    return readable_from(message_error_bounds(linked))


def format_bound(group: list[CellResult]) -> str:
    """:func:`bound_threshold` as table text: 2 decimals over AWGN (an exact limit), a swept SNR over fading, "—" without one."""
    bound = bound_threshold(group)
    if bound is None:
        return "—"
    return f"{bound:.2f} dB".replace("-", "−") if group[0].channel == "awgn" else format_db(bound)


def threshold_table(cells: list[CellResult]) -> str:
    """Per system and channel: the lowest swept SNR with readable text (see :func:`readable_from`), its capacity bound, and the paper's."""
    rows = []
    for (system, channel), group in _grouped(cells, "system", "channel").items():
        snrs = [c.snr_db for c in group]
        threshold = readable_from([(c.snr_db, c.cer) for c in group])
        if all(c.note for c in group):
            ours = group[0].note
        elif threshold is None:
            ours = f"not reached (CER > {READABLE_CER} at {format_db(max(snrs))})"
        elif threshold == min(snrs):
            ours = f"≤ {format_db(threshold)} (lowest swept)"
        else:
            ours = format_db(threshold)
        paper = PAPER_READABLE_SNR.get((system, channel))
        if (system, channel) in PAPER_NEVER_READABLE:
            paper_text = "never readable"
        else:
            paper_text = f"about {format_db(paper)}" if paper is not None else "—"
        rows.append([system, channel, ours, format_bound(group), paper_text])
    return markdown_table(["system", "channel", f"lowest SNR with CER ≤ {READABLE_CER} (ours)", "capacity bound", "paper"], rows)


def symbols_table(cells: list[CellResult]) -> str:
    """Complex channel symbols per 16,000 samples per system (Table II): ours over the test set, the paper's."""
    rows = []
    for (system,), group in _grouped(cells, "system").items():
        values = [c.symbols_per_16000_samples for c in group if not math.isnan(c.symbols_per_16000_samples)]
        if not values:
            ours = "does not fit"
        else:
            ours = f"{sum(values) / len(values):,.0f}"
            if max(values) - min(values) > 0.5:
                ours += f" ({min(values):,.0f}–{max(values):,.0f})"
        paper = PAPER_SYMBOLS.get(system)
        rows.append([system, ours, f"{paper:,}" if paper is not None else "—"])
    swept = {c.system for c in cells}
    rows += [[system, "not run", f"{paper:,}"] for system, paper in PAPER_SYMBOLS.items() if system not in swept]
    return markdown_table(["system", "symbols per 16,000 samples (ours)", "paper"], rows)


def parameters_table(cells: list[CellResult]) -> str:
    """Trainable parameters per system (section V-B): ours from the models each system used, the paper's."""
    rows = []
    for (system,), group in _grouped(cells, "system").items():
        counts = {c.trainable_parameters for c in group}
        models = sorted({f"{kind}: {identifier}" for c in group for kind, identifier in c.models.items() if identifier})
        ours = ", ".join(f"{n:,}" for n in sorted(counts) if n is not None) or "no trained model"
        paper = PAPER_PARAMETERS.get(system)
        rows.append([system, ours, "; ".join(models) or "—", f"{paper[0]:,} ({paper[1]})" if paper else "—"])
    swept = {c.system for c in cells}
    rows += [[system, "not run", "—", f"{n:,} ({label})"] for system, (n, label) in PAPER_PARAMETERS.items() if system not in swept]
    return markdown_table(["system", "trainable parameters (ours)", "models", "paper"], rows)


def nearest_snr(cells: list[CellResult], snr_db: float) -> float:
    """The swept SNR closest to ``snr_db`` (the lower one on a tie)."""
    return _nearest({c.snr_db for c in cells}, snr_db)


def _nearest(snrs, snr_db: float) -> float:
    """The value of ``snrs`` closest to ``snr_db`` (the lower one on a tie)."""
    return min(snrs, key=lambda s: (abs(s - snr_db), s))


def examples_table(cells: list[CellResult], snr_db: float) -> str:
    """Received sentences at the swept SNR nearest ``snr_db`` (Table IV): per example utterance, systems x channels.

    Each utterance starts with a "Sent (id): *text*" line, then its table.
    """
    snr_db = nearest_snr(cells, snr_db)
    at_snr = [c for c in cells if c.snr_db == snr_db]
    channels = list(dict.fromkeys(c.channel for c in at_snr))
    sections = []
    references = {e["id"]: e["reference"] for c in at_snr for e in c.examples}
    for utterance_id, reference in references.items():
        rows = []
        for (system,), group in _grouped(at_snr, "system").items():
            by_channel = {c.channel: {e["id"]: e["hypothesis"] for e in c.examples} for c in group}
            rows.append([system, *(by_channel.get(ch, {}).get(utterance_id, "—") for ch in channels)])
        sections.append(f"Sent ({utterance_id}): *{reference}*\n\n" + markdown_table(["system", *channels], rows))
    return "\n".join(sections)


def speech_quality_snrs(snrs) -> list[float]:
    """The SNRs (dB) the speech-quality table shows of a sweep over ``snrs``: the lowest, the nearest to 0 dB
    (the lower one on a tie) and the highest; a sweep measures PESQ / STOI only there unless asked for every SNR."""
    snrs = set(snrs)
    return sorted({min(snrs), _nearest(snrs, 0.0), max(snrs)})


def speech_quality_table(cells: list[CellResult], ground_truth: dict | None) -> str:
    """FDSD / KDSD per system and channel at the lowest, 0 dB (nearest) and highest swept SNR, plus the ground truth;
    PESQ (wb) / STOI where the receiver decodes the sent speech (AMR-WB, the codec), "—" for the others."""
    measured = [c for c in cells if c.fdsd is not None]
    snrs = speech_quality_snrs([c.snr_db for c in measured])
    metrics = (*SPEECH_METRICS, *DECODED_SPEECH_METRICS)
    header = ["system", "channel", *(f"{metric.upper()} at {format_db(snr)}" for snr in snrs for metric in metrics)]

    def value(cell, metric):
        return "—" if cell is None or getattr(cell, metric) is None else f"{getattr(cell, metric):.3g}"

    rows = []
    for (system, channel), group in _grouped(measured, "system", "channel").items():
        by_snr = {c.snr_db: c for c in group}
        rows.append([system, channel, *(value(by_snr.get(snr), metric) for snr in snrs for metric in metrics)])
    if ground_truth:
        rows.append(["ground truth", "—", *(f"{ground_truth[metric]:.3g}" if metric in ground_truth else "—" for _ in snrs for metric in metrics)])
    return markdown_table(header, rows)
