"""Ship a trained run: copy its weights and settings, measure it, and write ``MODEL.md``.

The card records the exact training command, the corpus seed and checksum,
training time and hardware, the commit the model was trained at, and CER/WER
measured with :func:`deepsc_st.evaluate.evaluate` on the corpus's test splits.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import platform
import shutil
from pathlib import Path

from channels import make_channel
from deepsc_st import checkpoint
from deepsc_st.data import load_waveforms, read_utterances
from deepsc_st.errors import UserError
from deepsc_st.evaluate import evaluate

SHIPPED_FILES = (checkpoint.MODEL_WEIGHTS, checkpoint.RUN_FILE, "history.csv")
CARD_SNRS = (-4.0, 0.0, 8.0, 20.0)
CARD_CHANNELS = ("awgn", "rayleigh", "rician")


def snr_text(run: dict) -> str:
    """The training SNR as given to ``--snr``: ``8`` or ``0:20``."""
    low, high = run["snr_db"]
    return f"{low:g}" if low == high else f"{low:g}:{high:g}"


def training_command(run: dict, epochs: int, run_dir: str) -> str:
    """The ``deepsc-st train`` command line that produces ``run``."""
    parts = ["deepsc-st train", f"--config {run['config']['name']}", f"--data {run['data']}", f"--channel {run['channel']}"]
    if run["channel"] != "none":
        parts.append(f"--snr {snr_text(run)}")
    parts += [
        f"--out {run_dir}", f"--epochs {epochs}", f"--batch-size {run['batch_size']}",
        f"--lr {run['learning_rate']:g}", f"--seed {run['seed']}",
    ]
    if run.get("lr_schedule", "constant") != "constant":
        parts.append(f"--lr-schedule {run['lr_schedule']}")
    if run.get("spec_augment"):
        parts.append("--spec-augment")
    if run.get("init_from"):
        parts.append(f"--init-from {run['init_from']}")
    if run.get("freeze_encoder"):
        parts.append("--freeze-encoder")
    if run.get("max_utterances"):
        parts.append(f"--max-utterances {run['max_utterances']}")
    return " ".join(parts)


def _history(run_dir: Path) -> list[dict]:
    with open(run_dir / "history.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def measure(model, run: dict, data_dir, utterances: int | None = None) -> list[dict]:
    """CER/WER rows: clean speech for an ASR model; each channel at -4, 0, 8, 20 dB for DeepSC-ST (test split),
    plus the held-out-speaker split at 8 dB over AWGN (or clean for ASR)."""
    rows = []
    test = load_waveforms(read_utterances(data_dir, "test"), model.config, progress=False, max_utterances=utterances)
    try:
        heldout = load_waveforms(read_utterances(data_dir, "test_heldout"), model.config, progress=False, max_utterances=utterances)
    except UserError:  # corpora without held-out speakers (LJSpeech) have no such split
        heldout = None
    if run["kind"] == "asr":
        rows.append({"split": "test", **evaluate(model, test, make_channel("none"), 0.0)})
        if heldout:
            rows.append({"split": "test_heldout", **evaluate(model, heldout, make_channel("none"), 0.0)})
        return rows
    for channel in CARD_CHANNELS:
        for snr in CARD_SNRS:
            rows.append({"split": "test", **evaluate(model, test, make_channel(channel), snr)})
    if heldout:
        rows.append({"split": "test_heldout", **evaluate(model, heldout, make_channel("awgn"), 8.0)})
    return rows


def _epoch_seconds(history: list[dict]) -> list[float] | None:
    """Wall time of each epoch from the ``epoch_s`` column, None for runs logged before the column existed."""
    return [float(row["epoch_s"]) for row in history] if history and "epoch_s" in history[0] else None


def _recorded_seconds(history: list[dict]) -> float | None:
    """Wall time of a run, None when its history has no epoch times."""
    seconds = _epoch_seconds(history)
    return sum(seconds) if seconds is not None else None


def _progress_lines(history: list[dict]) -> list[str]:
    """The card's per-epoch table (cumulative training minutes, loss, validation CER): time-to-target at a glance.

    Empty for runs logged before the ``epoch_s`` column existed.
    """
    seconds = _epoch_seconds(history)
    if seconds is None:
        return []
    lines = ["## Training progress", "", "| epoch | minutes (cumulative) | training loss | validation CER |", "| --- | --- | --- | --- |"]
    for row, elapsed in zip(history, itertools.accumulate(seconds)):
        lines.append(f"| {int(row['epoch']) + 1} | {elapsed / 60:.1f} | {float(row['loss']):.2f} | {float(row['val_cer']):.4f} |")
    return lines + [""]


def _ancestors(run: dict) -> list[tuple[Path, dict, list[dict]]]:
    """The runs this one was initialised from (``--init-from``), oldest first, as (folder, run.json, history)."""
    chain, source = [], run.get("init_from")
    while source and (Path(source) / checkpoint.RUN_FILE).is_file() and (Path(source) / "history.csv").is_file():
        ancestor = checkpoint.read_json(Path(source) / checkpoint.RUN_FILE)
        chain.insert(0, (Path(source), ancestor, _history(Path(source))))
        source = ancestor.get("init_from")
    return chain


def _ancestor_line(run_dir: Path, history: list[dict]) -> str:
    """The card's line on one run the model was initialised from: epochs, last validation CER, time."""
    seconds = _recorded_seconds(history)
    spent = f"{seconds / 60:.1f} min." if seconds else "time not in its history.csv."
    return f"- First `{run_dir}`: {len(history)} epochs, validation CER {float(history[-1]['val_cer']):.4f}, {spent}"


