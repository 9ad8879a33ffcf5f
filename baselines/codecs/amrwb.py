"""AMR-WB speech codec (3GPP TS 26.190) through ctypes.

Encoder: ``libvo-amrwbenc`` (Debian package ``libvo-amrwbenc0``).
Decoder: ``libopencore-amrwb`` (Debian package ``libopencore-amrwb0``).

Both libraries exchange frames in the storage format of RFC 4867 section 5.3:
one header byte ``(frame_type << 3) | (quality << 2)`` followed by the speech
bits of the frame, most significant bit first, zero-padded to whole bytes.
Only the speech bits cross the channel: the receiver knows the mode, so it
rebuilds the header byte and the padding before decoding.  Every frame is a
speech frame of the chosen mode (DTX off) and is decoded as a good frame, so
bit errors reach the decoder's parameters as they would without a CRC.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

SAMPLE_RATE = 16000  # Hz, AMR-WB's own rate (TS 26.190), the same as the front-end's
FRAME_LENGTH = 320  # samples per 20 ms frame
FRAMES_PER_SECOND = SAMPLE_RATE // FRAME_LENGTH  # 50

MODES_KBPS = (6.60, 8.85, 12.65, 14.25, 15.85, 18.25, 19.85, 23.05, 23.85)
# Speech bits per frame for each mode (TS 26.201 table 2), index = mode number.
BITS_PER_FRAME = (132, 177, 253, 285, 317, 365, 397, 461, 477)

ENCODER_LIBRARY = "libvo-amrwbenc.so.0"
ENCODER_PACKAGE = "libvo-amrwbenc0"
DECODER_LIBRARY = "libopencore-amrwb.so.0"
DECODER_PACKAGE = "libopencore-amrwb0"

_GOOD_FRAME = 0  # bad-frame indicator value of D_IF_decode for an intact frame
_QUALITY_BIT = 0x04  # header bit Q: the frame is not damaged
_INT16_P = ctypes.POINTER(ctypes.c_int16)
_UINT8_P = ctypes.POINTER(ctypes.c_uint8)


class CodecUnavailable(RuntimeError):
    """A shared library needed by a codec cannot be loaded."""


@functools.lru_cache(maxsize=None)
def _load(library: str, package: str) -> ctypes.CDLL:
    try:
        return ctypes.CDLL(library)
    except OSError:
        raise CodecUnavailable(f"cannot load {library}: install the Debian package {package}") from None


def _encoder_library() -> ctypes.CDLL:
    lib = _load(ENCODER_LIBRARY, ENCODER_PACKAGE)
    lib.E_IF_init.restype = ctypes.c_void_p
    lib.E_IF_init.argtypes = []
    lib.E_IF_encode.restype = ctypes.c_int
    lib.E_IF_encode.argtypes = [ctypes.c_void_p, ctypes.c_int, _INT16_P, _UINT8_P, ctypes.c_int]
    lib.E_IF_exit.restype = None
    lib.E_IF_exit.argtypes = [ctypes.c_void_p]
    return lib


def _decoder_library() -> ctypes.CDLL:
    lib = _load(DECODER_LIBRARY, DECODER_PACKAGE)
    lib.D_IF_init.restype = ctypes.c_void_p
    lib.D_IF_init.argtypes = []
    lib.D_IF_decode.restype = None
    lib.D_IF_decode.argtypes = [ctypes.c_void_p, _UINT8_P, _INT16_P, ctypes.c_int]
    lib.D_IF_exit.restype = None
    lib.D_IF_exit.argtypes = [ctypes.c_void_p]
    return lib


class AmrWbCodec:
    """AMR-WB source codec: 16 kHz float waveform <-> speech bits.

    ``mode_kbps`` is one of ``MODES_KBPS``.  The codec state is fresh for each
    ``encode``/``decode`` call, i.e. one call is one utterance.  The decoded
    waveform lags the input by the codec's algorithmic delay; it is trimmed to
    the input length, not shifted.
    """

    def __init__(self, mode_kbps: float = 23.85):
        rounded = round(float(mode_kbps), 2)
        if rounded not in MODES_KBPS:
            raise ValueError(f"AMR-WB mode {mode_kbps} kbit/s is not one of {MODES_KBPS}")
        self.mode = MODES_KBPS.index(rounded)
        self.mode_kbps = rounded
        self._encoder = _encoder_library()
        self._decoder = _decoder_library()

    @property
    def bits_per_frame(self) -> int:
        """Speech bits per 20 ms frame (320 samples)."""
        return BITS_PER_FRAME[self.mode]

    @property
    def bitrate(self) -> int:
        """Source bit rate in bit/s."""
        return self.bits_per_frame * FRAMES_PER_SECOND

    @property
    def _payload_bytes(self) -> int:
        return -(-self.bits_per_frame // 8)

    def num_bits(self, num_samples: int) -> int:
        """Number of bits ``encode`` returns for ``num_samples`` samples."""
        return -(-num_samples // FRAME_LENGTH) * self.bits_per_frame

    def encode(self, waveform: np.ndarray) -> np.ndarray:
        """Encode speech into bits.

        ``waveform``: 1-D float array of samples in [-1, 1] at 16 kHz (values
        outside are clipped); the last frame is zero-padded to 320 samples.
        Returns uint8 bits (0/1) of shape ``[num_frames * bits_per_frame]``,
        frame after frame, in the order of the codec's bit stream.
        """
        waveform = np.asarray(waveform, dtype=np.float32)
        if waveform.ndim != 1:
            raise ValueError(f"expected a 1-D waveform, got shape {waveform.shape}")
        num_frames = -(-waveform.size // FRAME_LENGTH)
        pcm = np.zeros(num_frames * FRAME_LENGTH, dtype=np.int16)
        pcm[: waveform.size] = np.round(np.clip(waveform, -1.0, 1.0) * 32767.0)
        frames = pcm.reshape(num_frames, FRAME_LENGTH)
        out = np.zeros(1 + self._payload_bytes, dtype=np.uint8)
        bits = np.empty((num_frames, self.bits_per_frame), dtype=np.uint8)
        state = self._encoder.E_IF_init()
        try:
            for i, frame in enumerate(frames):
                frame = np.ascontiguousarray(frame)
                written = self._encoder.E_IF_encode(
                    state, self.mode, frame.ctypes.data_as(_INT16_P), out.ctypes.data_as(_UINT8_P), 0
                )
                if written != out.size or out[0] >> 3 != self.mode:
                    raise RuntimeError(f"AMR-WB encoder wrote {written} bytes with header {out[0]:#04x}")
                bits[i] = np.unpackbits(out[1:])[: self.bits_per_frame]
        finally:
            self._encoder.E_IF_exit(state)
        return bits.reshape(-1)

    def decode(self, bits: np.ndarray, num_samples: int) -> np.ndarray:
        """Decode bits, possibly corrupted, into speech.

        ``bits``: 0/1 values of shape ``[num_bits(num_samples)]``.
        Returns a float32 waveform in [-1, 1) at 16 kHz of shape ``[num_samples]``.
        """
        bits = np.asarray(bits, dtype=np.uint8).reshape(-1)
        if bits.size != self.num_bits(num_samples):
            raise ValueError(
                f"{bits.size} bits do not make the {self.num_bits(num_samples)} bits of {num_samples} samples"
            )
        frames = bits.reshape(-1, self.bits_per_frame)
        padded = np.zeros((frames.shape[0], 8 * self._payload_bytes), dtype=np.uint8)
        padded[:, : self.bits_per_frame] = frames != 0
        payloads = np.packbits(padded, axis=1)
        frame_in = np.zeros(1 + self._payload_bytes, dtype=np.uint8)
        frame_in[0] = (self.mode << 3) | _QUALITY_BIT
        pcm = np.zeros((frames.shape[0], FRAME_LENGTH), dtype=np.int16)
        state = self._decoder.D_IF_init()
        try:
            for i, payload in enumerate(payloads):
                frame_in[1:] = payload
                frame_out = pcm[i]
                self._decoder.D_IF_decode(
                    state, frame_in.ctypes.data_as(_UINT8_P), frame_out.ctypes.data_as(_INT16_P), _GOOD_FRAME
                )
        finally:
            self._decoder.D_IF_exit(state)
        return pcm.reshape(-1)[:num_samples].astype(np.float32) / 32768.0
