"""Polar encoding on packed bits: the codewords of Sionna's ``PolarEncoder``, about 25x faster on a CPU.

A polar codeword is x = u F^(log2 n), F = [[1, 0], [1, 1]]: the information
bits are placed at ``info_pos`` (frozen positions 0), then each of log2(n)
butterfly stages with stride s adds (XOR) bit j + s into bit j for every j
whose s-bit is clear. That is what Sionna's ``PolarEncoder`` computes, one
stage at a time, with a ``tf.gather`` of whole uint8 codewords per stage.
Here each codeword is packed into 64-bit words (bit j in word j // 64, bit
j % 64): a stage with s < 64 is a shift and a mask within every word, a
stage with s >= 64 a XOR of whole words.

Measured against the library in the same run by ``deepsc-st bench link``
(its "polar-encoding" line); ``tests/baselines/test_polar_encoder.py`` holds the
two side by side, bit for bit. On one thread, 77,000 codewords of n = 512,
k = 320 (a 200-utterance speech cell): Sionna 1.95-4.2 s (a cell profile and a /tmp script), this 0.07 s.
"""

from __future__ import annotations

import numpy as np


class FastPolarEncoder:
    """Encoder of the polar code with frozen positions ``frozen_pos`` and length ``n`` (a power of two >= 8).

    The codewords are those of ``sionna.phy.fec.polar.PolarEncoder(frozen_pos, n)``;
    information bits go to the non-frozen positions in ascending order, as there.
    """

    def __init__(self, frozen_pos, n: int):
        n = int(n)
        if n < 8 or n & (n - 1):
            raise ValueError(f"n must be a power of two >= 8, got {n}")
        frozen = np.zeros(n, bool)
        frozen[np.asarray(frozen_pos, np.int64).reshape(-1)] = True
        self.n = n
        self.info_pos = np.flatnonzero(~frozen)
        self.k = self.info_pos.size
        self._word_bits = min(n, 64)
        self._word = np.dtype(f"<u{self._word_bits // 8}")
        # codeword position -> column of [info bits, 0]: frozen positions take the appended zero
        self._source = np.full(n, self.k)
        self._source[self.info_pos] = np.arange(self.k)
        self._in_word = [
            (self._word.type(s), self._word.type(sum(1 << j for j in range(self._word_bits) if not j & s)))
            for s in (1 << i for i in range(self._word_bits.bit_length() - 1))
        ]

    def encode(self, info: np.ndarray) -> np.ndarray:
        """uint8 0/1 codewords [C, n] of uint8 0/1 information bits [C, k]."""
        info = np.asarray(info, np.uint8)
        if info.ndim != 2 or info.shape[1] != self.k:
            raise ValueError(f"expected information bits of shape [codewords, {self.k}], got {info.shape}")
        codewords = info.shape[0]
        bits = np.take(np.concatenate([info, np.zeros((codewords, 1), np.uint8)], axis=1), self._source, axis=1)
        words = np.packbits(bits, axis=1, bitorder="little").view(self._word)  # [C, n / word bits]
        for shift, keep in self._in_word:  # strides within a word
            words ^= (words >> shift) & keep
        stride = 1
        while stride < words.shape[1]:  # strides of whole words
            pairs = words.reshape(codewords, -1, 2, stride)
            pairs[:, :, 0, :] ^= pairs[:, :, 1, :]
            stride *= 2
        return np.unpackbits(words.view(np.uint8), axis=1, bitorder="little")

    __call__ = encode
