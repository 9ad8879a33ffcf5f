"""Speech corpora and the tf.data pipeline for training and evaluation.

One loader reads three kinds of folder:

* LJSpeech layout (LJSpeech itself, or the embedded corpus of
  :mod:`deepsc_st.corpus`): ``metadata.csv`` with ``id|text|normalized text``
  and ``wavs/ID.wav``; optional ``splits.json`` mapping split names to ids;
* any folder of ``*.wav`` files with a ``.txt`` transcript beside each.

Without ``splits.json`` utterances are split by a hash of their id (90 % train,
5 % validation, 5 % test), so the split is stable across runs and machines.
Transcripts go through :func:`deepsc_st.tokens.normalize_text`.
:func:`load_utterances` is the one loading rule: bad rows (missing or
unreadable wav, empty transcript, audio shorter than a frame or too short for
its transcript) are skipped, counted and reported in one warning.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from deepsc_st.audio import AudioError, load_audio
from deepsc_st.augment import WaveformAugmenter, example_seed
from deepsc_st.config import TIME_STRIDE
from deepsc_st.errors import UserError
from deepsc_st.frontend import FRAME_STEP, FRAMES_PER_SECOND, NUM_BINS, num_frames, spectrogram
from deepsc_st.tokens import normalize_text, text_to_ids

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test", "test_heldout", "all")


@dataclass(frozen=True)
class Utterance:
    """One transcribed recording: ``text`` is normalised (tokens only)."""

    id: str
    wav_path: Path
    text: str


@dataclass
class LoadedUtterance:
    utterance: Utterance
    waveform: np.ndarray  # float32 [num_samples] at 16 kHz


def default_split(data_dir) -> str:
    """The split measured when none is named: ``test`` of a corpus (``metadata.csv``), ``all`` of a folder of
    recordings (wav + txt, e.g. the human dev set), whose hash ``test`` split would be only 5 % of it."""
    return "test" if (Path(data_dir) / "metadata.csv").is_file() else "all"


def _hash_split(utterance_id: str) -> str:
    bucket = int(hashlib.sha256(utterance_id.encode()).hexdigest(), 16) % 100
    return "test" if bucket < 5 else "validation" if bucket < 10 else "train"


def _read_metadata(data_dir: Path) -> list[Utterance]:
    utterances = []
    with open(data_dir / "metadata.csv", encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="|", quoting=csv.QUOTE_NONE):
            if not row or not row[0].strip():
                continue
            text = row[2] if len(row) > 2 and row[2].strip() else row[1] if len(row) > 1 else ""
            utterances.append(Utterance(row[0].strip(), data_dir / "wavs" / f"{row[0].strip()}.wav", normalize_text(text).text))
    return utterances


def _read_wav_txt_pairs(data_dir: Path) -> list[Utterance]:
    utterances = []
    for wav_path in sorted(data_dir.rglob("*.wav")):
        txt_path = wav_path.with_suffix(".txt")
        text = txt_path.read_text(encoding="utf-8", errors="replace") if txt_path.is_file() else ""
        utterance_id = str(wav_path.relative_to(data_dir).with_suffix(""))
        utterances.append(Utterance(utterance_id, wav_path, normalize_text(text).text))
    return utterances


def read_utterances(data_dir, split: str = "all") -> list[Utterance]:
    """The utterances of ``split`` in ``data_dir`` (any of the supported layouts), in a stable order."""
    data_dir = Path(data_dir)
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if not data_dir.is_dir():
        raise UserError(f"{data_dir}: no such data folder")
    utterances = _read_metadata(data_dir) if (data_dir / "metadata.csv").is_file() else _read_wav_txt_pairs(data_dir)
    if not utterances:
        raise UserError(f"{data_dir}: no metadata.csv and no *.wav files with transcripts")
    if split == "all":
        return utterances
    splits_file = data_dir / "splits.json"
    if splits_file.is_file():
        ids = json.loads(splits_file.read_text()).get(split)
        if not isinstance(ids, list):
            hint = f"; it was generated with --splits: run deepsc-st corpus --out {data_dir} to add the rest" if (data_dir / "generation.json").is_file() else ""
            raise UserError(f"{splits_file} has no split {split!r}{hint}")
        wanted = set(ids)
        selected = [u for u in utterances if u.id in wanted]
    else:
        if split == "test_heldout":
            raise UserError(f"{data_dir} has no splits.json, so no held-out speaker split")
        selected = [u for u in utterances if _hash_split(u.id) == split]
    if not selected:
        raise UserError(f"{data_dir}: split {split!r} is empty")
    return selected


def ctc_steps_needed(text: str) -> int:
    """Semantic steps CTC needs to align ``text``: one per token plus one per repeated pair."""
    return len(text) + sum(a == b for a, b in zip(text, text[1:]))


def ctc_feasible(num_samples: int, text: str) -> bool:
    """Whether CTC can align ``text`` to ``num_samples`` samples at the
    :data:`deepsc_st.config.TIME_STRIDE` every configuration shares."""
    return -(-num_frames(num_samples) // TIME_STRIDE) >= ctc_steps_needed(text)


def load_utterances(data_dir, split: str, max_utterances: int | None = None, progress: bool = False, workers: int = 4) -> list[LoadedUtterance]:
    """The first ``max_utterances`` usable utterances of ``split``, waveforms float32 at 16 kHz.

    The one loading rule of training, ``evaluate``, the model cards and the
    sweep: rows with an empty transcript, unreadable audio, or audio too short
    for CTC (:func:`ctc_feasible`) are skipped and counted in one warning.
    ``max_utterances`` counts rows of the split before skipping.
    A :class:`UserError` when nothing usable is left.
    """
    utterances = read_utterances(data_dir, split)[:max_utterances]

    def load(utterance: Utterance):
        if not utterance.text:
            return utterance, None, "empty transcript"
        try:
            waveform = load_audio(utterance.wav_path, allow_silent=True)
        except AudioError as error:
            return utterance, None, str(error).split(": ", 1)[-1]
        if not ctc_feasible(len(waveform), utterance.text):
            return utterance, None, "audio too short for its transcript"
        return utterance, waveform, None

    loaded, skipped = [], {}
    with ThreadPoolExecutor(workers) as pool:
        results = pool.map(load, utterances)
        for utterance, waveform, problem in tqdm(results, total=len(utterances), desc="loading audio", unit="utt", disable=not progress, file=sys.stderr):
            if problem is None:
                loaded.append(LoadedUtterance(utterance, waveform))
            else:
                skipped[problem] = skipped.get(problem, 0) + 1
    if skipped:
        summary = ", ".join(f"{count} {problem}" for problem, count in sorted(skipped.items()))
        log.warning("%s: skipped %d of %d utterances of split %r (%s)", data_dir, sum(skipped.values()), len(utterances), split, summary)
    if not loaded:
        raise UserError(f"{data_dir}: no usable utterances in split {split!r}")
    return loaded


def corpus_facts(folder, name: str | None = None) -> dict:
    """``{"data": name (default: folder), "seed", "checksum"}`` of a corpus from its ``manifest.json``
    (``"unknown"`` for a folder without one, e.g. LJSpeech or recordings)."""
    path = Path(folder) / "manifest.json"
    manifest = json.loads(path.read_text()) if path.is_file() else {}
    return {"data": str(folder) if name is None else name, "seed": manifest.get("seed", "unknown"), "checksum": manifest.get("checksum_sha256", "unknown")}


def fingerprint(loaded: list[LoadedUtterance]) -> str:
    """sha256 of the utterances' ids, texts and samples: what a stored result was measured on."""
    digest = hashlib.sha256()
    for item in loaded:
        for part in (item.utterance.id.encode(), b"\0", item.utterance.text.encode(), b"\0", item.waveform.tobytes()):
            digest.update(part)
    return digest.hexdigest()


