"""Block error rate vs SNR of every NR MCS over each channel, measured on this project's link.

Link adaptation (:mod:`baselines.link_policy`, policy ``adaptive``) picks, per
channel and SNR, the highest-rate MCS whose block error rate is at most 10 %.
This module measures that table with :class:`baselines.ldpc_link.LdpcLink`
(the very link the systems use) and the project's channels:

* reference block: :data:`BlerSettings.block_bits` = 1024 information bits,
  one LDPC code block sent as its own channel row (interleaved, so over
  fading it spans as many 128-symbol blocks as its symbols fill);
* SNR grid: whole dB from :data:`BlerSettings.snr_low` to ``snr_high``; the
  scan of one MCS starts 2 dB below its Shannon limit (below it no code of
  that rate works: BLER is taken as 1 there, not measured) and stops after two
  points in a row at BLER <= 1 % (the choice only asks for <= 10 %);
* per point: batches of 100 blocks until 50 block errors or ``max_blocks``
  blocks; the seed of each point depends only on (seed, channel, MCS, SNR).

``deepsc-st bench bler`` measures it (about 15 min on 2 cores) and writes
:data:`BLER_TABLE_FILE` with its settings; the project ships that file. A
rerun with the same settings resumes (finished channel x MCS rows are kept)
and then just prints the table.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from baselines.capacity import shannon_limit_db
from baselines.ldpc_link import DECODER_ITERATIONS, LdpcLink
from baselines.nr_mcs import DEFAULT_MCS_TABLE, Mcs, mcs_table
from channels import DEFAULT_BLOCK_LENGTH, DEFAULT_K_FACTOR, make_channel
from deepsc_st.checkpoint import write_atomically
from deepsc_st.errors import UserError
from deepsc_st.seeds import seed_from

BLER_TABLE_FILE = Path(__file__).with_name("nr_bler_table.json")
TARGET_BLER = 0.1
BLER_CHANNELS = ("awgn", "rayleigh", "rician")
_BATCH = 100  # blocks per link call
_ENOUGH_ERRORS = 50
_START_BELOW_LIMIT_DB = 2.0
_CLEAR_BLER = 0.01  # two points in a row at or below it end a curve


@dataclass(frozen=True)
class BlerSettings:
    """What a BLER table depends on; a stored table is used only with the same settings."""

    mcs_table: int = DEFAULT_MCS_TABLE
    block_bits: int = 1024
    snr_low: int = -10
    snr_high: int = 30
    max_blocks: int = 500
    decoder_iterations: int = DECODER_ITERATIONS
    fading_block_length: int = DEFAULT_BLOCK_LENGTH
    rician_k_factor: float = DEFAULT_K_FACTOR
    seed: int = 0


def point_seed(seed: int, channel: str, mcs_index: int, snr_db: int) -> int:
    """Seed in [0, 2**32) of one measured point."""
    return seed_from("bler", seed, channel, mcs_index, snr_db)


def measure_bler_point(link: LdpcLink, mcs: Mcs, channel: str, snr_db: int, settings: BlerSettings) -> tuple[float, int]:
    """(block error rate, blocks sent) of ``mcs`` over ``channel`` at ``snr_db`` dB Es/N0."""
    import sionna.phy

    sionna.phy.config.seed = point_seed(settings.seed, channel, mcs.index, snr_db)
    rng = np.random.default_rng(sionna.phy.config.seed)
    plan = link.plan(settings.block_bits, code_rate=mcs.code_rate)
    the_channel = make_channel(channel, settings.fading_block_length, settings.rician_k_factor)
    errors = sent = 0
    while sent < settings.max_blocks and errors < _ENOUGH_ERRORS:
        messages = [rng.integers(0, 2, settings.block_bits).astype(np.uint8) for _ in range(_BATCH)]
        received = link.transmit_many(messages, [plan] * _BATCH, the_channel, float(snr_db))
        errors += sum(not np.array_equal(r.bits, m) for r, m in zip(received, messages))
        sent += _BATCH
    return errors / sent, sent


def measure_mcs_curve(mcs: Mcs, channel: str, settings: BlerSettings) -> list[list[float]]:
    """[[snr_db, bler, blocks], ...] of one MCS over one channel, ascending SNR (see the module docstring)."""
    link = LdpcLink(mcs.bits_per_symbol)
    start = max(settings.snr_low, math.floor(shannon_limit_db(mcs.spectral_efficiency) - _START_BELOW_LIMIT_DB))
    points, clean = [], 0
    for snr_db in range(start, settings.snr_high + 1):
        bler, blocks = measure_bler_point(link, mcs, channel, snr_db, settings)
        points.append([snr_db, bler, blocks])
        clean = clean + 1 if bler <= _CLEAR_BLER else 0
        if clean == 2:
            break
    return points


def measure_bler_table(path: Path = BLER_TABLE_FILE, settings: BlerSettings = BlerSettings(), channels=BLER_CHANNELS, progress: bool = True) -> dict:
    """Measure (or resume) the table at ``path``; returns {"settings", "curves": {channel: {mcs_index: points}}}."""
    stored = _read(path)
    table = stored if stored is not None and stored["settings"] == dataclasses.asdict(settings) else {"settings": dataclasses.asdict(settings), "curves": {}}
    from tqdm import tqdm

    todo = [(channel, mcs) for channel in channels for mcs in mcs_table(settings.mcs_table) if str(mcs.index) not in table["curves"].get(channel, {})]
    for channel, mcs in tqdm(todo, desc="BLER table", unit="curve", disable=not progress or not todo, file=sys.stderr):
        table["curves"].setdefault(channel, {})[str(mcs.index)] = measure_mcs_curve(mcs, channel, settings)
        write_atomically(path, lambda p: Path(p).write_text(json.dumps(table, indent=1) + "\n"))
    return table


def load_bler_table(path: Path = BLER_TABLE_FILE, settings: BlerSettings = BlerSettings()) -> dict:
    """The stored table for ``settings``; a :class:`UserError` saying how to measure it when it is missing or other."""
    table = _read(path)
    if table is None or table["settings"] != dataclasses.asdict(settings):
        raise UserError(f"{path}: no BLER table measured with these settings; run: deepsc-st bench bler")
    wanted = {str(mcs.index) for mcs in mcs_table(settings.mcs_table)}
    if any(not wanted <= set(table["curves"].get(channel, {})) for channel in BLER_CHANNELS):
        raise UserError(f"{path}: the BLER table is not finished; run: deepsc-st bench bler (it resumes)")
    return table


def bler_at(points: list[list[float]], snr_db: float) -> float:
    """BLER of a measured curve at ``snr_db``: the point at or below it (1 below the first point, the last one above)."""
    below = [bler for snr, bler, _ in points if snr <= snr_db + 1e-9]
    return below[-1] if below else 1.0


def threshold_snr(points: list[list[float]], target: float = TARGET_BLER) -> float | None:
    """Lowest measured SNR (dB) from which the BLER stays at most ``target``; None if never."""
    for i, (snr, _, _) in enumerate(points):
        if all(bler <= target for _, bler, _ in points[i:]):
            return float(snr)
    return None


def choose_mcs(table: dict, channel: str, snr_db: float, target: float = TARGET_BLER) -> Mcs:
    """The highest-rate MCS whose measured BLER over ``channel`` at ``snr_db`` is at most ``target`` (else MCS 0)."""
    curves = table["curves"].get(channel)
    if curves is None:
        raise UserError(f"the BLER table has no channel {channel!r}; run: deepsc-st bench bler")
    table_rows = mcs_table(table["settings"]["mcs_table"])
    usable = [mcs for mcs in table_rows if bler_at(curves[str(mcs.index)], snr_db) <= target]
    return max(usable, key=lambda mcs: mcs.spectral_efficiency) if usable else table_rows[0]


def format_bler_table(table: dict, target: float = TARGET_BLER) -> str:
    """Per MCS: spectral efficiency, Shannon limit, and the SNR from which BLER <= target on each channel."""
    channels = list(table["curves"])
    lines = [f"MCS table {table['settings']['mcs_table']}, {table['settings']['block_bits']}-bit blocks: SNR (dB Es/N0) from which BLER <= {target:g}"]
    lines.append(f"{'MCS':<28} {'bit/sym':>7} {'Shannon':>8} " + " ".join(f"{c:>9}" for c in channels))
    for mcs in mcs_table(table["settings"]["mcs_table"]):
        cells = []
        for channel in channels:
            points = table["curves"][channel].get(str(mcs.index))
            snr = threshold_snr(points, target) if points else None
            cells.append(f"{'-' if snr is None else f'{snr:g}':>9}")
        lines.append(f"{mcs.label:<28} {mcs.spectral_efficiency:7.3f} {shannon_limit_db(mcs.spectral_efficiency):8.2f} " + " ".join(cells))
    return "\n".join(lines)


def _read(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{path}: not a BLER table (not valid JSON); delete it and run: deepsc-st bench bler") from None