def write_model_card(
    run_dir, out_dir, data_dir, utterances: int | None = None, training_seconds: float | None = None, note: str | None = None
) -> Path:
    """Copy the run's model into ``out_dir`` and write ``out_dir/MODEL.md``; returns its path.

    ``training_seconds``: the run's wall time when its ``history.csv`` has no
    ``epoch_s``. Runs it was initialised from are listed with their commands
    and recorded times. ``note``: free text for a "Notes" section.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    model, run = checkpoint.load_run(run_dir)
    history = _history(run_dir)
    if training_seconds is None:
        training_seconds = _recorded_seconds(history)
    ancestors = _ancestors(run)
    manifest = json.loads((Path(data_dir) / "manifest.json").read_text()) if (Path(data_dir) / "manifest.json").is_file() else {}
    rows = measure(model, run, data_dir, utterances)

    out_dir.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED_FILES:
        shutil.copyfile(run_dir / name, out_dir / f".tmp-{name}")
        os.replace(out_dir / f".tmp-{name}", out_dir / name)
    (out_dir / "measurements.json").write_text(json.dumps(rows, indent=2) + "\n")

    title = "ASR-only model (no channel)" if run["kind"] == "asr" else f"DeepSC-ST trained under {run['channel']} at {snr_text(run)} dB"
    lines = [
        f"# {title}: `{run['config']['name']}` configuration",
        "",
        f"Trainable parameters: {model.trainable_parameter_count():,}. Weights: `{checkpoint.MODEL_WEIGHTS}` "
        f"({(out_dir / checkpoint.MODEL_WEIGHTS).stat().st_size / 1e6:.1f} MB); settings: `{checkpoint.RUN_FILE}`; "
        "per-epoch loss and validation CER: `history.csv`.",
        "",
        "## How it was made",
        "",
        "```",
        *(training_command(a_run, len(a_history), str(a_dir)) for a_dir, a_run, a_history in ancestors),
        training_command(run, len(history), str(run_dir)),
        "```",
        "",
        *(_ancestor_line(a_dir, a_history) for a_dir, _, a_history in ancestors),
        f"- Corpus: `{run['data']}`, seed {manifest.get('seed', 'unknown')}, manifest checksum `{manifest.get('checksum_sha256', 'unknown')}`.",
        f"- Epochs: {len(history)}; final training loss {float(history[-1]['loss']):.2f}, validation CER {float(history[-1]['val_cer']):.4f}.",
        (f"- Training time: {training_seconds / 60:.1f} min" + (" (this run)" if ancestors else "")) if training_seconds else "- Training time: not recorded",
        f"- Hardware: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), no GPU.",
        f"- Trained at commit: `{run.get('commit') or 'unknown'}`.",
        "",
        *_progress_lines(history),
        "## Measured (`deepsc-st evaluate`, CTC greedy decoding)",
        "",
        "| split | channel | SNR (dB) | CER | WER | utterances | symbols / 16,000 samples |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        snr = "-" if row["channel"] == "none" else f"{row['snr_db']:g}"
        lines.append(f"| {row['split']} | {row['channel']} | {snr} | {row['cer']:.4f} | {row['wer']:.4f} | {row['utterances']} | {row['symbols_per_16000_samples']:.0f} |")
    if note:
        lines += ["", "## Notes", "", note]
    card = out_dir / "MODEL.md"
    card.write_text("\n".join(lines) + "\n")
    return card
