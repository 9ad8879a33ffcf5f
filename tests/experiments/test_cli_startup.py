"""The installed command starts quietly: an error is one line on stderr, whatever TensorFlow prints at start-up."""

import os
import subprocess
from pathlib import Path

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