# (waveform float32 [samples], token ids int32 [labels], frames of the unaugmented waveform: the length bucket)
_EXAMPLE_SIGNATURE = (tf.TensorSpec([None], tf.float32), tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32))


def _examples(loaded: list[LoadedUtterance], augmenter: WaveformAugmenter | None = None, seed: int = 0) -> tf.data.Dataset:
    """(waveform, token ids, frames of the unaugmented waveform) per utterance, in input order.

    ``augmenter``: augment each waveform anew each epoch, seeded per utterance
    and epoch (:func:`deepsc_st.augment.example_seed`); it runs in the
    generator, in input order, so the draws do not depend on tf.data's
    parallelism, and shuffling comes after it.
    """
    epochs = iter(range(1 << 62))

    def generate():
        epoch = next(epochs)
        for index, item in enumerate(loaded):
            waveform = item.waveform
            if augmenter is not None:
                rng = np.random.default_rng(example_seed(seed, epoch, index))
                waveform = augmenter(waveform, rng, min_samples=min_ctc_samples(item.utterance.text))
            yield waveform, text_to_ids(item.utterance.text), num_frames(len(item.waveform))

    dataset = tf.data.Dataset.from_generator(generate, output_signature=_EXAMPLE_SIGNATURE)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(loaded)))


def min_ctc_samples(text: str) -> int:
    """The fewest samples at 16 kHz on which CTC can still align ``text`` (:func:`ctc_feasible`)."""
    return max(0, (ctc_steps_needed(text) - 1) * TIME_STRIDE * FRAME_STEP)


def _features(waveform, labels, bucket_frames, frequency_warp=None):
    features = spectrogram(waveform, frequency_warp)
    return {
        "spectrogram": features,
        "frames": tf.shape(features)[0],
        "labels": labels,
        "label_length": tf.shape(labels)[0],
        "bucket_frames": bucket_frames,
    }


