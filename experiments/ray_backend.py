"""Sweep cells on a Ray cluster: ``deepsc-st sweep --backend ray [--address HOST:PORT]``.

Each worker is a Ray actor that runs what a local pool worker runs
(:mod:`experiments.worker`): :func:`~experiments.worker.init_worker` once
(the transceivers built, the test set received once through Ray's object
store), then :func:`~experiments.worker.run_cell` per cell. A cell's numbers
come from its own seeds, so they are the same whichever backend or worker
computed it. The sweep stores a cell only once it has come back whole; a
worker lost mid-cell is restarted by Ray and the cell retried
(``MAX_TASK_RETRIES``).

Without ``address`` a local Ray instance is started for the sweep and
stopped after it. On a cluster each node reads the models from their
folders: the shipped models travel with the installed package; other model
folders must sit at the same path on every node (a shared file system).
"""

from __future__ import annotations

import logging
from typing import Iterator

from deepsc_st.errors import UserError
from experiments.results import CellResult

INSTALL_HINT = "the ray backend needs Ray: pip install 'deepsc-st[cluster]'"
CPUS_PER_WORKER = 1
MAX_TASK_RETRIES = 3


class CellWorker:
    """A Ray actor's state: one sweep worker (:func:`experiments.worker.init_worker` arguments), then cells."""

    def __init__(self, init_args: tuple):
        from experiments.cli import import_tensorflow_quietly

        import_tensorflow_quietly()
        from experiments.worker import init_worker

        init_worker(*init_args, threads=CPUS_PER_WORKER)

    def run(self, system: str, channel: str, snr_db: float) -> CellResult:
        from experiments.worker import run_cell

        return run_cell(system, channel, snr_db)


def check_cluster(address: str | None, timeout_s: float = 5.0) -> None:
    """A one-line :class:`UserError` unless Ray is installed and something listens at ``address`` (HOST:PORT, None: local).

    Ray itself would retry an unreachable address for minutes.
    """
    import socket

    try:
        import ray  # noqa: F401
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    if address is None:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--address {address!r}: expected HOST:PORT of a Ray cluster's head (ray start --head prints it)")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise UserError(f"--address {address}: no Ray cluster answers there ({error.strerror or error})") from None


def connect(address: str | None) -> bool:
    """Join the Ray cluster at ``address`` (None: start a local one); True when this call started or joined it."""
    import ray

    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"--address {address}: cannot join a Ray cluster ({reason[:160]})") from None
    return True


def ray_cells(todo: list[tuple[str, str, float]], init_args: tuple, address: str | None = None, workers: int | None = None) -> Iterator[CellResult]:
    """Run the cells ``todo`` on Ray actors, yielding each result as it finishes.

    ``workers``: actors (None: one per CPU of the cluster, at most one per cell).
    """
    import ray
    from ray.util import ActorPool

    joined = connect(address)
    actors = []
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        count = max(1, min(workers or cpus // CPUS_PER_WORKER, len(todo)))
        shared = ray.put(init_args)  # the test set's waveforms cross the network once, not once per actor
        worker_class = ray.remote(num_cpus=CPUS_PER_WORKER, max_restarts=-1, max_task_retries=MAX_TASK_RETRIES)(CellWorker)
        actors = [worker_class.remote(shared) for _ in range(count)]
        pool = ActorPool(actors)
        yield from pool.map_unordered(lambda actor, cell: actor.run.remote(*cell), todo)
    except ray.exceptions.RayTaskError as error:
        raise error.as_instanceof_cause() from None  # a UserError from a worker reaches the user as itself
    finally:
        for actor in actors:
            ray.kill(actor)
        if joined:
            ray.shutdown()
