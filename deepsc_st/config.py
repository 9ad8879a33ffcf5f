"""Named model configurations: ``paper``, ``small`` and ``tiny``.

All three share the front-end, the time stride of 4 (25 semantic steps per
second) and the channel codec (29 -> 40 reals = 20 complex symbols per step),
so they send the same number of symbols: 520 per 16,000 samples.
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


def get_config(name: str) -> ModelConfig:
    """The configuration called ``name``; unknown names raise ``ValueError`` listing the valid ones."""
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"unknown config {name!r}; choose one of {', '.join(CONFIGS)}") from None
