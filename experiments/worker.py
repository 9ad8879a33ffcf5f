"""What one sweep worker does: build the transceivers once, then run cells.

A *cell* is one system over one channel at one SNR on the whole test set.
The sweep (:mod:`experiments.sweep`) calls :func:`init_worker` once per
worker process (or once in its own process when it runs without a pool) and
:func:`run_cell` for every cell; the worker keeps the transceivers, the
channels and the test set in module state between calls.

Each cell seeds every random draw (Sionna's generator for noise, fading and
pad bits; the Keras/TensorFlow/NumPy/Python globals) with :func:`cell_seed`,
which depends only on the sweep seed and the cell, so a cell's numbers do not
depend on which worker runs it or in what order.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from typing import Callable

import keras
import sionna.phy
import tensorflow as tf

from channels import make_channel
from deepsc_st.data import LoadedUtterance
from deepsc_st.metrics import character_error_rate, word_error_rate
from deepsc_st.model import ASRModel, CTCModel, DeepSCST
from experiments.results import CellResult
from experiments.speech_quality import SpeechQualityMeter, SpeechQualitySetup

EXAMPLES_PER_CELL = 3

_state: dict = {}


def cell_seed(seed: int, system: str, channel: str, snr_db: float) -> int:
    """A seed in [0, 2**32) for one cell, from the sweep ``seed`` and the cell's coordinates."""
    digest = hashlib.sha256(f"{seed}/{system}/{channel}/{float(snr_db)!r}".encode()).hexdigest()
    return int(digest[:8], 16)


def init_worker(
    build: Callable,
    systems: list[str],
    model_dirs: dict,
    model_ids: dict,
    test_set: list[LoadedUtterance],
    seed: int,
    speech_quality: SpeechQualitySetup | None = None,
    threads: int | None = None,
) -> None:
    """Build the transceivers of ``systems`` once for this process.

    ``build(name, asr_run_dir=..., deepsc_run_dir=...) -> Transceiver`` (a
    module-level function, so spawned processes can import it).
    ``model_dirs`` / ``model_ids``: model kind ("asr", "deepsc-st") -> run
    folder / identifier, or None. ``test_set``: the utterances every cell
    transmits, waveforms float32 [num_samples] at 16 kHz. ``speech_quality``:
    what FDSD / KDSD of received speech need, None to skip them. ``threads``:
    TensorFlow threads for a pool worker (None in the sweep's own process,
    which also keeps its Ctrl-C handling). A pool worker exits by itself
    when the sweep process dies, even by SIGKILL.
    A build error is kept and raised by the first :func:`run_cell` of that
    system, so that it reaches the sweep as itself (e.g. a :class:`UserError`).
    """
    if threads is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    transceivers = {}
    for name in systems:
        try:
            transceivers[name] = build(name, asr_run_dir=model_dirs.get("asr"), deepsc_run_dir=model_dirs.get("deepsc-st"))
        except Exception as error:  # noqa: BLE001 - raised again by run_cell
            transceivers[name] = error
    meter = SpeechQualityMeter(speech_quality) if speech_quality is not None else None
    _state.clear()
    _state.update(test_set=test_set, seed=seed, model_ids=model_ids, transceivers=transceivers, channels={}, meter=meter)


def _exit_with_parent(parent: int) -> None:
    """End this process once ``parent`` is gone (the pool's queues would keep an orphan waiting forever)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def run_cell(system: str, channel_name: str, snr_db: float) -> CellResult:
    """Transmit the test set through ``system`` over ``channel_name`` at ``snr_db`` (Es/N0, dB) and score it."""
    transceiver = _state["transceivers"][system]
    if isinstance(transceiver, Exception):
        raise transceiver
    if channel_name not in _state["channels"]:
        _state["channels"][channel_name] = make_channel(channel_name)
    seed = cell_seed(_state["seed"], system, channel_name, snr_db)
    test_set = _state["test_set"]
    start = time.perf_counter()
    sionna.phy.config.seed = seed
    keras.utils.set_random_seed(seed)
    received = transceiver.transmit([item.waveform for item in test_set], _state["channels"][channel_name], float(snr_db))
    references = [item.utterance.text for item in test_set]
    hypotheses = [r.text for r in received]
    speech_quality = _state["meter"].measure(transceiver, received) if _state["meter"] else {}
    models = models_of(transceiver)
    return CellResult(
        system=system,
        channel=channel_name,
        snr_db=float(snr_db),
        cer=character_error_rate(references, hypotheses),
        wer=word_error_rate(references, hypotheses),
        utterances=len(test_set),
        symbols_per_16000_samples=sum(r.channel_symbols for r in received) * 16_000 / sum(len(item.waveform) for item in test_set),
        seed=_state["seed"],
        cell_seed=seed,
        models={kind: _state["model_ids"].get(kind) for kind in models},
        trainable_parameters=sum(model.trainable_parameter_count() for model in models.values()) if models else None,
        fdsd=speech_quality.get("fdsd"),
        kdsd=speech_quality.get("kdsd"),
        elapsed_s=time.perf_counter() - start,
        examples=[
            {"id": item.utterance.id, "reference": ref, "hypothesis": hyp}
            for item, ref, hyp in zip(test_set[:EXAMPLES_PER_CELL], references, hypotheses)
        ],
    )


def models_of(transceiver) -> dict[str, CTCModel]:
    """The trained models a transceiver holds as attributes, by kind: "deepsc-st" (DeepSCST), "asr" (ASRModel)."""
    models = {}
    for value in vars(transceiver).values():
        if isinstance(value, DeepSCST):
            models["deepsc-st"] = value
        elif isinstance(value, ASRModel):
            models["asr"] = value
    return models
