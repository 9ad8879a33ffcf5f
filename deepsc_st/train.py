"""Training with CTC loss under a channel, resumable after Ctrl-C or ``kill -9``.

Reads like a Keras example: seed, data, model, callbacks, ``fit``. Rerunning
the same command (or passing ``--resume``) continues from the last finished
epoch in the run folder; see :mod:`deepsc_st.checkpoint` for its files.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import sionna.phy
import tensorflow as tf

from deepsc_st import checkpoint
from deepsc_st.config import ModelConfig
from deepsc_st.data import evaluation_dataset, load_waveforms, read_utterances, training_batches_per_epoch, training_dataset
from deepsc_st.decoding import greedy_decode
from deepsc_st.errors import UserError
from deepsc_st.evaluate import compiled_forward
from deepsc_st.metrics import character_error_rate
from deepsc_st.model import CTCModel


@dataclass
class TrainingSettings:
    """Everything that defines a training run (stored in ``run.json``)."""

    config: ModelConfig
    data: str
    channel: str = "none"
    snr_db: tuple[float, float] = (8.0, 8.0)
    epochs: int = 10
    batch_size: int = 16
    learning_rate: float = 1e-4
    lr_schedule: str = "constant"
    spec_augment: bool = False
    seed: int = 0
    block_length: int = 128
    k_factor: float = 1.0
    max_utterances: int | None = None
    validation_utterances: int = 200
    init_from: str | None = None
    freeze_encoder: bool = False

    def to_run(self) -> dict:
        return {
            "kind": "asr" if self.channel == "none" else "deepsc-st",
            "config": self.config.to_dict(),
            "data": self.data,
            "channel": self.channel,
            "snr_db": list(self.snr_db),
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            **self._schedule_fields(),
            **({"spec_augment": True} if self.spec_augment else {}),  # absent when off, so older runs still resume
            "seed": self.seed,
            "block_length": self.block_length,
            "k_factor": self.k_factor,
            "max_utterances": self.max_utterances,
            "init_from": self.init_from,
            **({"freeze_encoder": True} if self.freeze_encoder else {}),  # absent when off, so older runs still resume
            "commit": _source_commit(),
        }

    def _schedule_fields(self) -> dict:
        """Stored only for non-constant schedules, so runs from before the option still resume."""
        if self.lr_schedule == "constant":
            return {}
        return {"lr_schedule": self.lr_schedule, "schedule_epochs": self.epochs}

    def learning_rate_schedule(self, batches_per_epoch: int):
        """Adam's learning rate: constant, or cosine decay to 5 % of it over all the run's epochs."""
        if self.lr_schedule == "constant":
            return self.learning_rate
        if self.lr_schedule == "cosine":
            return keras.optimizers.schedules.CosineDecay(self.learning_rate, decay_steps=self.epochs * batches_per_epoch, alpha=0.05)
        raise UserError(f"unknown learning-rate schedule {self.lr_schedule!r}; use constant or cosine")


def _source_commit() -> str | None:
    """The git commit of the code that trains (``+dirty`` with uncommitted changes), if known."""
    source = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=source, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


class ValidationCER(keras.callbacks.Callback):
    """Adds ``val_cer`` (greedy decoding, training channel and SNR range) to each epoch's logs."""

    def __init__(self, dataset: tf.data.Dataset, references: list[str]):
        super().__init__()
        self.dataset = dataset
        self.references = references

    def on_train_begin(self, logs=None):
        self.forward = compiled_forward(self.model)

    def on_epoch_end(self, epoch, logs=None):
        hypotheses = []
        for batch in self.dataset:
            logits, steps = self.forward(batch["spectrogram"], batch["frames"], tf.constant(0.0))
            hypotheses.extend(greedy_decode(logits.numpy(), steps.numpy()))
        logs["val_cer"] = character_error_rate(self.references, hypotheses)


