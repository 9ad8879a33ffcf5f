"""Named model configurations.

Speech (:class:`ModelConfig`): ``paper``, ``small`` and ``tiny``. All three
share the front-end, the time stride of 4 (25 semantic steps per second) and
the channel codec (29 -> 40 reals = 20 complex symbols per step), so they send
the same number of symbols: 520 per 16,000 samples.

Text (:class:`TextConfig`, the DeepSC transceiver of SR+DeepSC,
:mod:`deepsc_st.text_model`): ``text-paper``, ``text-small`` and ``text-tiny``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

TIME_STRIDE = 4  # spectrogram frames per semantic step in every configuration: 25 steps per second


@dataclass(frozen=True)
class ModelConfig:
    """Layer sizes of the semantic encoder and the channel codec.

    Conv kernels and strides are (time, frequency); each conv is zero-padded
    by kernel // 2 on both axes, has no bias, and is followed by BatchNorm and
    ReLU6. Each bidirectional GRU layer is followed by BatchNorm.
    """

    name: str
    conv_filters: tuple[int, ...] = (32, 32)
    conv_kernels: tuple[tuple[int, int], ...] = ((41, 11), (21, 11))
    conv_strides: tuple[tuple[int, int], ...] = ((2, 2), (2, 1))
    gru_layers: int = 7
    gru_units: int = 800
    gru_dropout: float = 0.0  # dropout rate on each BiGRU block's output, in training only
    channel_encoder_units: tuple[int, ...] = (40, 40)  # last = 2 x complex symbols per step
    channel_decoder_units: tuple[int, ...] = (40, 40)  # hidden layers before Dense(29)
    batchnorm_momentum: float = 0.997
    batchnorm_epsilon: float = 1e-5

    @property
    def symbols_per_step(self) -> int:
        """Complex channel symbols sent per semantic step."""
        return self.channel_encoder_units[-1] // 2

    @property
    def time_stride(self) -> int:
        stride = 1
        for time_stride, _ in self.conv_strides:
            stride *= time_stride
        return stride

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ModelConfig":
        def as_tuple(value):
            return tuple(as_tuple(v) for v in value) if isinstance(value, list) else value

        return cls(**{key: as_tuple(value) for key, value in values.items()})


CONFIGS = {
    # DESIGN.md section 2 exactly: 85,796,042 trainable parameters, 85,788,733 without
    # the channel codec, 520 symbols per 16,000 samples.
    "paper": ModelConfig(name="paper"),
    # Trainable on a 2-core CPU: same front-end, time stride and channel codec.
    # The paper's second conv (21 x 11 x 32 x 32 at full frequency resolution)
    # alone costs ~23 GMAC per batch of 16 x 3 s; here it is 11 x 11 x 16 x 16
    # with frequency stride 2 (41 bins x 16 = 656 features per step), followed
    # by 4 bidirectional GRU layers of 192 units: 3.0 M parameters (12 MB).
    # Measured with `deepsc-st info --config small --time --batch 16 --seconds 3`
    # while other jobs shared the 2 cores: a training step takes 0.8 s (58 s of
    # audio per second); with 32 filters, 3 x 256 units it took 2.0 s, with the
    # paper's convs and 3 x 256 units 3.2 s. Since the CTC loss runs in
    # TensorFlow's C++ kernel, on idle cores: 0.72 s per 16 x 5 s step
    # (112 s of audio per second), 1.05 s per 32 x 5 s (153).
    "small": ModelConfig(
        name="small",
        conv_filters=(16, 16),
        conv_kernels=((41, 11), (11, 11)),
        conv_strides=((2, 2), (2, 2)),
        gru_layers=4,
        gru_units=192,
        gru_dropout=0.2,  # without it the ASR memorised its 5,280 training utterances (CTC loss 2 in training, 21 on validation)
        batchnorm_momentum=0.99,  # moving statistics settle within a few hundred steps
    ),
    # For tests: trains in seconds.
    "tiny": ModelConfig(
        name="tiny",
        conv_filters=(8, 8),
        conv_kernels=((11, 11), (11, 11)),
        gru_layers=1,
        gru_units=64,
        batchnorm_momentum=0.9,
    ),
}


@dataclass(frozen=True)
class TextConfig:
    """Layer sizes of the DeepSC text transceiver (Xie et al. 2021; :mod:`deepsc_st.text_model`).

    ``vocabulary_size``: word tokens, PAD/START/END/UNK included; None: all
    words of the training transcripts (fixed when a run starts).
    ``feed_forward_units``: hidden units of each position-wise feed-forward
    block; None: the block is an identity, as in the published code (see
    ``text-paper``). ``max_tokens``: longest sentence, START and END included.
    Each token is sent as ``channel_encoder_units[-1] / 2`` complex symbols.
    """

    name: str
    vocabulary_size: int | None = None
    model_units: int = 128
    attention_heads: int = 8
    encoder_layers: int = 4
    decoder_layers: int = 4
    feed_forward_units: int | None = 512
    dropout: float = 0.1
    channel_encoder_units: tuple[int, ...] = (256, 16)
    channel_decoder_units: tuple[int, int] = (128, 512)  # x1 = Dense(a, relu); Dense(b, relu); x3 = Dense(a); LayerNorm(x1 + x3)
    max_tokens: int = 40
    shared_embeddings: bool = False  # one table for encoder, decoder and classifier (Vaswani et al.); the published code has three
    family: str = "text"  # tells run.json's config apart from a speech ModelConfig

    @property
    def symbols_per_token(self) -> int:
        """Complex channel symbols sent per word token."""
        return self.channel_encoder_units[-1] // 2

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TextConfig":
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in values.items()})


TEXT_CONFIGS = {
    # The published TensorFlow code (DESIGN.md): its feed-forward block has no
    # `call`, so in TF 2.x it passes its input through and every sublayer
    # computes LayerNorm(x + x). Parameters 964,368 + 385 V; V = 14,179 gives
    # the paper's 6,423,283 (92,212,016 for SR+DeepSC minus 85,788,733).
    "text-paper": TextConfig(name="text-paper", vocabulary_size=14_179, feed_forward_units=None),
    # A working 512-unit feed-forward, the words of its training sentences and
    # one embedding table shared by encoder, decoder and classifier
    # (Vaswani et al.): 964,368 + 129 V + 1,053,696 parameters, 3.13 M for the
    # shipped sr-deepsc-small (V = 8,654). On the 5,280 training transcripts
    # alone at a constant 5e-4, three tables or one, it had learnt little more
    # than word frequencies after 10-16 epochs (validation CER 0.65-0.75);
    # warmup (--lr-schedule warmup-cosine) and the corpus's unspoken sentences
    # (--unspoken-text, 14,271 sentences) got it to 0.06 CER at AWGN 20 dB in
    # 40 epochs of about 85 s each on 2 cores.
    "text-small": TextConfig(name="text-small", shared_embeddings=True),
    # For tests: trains in seconds.
    "text-tiny": TextConfig(
        name="text-tiny", model_units=32, attention_heads=2, encoder_layers=1, decoder_layers=1, feed_forward_units=64,
        channel_encoder_units=(32, 16), channel_decoder_units=(32, 64),
    ),
}


def get_config(name: str) -> ModelConfig | TextConfig:
    """The configuration called ``name``; unknown names raise ``ValueError`` listing the valid ones."""
    configs = {**CONFIGS, **TEXT_CONFIGS}
    try:
        return configs[name]
    except KeyError:
        raise ValueError(f"unknown config {name!r}; choose one of {', '.join(configs)}") from None


def config_from_dict(values: dict) -> ModelConfig | TextConfig:
    """A configuration stored by ``to_dict`` (in ``run.json``), speech or text."""
    return TextConfig.from_dict(values) if values.get("family") == "text" else ModelConfig.from_dict(values)
