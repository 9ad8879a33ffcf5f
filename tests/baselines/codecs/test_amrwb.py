import subprocess

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from baselines.codecs import AmrWbCodec, CodecUnavailable
from baselines.codecs import amrwb

# Speech bits per frame from TS 26.201 table 2.
EXPECTED_BITS = {6.60: 132, 8.85: 177, 12.65: 253, 14.25: 285, 15.85: 317, 18.25: 365, 19.85: 397, 23.05: 461, 23.85: 477}


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """espeak-ng sentence at 16 kHz, float32 of shape [samples]."""
    path = tmp_path_factory.mktemp("speech") / "sentence.wav"
    subprocess.run(
        ["espeak-ng", "-w", str(path), "The quick brown fox jumps over the lazy dog near the river bank."],
        check=True,
    )
    waveform, rate = sf.read(path, dtype="float32")
    assert rate == 22050
    return resample_poly(waveform, 160, 441).astype(np.float32)


def aligned_snr(reference, decoded, max_lag=800):
    """Best SNR in dB over delays of the decoded signal, and that delay in samples."""
    best = (-np.inf, 0)
    for lag in range(max_lag):
        ref = reference[: reference.size - lag]
        error = ref - decoded[lag:]
        best = max(best, (10 * np.log10(np.sum(ref**2) / np.sum(error**2)), lag))
    return best


def test_round_trip_snr_at_23_85(speech):
    codec = AmrWbCodec()
    bits = codec.encode(speech)
    assert bits.dtype == np.uint8 and bits.ndim == 1 and set(np.unique(bits)) <= {0, 1}
    assert bits.size == -(-speech.size // 320) * 477
    decoded = codec.decode(bits, speech.size)
    assert decoded.dtype == np.float32 and decoded.shape == speech.shape
    snr, lag = aligned_snr(speech, decoded)
    print(f"AMR-WB 23.85 kbit/s round trip: SNR {snr:.2f} dB at a delay of {lag} samples")
    assert snr > 5.0


@pytest.mark.parametrize("mode_kbps", sorted(EXPECTED_BITS))
def test_bits_per_frame_match_encoder_output(mode_kbps):
    codec = AmrWbCodec(mode_kbps)
    expected = EXPECTED_BITS[mode_kbps]
    assert codec.bits_per_frame == expected
    assert codec.bitrate == expected * 50
    assert codec.num_bits(16000) == expected * 50

    # The encoder's frames: header byte, then the speech bits zero-padded to bytes,
    # with the last speech bit set in some frame.
    lib = amrwb._encoder_library()
    rng = np.random.default_rng(0)
    out = np.zeros(64, dtype=np.uint8)
    used = np.zeros(8 * 63, dtype=bool)
    state = lib.E_IF_init()
    try:
        for _ in range(50):
            frame = (rng.standard_normal(320) * 4000).astype(np.int16)
            written = lib.E_IF_encode(
                state, codec.mode, frame.ctypes.data_as(amrwb._INT16_P), out.ctypes.data_as(amrwb._UINT8_P), 0
            )
            assert written == 1 + -(-expected // 8)
            assert out[0] == (codec.mode << 3) | 0x04
            used[: 8 * (written - 1)] |= np.unpackbits(out[1:written]).astype(bool)
    finally:
        lib.E_IF_exit(state)
    assert np.flatnonzero(used).max() == expected - 1


@pytest.mark.parametrize("mode_kbps", sorted(EXPECTED_BITS))
def test_decode_of_random_bits_gives_audio_of_the_right_length(mode_kbps):
    codec = AmrWbCodec(mode_kbps)
    num_samples = 8000 + 123
    bits = np.random.default_rng(1).integers(0, 2, codec.num_bits(num_samples), dtype=np.uint8)
    decoded = codec.decode(bits, num_samples)
    assert decoded.shape == (num_samples,) and decoded.dtype == np.float32
    assert np.all(np.abs(decoded) <= 1.0)


def test_empty_waveform():
    codec = AmrWbCodec(6.6)
    bits = codec.encode(np.zeros(0, dtype=np.float32))
    assert bits.shape == (0,)
    assert codec.decode(bits, 0).shape == (0,)


def test_rejects_unknown_mode_and_wrong_bit_count():
    with pytest.raises(ValueError, match="not one of"):
        AmrWbCodec(24.0)
    with pytest.raises(ValueError, match="bits"):
        AmrWbCodec().decode(np.zeros(476, dtype=np.uint8), 320)


@pytest.mark.parametrize(
    "attribute, package", [("ENCODER_LIBRARY", "libvo-amrwbenc0"), ("DECODER_LIBRARY", "libopencore-amrwb0")]
)
def test_missing_library_raises_codec_unavailable(monkeypatch, attribute, package):
    monkeypatch.setattr(amrwb, attribute, "libdoes-not-exist-amrwb.so.0")
    with pytest.raises(CodecUnavailable, match=package):
        AmrWbCodec()
