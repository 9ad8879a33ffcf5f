"""What ``deepsc-st train --config text-...`` feeds the DeepSC text transceiver: sentences, not speech.

The corpus's transcripts (no audio is read) become word tokens
(:mod:`deepsc_st.words`); training is cross-entropy with teacher forcing,
masked on PAD, under the run's channel and SNR range (the published code's
recipe: Adam, here with the run's learning rate). The rest of a run (run
folder, resuming, checkpoints, ``history.csv``, TensorBoard) is
:func:`deepsc_st.train.train`'s, shared with the speech models.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from deepsc_st.data import read_utterances
from deepsc_st.errors import UserError
from deepsc_st.metrics import character_error_rate
from deepsc_st.text_link import send_texts
from deepsc_st.words import PAD, SPECIAL_TOKENS, UNK, VOCABULARY_FILE, WordVocabulary


def unspoken_sentences(data_dir) -> list[str]:
    """The embedded corpus's text pool (every usable sentence of its six novels) minus every sentence
    the corpus speaks in any split, normalised, in book order: text a text-only model may learn from
    without seeing a validation or test sentence."""
    from deepsc_st.corpus import read_novels, sentence_pool

    if not (Path(data_dir) / "generation.json").is_file():
        raise UserError(f"--unspoken-text: {data_dir} is not an embedded corpus (made by deepsc-st corpus)")
    spoken = {u.text for u in read_utterances(data_dir, "all")}
    return [text for _, text in sentence_pool(read_novels()) if text not in spoken]


def training_texts(settings) -> list[str]:
    """The sentences a text run learns from: the training transcripts (the first ``max_utterances``),
    then, with ``unspoken_text``, the corpus's unspoken sentences."""
    texts = [u.text for u in read_utterances(settings.data, "train")][: settings.max_utterances]
    return texts + (unspoken_sentences(settings.data) if settings.unspoken_text else [])


def run_vocabulary(settings, run_dir: Path) -> tuple[WordVocabulary, object]:
    """The run's vocabulary and the settings with its size fixed in the config.

    A run that has started keeps the ``vocabulary.json`` in its folder; a run
    that starts from another (``init_from``) takes that run's; otherwise the
    words of its training sentences (:func:`training_texts`), at most
    ``config.vocabulary_size`` of them (None: all).
    """
    if (Path(run_dir) / VOCABULARY_FILE).is_file():
        vocabulary = WordVocabulary.load(run_dir)
    elif settings.init_from:
        vocabulary = WordVocabulary.load(settings.init_from)
    else:
        vocabulary = WordVocabulary.from_transcripts(training_texts(settings), settings.config.vocabulary_size)
    size = settings.config.vocabulary_size or len(vocabulary)
    return vocabulary, dataclasses.replace(settings, config=dataclasses.replace(settings.config, vocabulary_size=size))


def sentence_tokens(vocabulary: WordVocabulary, texts, max_tokens: int) -> list[list[int]]:
    """Token ids of each text (START ... END) that fits ``max_tokens``; longer ones are left out with one warning."""
    encoded = [vocabulary.encode(text) for text in texts]
    kept = [tokens for tokens in encoded if len(tokens) <= max_tokens]
    if len(kept) < len(encoded):
        print(f"left out {len(encoded) - len(kept)} sentences longer than {max_tokens - 2} words", file=sys.stderr)
    if not kept:
        raise UserError(f"no sentence of at most {max_tokens - 2} words to train on")
    return kept


def with_random_words(tokens, fraction: float, vocabulary_size: int, seed, unknown_fraction: float = 0.0):
    """``tokens`` int32 [n] (START ... END) with each word replaced, with probability ``fraction``, by a word drawn
    uniformly from the vocabulary's words (ids after the special tokens), then, with probability
    ``unknown_fraction``, by UNK; ``seed``: int32 [2], stateless (the UNK draw has its own stream, folded in)."""
    words = tokens[1:-1]
    draw, pick = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    replaced = tf.random.stateless_uniform(tf.shape(words), draw) < fraction
    drawn = tf.random.stateless_uniform(tf.shape(words), pick, minval=len(SPECIAL_TOKENS), maxval=vocabulary_size, dtype=tf.int32)
    words = tf.where(replaced, drawn, words)
    if unknown_fraction:
        unknown = tf.random.stateless_uniform(tf.shape(words), tf.random.experimental.stateless_fold_in(seed, 1)) < unknown_fraction
        words = tf.where(unknown, UNK, words)
    return tf.concat([tokens[:1], words, tokens[-1:]], axis=0)


def token_batches(
    sentences: list[list[int]], batch_size: int, seed: int | None = None, random_words: float = 0.0, vocabulary_size: int | None = None,
    unk_words: float = 0.0,
) -> tf.data.Dataset:
    """int32 [batch, longest] PAD-padded batches; shuffled anew each epoch when ``seed`` is given, and then with
    ``random_words`` of the words replaced by vocabulary words and ``unk_words`` by UNK anew each epoch (:func:`with_random_words`)."""
    dataset = tf.data.Dataset.from_generator(lambda: iter(sentences), output_signature=tf.TensorSpec([None], tf.int32))
    if seed is not None:
        dataset = dataset.shuffle(len(sentences), seed=seed, reshuffle_each_iteration=True)
        if random_words or unk_words:  # a seed per (epoch, sentence): the epoch's counter restarts with the shuffle
            seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
            dataset = tf.data.Dataset.zip(dataset, seeds).map(
                lambda tokens, pair: with_random_words(tokens, random_words, vocabulary_size, tf.cast(pair % 2**31, tf.int32), unk_words)
            )
    dataset = dataset.padded_batch(batch_size, padding_values=PAD)
    return dataset.apply(tf.data.experimental.assert_cardinality(math.ceil(len(sentences) / batch_size))).prefetch(tf.data.AUTOTUNE)


class ValidationTextCER(keras.callbacks.Callback):
    """Adds ``val_cer`` (greedy decoding over the training channel and SNR range) to each epoch's logs."""

    def __init__(self, vocabulary: WordVocabulary, references: list[str]):
        super().__init__()
        self.vocabulary, self.references = vocabulary, references

    def on_epoch_end(self, epoch, logs=None):
        received = send_texts(self.model, self.vocabulary, self.references, channel=None)
        logs["val_cer"] = character_error_rate(self.references, [text for text, _ in received])


@dataclass
class TextTrainingData:
    """Batches and the validation callback of a text run; ``sentences``: training sentences per epoch."""

    train_batches: tf.data.Dataset
    validation_batches: tf.data.Dataset
    batches_per_epoch: int
    validation: ValidationTextCER
    sentences: int


def text_training_data(settings, vocabulary: WordVocabulary) -> TextTrainingData:
    """The training and validation sentences of ``settings.data`` as token batches."""
    max_tokens = settings.config.max_tokens
    train = sentence_tokens(vocabulary, training_texts(settings), max_tokens)
    references = [u.text for u in read_utterances(settings.data, "validation")][: settings.validation_utterances]
    references = [text for text in references if len(text.split()) + 2 <= max_tokens]
    validation = sentence_tokens(vocabulary, references, max_tokens)
    return TextTrainingData(
        train_batches=token_batches(train, settings.batch_size, settings.seed, settings.random_words, len(vocabulary), settings.unk_words),
        validation_batches=token_batches(validation, settings.batch_size),
        batches_per_epoch=math.ceil(len(train) / settings.batch_size),
        validation=ValidationTextCER(vocabulary, references),
        sentences=len(train),
    )
