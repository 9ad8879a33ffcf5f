"""Training under a channel, resumable after Ctrl-C or ``kill -9``.

Reads like a Keras example: seed, data, model, callbacks, ``fit``. Speech
configurations train the ASR (``--channel none``) or DeepSC-ST with CTC loss;
``text-*`` configurations train the DeepSC text transceiver of SR+DeepSC on
the corpus's transcripts (:mod:`deepsc_st.text_training`); ``codec-*``
configurations train the speech codec on 1 s crops of the corpus's waveforms
(:mod:`deepsc_st.codec_training`). Rerunning the same
command (or passing ``--resume``) continues from the last finished epoch in
the run folder; see :mod:`deepsc_st.checkpoint` for its files.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import subprocess
import sys
import time
from dataclasses import MISSING, dataclass
from pathlib import Path

import keras
import sionna.phy
import tensorflow as tf

from channels import DEFAULT_BLOCK_LENGTH, DEFAULT_K_FACTOR
from deepsc_st import checkpoint, distribute
from deepsc_st.augment import WaveformAugmenter
from deepsc_st.codec import CODEC_KIND
from deepsc_st.codec_training import CROP_SECONDS, crop_batches_per_epoch, training_crops, validation_crops
from deepsc_st.config import CodecConfig, ModelConfig, TextConfig, config_from_dict, get_config
from deepsc_st.data import LoadedUtterance, evaluation_dataset, load_utterances, training_batches_per_epoch, training_dataset
from deepsc_st.decoding import GREEDY
from deepsc_st.errors import UserError
from deepsc_st.frontend import SAMPLE_RATE
from deepsc_st.inference import token_logits
from deepsc_st.metrics import character_error_rate
from deepsc_st.model import CTCModel
from deepsc_st.settings import command_line, parse_channel, parse_snr_range, setting, snr_range_text
from deepsc_st.text_model import TEXT_KIND
from deepsc_st.text_training import run_vocabulary, text_training_data
from deepsc_st.widen import widen_semantic_encoder


LR_SCHEDULES = ("constant", "cosine", "warmup-cosine")
WARMUP_EPOCHS = 2  # of warmup-cosine: linear from 0 to --lr
SPEECH_ONLY = ("spec_augment", "vtlp", "augment", "freeze_encoder")  # settings a text or codec run refuses


def parse_config(name: str) -> ModelConfig | TextConfig | CodecConfig:
    try:
        return get_config(name)
    except ValueError as error:
        raise UserError(str(error)) from None


def parse_lr_schedule(name: str) -> str:
    if name not in LR_SCHEDULES:
        raise UserError(f"unknown learning-rate schedule {name!r}; use {' or '.join(LR_SCHEDULES)}")
    return name


@dataclass
class TrainingSettings:
    """Everything that defines a training run: the ``deepsc-st train`` options and ``run.json``."""

    config: ModelConfig | TextConfig | CodecConfig = setting(
        MISSING,
        "paper, medium, small or tiny (speech); text-paper, text-small or text-tiny (the DeepSC text transceiver of SR+DeepSC); "
        "codec-paper, codec-small or codec-tiny (the speech codec)", parse=parse_config, render=lambda config: config.name, always=True)
    data: str = setting(MISSING, "corpus folder (embedded, LJSpeech or wav+txt), or several, comma-separated, to train on all of them", always=True)
    channel: str = setting("none", "none (the ASR; the codec), awgn, rayleigh or rician (train: rician for all but the codec)", parse=parse_channel, always=True)
    snr_db: tuple[float, float] = setting(
        (8.0, 8.0), "Es/N0 in dB, or LOW:HIGH to draw one per utterance", flag="--snr", parse=parse_snr_range, render=snr_range_text,
        shown=lambda settings: settings.channel != "none",
    )
    epochs: int = setting(10, "passes over the training split", always=True)
    batch_size: int = setting(16, "utterances per training step", always=True)
    learning_rate: float = setting(1e-4, "Adam learning rate", flag="--lr", render=lambda lr: f"{lr:g}", always=True)
    lr_schedule: str = setting(
        "constant", "constant; cosine: decay to 5 %% of --lr over --epochs; warmup-cosine: rise from 0 over 2 epochs first", parse=parse_lr_schedule
    )
    spec_augment: bool = setting(False, "mask 2 random frequency bands and 2 time spans of each training spectrogram")
    vtlp: bool = setting(
        False, "warp the frequency axis of each training spectrogram by a factor drawn from 0.9-1.1 "
        "(vocal-tract-length perturbation on the spectrum, Jaitly & Hinton 2013)"
    )
    augment: bool = setting(False, "augment each training waveform anew each epoch: speed, VTLP, reverberation, telephone band, coloured noise, gain")
    seed: int = setting(0, "seed of initialisation, shuffling, augmentation and channel draws", always=True)
    block_length: int = setting(DEFAULT_BLOCK_LENGTH, "complex symbols per fading block")
    k_factor: float = setting(DEFAULT_K_FACTOR, "Rician K factor (linear)", render=lambda k: f"{k:g}")
    max_utterances: int | None = setting(None, "use only the first N training utterances (of each corpus)", parse=int)
    validation_utterances: int = setting(200, "validation utterances scored after each epoch (of each corpus)")
    init_from: str | None = setting(
        None, "ASR run folder to initialise the semantic encoder from (one with fewer GRU units is grown: deepsc_st/widen.py); text configs: a text run of the same config to start from (its weights and vocabulary); "
        "codec configs: a codec run of the same config (its weights and codebooks)"
    )
    freeze_encoder: bool = setting(False, "DeepSC-ST: keep the --init-from semantic encoder fixed, train only the channel codec")
    unspoken_text: bool = setting(False, "text configs: also train on the embedded corpus's unspoken sentences (its text pool minus every sentence it speaks)")
    random_words: float = setting(
        0.0, "text configs: replace this fraction of each training sentence's words by words drawn uniformly from the vocabulary, "
        "anew each epoch (the link must carry any word in any context, not recall sentences)", render=lambda f: f"{f:g}",
    )
    unk_words: float = setting(
        0.0, "text configs: replace this fraction of each training sentence's words by UNK (after --random-words), anew each "
        "epoch, so that a word outside the vocabulary comes back as nothing instead of as some other word", render=lambda f: f"{f:g}",
    )

    def __post_init__(self):
        self.snr_db = tuple(float(value) for value in self.snr_db)
        self.init_from = None if self.init_from is None else str(self.init_from)
        self.data = str(self.data)

    @property
    def kind(self) -> str:
        """The run's model kind: "deepsc-text" (a text configuration), "codec", "asr" (no channel) or "deepsc-st"."""
        if isinstance(self.config, TextConfig):
            return TEXT_KIND
        if isinstance(self.config, CodecConfig):
            return CODEC_KIND
        return "asr" if self.channel == "none" else "deepsc-st"

    def to_run(self) -> dict:
        """``run.json``: every setting (config in full), the model kind, the format version and the source commit."""
        values = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        values.update(config=self.config.to_dict(), snr_db=list(self.snr_db))
        return {"version": checkpoint.RUN_VERSION, "kind": self.kind, **values, "commit": _source_commit()}

    @classmethod
    def from_run(cls, run: dict) -> "TrainingSettings":
        """The settings stored in a ``run.json`` of any version (:func:`deepsc_st.checkpoint.migrate_run`)."""
        run = checkpoint.migrate_run(run)
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{**{key: value for key, value in run.items() if key in names}, "config": config_from_dict(run["config"])})

    def command_line(self, run_dir) -> str:
        """The ``deepsc-st train`` command that trains these settings into ``run_dir``."""
        return f"{command_line('deepsc-st train', self)} --out {run_dir}"

    def learning_rate_schedule(self, batches_per_epoch: int):
        """Adam's learning rate: constant; cosine decay to 5 % of it over all the run's epochs; or that decay after a linear warmup.

        Warmup is what lets a post-norm transformer (the DeepSC text transceiver) leave the plateau
        of predicting word frequencies (Xiong et al. 2020): without it, at 1e-3, it never did.
        """
        if self.lr_schedule == "constant":
            return self.learning_rate
        steps = self.epochs * batches_per_epoch
        if self.lr_schedule == "cosine":
            return keras.optimizers.schedules.CosineDecay(self.learning_rate, decay_steps=steps, alpha=0.05)
        warmup = min(WARMUP_EPOCHS * batches_per_epoch, steps // 2)
        return keras.optimizers.schedules.CosineDecay(0.0, decay_steps=steps - warmup, alpha=0.05, warmup_target=self.learning_rate, warmup_steps=warmup)


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

    def __init__(self, validation: list[LoadedUtterance], batch_size: int):
        super().__init__()
        self.waveforms = [item.waveform for item in validation]
        self.references = [item.utterance.text for item in validation]
        self.batch_size = batch_size

    def on_epoch_end(self, epoch, logs=None):
        hypotheses = GREEDY(token_logits(self.model, self.waveforms, channel=None, batch_size=self.batch_size))
        logs["val_cer"] = character_error_rate(self.references, hypotheses)


class EpochTimer(keras.callbacks.Callback):
    """Adds ``epoch_s`` (wall-clock seconds of the epoch, validation included) to each epoch's logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs["epoch_s"] = time.time() - self.start


def _check_same_run(run_dir: Path, run: dict) -> None:
    """A :class:`UserError` unless ``run_dir`` holds the same run: every setting equal but the
    epochs (more continue it; they shape a cosine schedule, so there they must match) and where it started from."""
    stored = checkpoint.migrate_run(checkpoint.read_json(run_dir / checkpoint.RUN_FILE))
    free = {"init_from", "commit"} | ({"epochs"} if run["lr_schedule"] == "constant" else set())
    differences = [key for key in run if key not in free and stored.get(key) != run[key]]
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


def load_corpora(data: str, split: str, max_utterances: int | None, progress: bool) -> list[LoadedUtterance]:
    """``split`` of every corpus folder in ``data`` (one, or a comma-separated list), in that order; ``max_utterances`` of each."""
    return [item for folder in data.split(",") for item in load_utterances(folder.strip(), split, max_utterances, progress=progress)]


def train(settings: TrainingSettings, run_dir, resume: bool = False, progress: bool = True, strategy: str = "none") -> dict:
    """Train (or continue) the run in ``run_dir``; returns the last epoch's logs and timing.

    ``strategy``: none, mirrored or multi-worker (:mod:`deepsc_st.distribute`);
    ``settings.batch_size`` is then the global batch, split across the replicas.
    """
    distribution = distribute.make_strategy(strategy)  # first: a multi-worker strategy starts its server before TensorFlow runs anything
    chief = distribute.is_chief(distribution)
    run_dir = Path(run_dir)
    text, codec = settings.kind == TEXT_KIND, settings.kind == CODEC_KIND
    refused = [f"--{name.replace('_', '-')}" for name in SPEECH_ONLY if getattr(settings, name)]
    if text and refused:
        raise UserError(f"--config {settings.config.name} trains the DeepSC text transceiver on transcripts; it takes no {', '.join(refused)}")
    if codec:
        given = {
            "--unspoken-text": settings.unspoken_text, "--random-words": settings.random_words, "--unk-words": settings.unk_words,
            "--channel": settings.channel != "none", "--strategy": strategy != "none",
        }
        refused += [flag for flag, value in given.items() if value]
    if codec and refused:
        raise UserError(f"--config {settings.config.name} trains the speech codec on waveforms in one process; it takes no {', '.join(refused)}")
    if text:
        vocabulary, settings = run_vocabulary(settings, run_dir)
    elif settings.unspoken_text or settings.random_words or settings.unk_words:
        changing = "--random-words" if settings.random_words else "--unk-words"
        flag = "--unspoken-text adds sentences to" if settings.unspoken_text else f"{changing} changes the sentences of"
        raise UserError(f"{flag} a text run (--config text-...); a speech run needs their speech")
    for flag, fraction in (("--random-words", settings.random_words), ("--unk-words", settings.unk_words)):
        if not 0.0 <= fraction <= 1.0:
            raise UserError(f"{flag} {fraction:g}: a fraction of the words, from 0 to 1")
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

    parse_lr_schedule(settings.lr_schedule)
    if settings.freeze_encoder and (settings.channel == "none" or not settings.init_from):
        raise UserError("--freeze-encoder trains only the channel codec: it needs a channel and --init-from ASR_RUN")

    keras.utils.set_random_seed(settings.seed)
    sionna.phy.config.seed = settings.seed
    if text:
        sentences = text_training_data(settings, vocabulary)
        batches_per_epoch = sentences.batches_per_epoch
    else:
        train_set = load_corpora(settings.data, "train", settings.max_utterances, progress)
        validation = load_corpora(settings.data, "validation", settings.validation_utterances, progress)
        batches_per_epoch = (crop_batches_per_epoch if codec else training_batches_per_epoch)(train_set, settings.batch_size)

    with distribution.scope():
        model = checkpoint.model_from_run(run)
        if not (text or codec):
            model.semantic_encoder.trainable = not settings.freeze_encoder  # frozen: it also runs in inference mode (no dropout, fixed BatchNorm statistics)
        model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate_schedule(batches_per_epoch)), jit_compile=False)
        model.optimizer.build(model.trainable_variables)
        if initial_epoch:
            checkpoint.load_weights(model, run_dir / state["checkpoint"])
            print(f"resuming {run_dir} after epoch {initial_epoch}", file=sys.stderr)
        elif settings.init_from:
            if text or codec:
                _init_whole_model(model, settings.init_from, settings.kind)
            else:
                _init_semantic_encoder(model, settings.init_from)

    if chief:
        run_dir.mkdir(parents=True, exist_ok=True)
        checkpoint.write_json(run_dir / checkpoint.RUN_FILE, run)
        if text:
            vocabulary.save(run_dir)
        _trim_history(run_dir / "history.csv", initial_epoch)

    if text:
        train_batches, validation_batches, validation_cer = sentences.train_batches, sentences.validation_batches, sentences.validation
        amount, rate = sentences.sentences, "sentences_per_second"
    elif codec:
        train_batches = training_crops(train_set, settings.batch_size, settings.seed, first_epoch=initial_epoch)
        validation_batches, validation_cer = validation_crops(validation, settings.batch_size), None
        amount, rate = len(train_set) * CROP_SECONDS, "audio_seconds_per_second"
    else:
        augmenter = WaveformAugmenter(seed=settings.seed) if settings.augment else None
        train_batches = training_dataset(train_set, settings.batch_size, settings.seed, augment=settings.spec_augment, augmenter=augmenter, vtlp=settings.vtlp)
        validation_batches = evaluation_dataset(validation, settings.batch_size)
        validation_cer = ValidationCER(validation, settings.batch_size)
        amount, rate = sum(len(item.waveform) for item in train_set) / SAMPLE_RATE, "audio_seconds_per_second"
    train_batches = train_batches.apply(tf.data.experimental.assert_cardinality(batches_per_epoch))
    if distribution.num_replicas_in_sync > 1:  # every worker reads the same batches; tf.distribute gives each its share of every one
        sharding = tf.data.Options()
        sharding.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        train_batches, validation_batches = train_batches.with_options(sharding), validation_batches.with_options(sharding)
    callbacks = [callback for callback in (validation_cer, EpochTimer()) if callback is not None]
    if chief:  # the only writer of the run folder
        callbacks += [
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
    last = {key: float(values[-1]) for key, values in history.history.items()}
    return {**last, "epochs_done": settings.epochs, "elapsed_s": elapsed, rate: amount * (settings.epochs - initial_epoch) / elapsed}


def _init_whole_model(model, run_dir, kind: str) -> None:
    """Copy every weight of a trained run of the same ``kind`` and configuration into ``model``: a DeepSC text run (its
    vocabulary came from it too) or a speech codec (the codebooks and their EMA statistics too, so no k-means again)."""
    source, run = checkpoint.load_run(run_dir)
    if run["kind"] != kind or config_from_dict(run["config"]) != model.config:
        raise UserError(f"{run_dir}: not a {model.config.name!r} run ({kind}) with the same configuration")
    model.set_weights(source.get_weights())


def _init_semantic_encoder(model: CTCModel, asr_run_dir) -> None:
    """Copy the semantic encoder of a trained ASR-only run into ``model`` (for an ASR model: all of it).

    A run with fewer GRU units and otherwise the same layers is grown into the wider
    encoder so that it computes what it did (:mod:`deepsc_st.widen`)."""
    asr, run = checkpoint.load_run(asr_run_dir)
    asr_config, config = ModelConfig.from_dict(run["config"]).to_dict(), model.config.to_dict()
    differences = {key: f"{key} {asr_config[key]} != {config[key]}" for key in config if asr_config[key] != config[key]}
    if set(differences) <= {"name", "gru_units"} and asr_config["gru_units"] < config["gru_units"]:
        widen_semantic_encoder(asr.semantic_encoder, model.semantic_encoder)
        return
    if differences:
        raise UserError(f"{asr_run_dir}: its config differs from {model.config.name!r} ({'; '.join(differences.values())})")
    model.semantic_encoder.set_weights(asr.semantic_encoder.get_weights())
