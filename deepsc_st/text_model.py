"""The DeepSC text transceiver (Xie, Qin, Li, Juang, IEEE TSP 2021), the second half of SR+DeepSC.

Follow one sentence: word tokens int32 [batch, tokens] (START ... END, PAD
after; :mod:`deepsc_st.words`) -> :class:`TextEncoder` (transformer,
[batch, tokens, 128]) -> :class:`TextChannelEncoder` (Dense(256, relu) ->
Dense(16): 8 complex symbols per token, unit power per sentence) -> a channel
from :mod:`channels` -> :class:`TextChannelDecoder` -> :class:`TextDecoder`
(transformer, teacher forcing in training, greedy decoding at the receiver)
-> token logits [batch, tokens, V].

Layer shapes follow the authors' TensorFlow code (DESIGN.md): Q/K/V
projections without bias, output projection with bias, post-norm residual
sublayers, separate encoder and decoder embeddings (one shared table, also
read by the classifier, with ``shared_embeddings``), fixed sinusoidal
positions, dropout 0.1. ``feed_forward_units = None`` reproduces that code's
feed-forward block, which has no ``call`` and so passes its input through:
the sublayer computes LayerNorm(x + x). Only the receiver's cross-attention
is told the sentence length (the number of tokens whose symbols arrived).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from channels import DEFAULT_BLOCK_LENGTH, DEFAULT_K_FACTOR, Channel, complex_to_real, normalize_power, real_to_complex
from deepsc_st.config import TextConfig
from deepsc_st.dense import Dense, sequence_norm
from deepsc_st.model import build_dense_stack
from deepsc_st.words import PAD, START
from deepsc_st.distribute import PrebuiltModel, loggable, replica_share

TEXT_KIND = "deepsc-text"  # the run.json kind of a trained DeepSC text transceiver


def sinusoidal_positions(positions: int, units: int) -> np.ndarray:
    """float32 [positions, units]: sin on even, cos on odd units (Vaswani et al.)."""
    angles = np.arange(positions)[:, None] / np.power(10000.0, (2 * (np.arange(units)[None, :] // 2)) / units)
    table = np.where(np.arange(units)[None, :] % 2 == 0, np.sin(angles), np.cos(angles))
    return table.astype(np.float32)


class MultiHeadAttention(keras.layers.Layer):
    """Scaled dot-product attention over ``heads`` heads; Q/K/V without bias, output projection with bias.

    Written out rather than ``keras.layers.MultiHeadAttention``, whose one
    ``use_bias`` covers all four projections: the published layer has 4 x 128^2 + 128 parameters.
    ``mask``: bool broadcastable to [batch, heads, queries, keys], True where attention is allowed.
    """

    def __init__(self, units: int, heads: int, **kwargs):
        super().__init__(**kwargs)
        self.units, self.heads = units, heads
        self.query, self.key, self.value = (Dense(units, use_bias=False) for _ in range(3))
        self.output_projection = Dense(units)

    def build(self, queries_shape=None):
        for dense in (self.query, self.key, self.value, self.output_projection):
            dense.build((None, None, self.units))

    def _rows_and_heads(self, x):
        """x [batch, n, units] -> (x as rows [batch x n, units], the shape [batch, n, heads, units / heads] of its projections' heads)."""
        return tf.reshape(x, [-1, self.units]), tf.concat([tf.shape(x)[:2], [self.heads, self.units // self.heads]], axis=0)

    @staticmethod
    def _split(rows, heads_shape):
        """A projection's rows [batch x n, units] -> [batch, heads, n, units / heads]."""
        return tf.transpose(tf.reshape(rows, heads_shape), [0, 2, 1, 3])

    def call(self, queries, keys, mask):
        # The projections run on rows (one MatMul each, as on [batch, n, units]); self-attention flattens its input once.
        query_rows, query_heads = self._rows_and_heads(queries)
        key_rows, key_heads = (query_rows, query_heads) if keys is queries else self._rows_and_heads(keys)
        q = self._split(self.query(query_rows), query_heads)
        k, v = self._split(self.key(key_rows), key_heads), self._split(self.value(key_rows), key_heads)
        scores = tf.matmul(q, k, transpose_b=True) / tf.sqrt(float(self.units // self.heads))
        scores = tf.where(mask, scores, -1e9)
        attended = tf.transpose(tf.matmul(tf.nn.softmax(scores, axis=-1), v), [0, 2, 1, 3])
        return self.output_projection(tf.reshape(attended, tf.shape(queries)))


class FeedForward(keras.layers.Layer):
    """Dense(units, relu) -> Dense(model_units); ``units`` None: identity (the published code's behaviour)."""

    def __init__(self, units: int | None, model_units: int, **kwargs):
        super().__init__(**kwargs)
        self.dense_layers = [] if units is None else [Dense(units, activation="relu"), Dense(model_units)]
        self.model_units = model_units

    def build(self, x_shape=None):
        build_dense_stack(self.dense_layers, self.model_units)

    def call(self, x):
        for dense in self.dense_layers:
            x = dense(x)
        return x


class ResidualNorm(keras.layers.Layer):
    """LayerNorm(x + Dropout(f(x))): the post-norm residual of every transformer sublayer."""

    def __init__(self, dropout: float, **kwargs):
        super().__init__(**kwargs)
        self.dropout = keras.layers.Dropout(dropout)
        self.norm = sequence_norm()

    def build(self, x_shape):
        self.norm.build(x_shape)

    def call(self, x, update, training=False):
        return self.norm(x + self.dropout(update, training=training))


class TokenEmbedding(keras.layers.Layer):
    """Token embedding x sqrt(units) + sinusoidal positions, then dropout; ``embedding``: a shared table, None for its own."""

    def __init__(self, config: TextConfig, embedding: keras.layers.Embedding | None = None, **kwargs):
        super().__init__(**kwargs)
        self.embedding = embedding if embedding is not None else keras.layers.Embedding(config.vocabulary_size, config.model_units)
        self.positions = tf.constant(sinusoidal_positions(config.max_tokens, config.model_units))
        self.scale = float(np.sqrt(config.model_units))
        self.dropout = keras.layers.Dropout(config.dropout)

    def build(self, tokens_shape=None):
        if not self.embedding.built:  # a shared table is built once
            self.embedding.build()

    def call(self, tokens, training=False):
        x = self.embedding(tokens) * self.scale + self.positions[tf.newaxis, : tf.shape(tokens)[1]]
        return self.dropout(x, training=training)


class TextEncoder(keras.layers.Layer):
    """Tokens int32 [batch, tokens] -> float32 [batch, tokens, model_units] (self-attention over the sentence's tokens)."""

    def __init__(self, config: TextConfig, embedding: keras.layers.Embedding | None = None, **kwargs):
        super().__init__(**kwargs)
        self.embed = TokenEmbedding(config, embedding)
        self.blocks = [
            (MultiHeadAttention(config.model_units, config.attention_heads), ResidualNorm(config.dropout),
             FeedForward(config.feed_forward_units, config.model_units), ResidualNorm(config.dropout))
            for _ in range(config.encoder_layers)
        ]
        self.units = config.model_units

    def build(self, tokens_shape=None):
        self.embed.build()
        _build_blocks(self.blocks, self.units)

    def call(self, tokens, training=False):
        x = self.embed(tokens, training=training)
        mask = (tokens != PAD)[:, tf.newaxis, tf.newaxis, :]
        for attention, attention_residual, feed_forward, feed_forward_residual in self.blocks:
            x = attention_residual(x, attention(x, x, mask), training=training)
            x = feed_forward_residual(x, feed_forward(x), training=training)
        return x


class TextDecoder(keras.layers.Layer):
    """Previous tokens [batch, n] and the channel decoder's output [batch, tokens, model_units] -> logits [batch, n, V].

    ``embedding``: a table shared with the encoder; then the classifier reads
    logits as products with that table (plus a bias), as in Vaswani et al.
    """

    def __init__(self, config: TextConfig, embedding: keras.layers.Embedding | None = None, **kwargs):
        super().__init__(**kwargs)
        self.embed = TokenEmbedding(config, embedding)
        self.blocks = [
            (MultiHeadAttention(config.model_units, config.attention_heads), ResidualNorm(config.dropout),
             MultiHeadAttention(config.model_units, config.attention_heads), ResidualNorm(config.dropout),
             FeedForward(config.feed_forward_units, config.model_units), ResidualNorm(config.dropout))
            for _ in range(config.decoder_layers)
        ]
        self.shared = embedding is not None
        self.classifier = SharedClassifier(embedding) if self.shared else Dense(config.vocabulary_size)
        self.units = config.model_units

    def build(self, previous_shape=None):
        self.embed.build()
        _build_blocks(self.blocks, self.units)
        self.classifier.build((None, None, self.units))

    def call(self, previous, memory, memory_mask, training=False):
        """``memory_mask``: bool [batch, tokens], True for the tokens that were sent."""
        return self.classifier(self.hidden(previous, memory, memory_mask, training=training))

    def hidden(self, previous, memory, memory_mask, training=False):
        """The last block's output [batch, n, model_units], what the classifier reads logits from (see :meth:`call`)."""
        x = self.embed(previous, training=training)
        length = tf.shape(previous)[1]
        causal = tf.linalg.band_part(tf.ones([length, length], tf.bool), -1, 0)
        self_mask = causal[tf.newaxis, tf.newaxis] & (previous != PAD)[:, tf.newaxis, tf.newaxis, :]
        cross_mask = memory_mask[:, tf.newaxis, tf.newaxis, :]
        for self_attention, self_residual, cross_attention, cross_residual, feed_forward, feed_forward_residual in self.blocks:
            x = self_residual(x, self_attention(x, x, self_mask), training=training)
            x = cross_residual(x, cross_attention(x, memory, cross_mask), training=training)
            x = feed_forward_residual(x, feed_forward(x), training=training)
        return x


def _build_blocks(blocks, units: int) -> None:
    """Create the weights of transformer blocks (tuples of sublayers) on [batch, tokens, units] inputs."""
    for block in blocks:
        for sublayer in block:
            sublayer.build((None, None, units))


class SharedClassifier(keras.layers.Layer):
    """Logits [batch, n, V] = x [batch, n, units] . embedding table^T + bias [V]."""

    def __init__(self, embedding: keras.layers.Embedding, **kwargs):
        super().__init__(**kwargs)
        self.embedding = embedding

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(self.embedding.input_dim,), initializer="zeros", name="bias")

    def call(self, x):
        return tf.matmul(x, self.embedding.embeddings, transpose_b=True) + self.bias


class TextChannelEncoder(keras.layers.Layer):
    """Encoder output [batch, tokens, model_units] -> complex64 [batch, tokens x symbols_per_token], unit power per sentence (PAD sent as 0)."""

    def __init__(self, config: TextConfig, **kwargs):
        super().__init__(**kwargs)
        *hidden, last = config.channel_encoder_units
        self.dense_layers = [Dense(units, activation="relu") for units in hidden] + [Dense(last)]
        self.symbols_per_token = config.symbols_per_token
        self.units = config.model_units

    def build(self, x_shape=None):
        build_dense_stack(self.dense_layers, self.units)

    def call(self, x, token_mask):
        for dense in self.dense_layers:
            x = dense(x)
        symbols = real_to_complex(tf.reshape(x, [tf.shape(x)[0], -1]))
        return normalize_power(symbols, tf.repeat(token_mask, self.symbols_per_token, axis=1))


class TextChannelDecoder(keras.layers.Layer):
    """Received symbols complex [batch, tokens x symbols_per_token] -> [batch, tokens, model_units]: LayerNorm(x1 + x3)."""

    def __init__(self, config: TextConfig, **kwargs):
        super().__init__(**kwargs)
        outer, inner = config.channel_decoder_units
        self.first = Dense(outer, activation="relu")
        self.hidden = Dense(inner, activation="relu")
        self.last = Dense(outer)
        self.norm = sequence_norm()
        self.reals_per_token = 2 * config.symbols_per_token

    def build(self, symbols_shape=None):
        build_dense_stack([self.first, self.hidden, self.last], self.reals_per_token)
        self.norm.build((None, None, self.first.units))

    def call(self, symbols):
        x = tf.reshape(complex_to_real(symbols), [tf.shape(symbols)[0], -1, self.reals_per_token])
        x1 = self.first(x)
        return self.norm(x1 + self.last(self.hidden(x1)))


def masked_cross_entropy(targets, logits):
    """Mean cross-entropy over the tokens that are not PAD; ``targets`` int32 [batch, n], ``logits`` [batch, n, V]."""
    losses = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
    weights = tf.cast(targets != PAD, losses.dtype)
    return tf.reduce_sum(losses * weights) / tf.maximum(tf.reduce_sum(weights), 1.0)


class DeepSCText(PrebuiltModel):
    """Transmitter (:meth:`transmit`), channel, receiver (:meth:`receive`, :meth:`greedy_decode`).

    ``train_channel`` and ``train_snr_db`` = (low, high) dB: the channel of
    training; each sentence draws its SNR (Es/N0) uniformly from the range.
    Batches are int32 token arrays [batch, tokens] (START ... END, PAD after).
    """

    def __init__(self, config: TextConfig, train_channel: Channel | None = None, train_snr_db=(8.0, 8.0), **kwargs):
        super().__init__(**kwargs)
        self.config = config
        shared = keras.layers.Embedding(config.vocabulary_size, config.model_units) if config.shared_embeddings else None
        self.encoder = TextEncoder(config, shared)
        self.channel_encoder = TextChannelEncoder(config)
        self.channel_decoder = TextChannelDecoder(config)
        self.decoder = TextDecoder(config, shared)
        self.train_channel = train_channel if train_channel is not None else Channel("none")
        self.train_snr_db = tuple(float(s) for s in train_snr_db)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def build(self, input_shape=None):
        """Create every weight from the layers' shapes alone (no forward pass)."""
        for part in (self.encoder, self.channel_encoder, self.channel_decoder, self.decoder):
            part.build()

    def transmit(self, tokens, training=False):
        """Channel symbols complex64 [batch, tokens x symbols_per_token] of token ids int32 [batch, tokens]."""
        return self.channel_encoder(self.encoder(tokens, training=training), tokens != PAD)

    def receive(self, symbols):
        """The channel decoder's output [batch, tokens, model_units] from received (equalised) symbols."""
        return self.channel_decoder(symbols)

    def over_channel(self, symbols, channel: Channel | None = None, snr_db=None):
        """Equalised received symbols; defaults: the training channel, an SNR drawn per sentence from the training range."""
        channel = self.train_channel if channel is None else channel
        if snr_db is None:
            low, high = self.train_snr_db
            snr_db = tf.random.uniform([tf.shape(symbols)[0]], low, high) if high > low else low
        return channel(symbols, snr_db).symbols

    def call(self, tokens, training=False):
        """Teacher-forced logits [batch, tokens - 1, V] for tokens[:, 1:], over the training channel."""
        memory = self.receive(self.over_channel(self.transmit(tokens, training=training)))
        return self.decoder(tokens[:, :-1], memory, tokens != PAD, training=training)

    def train_step(self, tokens):
        with tf.GradientTape() as tape:
            loss = masked_cross_entropy(tokens[:, 1:], self(tokens, training=True))
            share = replica_share(loss)
        gradients = tape.gradient(share, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        return {"loss": loggable(self.loss_tracker.result())}

    def test_step(self, tokens):
        self.loss_tracker.update_state(masked_cross_entropy(tokens[:, 1:], self(tokens, training=False)))
        return {"loss": loggable(self.loss_tracker.result())}

    def greedy_decode(self, received, token_mask):
        """Token ids int32 [batch, tokens] (START first) read from received symbols, most likely token at each step.

        ``token_mask``: bool [batch, tokens], True for the tokens whose symbols
        arrived; the receiver reads at most that many tokens. Step s runs the
        decoder on the s tokens read so far only (the causal mask hides the
        later ones anyway) and classifies only position s - 1 (the classifier
        over the whole vocabulary is most of a step's work).
        """
        memory = self.receive(received)
        batch, length = tf.shape(token_mask)[0], tf.shape(token_mask)[1]
        tokens = tf.concat([tf.fill([batch, 1], START), tf.fill([batch, length - 1], PAD)], axis=1)

        def read_one(step, tokens):
            hidden = self.decoder.hidden(tokens[:, :step], memory, token_mask, training=False)
            logits = self.decoder.classifier(hidden[:, -1:])  # [batch, 1, V]
            best = tf.cast(tf.argmax(logits[:, 0], axis=-1), tf.int32)
            return step + 1, tf.where(tf.range(length)[tf.newaxis] == step, best[:, tf.newaxis], tokens)

        # An explicit loop (not autograph's conversion of a ``for`` over tf.range), so that a graph of it traces without autograph.
        return tf.while_loop(lambda step, _: step < length, read_one, (tf.constant(1), tokens))[1]


def build_text_model(config: TextConfig, channel: str = "none", snr_db=(8.0, 8.0), block_length: int = DEFAULT_BLOCK_LENGTH, k_factor: float = DEFAULT_K_FACTOR) -> DeepSCText:
    """A DeepSC text transceiver trained under ``channel``; ``config.vocabulary_size`` must be set."""
    if config.vocabulary_size is None:
        raise ValueError(f"{config.name}: the vocabulary size is fixed when training starts (from the transcripts)")
    model = DeepSCText(config, Channel(channel, block_length=block_length, k_factor=k_factor), snr_db)
    model.build()
    return model
