"""``deepsc-st bench sweep``: what one sweep cell of each system costs, as a real-time factor.

Each system runs a real sweep (:func:`experiments.sweep.run_sweep`, one
worker, in this process) of three cells over AWGN, at 10, 12 and 14 dB, on
the first ``utterances`` of the test split, into a temporary results folder:
the first cell pays for building and tracing, the second (12 dB) is the
steady cost a long sweep pays per cell, and the third is a cell where the
sweep also measures PESQ / STOI of decoded speech (a sweep does that only at
its lowest, nearest-0 dB and highest SNR: here 10 and 14 dB). Printed per
system: seconds of each cell (FDSD / KDSD included, as the sweep measures
them), and the steady real-time factor = seconds of speech sent / wall
seconds of the 12 dB cell.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from deepsc_st.data import load_utterances
from deepsc_st.frontend import SAMPLE_RATE
from experiments.results import ResultsFolder
from experiments.sweep import SweepSettings, run_sweep
from experiments.systems import PROJECT_SYSTEMS

BENCH_SNRS = (10.0, 12.0, 14.0)


def run_sweep_benchmark(data: str = "data/synth", utterances: int = 40, systems: tuple[str, ...] | None = None, options: dict | None = None, speech_quality: bool = True) -> dict:
    """{system: {"first_cell_s", "cell_s", "quality_cell_s", "speech_s", "real_time_factor", "wall_s"}}
    (wall_s: the whole run, start-up included)."""
    speech_s = sum(len(item.waveform) for item in load_utterances(data, "test", utterances)) / SAMPLE_RATE
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as folder:
        for system in systems or PROJECT_SYSTEMS.names:
            settings = SweepSettings(
                name=system, data=data, utterances=utterances, systems=(system,), channels=("awgn",), snrs=BENCH_SNRS,
                results=folder, workers=1, options=dict(options or {}), speech_quality=speech_quality,
            )
            start = time.perf_counter()
            run_sweep(settings, progress=False)
            wall = time.perf_counter() - start
            cells = sorted(ResultsFolder(Path(folder) / system).load_cells().values(), key=lambda c: c.snr_db)
            results[system] = {
                "first_cell_s": cells[0].elapsed_s,
                "cell_s": cells[1].elapsed_s,
                "quality_cell_s": cells[2].elapsed_s,
                "speech_s": speech_s,
                "real_time_factor": speech_s / cells[1].elapsed_s,
                "wall_s": wall,
            }
    return results


def format_sweep_benchmark(results: dict) -> str:
    rows = [f"{'system':<10} {'first cell s':>12} {'cell s':>8} {'PESQ cell s':>12} {'speech s':>9} {'real-time x':>12} {'wall s':>8}"]
    for system, r in results.items():
        rows.append(
            f"{system:<10} {r['first_cell_s']:12.2f} {r['cell_s']:8.2f} {r['quality_cell_s']:12.2f} {r['speech_s']:9.1f} "
            f"{r['real_time_factor']:12.1f} {r['wall_s']:8.1f}"
        )
    return "\n".join(rows)
