"""Settings written once: dataclass fields that carry their command-line flag, parser and help.

A command's settings dataclass (e.g. :class:`deepsc_st.train.TrainingSettings`)
declares each field with :func:`setting`; from that one declaration come the
command's argparse options (:func:`add_arguments`, :func:`from_arguments`) and
the command line that reproduces a stored run (:func:`command_line`, used by
the model cards).

>>> from dataclasses import dataclass
>>> @dataclass
... class Example:
...     epochs: int = setting(10, "passes over the data", always=True)
...     spec_augment: bool = setting(False, "mask random bands")
>>> command_line("deepsc-st train", Example(epochs=3, spec_augment=True))
'deepsc-st train --epochs 3 --spec-augment'
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import MISSING
from typing import Any, Callable

from channels import CHANNEL_NAMES
from deepsc_st.errors import UserError


def setting(
    default: Any = MISSING,
    help: str = "",
    *,
    flag: str | None = None,
    parse: Callable[[str], Any] | None = None,
    render: Callable[[Any], str] = str,
    always: bool = False,
    shown: Callable[[Any], bool] | None = None,
    nargs: str | None = None,
) -> Any:
    """A dataclass field that is also a command-line option.

    ``flag``: default ``--field-name``. ``parse``: text -> value (may raise
    :class:`deepsc_st.errors.UserError`); default: the type of ``default``.
    ``render``: value -> text for :func:`command_line`. ``always``: written
    by :func:`command_line` even at its default; ``shown(settings)``: whether
    to write it at all (e.g. the SNR only for runs with a channel).
    ``nargs``: argparse's, for a tuple of values each parsed on its own.
    A bool setting is a switch: ``--name`` sets a False default; a True
    default is cleared by its ``flag`` (e.g. ``--no-speech-quality``).
    """
    metadata = {"help": help, "flag": flag, "parse": parse, "render": render, "always": always, "shown": shown, "nargs": nargs}
    return dataclasses.field(default=default, metadata=metadata)


def _flag(field: dataclasses.Field) -> str:
    return field.metadata["flag"] or "--" + field.name.replace("_", "-")


def _options(cls) -> list[dataclasses.Field]:
    return [field for field in dataclasses.fields(cls) if "help" in field.metadata]


def add_arguments(parser: argparse.ArgumentParser, cls, defaults: dict | None = None) -> None:
    """Add one option per :func:`setting` field of ``cls``; values stay text until :func:`from_arguments`.

    ``defaults``: field name -> default shown on this command line (overrides the dataclass's).
    """
    for field in _options(cls):
        default = (defaults or {}).get(field.name, field.default)
        if isinstance(default, bool):
            parser.add_argument(_flag(field), dest=field.name, action="store_false" if default else "store_true", help=field.metadata["help"])
            continue
        required = default is MISSING
        text = default if isinstance(default, str) else None if default in (None, MISSING, ()) else field.metadata["render"](default)
        shown_default = "" if text is None else f" (default: {text})"
        parser.add_argument(
            _flag(field), dest=field.name, required=required, default=None if required else default, nargs=field.metadata["nargs"],
            help=field.metadata["help"] + shown_default,
        )


def from_arguments(cls, args: argparse.Namespace, **values):
    """An instance of ``cls`` from parsed arguments (text parsed per field) plus ``values`` for fields not on the command line."""
    for field in _options(cls):
        given = getattr(args, field.name)
        if isinstance(given, list):
            values[field.name] = tuple(_parse(field, item) for item in given)
        else:
            values[field.name] = _parse(field, given) if isinstance(given, str) else given
    return cls(**values)


def _parse(field: dataclasses.Field, text: str):
    typed = field.default not in (MISSING, None) and not field.metadata["nargs"]  # a tuple's items are text unless ``parse`` says
    parse = field.metadata["parse"] or (type(field.default) if typed else str)
    try:
        return parse(text)
    except ValueError:
        raise UserError(f"{_flag(field)}: {text!r} is not a valid value") from None


def command_line(prefix: str, settings) -> str:
    """The command that gives ``settings``: ``prefix`` then each option that is ``always`` written or not at its default."""
    parts = [prefix]
    for field in _options(type(settings)):
        value = getattr(settings, field.name)
        shown = field.metadata["shown"]
        if (shown is not None and not shown(settings)) or value is None:
            continue
        if isinstance(value, bool):
            parts += [_flag(field)] if value != field.default else []
            continue
        if shown is None and not field.metadata["always"] and value == field.default:
            continue
        text = " ".join(map(field.metadata["render"], value)) if field.metadata["nargs"] else field.metadata["render"](value)
        parts.append(f"{_flag(field)} {text}")
    return " ".join(parts)


def parse_channel(name: str) -> str:
    """A channel name from :data:`channels.CHANNEL_NAMES`; a :class:`UserError` listing them otherwise."""
    if name not in CHANNEL_NAMES:
        raise UserError(f"unknown channel {name!r}; choose one of {', '.join(CHANNEL_NAMES)}")
    return name


def parse_snr_range(text: str) -> tuple[float, float]:
    """``"8"`` -> (8, 8); ``"0:20"`` -> (0, 20) (a range to draw from). Es/N0 in dB."""
    parts = str(text).split(":")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise UserError(f"--snr: {text!r} is not a number of dB (use e.g. 8 or 0:20)") from None
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or values[0] > values[1] or not all(abs(v) < 1e3 for v in values):
        raise UserError(f"--snr: {text!r} is not an SNR in dB or a LOW:HIGH range")
    return values[0], values[1]


def parse_snr_db(text: str) -> float:
    """One Es/N0 in dB: ``"8"`` -> 8.0; a range is a :class:`UserError`."""
    low, high = parse_snr_range(text)
    if low != high:
        raise UserError(f"--snr: {text!r} is a range; this command takes one SNR in dB")
    return low


def snr_range_text(snr_db: tuple[float, float]) -> str:
    """The inverse of :func:`parse_snr_range`: ``8`` or ``0:20``."""
    low, high = snr_db
    return f"{low:g}" if low == high else f"{low:g}:{high:g}"
