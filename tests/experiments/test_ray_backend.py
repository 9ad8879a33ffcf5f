"""Sweeps on a Ray cluster (experiments/ray_backend.py): a head and a second node on 127.0.0.1.

The same cells (real systems with a tiny ASR, and the fake systems) give the same results.csv as the local backend; a driver
killed mid-sweep and run again finishes the rest with the same numbers; a
worker killed mid-cell is restarted and its cell retried.
"""

import os
import shutil
import signal
import time

import pytest

from experiments.demo import free_port
from experiments.sweep import run_sweep
from experiments.systems import PROJECT_SYSTEMS
from tests.cli_helpers import assert_one_line_error, run_cli
from tests.experiments.test_sweep import ROOT, rows_without_time, settings, start_sweep_process
from tests.experiments.test_sweep_fakes import CORPUS_ENV, DELAY_ENV, FAKES, KILL_ENV

pytestmark = pytest.mark.slow  # a Ray cluster and its worker processes

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local(espeak_corpus, tmp_path_factory):
    """The local backend's results folder for the test sweep (2 systems x 1 channel x 2 SNRs x 4 utterances)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CORPUS_ENV, str(espeak_corpus))
        return run_sweep(settings(espeak_corpus, tmp_path_factory.mktemp("local"), utterances=4), FAKES, progress=False)["folder"]


@pytest.fixture(scope="module")
def cluster(espeak_corpus):
    """A Ray head (1 CPU) and a second node (1 CPU) on this machine; their workers find the fake corpus and take 0.3 s per transmission."""
    from ray.cluster_utils import Cluster

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # Ray's switch for loopback-only clusters: every address is 127.0.0.1
        patch.setenv(CORPUS_ENV, str(espeak_corpus))
        patch.setenv(DELAY_ENV, "0.3")
        patch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        yield cluster
        cluster.shutdown()


def ray_settings(espeak_corpus, results, cluster, **overrides):
    return settings(espeak_corpus, results, utterances=4, backend="ray", address=cluster.address, workers=2, **overrides)


def test_a_ray_sweep_gives_the_local_results(espeak_corpus, cluster, local, tmp_path):
    summary = run_sweep(ray_settings(espeak_corpus, tmp_path, cluster), FAKES, progress=False)
    assert summary["computed"] == 4
    assert rows_without_time(summary["folder"]) == rows_without_time(local)


def test_real_systems_with_a_tiny_asr_give_the_local_results(espeak_corpus, overfit_asr_run, cluster, tmp_path):
    """text and feature (the tiny ASR, Huffman, polar + 64-QAM, noise draws) on the two nodes' actors."""
    asr = shutil.copytree(overfit_asr_run[0], tmp_path / "asr")
    real = dict(systems=("text", "feature"), models={"asr": str(asr)}, speech_quality=False, utterances=4)
    local = run_sweep(settings(espeak_corpus, tmp_path / "local", **real), PROJECT_SYSTEMS, progress=False)
    on_ray = run_sweep(settings(espeak_corpus, tmp_path / "ray", backend="ray", address=cluster.address, workers=2, **real), PROJECT_SYSTEMS, progress=False)
    assert on_ray["computed"] == 4
    assert rows_without_time(on_ray["folder"]) == rows_without_time(local["folder"])


def test_a_killed_driver_reruns_only_the_unfinished_cells(espeak_corpus, cluster, local, tmp_path):
    resumed = ray_settings(espeak_corpus, tmp_path, cluster)
    driver = start_sweep_process(resumed)
    cells = tmp_path / "t" / "cells"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(cells.glob("[!.]*.json"))) < 1 and driver.poll() is None:
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    done = len(list(cells.glob("[!.]*.json")))
    assert 1 <= done < 4, driver.stderr.read()[-2000:]
    summary = run_sweep(resumed, FAKES, progress=False)
    assert summary["computed"] == 4 - done
    assert rows_without_time(summary["folder"]) == rows_without_time(local)


def test_a_lost_worker_is_restarted_and_its_cell_retried(espeak_corpus, cluster, local, tmp_path):
    ray.init(address=cluster.address, runtime_env={"env_vars": {KILL_ENV: "1"}})  # every worker dies at its second transmission
    try:
        summary = run_sweep(ray_settings(espeak_corpus, tmp_path, cluster), FAKES, progress=False)
    finally:
        ray.shutdown()
    assert summary["computed"] == 4
    assert rows_without_time(summary["folder"]) == rows_without_time(local)


def test_an_address_where_no_cluster_answers_is_a_one_line_error_before_any_file_is_written(capsys, espeak_corpus, tmp_path):
    port = free_port()
    code, _, err = run_cli(capsys, "sweep", "--name", "r", "--data", espeak_corpus, "--results", tmp_path, "--backend", "ray", "--address", f"127.0.0.1:{port}")
    assert_one_line_error(code, err, f"--address 127.0.0.1:{port}: no Ray cluster answers there")
    assert not (tmp_path / "r").exists()
