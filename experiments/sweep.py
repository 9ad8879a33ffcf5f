"""The SNR sweep: every system x channel x SNR over a test split, resumable and parallel.

Example (the first 20 test utterances, two systems, AWGN at 0, 4 and 8 dB)::

    from experiments.sweep import SweepSettings, parse_snrs, run_sweep

    settings = SweepSettings(name="quick", systems=("deepsc-st", "text"), channels=("awgn",),
                             snrs=parse_snrs("0:8:4"), utterances=20, models={"asr": "runs/asr"})
    summary = run_sweep(settings)  # {"folder": Path("results/quick"), "cells": 6, "computed": 6, ...}

What it writes under ``results/<name>/`` is described in
:mod:`experiments.results` (cells and ``results.csv``) and
:mod:`experiments.report` (figures, tables, ``report.md``).

Resuming: every finished cell is stored at once, so rerunning a killed sweep
with the same arguments computes only the missing cells. Adding systems,
channels or SNRs to a finished sweep adds cells; changing the data, split,
number of utterances, seed or models is refused (choose another ``--name``).

Parallelism: cells run in ``workers`` processes started with "spawn" (not
fork: TensorFlow is not fork-safe); each builds its transceivers once.
With one worker the cells run in the calling process. ``backend="ray"`` runs
them on Ray actors instead, on a local Ray instance or the cluster at
``address`` (:mod:`experiments.ray_backend`); results and resumption are the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import multiprocessing
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from tqdm import tqdm

from baselines.conventional import BUDGET_OPTION, LINK_OPTION
from deepsc_st.checkpoint import MODEL_WEIGHTS
from deepsc_st.data import fingerprint, load_utterances
from deepsc_st.errors import UserError
from deepsc_st.settings import setting
from deepsc_st.transceiver import ASR_MODEL
from experiments.report import write_report
from experiments.results import CellResult, ResultsFolder, write_text_atomically
from experiments.speech_quality import DECODED_QUALITY_UTTERANCES, SpeechQualityMeter, SpeechQualitySetup, sender_users
from experiments.systems import PROJECT_SYSTEMS, Registry
from experiments.tables import speech_quality_snrs
from experiments.worker import init_worker, run_cell

log = logging.getLogger(__name__)

SWEEP_CHANNELS = ("awgn", "rayleigh", "rician")
BACKENDS = ("local", "ray")
DEFAULT_SNRS = "-12:20:2"
GROUND_TRUTH_FILE = "ground_truth.json"


def parse_snrs(text: str) -> tuple[float, ...]:
    """SNRs (Es/N0, dB), sorted and unique: ``"-12:20:2"`` -> (-12, -10, ..., 20) (HIGH included); ``"0,4,8"`` -> (0, 4, 8)."""
    text = str(text).strip()
    try:
        if ":" in text:
            low, high, step = (float(part) for part in text.split(":"))
            if not step > 0 or low > high or (high - low) / step > 1000:
                raise ValueError
            values = [round(low + i * step, 6) for i in range(int(math.floor((high - low) / step + 1e-9)) + 1)]
        else:
            values = [float(part) for part in text.split(",")]
    except ValueError:
        raise UserError(f"--snrs: {text!r} is not a list of dB values (e.g. 0,4,8) or LOW:HIGH:STEP (e.g. -12:20:2)") from None
    if not all(abs(value) < 1e3 for value in values):
        raise UserError(f"--snrs: {text!r} holds a value that is not a finite SNR in dB")
    return tuple(sorted({value + 0.0 for value in values}))  # + 0.0 turns -0.0 into 0.0


def parse_list(text: str) -> tuple[str, ...]:
    """``"a,b, c"`` -> ("a", "b", "c")."""
    return tuple(part.strip() for part in str(text).split(",") if part.strip())


def _snr_list_text(snrs: tuple[float, ...]) -> str:
    return ",".join(f"{snr:g}" for snr in snrs)


@dataclass(frozen=True)
class SweepSettings:
    """What to sweep and where to write it: the ``deepsc-st sweep`` options.

    ``systems``: names, None for every available one. ``channels``: names
    from :data:`SWEEP_CHANNELS`. ``snrs``: Es/N0 values in dB.
    ``utterances``: the first N of ``split`` (None: all). ``seed``: fixes
    every noise and fading draw. ``models``: model kind name ("deepsc-st",
    "asr") -> run folder (missing: the shipped model). ``options``: system
    option name -> value (missing: its default); these two come from the
    systems' declarations (:mod:`experiments.systems`). ``example_snr``: the
    SNR (dB) of the example-sentence table; the nearest swept SNR is used.
    ``loss_runs``: training run folders whose ``history.csv`` the loss figure
    shows. ``workers``: processes (None: min(2, cores)). ``speech_quality``:
    also measure FDSD / KDSD of the speech receivers output, against the
    ``reference_split``'s recordings (:mod:`experiments.speech_quality`).
    """

    name: str = setting("default", "results go to RESULTS/NAME; rerunning the same command resumes")
    data: str = setting("data/synth", "corpus folder")
    split: str = setting("test", "the split every cell transmits")
    utterances: int | None = setting(None, "only the first N of the split", parse=int)
    systems: tuple[str, ...] | None = setting(None, "comma list (default: every system)", parse=parse_list, render=",".join)
    channels: tuple[str, ...] = setting(SWEEP_CHANNELS, "comma list", parse=parse_list, render=",".join)
    snrs: tuple[float, ...] = setting(parse_snrs(DEFAULT_SNRS), "Es/N0 in dB: comma list or LOW:HIGH:STEP (HIGH included)", parse=parse_snrs, render=_snr_list_text)
    seed: int = setting(0, "fixes every noise and fading draw")
    models: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    example_snr: float = setting(0.0, "SNR (dB) of the example-sentence table")
    loss_runs: tuple[str, ...] = setting((), "training runs for the loss-vs-epoch figure", nargs="+")
    results: str = setting("results", "folder that holds the sweeps")
    workers: int | None = setting(None, "processes (default: min(2, cores); ray: one per CPU of the cluster)", parse=int)
    backend: str = setting("local", "where cells run: local (a process pool) or ray (a Ray cluster, pip install 'deepsc-st[cluster]')")
    address: str | None = setting(None, "ray: the cluster's HOST:PORT (default: start a local Ray instance)")
    speech_quality: bool = setting(True, "skip FDSD / KDSD of the speech receivers output (faster)", flag="--no-speech-quality")
    pesq_at_every_snr: bool = setting(
        False, "measure PESQ / STOI of decoded speech at every SNR (default: at the lowest, nearest 0 dB and highest, the report's table)"
    )
    reference_split: str = setting("validation", "real speech that FDSD / KDSD compare with")
    quality_utterances: int = setting(
        DECODED_QUALITY_UTTERANCES, "PESQ / STOI of decoded speech over the first N utterances of a cell (0.1-0.4 s each)", parse=int
    )


def run_sweep(settings: SweepSettings, registry: Registry = PROJECT_SYSTEMS, progress: bool = True) -> dict:
    """Run the cells of ``settings`` that are not stored yet, then rewrite ``results.csv``, figures and report.

    Returns {"folder": Path, "cells": cells stored in the folder,
    "computed": cells computed by this call, "report": Path of report.md}.
    Bad settings raise a one-line :class:`UserError` before any cell runs.
    """
    names = _check_settings(settings, registry)
    if settings.backend == "ray":
        from experiments.ray_backend import check_cluster

        check_cluster(settings.address)
    model_dirs = registry.model_dirs(settings.models)
    model_ids = {kind: model_identifier(folder) for kind, folder in model_dirs.items()}
    test_set = load_utterances(settings.data, settings.split, settings.utterances)
    quality, reference_fingerprint = _speech_quality_setup(settings, model_dirs, test_set)
    folder = ResultsFolder(Path(settings.results) / settings.name)
    identity = {
        "data": str(Path(settings.data).resolve()),
        "data_fingerprint": fingerprint(test_set),
        "split": settings.split,
        "utterances": settings.utterances,
        "seed": settings.seed,
        "models": model_ids,
        "link": link_identity(settings.options),
    }
    options = changed_options(settings.options, registry)
    if options:
        identity["options"] = options
    if quality is not None:
        identity["speech_reference"] = {"split": settings.reference_split, "fingerprint": reference_fingerprint}
    folder.claim(identity)
    cells = folder.load_cells()
    wanted = list(dict.fromkeys((system, channel, snr) for system in names for channel in settings.channels for snr in settings.snrs))
    todo = [cell for cell in wanted if cell not in cells]
    order = _cell_order(registry.names)
    with tqdm(total=len(wanted), initial=len(wanted) - len(todo), desc=f"sweep {settings.name}", unit="cell", disable=not progress, file=sys.stderr) as bar:
        for cell in _compute(todo, registry, model_dirs, settings.options, model_ids, test_set, settings.seed, quality, settings):
            folder.save_cell(cell)
            cells[cell.key] = cell
            folder.write_csv(sorted(cells.values(), key=order))
            bar.set_postfix_str(f"{cell.system} {cell.channel} {cell.snr_db:+g} dB: CER {cell.cer:.3f}")
            bar.update()
    ordered = sorted(cells.values(), key=order)
    folder.write_csv(ordered)
    ground_truth = _ground_truth(folder, quality, test_set, model_ids.get(ASR_MODEL.name)) if quality is not None else None
    report = write_report(folder, ordered, settings.example_snr, [Path(run) for run in settings.loss_runs], ground_truth)
    return {"folder": folder.path, "cells": len(ordered), "computed": len(todo), "report": report}


def _check_settings(settings: SweepSettings, registry: Registry) -> tuple[str, ...]:
    """The systems to run; a one-line :class:`UserError` for any unknown name or bad value."""
    names = settings.systems if settings.systems is not None else registry.names
    for what, given, valid in (("system", names, registry.names), ("channel", settings.channels, SWEEP_CHANNELS)):
        unknown = [name for name in given if name not in valid]
        if unknown or not given:
            raise UserError(f"unknown {what} {unknown[0]!r}; choose from {', '.join(valid)}" if unknown else f"no {what} given; choose from {', '.join(valid)}")
    if not settings.snrs:
        raise UserError("--snrs: no SNR given")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", settings.name):
        raise UserError(f"--name: {settings.name!r} is not a folder name (letters, digits, '.', '_', '-')")
    if settings.utterances is not None and settings.utterances < 1:
        raise UserError(f"--utterances: {settings.utterances} is not a positive number")
    if settings.quality_utterances < 1:
        raise UserError(f"--quality-utterances: {settings.quality_utterances} is not a positive number")
    if settings.workers is not None and settings.workers < 1:
        raise UserError(f"--workers: {settings.workers} is not a positive number")
    if settings.backend not in BACKENDS:
        raise UserError(f"unknown backend {settings.backend!r}; choose one of {', '.join(BACKENDS)}")
    if settings.address is not None and settings.backend != "ray":
        raise UserError("--address names a Ray cluster; add --backend ray")
    for run in settings.loss_runs:
        if not (Path(run) / "history.csv").is_file():
            raise UserError(f"--loss-runs: {run} has no history.csv (not a training run folder)")
    for option in registry.options:
        option.check(settings.options.get(option.name, option.default))
    return tuple(dict.fromkeys(names))


def changed_options(options: dict, registry: Registry) -> dict:
    """The system options (other than the link policy, recorded as ``link``) given away from their defaults, by name."""
    changed = {}
    for option in registry.options:
        if option.name not in (LINK_OPTION.name, BUDGET_OPTION.name) and option.name in options:
            value = option.check(options[option.name])
            if value != option.check(option.default):
                changed[option.name] = value
    return changed


def link_identity(options: dict) -> str:
    """The conventional systems' link policy as the sweep records it: ``paper``, ``adaptive``, ``budget:deepsc-st`` or ``budget:600``."""
    policy = LINK_OPTION.check(options.get(LINK_OPTION.name, LINK_OPTION.default))
    if policy != "budget":
        return policy
    budget = BUDGET_OPTION.check(options.get(BUDGET_OPTION.name, BUDGET_OPTION.default))
    return f"budget:{'deepsc-st' if budget is None else f'{budget:g}'}"


