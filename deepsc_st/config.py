"""Named model configurations: ``paper``, ``small`` and ``tiny``.

All three share the front-end, the time stride of 4 (25 semantic steps per
second) and the channel codec (29 -> 40 reals = 20 complex symbols per step),
so they send the same number of symbols: 520 per 16,000 samples.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


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
    # Trainable on a 2-core CPU: same front-end, conv shape and channel codec,
    # 3 bidirectional GRU layers of 256 units (5.5 M parameters instead of 85.8 M).
    # Measured here with `deepsc-st info --config small --time`: a training step on
    # 16 utterances x 3 s takes ~1.0 s, i.e. ~48 s of audio per wall second
    # (paper: ~55 s per step on 8 x 3 s).
    "small": ModelConfig(
        name="small",
        conv_filters=(32, 32),
        gru_layers=3,
        gru_units=256,
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