_PADDED_SHAPES = {"spectrogram": [None, NUM_BINS], "frames": [], "labels": [None], "label_length": [], "bucket_frames": []}

# SpecAugment-style masking (Park et al. 2019, without time warping), sized for 161 linear bins at 100 frames/s.
FREQUENCY_MASKS, MAX_FREQUENCY_WIDTH = 2, 27  # bands of up to 27 bins (1.3 kHz)
TIME_MASKS, MAX_TIME_WIDTH, MAX_TIME_FRACTION = 2, 40, 0.1  # spans of up to 0.4 s and 10 % of the utterance


def _random_span(length, max_width):
    """Bool [length], True on one random span of 0..max_width positions."""
    width = tf.minimum(tf.random.uniform([], 0, max_width + 1, tf.int32), length)
    start = tf.random.uniform([], 0, length - width + 1, tf.int32)
    positions = tf.range(length)
    return (positions >= start) & (positions < start + width)


def spec_augment(example: dict) -> dict:
    """Mask random frequency bands and time spans of one example's spectrogram [frames, 161].

    Masked values become 0, the per-bin mean of the normalised spectrogram.
    Randomness comes from TensorFlow's global seed (set by training).
    """
    features = example["spectrogram"]
    frames = tf.shape(features)[0]
    max_time_width = tf.minimum(MAX_TIME_WIDTH, tf.cast(tf.cast(frames, tf.float32) * MAX_TIME_FRACTION, tf.int32))
    bins = tf.reduce_any(tf.stack([_random_span(NUM_BINS, MAX_FREQUENCY_WIDTH) for _ in range(FREQUENCY_MASKS)]), axis=0)
    steps = tf.reduce_any(tf.stack([_random_span(frames, max_time_width) for _ in range(TIME_MASKS)]), axis=0)
    masked = steps[:, tf.newaxis] | bins[tf.newaxis, :]
    return {**example, "spectrogram": tf.where(masked, tf.zeros_like(features), features)}


VTLP_FACTORS = (0.9, 1.1)  # Jaitly & Hinton's range of the warp factor alpha


def _warped_features(waveform, labels, bucket_frames):
    """:func:`_features` with the power spectrum's frequency axis warped by a factor drawn uniformly from
    :data:`VTLP_FACTORS` (:func:`deepsc_st.frontend.warp_power`); randomness from TensorFlow's global seed, as in
    :func:`spec_augment`."""
    return _features(waveform, labels, bucket_frames, tf.random.uniform([], *VTLP_FACTORS))


def _bucket_boundaries(loaded: list[LoadedUtterance]) -> list[int]:
    """Frame counts that separate the 1 s wide length buckets."""
    longest = max(num_frames(len(item.waveform)) for item in loaded)
    return list(range(FRAMES_PER_SECOND + 1, longest + FRAMES_PER_SECOND, FRAMES_PER_SECOND))


def training_batches_per_epoch(loaded: list[LoadedUtterance], batch_size: int) -> int:
    """Batches that :func:`training_dataset` yields per epoch (each bucket ends in one partial batch)."""
    frames = np.array([num_frames(len(item.waveform)) for item in loaded])
    counts = np.bincount(np.searchsorted(_bucket_boundaries(loaded), frames, side="right"))
    return int(sum(-(-count // batch_size) for count in counts if count))


def training_dataset(
    loaded: list[LoadedUtterance], batch_size: int, seed: int, augment: bool = False, augmenter: WaveformAugmenter | None = None,
    vtlp: bool = False,
) -> tf.data.Dataset:
    """Shuffled (with ``seed``, anew each epoch), length-bucketed, padded feature batches.

    Buckets are 1 s wide (100 frames) so that padding stays below ~1 s per utterance.
    ``augment``: apply :func:`spec_augment` to every example, anew each epoch.
    ``augmenter``: augment every waveform first (:mod:`deepsc_st.augment`), anew each epoch.
    ``vtlp``: warp every spectrogram's frequency axis (:func:`_warped_features`), anew each epoch.
    """
    boundaries = _bucket_boundaries(loaded)
    dataset = _examples(loaded, augmenter, seed).shuffle(len(loaded), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.map(_warped_features if vtlp else _features, num_parallel_calls=tf.data.AUTOTUNE)
    if augment:
        dataset = dataset.map(spec_augment, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.bucket_by_sequence_length(
        element_length_func=lambda example: example["bucket_frames"],  # speed perturbation never moves an utterance to another bucket
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        padded_shapes=_PADDED_SHAPES,
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(loaded: list[LoadedUtterance], batch_size: int) -> tf.data.Dataset:
    """Padded feature batches in the order of ``loaded`` (no shuffling)."""
    dataset = _examples(loaded).map(_features, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.padded_batch(batch_size, padded_shapes=_PADDED_SHAPES).prefetch(tf.data.AUTOTUNE)