class EpochTimer(keras.callbacks.Callback):
    """Adds ``epoch_s`` (wall-clock seconds of the epoch, validation included) to each epoch's logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs["epoch_s"] = time.time() - self.start


def _check_same_run(run_dir: Path, run: dict) -> None:
    stored = checkpoint.read_json(run_dir / checkpoint.RUN_FILE)
    differences = [key for key in run if key not in ("init_from", "commit") and stored.get(key) != run[key]]
    if differences:
        raise UserError(f"{run_dir} holds a run with different {', '.join(differences)}; use another --out")


def _trim_history(history: Path, epochs_done: int) -> None:
    """Drop CSV rows of epochs that were not checkpointed (the run was killed after logging them)."""
    if not history.is_file():
        return
    with open(history, newline="") as handle:
        rows = list(csv.reader(handle))
    kept = rows[:1] + [row for row in rows[1:] if row and int(row[0]) < epochs_done]
    checkpoint.write_atomically(history, lambda p: _write_rows(p, kept))


def _write_rows(path, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def train(settings: TrainingSettings, run_dir, resume: bool = False, progress: bool = True) -> dict:
    """Train (or continue) the run in ``run_dir``; returns the last epoch's logs and timing."""
    run_dir = Path(run_dir)
    run = json.loads(json.dumps(settings.to_run()))  # tuples -> lists, as stored in run.json
    state = {}
    if (run_dir / checkpoint.RUN_FILE).is_file():
        _check_same_run(run_dir, run)
        state = checkpoint.read_state(run_dir)
    elif resume:
        raise UserError(f"{run_dir}: nothing to resume (no {checkpoint.RUN_FILE})")
    initial_epoch = state.get("epochs_done", 0)
    if initial_epoch >= settings.epochs:
        print(f"{run_dir}: already trained for {initial_epoch} epochs", file=sys.stderr)
        return {"epochs_done": initial_epoch}

    if settings.freeze_encoder and (settings.channel == "none" or not settings.init_from):
        raise UserError("--freeze-encoder trains only the channel codec: it needs a channel and --init-from ASR_RUN")

    keras.utils.set_random_seed(settings.seed)
    sionna.phy.config.seed = settings.seed
    train_set = load_waveforms(read_utterances(settings.data, "train"), settings.config, progress=progress, max_utterances=settings.max_utterances)
    validation = load_waveforms(read_utterances(settings.data, "validation"), settings.config, progress=progress, max_utterances=settings.validation_utterances)

    batches_per_epoch = training_batches_per_epoch(train_set, settings.batch_size)
    model = checkpoint.model_from_run(run)
    model.semantic_encoder.trainable = not settings.freeze_encoder  # frozen: it also runs in inference mode (no dropout, fixed BatchNorm statistics)
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate_schedule(batches_per_epoch)), jit_compile=False)
    model.optimizer.build(model.trainable_variables)
    if initial_epoch:
        checkpoint.load_weights(model, run_dir / state["checkpoint"])
        print(f"resuming {run_dir} after epoch {initial_epoch}", file=sys.stderr)
    elif settings.init_from:
        _init_semantic_encoder(model, settings.init_from)

    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint.write_json(run_dir / checkpoint.RUN_FILE, run)
    _trim_history(run_dir / "history.csv", initial_epoch)

    train_batches = training_dataset(train_set, settings.batch_size, settings.seed, augment=settings.spec_augment)
    train_batches = train_batches.apply(tf.data.experimental.assert_cardinality(batches_per_epoch))
    validation_batches = evaluation_dataset(validation, settings.batch_size)
    callbacks = [
        ValidationCER(validation_batches, [item.utterance.text for item in validation]),
        EpochTimer(),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
        keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs"), write_graph=False),
        checkpoint.EpochCheckpoint(run_dir, run),
    ]
    start = time.time()
    history = model.fit(
        train_batches,
        validation_data=validation_batches,
        epochs=settings.epochs,
        initial_epoch=initial_epoch,
        callbacks=callbacks,
        verbose=1 if progress else 0,
    )
    elapsed = time.time() - start
    audio_seconds = sum(len(item.waveform) for item in train_set) / 16_000 * (settings.epochs - initial_epoch)
    last = {key: float(values[-1]) for key, values in history.history.items()}
    return {**last, "epochs_done": settings.epochs, "elapsed_s": elapsed, "audio_seconds_per_second": audio_seconds / elapsed}


def _init_semantic_encoder(model: CTCModel, asr_run_dir) -> None:
    """Copy the semantic encoder of a trained ASR-only run into ``model`` (for an ASR model: all of it)."""
    asr, run = checkpoint.load_run(asr_run_dir)
    asr_config, config = ModelConfig.from_dict(run["config"]).to_dict(), model.config.to_dict()
    differences = [f"{key} {asr_config[key]} != {config[key]}" for key in config if asr_config[key] != config[key]]
    if differences:
        raise UserError(f"{asr_run_dir}: its config differs from {model.config.name!r} ({'; '.join(differences)})")
    model.semantic_encoder.set_weights(asr.semantic_encoder.get_weights())
