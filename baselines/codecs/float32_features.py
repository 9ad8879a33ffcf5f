"""IEEE-754 float32 serialisation of semantic features.

Each value becomes its 32 bits, big-endian (sign bit first), values in
row-major order.  Bit errors can turn values into NaN or +-inf; ``decode``
replaces non-finite values with 0 so that an argmax over classes still
works.  Finite but huge values are kept.
"""

from __future__ import annotations

import numpy as np

BITS_PER_VALUE = 32


class Float32FeatureCodec:
    """Features ``[steps, num_classes]`` float32 <-> bits, 32 per value."""

    def __init__(self, num_classes: int = 29):
        self.num_classes = num_classes

    def num_bits(self, steps: int) -> int:
        """Number of bits ``encode`` returns for ``steps`` feature vectors."""
        return steps * self.num_classes * BITS_PER_VALUE

    def encode(self, features: np.ndarray) -> np.ndarray:
        """Serialise features of shape ``[steps, num_classes]`` (cast to float32).

        Returns uint8 bits (0/1) of shape ``[steps * num_classes * 32]``.
        """
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or features.shape[1] != self.num_classes:
            raise ValueError(f"expected features of shape [steps, {self.num_classes}], got {features.shape}")
        return np.unpackbits(features.astype(">f4").reshape(-1).view(np.uint8))

    def decode(self, bits: np.ndarray, steps: int) -> np.ndarray:
        """Deserialise bits of shape ``[num_bits(steps)]``; float32 of shape ``[steps, num_classes]``.

        NaN and +-inf (from corrupted bits) become 0.
        """
        bits = np.asarray(bits, dtype=np.uint8).reshape(-1)
        if bits.size != self.num_bits(steps):
            raise ValueError(f"{bits.size} bits do not make {steps} steps of {self.num_classes} float32 values")
        values = np.packbits(bits != 0).view(">f4").astype(np.float32).reshape(steps, self.num_classes)
        values[~np.isfinite(values)] = 0.0
        return values