def model_identifier(run_dir) -> str | None:
    """``<folder name>@<first 12 hex digits of sha256(model.weights.h5)>``, or None without a model."""
    if run_dir is None or not (Path(run_dir) / MODEL_WEIGHTS).is_file():
        return None
    digest = hashlib.sha256()
    with open(Path(run_dir) / MODEL_WEIGHTS, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{Path(run_dir).name}@{digest.hexdigest()[:12]}"


def _speech_quality_setup(settings: SweepSettings, model_dirs: dict, test_set) -> tuple[SpeechQualitySetup | None, str | None]:
    """What FDSD / KDSD need (and the reference set's fingerprint), or (None, None) when not measured.

    They need the ASR-only model's features; without one the sweep says so once and goes on.
    """
    if not settings.speech_quality:
        return None, None
    asr_dir = model_dirs.get(ASR_MODEL.name)
    if asr_dir is None or not (Path(asr_dir) / MODEL_WEIGHTS).is_file():
        log.warning("no ASR-only model: FDSD / KDSD are not measured (pass %s RUNDIR)", ASR_MODEL.option)
        return None, None
    if len(test_set) < 2:
        raise UserError("FDSD / KDSD need at least 2 test utterances (or pass --no-speech-quality)")
    reference = load_utterances(settings.data, settings.reference_split, settings.utterances)
    if len(reference) < 2:
        raise UserError(f"FDSD / KDSD need at least 2 reference utterances in split {settings.reference_split!r}")
    users = sender_users(settings.data, [item.utterance.id for item in test_set])
    decoded_quality_snrs = None if settings.pesq_at_every_snr else tuple(speech_quality_snrs(settings.snrs))
    setup = SpeechQualitySetup(Path(asr_dir), [item.waveform for item in reference], users, decoded_quality_snrs, settings.quality_utterances)
    return setup, fingerprint(reference)


def _ground_truth(folder: ResultsFolder, quality: SpeechQualitySetup, test_set, asr_model_id: str | None) -> dict:
    """FDSD / KDSD of the test transcripts through the synthesiser, computed once per ASR model (``ground_truth.json``)."""
    path = folder.path / GROUND_TRUTH_FILE
    if path.is_file():
        stored = json.loads(path.read_text())
        if stored.get("asr_model") == asr_model_id:
            return stored
    distances = SpeechQualityMeter(quality).ground_truth([item.utterance.text for item in test_set])
    stored = {"asr_model": asr_model_id, **distances}
    write_text_atomically(path, json.dumps(stored, indent=1) + "\n")
    return stored


def _cell_order(system_names: tuple[str, ...]):
    """Sort key of a :class:`CellResult`: system (``system_names`` order), channel, SNR."""

    def key(cell: CellResult):
        system_rank = system_names.index(cell.system) if cell.system in system_names else len(system_names)
        channel_rank = SWEEP_CHANNELS.index(cell.channel) if cell.channel in SWEEP_CHANNELS else len(SWEEP_CHANNELS)
        return system_rank, cell.system, channel_rank, cell.channel, cell.snr_db

    return key


def _compute(todo, registry, model_dirs, options, model_ids, test_set, seed, quality, settings: SweepSettings) -> Iterator[CellResult]:
    """Run the cells ``todo`` = [(system, channel, snr_db)] on ``settings.backend``, yielding each result as it finishes."""
    if not todo:
        return
    init_args = (registry, sorted({system for system, _, _ in todo}), model_dirs, options, model_ids, test_set, seed, quality)
    if settings.backend == "ray":
        from experiments.ray_backend import ray_cells

        yield from ray_cells(todo, init_args, settings.address, settings.workers)
        return
    workers = min(settings.workers or min(2, os.cpu_count() or 1), len(todo))
    if workers == 1:
        init_worker(*init_args)
        for cell in todo:
            yield run_cell(*cell)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker, initargs=(*init_args, threads))
    try:
        futures = [pool.submit(run_cell, *cell) for cell in todo]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
