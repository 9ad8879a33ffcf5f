"""What one sweep worker does: build the transceivers once, then run cells.

A *cell* is one system over one channel at one SNR on the whole test set,
measured by :func:`deepsc_st.measure.measure` (the path ``evaluate`` and the
model cards take too, with its per-measurement seeds: a cell's numbers do not
depend on which worker runs it or in what order). The sweep
(:mod:`experiments.sweep`) calls :func:`init_worker` once per worker process
(or once in its own process when it runs without a pool) and
:func:`run_cell` for every cell; the worker keeps the transceivers, the
channels and the test set in module state between calls.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numba
import tensorflow as tf
from threadpoolctl import threadpool_limits

from baselines.link_policy import LinkDoesNotFit
from channels import make_channel
from deepsc_st.data import LoadedUtterance
from deepsc_st.distribute import trainable_parameter_count
from deepsc_st.measure import measure, measurement_seed
from deepsc_st.transceiver import ASR_MODEL, Parts
from experiments.results import CellResult
from experiments.speech_quality import SpeechQualityMeter, SpeechQualitySetup
from experiments.systems import Registry

_state: dict = {}


def init_worker(
    registry: Registry,
    systems: list[str],
    model_dirs: dict,
    options: dict,
    model_ids: dict,
    test_set: list[LoadedUtterance],
    seed: int,
    speech_quality: SpeechQualitySetup | None = None,
    threads: int | None = None,
) -> None:
    """Build the transceivers of ``systems`` once for this process.

    ``registry``: where the systems are found (:class:`experiments.systems.Registry`).
    ``model_dirs`` / ``model_ids``: model kind name -> run folder /
    identifier, or None. ``options``: system option name -> value.
    ``test_set``: the utterances every cell transmits, waveforms float32
    [num_samples] at 16 kHz. ``speech_quality``: what FDSD / KDSD of received
    speech need, None to skip them. ``threads``: TensorFlow, BLAS and numba threads for a
    pool worker (None in the sweep's own process, which also keeps its Ctrl-C
    handling). A pool worker exits by itself when the sweep process dies,
    even by SIGKILL. A build error is kept and raised by the first
    :func:`run_cell` of that system, so that it reaches the sweep as itself
    (e.g. a :class:`UserError`).
    """
    if threads is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        # NumPy's and SciPy's OpenBLAS and numba (the SCL decoder's prange) start one thread per core by default, so two
        # workers on two cores ran four; one thread each: two workers' steady speech cells 26.3 -> 25.0 s and 22.7 -> 21.3 s
        # (two back-to-back pairs, 200 utterances, 2026-12-02), identical CER. numba's threads are set per calling thread.
        threadpool_limits(threads)
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    parts = Parts(model_dirs, options)  # one ASR for every system and the meter: what it heard once is remembered
    transceivers = {}
    for name in systems:
        try:
            transceivers[name] = registry.build(name, parts=parts)
        except Exception as error:  # noqa: BLE001 - raised again by run_cell
            transceivers[name] = error
    meter = None
    if speech_quality is not None:
        same_asr = model_dirs.get(ASR_MODEL.name) is not None and Path(model_dirs[ASR_MODEL.name]) == speech_quality.asr_run_dir
        meter = SpeechQualityMeter(speech_quality, parts.model(ASR_MODEL) if same_asr else None)
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
    start = time.perf_counter()
    models = transceiver.models
    try:
        measurement = measure(transceiver, _state["test_set"], _state["channels"][channel_name], snr_db, _state["seed"])
    except LinkDoesNotFit as error:
        return _unfit_cell(system, channel_name, snr_db, str(error), time.perf_counter() - start)
    sent = [item.waveform for item in _state["test_set"]]
    speech_quality = _state["meter"].measure(transceiver, measurement.transmissions, sent, snr_db) if _state["meter"] else {}
    return CellResult(
        **{**measurement.row(), "elapsed_s": time.perf_counter() - start},
        models={kind.name: _state["model_ids"].get(kind.name) for kind in transceiver.model_kinds},
        trainable_parameters=sum(trainable_parameter_count(model) for model in models.values()) if models else None,
        fdsd=speech_quality.get("fdsd"),
        kdsd=speech_quality.get("kdsd"),
        pesq=speech_quality.get("pesq"),
        stoi=speech_quality.get("stoi"),
        quality_utterances=speech_quality.get("quality_utterances"),
    )


def _unfit_cell(system: str, channel: str, snr_db: float, why: str, elapsed_s: float) -> CellResult:
    """A cell whose system's bits do not fit its link's symbol budget: no numbers, ``note`` says why."""
    nan = float("nan")
    seed = _state["seed"]
    return CellResult(
        system=system, channel=channel, snr_db=float(snr_db), cer=nan, wer=nan, utterances=len(_state["test_set"]),
        symbols_per_16000_samples=nan, seed=seed, cell_seed=measurement_seed(seed, system, channel, snr_db),
        elapsed_s=elapsed_s, note=f"does not fit: {why}",
    )
