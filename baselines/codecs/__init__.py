"""Source codecs of the conventional baselines: bits in, bits out (numpy)."""

from baselines.codecs.amrwb import AmrWbCodec, CodecUnavailable
from baselines.codecs.float32_features import Float32FeatureCodec
from baselines.codecs.huffman_text import HuffmanTextCodec

__all__ = ["AmrWbCodec", "CodecUnavailable", "Float32FeatureCodec", "HuffmanTextCodec"]
