"""The DeepSC-ST model and its ASR-only sibling (the Deep Speech 2 shape).

Follow one utterance: spectrogram -> :class:`SemanticEncoder` (token logits;
their softmax are the semantic features) -> :class:`ChannelEncoder` (40 reals
= 20 complex symbols per step, unit power per utterance) -> a channel from
:mod:`channels` -> :class:`ChannelDecoder` -> token logits for CTC.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from channels import DEFAULT_BLOCK_LENGTH, DEFAULT_K_FACTOR, Channel, complex_to_real, normalize_power, real_to_complex
from deepsc_st.bidirectional_gru import bidirectional_gru
from deepsc_st.config import ModelConfig
from deepsc_st.dense import Dense
from deepsc_st import distribute
from deepsc_st.frontend import NUM_BINS
from deepsc_st.tokens import BLANK_INDEX, NUM_CLASSES


def conv_time_steps(steps, kernel: int, stride: int):
    """Time steps out of one conv layer with ``kernel // 2`` zero padding on each side (int or int tensor)."""
    return (steps + 2 * (kernel // 2) - kernel) // stride + 1


def output_steps(frames, config: ModelConfig):
    """Semantic steps for ``frames`` spectrogram frames (int or int tensor)."""
    steps = frames
    for (kernel, _), (stride, _) in zip(config.conv_kernels, config.conv_strides):
        steps = conv_time_steps(steps, kernel, stride)
    return steps


class SemanticEncoder(keras.layers.Layer):
    """Spectrogram -> token logits (CNN + bidirectional GRU + Dense(29)).

    Input: ``spectrogram`` float32 [batch, frames, 161], ``frames`` int32 [batch].
    Output: ``logits`` float32 [batch, steps, 29], ``steps`` int32 [batch], with
    steps = frames / 4 rounded up (see :func:`output_steps`). The semantic
    features are ``softmax(logits)``.
    """

    def __init__(self, config: ModelConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.conv_blocks = []
        freq_bins = NUM_BINS
        for filters, kernel, stride in zip(config.conv_filters, config.conv_kernels, config.conv_strides):
            padding = (kernel[0] // 2, kernel[1] // 2)
            self.conv_blocks.append(
                [
                    keras.layers.ZeroPadding2D(padding),
                    keras.layers.Conv2D(filters, kernel, strides=stride, use_bias=False),
                    distribute.BatchNormalization(momentum=config.batchnorm_momentum, epsilon=config.batchnorm_epsilon),
                ]
            )
            freq_bins = (freq_bins + 2 * padding[1] - kernel[1]) // stride[1] + 1
        self.features_per_step = freq_bins * config.conv_filters[-1]  # 81 x 32 = 2592 for the paper
        self.recurrent_blocks = [
            (
                keras.layers.Bidirectional(keras.layers.GRU(config.gru_units, return_sequences=True, reset_after=True)),
                distribute.BatchNormalization(momentum=config.batchnorm_momentum, epsilon=config.batchnorm_epsilon),
            )
            for _ in range(config.gru_layers)
        ]
        self.recurrent_dropout = keras.layers.Dropout(config.gru_dropout)
        self.classifier = Dense(NUM_CLASSES)

    def build(self, spectrogram_shape=(None, None, NUM_BINS)):
        """Create every weight from the shapes alone: [batch, frames, 161] in."""
        freq_bins, channels = spectrogram_shape[-1], 1
        for (_, conv, norm), filters, kernel, stride in zip(self.conv_blocks, self.config.conv_filters, self.config.conv_kernels, self.config.conv_strides):
            padded = freq_bins + 2 * (kernel[1] // 2)
            conv.build((None, None, padded, channels))
            freq_bins, channels = (padded - kernel[1]) // stride[1] + 1, filters
            norm.build((None, None, freq_bins, channels))
        width = self.features_per_step
        for recurrent, norm in self.recurrent_blocks:
            recurrent.build((None, None, width))
            width = 2 * self.config.gru_units
            norm.build((None, None, width))
        self.classifier.build((None, None, width))

    def call(self, spectrogram, frames, training=False):
        hidden, steps = self.hidden_states(spectrogram, frames, training=training)
        return self.classifier(hidden), steps

    def hidden_states(self, spectrogram, frames, training=False):
        """The last BiGRU block's output (after its BatchNorm): float32 [batch, steps, 2 x gru_units], and steps [batch].

        This is what the classifier reads, and the speech-recognition feature of
        FDSD / KDSD (:mod:`deepsc_st.speech_distance`). A frozen encoder
        (``trainable = False``) runs in inference mode: no dropout, fixed BatchNorm statistics.
        In inference mode the GRUs run as :func:`deepsc_st.bidirectional_gru.bidirectional_gru`
        (the same arithmetic with fewer ops per step); training runs the Keras layers.
        """
        training = training and self.trainable
        x = spectrogram[..., tf.newaxis]
        steps = tf.cast(frames, tf.int32)
        for (pad, conv, norm), (kernel, _), (stride, _) in zip(self.conv_blocks, self.config.conv_kernels, self.config.conv_strides):
            x = tf.nn.relu6(norm(conv(pad(x)), training=training))
            steps = conv_time_steps(steps, kernel, stride)
            # Zero what lies past each utterance's end, so batch padding acts like the conv's own zero padding.
            x = x * tf.cast(tf.sequence_mask(steps, tf.shape(x)[1]), x.dtype)[:, :, tf.newaxis, tf.newaxis]
        x = tf.reshape(x, [tf.shape(x)[0], tf.shape(x)[1], self.features_per_step])
        mask = tf.sequence_mask(steps, tf.shape(x)[1])
        for recurrent, norm in self.recurrent_blocks:
            x = recurrent(x, mask=mask, training=training) if training else bidirectional_gru(recurrent, x, mask)
            x = norm(x, training=training, mask=mask)
            x = self.recurrent_dropout(x, training=training)
        return x, steps


class ChannelEncoder(keras.layers.Layer):
    """Semantic features [batch, steps, 29] -> channel symbols.

    Output: complex64 [batch, steps * 20], unit average energy per complex
    symbol over the utterance's ``steps`` (padding is sent as 0).
    """

    def __init__(self, config: ModelConfig, **kwargs):
        super().__init__(**kwargs)
        *hidden, last = config.channel_encoder_units
        self.dense_layers = [Dense(units, activation="relu6") for units in hidden]
        self.dense_layers.append(Dense(last))
        self.symbols_per_step = config.symbols_per_step

    def build(self, features_shape=(None, None, NUM_CLASSES)):
        build_dense_stack(self.dense_layers, features_shape[-1])

    def call(self, features, steps):
        x = features
        for dense in self.dense_layers:
            x = dense(x)
        symbols = real_to_complex(tf.reshape(x, [tf.shape(x)[0], -1]))
        mask = tf.repeat(tf.sequence_mask(steps, tf.shape(x)[1]), self.symbols_per_step, axis=1)
        return normalize_power(symbols, mask)


class ChannelDecoder(keras.layers.Layer):
    """Received symbols complex [batch, steps * 20] -> token logits [batch, steps, 29]."""

    def __init__(self, config: ModelConfig, **kwargs):
        super().__init__(**kwargs)
        self.dense_layers = [Dense(units, activation="relu6") for units in config.channel_decoder_units]
        self.dense_layers.append(Dense(NUM_CLASSES))
        self.reals_per_step = 2 * config.symbols_per_step

    def build(self, symbols_shape=None):
        build_dense_stack(self.dense_layers, self.reals_per_step)

    def call(self, symbols):
        x = complex_to_real(symbols)
        x = tf.reshape(x, [tf.shape(x)[0], -1, self.reals_per_step])
        for dense in self.dense_layers:
            x = dense(x)
        return x


def build_dense_stack(dense_layers, width: int) -> None:
    """Create the weights of Dense layers applied one after the other to [..., width] inputs."""
    for dense in dense_layers:
        dense.build((None, None, width))
        width = dense.units


def ctc_loss(logits, steps, labels, label_length):
    """Mean CTC loss over the batch; ``labels`` int32 [batch, max_label] padded, blank = 28.

    The labels go in as a SparseTensor so that TensorFlow runs its C++ CTC
    kernel: with dense labels ``tf.nn.ctc_loss`` runs a scan over time in
    graph ops instead. Same loss and gradient; measured with
    ``deepsc-st bench ctc``: 32 x 250 steps took 0.83 s dense, 0.03 s sparse.
    """
    labels = tf.cast(labels, tf.int32)
    valid = tf.where(tf.sequence_mask(label_length, tf.shape(labels)[1]))
    sparse_labels = tf.SparseTensor(valid, tf.gather_nd(labels, valid), tf.cast(tf.shape(labels), tf.int64))
    losses = tf.nn.ctc_loss(
        labels=sparse_labels,
        logits=logits,
        label_length=None,
        logit_length=tf.cast(steps, tf.int32),
        logits_time_major=False,
        blank_index=BLANK_INDEX,
    )
    return tf.reduce_mean(losses)


class CTCModel(distribute.PrebuiltModel):
    """A model trained with CTC loss on batches from :mod:`deepsc_st.data`.

    Batches are dicts with ``spectrogram`` [batch, frames, 161], ``frames``
    [batch], ``labels`` [batch, max_label] and ``label_length`` [batch].
    Subclasses define :meth:`forward` -> (logits [batch, steps, 29], steps [batch]).
    """

    def __init__(self, config: ModelConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.semantic_encoder = SemanticEncoder(config)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def forward(self, batch, training=False, channel: Channel | None = None, snr_db=None):
        raise NotImplementedError

    def build(self, input_shape=None):
        """Create every weight from the layers' shapes alone (no forward pass: an eager one steps the GRUs in Python)."""
        self.semantic_encoder.build()

    def call(self, batch, training=False):
        return self.forward(batch, training=training)

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, batch):
        with tf.GradientTape() as tape:
            logits, steps = self.forward(batch, training=True)
            loss = ctc_loss(logits, steps, batch["labels"], batch["label_length"])
            share = distribute.replica_share(loss)
        gradients = tape.gradient(share, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        return {"loss": distribute.loggable(self.loss_tracker.result())}

    def test_step(self, batch):
        logits, steps = self.forward(batch, training=False)
        self.loss_tracker.update_state(ctc_loss(logits, steps, batch["labels"], batch["label_length"]))
        return {"loss": distribute.loggable(self.loss_tracker.result())}


class ASRModel(CTCModel):
    """The semantic encoder alone (Deep Speech 2 shape), trained without a channel."""

    def forward(self, batch, training=False, channel: Channel | None = None, snr_db=None):
        return self.semantic_encoder(batch["spectrogram"], batch["frames"], training=training)


class DeepSCST(CTCModel):
    """Semantic encoder -> channel encoder -> channel -> channel decoder.

    ``train_channel`` and ``train_snr_db`` = (low, high) dB set the channel used
    during training; each utterance draws its SNR uniformly from the range.
    :meth:`forward` takes another channel and SNR for evaluation.
    """

    def __init__(self, config: ModelConfig, train_channel: Channel | None = None, train_snr_db=(8.0, 8.0), **kwargs):
        super().__init__(config, **kwargs)
        self.channel_encoder = ChannelEncoder(config)
        self.channel_decoder = ChannelDecoder(config)
        self.train_channel = train_channel if train_channel is not None else Channel("none")
        self.train_snr_db = tuple(float(s) for s in train_snr_db)

    def build(self, input_shape=None):
        super().build(input_shape)
        self.channel_encoder.build()
        self.channel_decoder.build()

    def transmit(self, batch, training=False):
        """Channel symbols complex64 [batch, steps * 20] and steps [batch]."""
        logits, steps = self.semantic_encoder(batch["spectrogram"], batch["frames"], training=training)
        return self.channel_encoder(tf.nn.softmax(logits), steps), steps

    def receive(self, symbols):
        """Token logits [batch, steps, 29] from received (equalised) symbols."""
        return self.channel_decoder(symbols)

    def receive_over(self, symbols, channel: Channel | None = None, snr_db=None):
        """Token logits [batch, steps, 29] of channel symbols complex64 [batch, steps * 20] sent over ``channel`` at ``snr_db`` (Es/N0, dB).

        None: the training channel / an SNR drawn uniformly per utterance from the training range.
        """
        if channel is None:
            channel = self.train_channel
        if snr_db is None:
            low, high = self.train_snr_db
            snr_db = tf.random.uniform([tf.shape(symbols)[0]], low, high) if high > low else low
        return self.receive(channel(symbols, snr_db).symbols)

    def forward(self, batch, training=False, channel: Channel | None = None, snr_db=None):
        symbols, steps = self.transmit(batch, training=training)
        return self.receive_over(symbols, channel, snr_db), steps


def build_model(config: ModelConfig, channel: str = "none", snr_db=(8.0, 8.0), block_length: int = DEFAULT_BLOCK_LENGTH, k_factor: float = DEFAULT_K_FACTOR) -> CTCModel:
    """The ASR-only model for ``channel == "none"``, otherwise DeepSC-ST trained under that channel."""
    if channel == "none":
        model = ASRModel(config)
    else:
        model = DeepSCST(config, Channel(channel, block_length=block_length, k_factor=k_factor), snr_db)
    model.build()
    return model
