import argparse
from dataclasses import dataclass

import pytest

from deepsc_st.errors import UserError
from deepsc_st.settings import add_arguments, command_line, from_arguments, parse_channel, parse_snr_db, parse_snr_range, setting, snr_range_text


@dataclass
class Example:
    data: str = setting(help="corpus", always=True)
    epochs: int = setting(10, "passes", always=True)
    rate: float = setting(1e-4, "learning rate", flag="--lr", render=lambda value: f"{value:g}")
    limit: int | None = setting(None, "first N", parse=int)
    runs: tuple[str, ...] = setting((), "runs", nargs="+")
    augment: bool = setting(False, "augment")
    quality: bool = setting(True, "skip quality", flag="--no-quality")


def parse(*argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser, Example)
    return from_arguments(Example, parser.parse_args(list(argv)))


def test_one_declaration_gives_options_values_and_the_command_line():
    settings = parse("--data", "d", "--lr", "0.001", "--limit", "5", "--runs", "a", "b", "--augment", "--no-quality")
    assert settings == Example(data="d", epochs=10, rate=1e-3, limit=5, runs=("a", "b"), augment=True, quality=False)
    text = command_line("tool", settings)
    assert text == "tool --data d --epochs 10 --lr 0.001 --limit 5 --runs a b --augment --no-quality"
    assert parse(*text.split()[1:]) == settings
    assert command_line("tool", parse("--data", "d")) == "tool --data d --epochs 10"  # defaults stay implicit unless always shown


def test_bad_values_are_one_line_errors():
    with pytest.raises(UserError, match="--epochs: 'ten' is not a valid value"):
        parse("--data", "d", "--epochs", "ten")
    with pytest.raises(UserError, match="unknown channel 'nakagami'"):
        parse_channel("nakagami")
    with pytest.raises(UserError, match="is a range"):
        parse_snr_db("0:20")


@pytest.mark.parametrize("text, expected", [("8", (8.0, 8.0)), ("0:20", (0.0, 20.0)), ("-2.5", (-2.5, -2.5))])
def test_snr_ranges_round_trip(text, expected):
    assert parse_snr_range(text) == expected and snr_range_text(expected) == text
