"""Result storage of one named sweep: ``results/<name>/``.

A sweep folder holds

* ``sweep.json``: what the numbers depend on (data, split, utterances, seed,
  models); a later run with other values is refused, so cells computed under
  different conditions never mix;
* ``cells/<system>_<channel>_<snr>dB.json``: one finished cell
  (:class:`CellResult`) each, the unit of resumption;
* ``results.csv``: one row per cell, regenerated from the cells.

Every file is written to a temporary file in the same folder and renamed into
place (``os.replace``), so a sweep killed at any moment, even with SIGKILL,
leaves each file either complete or absent.
"""

from __future__ import annotations

import csv
import io
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from deepsc_st.errors import UserError
from deepsc_st.measure import Measurement

SWEEP_FILE = "sweep.json"
CELLS_DIR = "cells"
RESULTS_CSV = "results.csv"
CSV_COLUMNS = (
    "system",
    "channel",
    "snr_db",
    "cer",
    "cer_low",
    "cer_high",
    "wer",
    "fdsd",
    "kdsd",
    "pesq",
    "stoi",
    "quality_utterances",
    "utterances",
    "symbols_per_16000_samples",
    "link_bits_per_symbol",
    "seed",
    "cell_seed",
    "models",
    "elapsed_s",
    "note",
)


@dataclass
class CellResult(Measurement):
    """The outcome of one system over one channel at one SNR: a :class:`deepsc_st.measure.Measurement` and more.

    ``seed`` is the sweep's seed. ``models``: model kind ("asr",
    "deepsc-st") -> identifier of each trained model the system declares.
    ``trainable_parameters``: of the models it holds together (None for a
    system without one). ``fdsd`` / ``kdsd``: distances of the receiver's
    speech to reference speech (:mod:`experiments.speech_quality`; None
    without speech or when not measured). ``pesq`` / ``stoi``: wide-band
    PESQ and STOI of decoded speech (AMR-WB, the codec) against the sent
    speech, means over the first utterances of the cell (None for other
    receivers or when not measured); ``quality_utterances``: how many of them
    PESQ scored (:data:`experiments.speech_quality.DECODED_QUALITY_UTTERANCES`
    by default). ``elapsed_s``: wall time of the
    cell (speech quality included), s. ``note``: why a cell holds no numbers
    (e.g. the system's bits do not fit the budget link: CER, WER and symbols are NaN).
    """

    models: dict[str, str] = field(default_factory=dict)
    trainable_parameters: int | None = None
    fdsd: float | None = None
    kdsd: float | None = None
    pesq: float | None = None
    stoi: float | None = None
    quality_utterances: int | None = None
    note: str | None = None

    @property
    def key(self) -> tuple[str, str, float]:
        return self.system, self.channel, self.snr_db


def cell_file_name(system: str, channel: str, snr_db: float) -> str:
    """``deepsc-st_awgn_-2.0dB.json``: unique per cell (``repr`` of the SNR round-trips)."""
    return f"{system}_{channel}_{float(snr_db)!r}dB.json"


@contextmanager
def replacing(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds, else remove it."""
    path = Path(path)
    temporary = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomically(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` all at once: a temporary file, fsync, ``os.replace``."""
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8", newline="") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


class ResultsFolder:
    """``results/<name>/``: the settings check, finished cells and ``results.csv``."""

    def __init__(self, path):
        self.path = Path(path)
        self.cells_dir = self.path / CELLS_DIR

    def claim(self, identity: dict) -> None:
        """Create the folder for ``identity``, or check that it already holds a sweep with the same one.

        ``identity`` maps each setting the numbers depend on to a JSON value;
        its ``"models"`` entry maps a model kind to an identifier, or None
        when no such model was found. A model is only compared when both runs
        know it, so a sweep that first ran without one may add systems that
        need it. Any other difference raises a one-line :class:`UserError`.
        """
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        stored_path = self.path / SWEEP_FILE
        if stored_path.is_file():
            try:
                stored = json.loads(stored_path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise UserError(f"{stored_path}: not valid JSON; delete the folder or choose another --name") from None
            identity = _merge_identity(stored, identity, self.path)
            if identity == stored:
                return
        write_text_atomically(stored_path, json.dumps(identity, indent=2) + "\n")

    def identity(self) -> dict:
        """The stored ``sweep.json``."""
        return json.loads((self.path / SWEEP_FILE).read_text())

    def load_cells(self) -> dict[tuple[str, str, float], CellResult]:
        """Every finished cell, by (system, channel, snr_db)."""
        cells = {}
        for path in sorted(self.cells_dir.glob("[!.]*.json")):
            cell = CellResult(**json.loads(path.read_text()))
            cells[cell.key] = cell
        return cells

    def save_cell(self, cell: CellResult) -> None:
        write_text_atomically(self.cells_dir / cell_file_name(*cell.key), json.dumps(cell.row(), indent=1) + "\n")

    def write_csv(self, cells: list[CellResult]) -> Path:
        """Write ``results.csv`` with one row per cell, in the given order (columns :data:`CSV_COLUMNS`)."""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for cell in cells:
            models = " ".join(f"{kind}={identifier}" for kind, identifier in sorted(cell.models.items()) if identifier)
            values = {**cell.row(), "models": models, "elapsed_s": f"{cell.elapsed_s:.3f}", "note": cell.note or ""}
            values["link_bits_per_symbol"] = "" if cell.link_bits_per_symbol is None else f"{cell.link_bits_per_symbol:.4f}"
            writer.writerow([values[column] for column in CSV_COLUMNS])
        path = self.path / RESULTS_CSV
        write_text_atomically(path, text.getvalue())
        return path


# What a conflicting setting is called in the error, in the order settings are compared.
_SETTING_NAMES = {
    "data": "data folder",
    "split": "split",
    "utterances": "number of utterances",
    "seed": "seed",
    "data_fingerprint": "test set (same folder and split, other audio or transcripts)",
    "link": "link policy",
}


def _merge_identity(stored: dict, current: dict, folder: Path) -> dict:
    """``stored`` completed with what only ``current`` knows; a conflicting value raises :class:`UserError`.

    ``"options"`` (system options away from their defaults) is absent for a
    sweep with every default, so there absence is a value, not an unknown.
    """
    if stored.get("options", {}) != current.get("options", {}):
        raise _conflict(folder, f"system options ({stored.get('options', {})} there, {current.get('options', {})} now)")
    merged = {**current, **stored}
    for key in sorted(current, key=lambda k: list(_SETTING_NAMES).index(k) if k in _SETTING_NAMES else len(_SETTING_NAMES)):
        if key == "models":
            models = dict(stored.get("models", {}))
            for kind, identifier in current["models"].items():
                known = models.get(kind)
                if known is not None and identifier is not None and known != identifier:
                    raise _conflict(folder, f"{kind} model ({known} there, {identifier} now)")
                models[kind] = known if known is not None else identifier
            merged["models"] = models
        elif key in stored and stored[key] != current[key]:
            values = "" if key == "data_fingerprint" else f" ({stored[key]!r} there, {current[key]!r} now)"
            raise _conflict(folder, _SETTING_NAMES.get(key, key) + values)
    return merged


def _conflict(folder: Path, what: str) -> UserError:
    return UserError(f"{folder} holds a sweep with another {what}; choose another --name")
