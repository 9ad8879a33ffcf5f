"""Run folders: settings, per-epoch checkpoints that survive ``kill -9``, and loading.

A run folder holds

* ``run.json``: the model kind, its config and every training setting
  (:class:`deepsc_st.train.TrainingSettings`), with a format ``version``
  (older files are read through :func:`migrate_run`);
* ``state.json``: epochs finished and the checkpoint that holds them;
* ``epoch-NNNN.weights.h5``: model and optimizer state after epoch NNNN;
* ``model.weights.h5``: the model weights alone (what evaluation and shipping use);
* ``vocabulary.json``: the word tokens of a DeepSC text run (:mod:`deepsc_st.words`);
* ``history.csv`` and ``logs/`` (TensorBoard).

Every file is written to a temporary name and renamed into place, so an
interruption at any moment leaves the last finished epoch intact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keras

from channels import DEFAULT_BLOCK_LENGTH, DEFAULT_K_FACTOR
from deepsc_st.codec import SpeechCodec, build_codec
from deepsc_st.config import CodecConfig, TextConfig, config_from_dict
from deepsc_st.errors import UserError
from deepsc_st.shipped import model_folder
from deepsc_st.model import CTCModel, build_model
from deepsc_st.text_model import DeepSCText, build_text_model

RUN_FILE = "run.json"
STATE_FILE = "state.json"
MODEL_WEIGHTS = "model.weights.h5"
RUN_VERSION = 6  # of run.json


def migrate_run(run: dict) -> dict:
    """A ``run.json`` of any version as version :data:`RUN_VERSION`, one explicit step per version.

    Version 1 (no ``version`` key) left options out when they were off, so
    that runs from before each option still resumed, and stored the epochs
    only for a cosine schedule (``schedule_epochs``); its validation set was
    always 200 utterances, and waveforms were never augmented.
    """
    run = dict(run)
    if run.get("version", 1) == 1:
        run.setdefault("lr_schedule", "constant")
        run.setdefault("spec_augment", False)
        run.setdefault("augment", False)
        run.setdefault("freeze_encoder", False)
        run.setdefault("block_length", DEFAULT_BLOCK_LENGTH)
        run.setdefault("k_factor", DEFAULT_K_FACTOR)
        run.setdefault("validation_utterances", 200)
        run["epochs"] = run.pop("schedule_epochs", None)
        run["version"] = 2
    if run["version"] == 2:  # before text runs could add the corpus's unspoken sentences
        run.setdefault("unspoken_text", False)
        run["version"] = 3
    if run["version"] == 3:  # before text runs could draw random words into their sentences
        run.setdefault("random_words", 0.0)
        run["version"] = 4
    if run["version"] == 4:  # before speech runs could warp their spectrograms' frequency axis
        run.setdefault("vtlp", False)
        run["version"] = 5
    if run["version"] == 5:  # before text runs could replace words by UNK
        run.setdefault("unk_words", 0.0)
        run["version"] = 6
    if run["version"] != RUN_VERSION:
        raise UserError(f"run.json version {run['version']} is newer than this deepsc-st reads ({RUN_VERSION}); update deepsc-st")
    return run


def write_atomically(path: Path, write) -> None:
    """Call ``write(temporary_path)`` then rename the result onto ``path``."""
    path = Path(path)
    temporary = path.with_name(f".tmp-{path.name}")  # keeps the suffix Keras checks (.weights.h5)
    write(temporary)
    os.replace(temporary, path)


def write_json(path: Path, values: dict) -> None:
    write_atomically(path, lambda p: Path(p).write_text(json.dumps(values, indent=2) + "\n"))


def read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{path}: not valid JSON (truncated or corrupted)") from None


def model_from_run(run: dict) -> CTCModel | DeepSCText | SpeechCodec:
    """An untrained model with the architecture and channel recorded in ``run`` (current version)."""
    config = config_from_dict(run["config"])
    if isinstance(config, CodecConfig):
        return build_codec(config)
    return (build_text_model if isinstance(config, TextConfig) else build_model)(
        config,
        channel=run["channel"],
        snr_db=tuple(run["snr_db"]),
        block_length=run["block_length"],
        k_factor=run["k_factor"],
    )


def load_weights(model: CTCModel | DeepSCText | SpeechCodec, path: Path) -> None:
    """Load ``path`` into ``model``; a missing, truncated or mismatched file is a :class:`UserError`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such checkpoint")
    try:
        model.load_weights(str(path))
    except Exception as error:  # h5py and Keras raise many types for bad files
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{path}: cannot load checkpoint ({reason[:160]})") from None


def load_run(run_dir) -> tuple[CTCModel | DeepSCText | SpeechCodec, dict]:
    """The trained model of a run folder (or a shipped model's name) and its ``run.json`` settings."""
    run_dir = model_folder(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such model folder or shipped model")
    run = migrate_run(read_json(run_dir / RUN_FILE))
    model = model_from_run(run)
    load_weights(model, run_dir / MODEL_WEIGHTS)
    return model, run


def save_model_weights(model: CTCModel | DeepSCText, run: dict, run_dir: Path, clean: CTCModel | DeepSCText | None = None) -> None:
    """Write ``model.weights.h5`` without optimizer state: the weights copied into ``clean``, a model without an
    optimizer of the same architecture (None: one built from ``run``)."""
    clean = model_from_run(run) if clean is None else clean
    clean.set_weights(model.get_weights())
    write_atomically(Path(run_dir) / MODEL_WEIGHTS, lambda p: clean.save_weights(str(p)))


class EpochCheckpoint(keras.callbacks.Callback):
    """After each epoch: save model + optimizer, then ``state.json``, then drop the older checkpoint."""

    def __init__(self, run_dir: Path, run: dict):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.run = run
        self._clean = None  # built at the first epoch's end, then reused (building one costs as much as a tiny epoch)

    def on_epoch_end(self, epoch, logs=None):
        name = f"epoch-{epoch + 1:04d}.weights.h5"
        write_atomically(self.run_dir / name, lambda p: self.model.save_weights(str(p)))
        if self._clean is None:
            self._clean = model_from_run(self.run)
        save_model_weights(self.model, self.run, self.run_dir, self._clean)
        previous = read_state(self.run_dir).get("checkpoint")
        write_json(self.run_dir / STATE_FILE, {"epochs_done": epoch + 1, "checkpoint": name})
        if previous and previous != name:
            (self.run_dir / previous).unlink(missing_ok=True)


def read_state(run_dir: Path) -> dict:
    """``{"epochs_done": n, "checkpoint": file}``, or ``{}`` for a run that has not finished an epoch."""
    path = Path(run_dir) / STATE_FILE
    return read_json(path) if path.is_file() else {}
