"""Running ``deepsc-st`` in-process from tests and checking its one-line errors."""

from experiments.cli import main


def run_cli(capsys, *argv):
    """Exit code, stdout and stderr of ``deepsc-st ARGV...``."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, err, fragment):
    """Exit status 2 and exactly one ``deepsc-st: error:`` line containing ``fragment``, no traceback."""
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("deepsc-st: error:"), err
    assert fragment in lines[0]
    assert "Traceback" not in err
