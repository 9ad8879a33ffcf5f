"""``deepsc-st bench transmit``: what one ``deepsc-st transmit`` of a 5 s clip costs beyond importing TensorFlow.

A user who sends one recording pays for a whole process: Python and
TensorFlow start, the models load, the graphs are traced and run once. Each
repeat runs, as fresh processes one after the other, ``python -c "import
tensorflow"`` and ``deepsc-st transmit CLIP --system S --channel awgn --snr 10
--json`` for each system; the figure is the median wall time of the command
minus the median of the bare import (issue 21's target: <= 2.5 s for
deepsc-st on an idle 2-core machine). The clip is ``--input`` or the demo
benchmark's sentence in the default registered voice.

The command freezes Python's garbage collector before it exits
(:func:`experiments.cli.run`), which the bare import does not: its exit
walks TensorFlow's objects for 0.7-0.9 s. So the bench also times
``python -c "import tensorflow, gc; gc.freeze()"`` and gives each system's
time beyond that (``beyond_frozen_import_s``), the stricter comparison.

Where the time goes inside one run:
``python -m cProfile -s cumulative -m experiments.cli transmit CLIP | head -60``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deepsc_st.audio import load_audio
from deepsc_st.errors import UserError
from deepsc_st.frontend import SAMPLE_RATE
from experiments.demo_bench import BENCH_CHANNEL, BENCH_SNR_DB, spoken_clip

REPEATS = 3
DEFAULT_SYSTEMS = ("deepsc-st",)


def _wall_seconds(command: list[str]) -> float:
    """Wall time of ``command`` as a fresh process; a :class:`UserError` with its last stderr line if it fails."""
    began = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if finished.returncode != 0:
        last = (finished.stderr.strip().splitlines() or ["no message"])[-1]
        raise UserError(f"bench transmit: {' '.join(command[2:5])} failed ({last})")
    return seconds


def run_transmit_benchmark(input_path: str | None = None, systems=DEFAULT_SYSTEMS, repeats: int = REPEATS) -> dict:
    """Median seconds of the bare TensorFlow import and of ``transmit`` per system, and their difference."""
    with tempfile.TemporaryDirectory() as scratch:
        clip = Path(input_path) if input_path else spoken_clip(Path(scratch) / "clip.wav")
        clip_seconds = len(load_audio(clip)) / SAMPLE_RATE
        imports, frozen_imports, transmits = [], [], {system: [] for system in systems}
        for _ in range(repeats):
            imports.append(_wall_seconds([sys.executable, "-c", "import tensorflow"]))
            frozen_imports.append(_wall_seconds([sys.executable, "-c", "import tensorflow, gc; gc.freeze()"]))
            for system in systems:
                command = [sys.executable, "-m", "experiments.cli", "transmit", str(clip), "--system", system]
                transmits[system].append(_wall_seconds(command + ["--channel", BENCH_CHANNEL, "--snr", str(BENCH_SNR_DB), "--json"]))
    import_s, frozen_import_s = statistics.median(imports), statistics.median(frozen_imports)
    result = {"clip_s": round(clip_seconds, 2), "repeats": repeats, "import_tensorflow_s": round(import_s, 2), "import_tensorflow_frozen_s": round(frozen_import_s, 2)}
    for system, seconds in transmits.items():
        result[f"{system}_transmit_s"] = round(statistics.median(seconds), 2)
        result[f"{system}_beyond_import_s"] = round(statistics.median(seconds) - import_s, 2)
        result[f"{system}_beyond_frozen_import_s"] = round(statistics.median(seconds) - frozen_import_s, 2)
    return result
