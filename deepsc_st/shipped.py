"""Where the shipped models are found: one search path.

1. the folders in ``$DEEPSC_ST_MODELS`` (``os.pathsep``-separated), first match wins;
2. ``deepsc_st/models/`` inside the installed package (package data, so a
   plain ``pip install .`` carries them; in a source checkout it is the
   repository's ``deepsc_st/models/``).

Each model is a run folder (``run.json``, ``model.weights.h5``, ``MODEL.md``). Every option that takes a
model folder also takes a shipped model's name (:func:`model_folder`).
"""

from __future__ import annotations

import os
from pathlib import Path

MODELS_ENV = "DEEPSC_ST_MODELS"
PACKAGE_MODELS = Path(__file__).resolve().parent / "models"


def search_path() -> list[Path]:
    """The folders searched for shipped models, in order."""
    extra = [Path(part) for part in os.environ.get(MODELS_ENV, "").split(os.pathsep) if part]
    return [*extra, PACKAGE_MODELS]


def shipped_model_dir(name: str) -> Path | None:
    """The first folder called ``name`` on :func:`search_path`, None when there is none."""
    for folder in search_path():
        if (folder / name).is_dir():
            return folder / name
    return None


def model_folder(given) -> Path:
    """The folder a model option names: ``given`` itself when it is a folder, else the shipped model called
    ``given`` (a bare name such as ``asr-small-games``), else ``given`` as a path (the caller reports it missing)."""
    path = Path(given)
    if not path.is_dir() and len(path.parts) == 1:
        return shipped_model_dir(str(given)) or path
    return path


def model_label(folder) -> str:
    """How a card names the model in ``folder``: its name when it is the shipped model of that name (so the card
    reads the same on every machine), else the folder as given."""
    folder = Path(folder)
    shipped = shipped_model_dir(folder.name)
    return folder.name if shipped is not None and shipped.resolve() == folder.resolve() else str(folder)
