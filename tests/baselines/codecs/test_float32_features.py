import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from baselines.codecs import Float32FeatureCodec

CODEC = Float32FeatureCodec(num_classes=29)
FEATURES = st.integers(0, 20).flatmap(
    lambda steps: arrays(np.float32, (steps, 29), elements=st.floats(width=32, allow_nan=False, allow_infinity=False))
)


@given(FEATURES)
def test_round_trip_is_bit_exact(features):
    bits = CODEC.encode(features)
    assert bits.dtype == np.uint8 and bits.shape == (features.size * 32,)
    decoded = CODEC.decode(bits, features.shape[0])
    assert decoded.dtype == np.float32
    assert np.array_equal(decoded.view(np.uint32), features.view(np.uint32))


def test_big_endian_bit_order():
    features = np.zeros((1, 29), dtype=np.float32)
    features[0, 0] = 1.0  # 0x3F800000
    bits = CODEC.encode(features)
    assert "".join(map(str, bits[:32])) == "00111111100000000000000000000000"
    assert not bits[32:].any()


def test_non_finite_values_decode_to_zero():
    features = np.full((2, 29), 0.5, dtype=np.float32)
    features[0, 3], features[1, 7], features[1, 8] = np.nan, np.inf, -np.inf
    decoded = CODEC.decode(CODEC.encode(features), 2)
    expected = features.copy()
    expected[~np.isfinite(expected)] = 0.0
    assert np.array_equal(decoded, expected)


def test_random_bits_decode_to_finite_features():
    bits = np.random.default_rng(0).integers(0, 2, CODEC.num_bits(50), dtype=np.uint8)
    decoded = CODEC.decode(bits, 50)
    assert decoded.shape == (50, 29) and np.all(np.isfinite(decoded))


def test_rejects_wrong_shapes():
    with pytest.raises(ValueError, match="shape"):
        CODEC.encode(np.zeros((3, 28), dtype=np.float32))
    with pytest.raises(ValueError, match="bits"):
        CODEC.decode(np.zeros(100, dtype=np.uint8), 1)
