"""The installed command starts quietly: an error is one line on stderr, whatever TensorFlow prints at start-up."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # a fresh process imports TensorFlow (several seconds)

COMMAND = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "deepsc-st"


@pytest.mark.skipif(not COMMAND.exists(), reason="needs the project's .venv (make setup)")
def test_an_error_is_one_line_and_verbose_lets_tensorflow_speak(tmp_path):
    quiet = subprocess.run([str(COMMAND), "transmit", str(tmp_path / "missing.wav")], capture_output=True, text=True)
    assert quiet.returncode == 2
    assert quiet.stderr.splitlines() == [f"deepsc-st: error: {tmp_path / 'missing.wav'}: no such file"]
    verbose = subprocess.run([str(COMMAND), "transmit", str(tmp_path / "missing.wav"), "--verbose"], capture_output=True, text=True)
    assert verbose.returncode == 2 and verbose.stderr.splitlines()[-1] == quiet.stderr.strip()


def test_compiled_code_is_kept_in_the_cache_directory_unless_told_otherwise(monkeypatch, tmp_path):
    from experiments.cli import keep_compiled_code

    monkeypatch.setenv("TF_XLA_FLAGS", "--tf_xla_enable_lazy_compilation=false")
    keep_compiled_code(str(tmp_path))
    assert os.environ["TF_XLA_FLAGS"] == f"--tf_xla_enable_lazy_compilation=false --tf_xla_persistent_cache_directory={tmp_path}"
    keep_compiled_code(str(tmp_path / "other"))  # a directory already set is left alone
    assert os.environ["TF_XLA_FLAGS"].count("persistent_cache_directory") == 1

    monkeypatch.delenv("TF_XLA_FLAGS")
    monkeypatch.setenv("DEEPSC_ST_XLA_CACHE", "")
    keep_compiled_code()
    assert "TF_XLA_FLAGS" not in os.environ


def test_freed_memory_is_kept_for_the_command_and_its_workers_unless_malloc_is_already_set():
    show = "import os, experiments.cli; print(os.environ.get('MALLOC_MMAP_MAX_'), os.environ.get('MALLOC_TRIM_THRESHOLD_'))"
    clean = {key: value for key, value in os.environ.items() if not key.startswith("MALLOC_")}
    root = Path(__file__).resolve().parents[2]
    kept = subprocess.run([sys.executable, "-c", show], capture_output=True, text=True, env=clean, cwd=root)
    assert kept.stdout.split() == ["0", str(2**31 - 1)], kept.stderr
    own = subprocess.run([sys.executable, "-c", show], capture_output=True, text=True, env={**clean, "MALLOC_MMAP_MAX_": "65536"}, cwd=root)
    assert own.stdout.split() == ["65536", "None"], own.stderr


@pytest.mark.skipif(not COMMAND.exists(), reason="needs the project's .venv (make setup)")
def test_a_finished_command_leaves_its_output_whole_and_exits_zero(tmp_path):
    """The console command freezes the garbage collector before it exits (``experiments.cli.run``): nothing it wrote is lost."""
    from deepsc_st.audio import load_audio, write_audio

    clip = tmp_path / "tone.wav"
    write_audio(clip, 0.3 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype(np.float32))
    out = tmp_path / "out.wav"
    sent = subprocess.run([str(COMMAND), "transmit", str(clip), "--system", "deepsc-st", "--json", "--out-wav", str(out)], capture_output=True, text=True)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["system"] == "deepsc-st"
    assert load_audio(out).size > 0


def test_the_command_starts_without_the_libraries_only_some_systems_use():
    """numba (the links' demapper), scipy.signal (Griffin-Lim, augmentation) and num2words (numbers in text) load
    where they are used: a transmit through deepsc-st or sr-deepsc needs none of them (about 0.2 s of imports)."""
    show = "import sys, experiments.cli; print(' '.join(m for m in ('numba', 'scipy.signal', 'num2words') if m in sys.modules))"
    started = subprocess.run([sys.executable, "-c", show], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == ""
