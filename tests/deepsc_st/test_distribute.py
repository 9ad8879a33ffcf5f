"""tf.distribute training (deepsc_st/distribute.py): two workers on 127.0.0.1 train like one process with the same global batch."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepsc_st.checkpoint import load_run
from deepsc_st.distribute import make_strategy
from deepsc_st.errors import UserError
from experiments.demo import free_port

ROOT = Path(__file__).resolve().parents[2]


def _command(corpus, out, strategy):
    return [
        sys.executable, "-m", "experiments.cli", "train", "--config", "tiny", "--data", str(corpus), "--channel", "none", "--out", str(out),
        "--epochs", "2", "--batch-size", "4", "--max-utterances", "8", "--validation-utterances", "4", "--lr", "1e-3", "--quiet", "--strategy", strategy,
    ]


def _history(run_dir):
    with open(run_dir / "history.csv", newline="") as handle:
        return [{key: float(value) for key, value in row.items() if key in ("loss", "val_loss", "val_cer")} for row in csv.DictReader(handle)]


@pytest.mark.slow  # three training processes
def test_two_workers_train_like_one_with_the_same_global_batch(espeak_corpus, tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    processes = [  # all three at once: only their results are compared
        subprocess.Popen(_command(espeak_corpus, tmp_path / "one", "none"), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    ] + [
        subprocess.Popen(
            _command(espeak_corpus, tmp_path / "two", "multi-worker"), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**env, "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})},
        )
        for index in range(2)
    ]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
    one, two = _history(tmp_path / "one"), _history(tmp_path / "two")
    assert len(one) == len(two) == 2
    for row_one, row_two in zip(one, two):
        for key in ("loss", "val_loss"):
            assert row_two[key] == pytest.approx(row_one[key], rel=1e-3), (key, one, two)
    model_one, _ = load_run(tmp_path / "one")
    model_two, _ = load_run(tmp_path / "two")
    for a, b in zip(model_one.get_weights(), model_two.get_weights(), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-3)  # float: all-reduce sums in another order


def test_strategy_errors_are_one_line(monkeypatch):
    with pytest.raises(UserError, match="unknown strategy 'ring'; choose one of none, mirrored, multi-worker"):
        make_strategy("ring")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError, match="--strategy multi-worker needs TF_CONFIG"):
        make_strategy("multi-worker")
