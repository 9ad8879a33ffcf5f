"""Sending many texts through a trained DeepSC text transceiver: the one batched loop.

Validation during training, the ``sr-deepsc`` system and its model card all
call :func:`send_texts`. A text longer than the model's sentence length
(``max_tokens`` - 2 words) goes as several sentences; an empty text sends
nothing. Each word token costs ``symbols_per_token`` complex symbols (8 for
every shipped configuration): START and END are sent too, PAD is not.

>>> [(text, symbols)] = send_texts(model, vocabulary, ["the cat sat"], make_channel("awgn"), 10.0)  # doctest: +SKIP
>>> text, symbols  # doctest: +SKIP
('the cat sat', 40)
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from channels import Channel
from deepsc_st.inference import compiled_graph
from deepsc_st.text_model import DeepSCText
from deepsc_st.words import PAD, WordVocabulary

BATCH_SIZE = 64  # sentences per forward pass


def sentences_of(text: str, max_words: int) -> list[str]:
    """``text`` cut into sentences of at most ``max_words`` words (none for an empty text)."""
    words = text.split()
    return [" ".join(words[start : start + max_words]) for start in range(0, len(words), max_words)]


def compiled_link(model: DeepSCText, channel: Channel | None):
    """``link(tokens int32 [B, n], snr_db []) -> decoded int32 [B, n]`` as one graph; ``channel`` None: the training channel and SNR range."""
    key = None if channel is None else (channel.name, channel.block_length, channel.k_factor)

    def link(tokens, snr_db):
        received = model.over_channel(model.transmit(tokens), channel, None if channel is None else snr_db)
        return model.greedy_decode(received, tokens != PAD)

    return compiled_graph(model, ("link", key), link, [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([], tf.float32)])


def send_texts(
    model: DeepSCText, vocabulary: WordVocabulary, texts: list[str], channel: Channel | None, snr_db: float = 0.0, batch_size: int = BATCH_SIZE
) -> list[tuple[str, int]]:
    """(received text, complex channel symbols sent) per text, over ``channel`` at Es/N0 ``snr_db`` dB.

    Words outside ``vocabulary`` go as UNK; what comes back is whatever the model decodes there (the shipped
    ``sr-deepsc-small`` never saw UNK in training and decodes a vocabulary word: :mod:`baselines.sr_deepsc_transceiver`).
    """
    max_words = model.config.max_tokens - 2
    pieces = [(index, sentence) for index, text in enumerate(texts) for sentence in sentences_of(text, max_words)]
    link = compiled_link(model, channel)
    received: list[list[str]] = [[] for _ in texts]
    symbols = [0] * len(texts)
    for start in range(0, len(pieces), batch_size):
        batch = pieces[start : start + batch_size]
        encoded = [vocabulary.encode(sentence) for _, sentence in batch]
        tokens = np.full((len(batch), max(map(len, encoded))), PAD, np.int32)
        for row, ids in zip(tokens, encoded):
            row[: len(ids)] = ids
        decoded = link(tf.constant(tokens), tf.constant(snr_db, tf.float32)).numpy()
        for (index, _), ids, row in zip(batch, encoded, decoded):
            received[index].append(vocabulary.decode(row[1:]))
            symbols[index] += len(ids) * model.config.symbols_per_token
    return [(" ".join(part for part in parts if part), count) for parts, count in zip(received, symbols)]
