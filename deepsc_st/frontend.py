"""Spectrogram front-end: 16 kHz waveform -> normalised log power spectrogram.

20 ms Hann frames (320 samples), 10 ms hop (160 samples), centre padding of
160 samples on each side (reflect), rfft of 320 -> 161 bins, power spectrum,
``log(x + 1e-14)``, then per-utterance, per-bin mean/std normalisation
(std + 1e-6). 16,000 samples give 1 + 16000 // 160 = 101 frames.
Pure TensorFlow, so it runs inside ``tf.data`` and inside a model.
"""

import tensorflow as tf

SAMPLE_RATE = 16_000
FRAME_LENGTH = 320
FRAME_STEP = 160
FRAMES_PER_SECOND = SAMPLE_RATE // FRAME_STEP  # 100
NUM_BINS = FRAME_LENGTH // 2 + 1  # 161


def num_frames(num_samples):
    """Frames produced for ``num_samples`` samples (int or int tensor)."""
    return 1 + num_samples // FRAME_STEP


def spectrogram(waveform: tf.Tensor) -> tf.Tensor:
    """Normalised log power spectrogram of one utterance.

    ``waveform``: float32 [num_samples] at 16 kHz, num_samples >= 161.
    Returns float32 [num_frames(num_samples), 161].
    """
    waveform = tf.convert_to_tensor(waveform, tf.float32)
    padded = tf.pad(waveform, [[FRAME_LENGTH // 2, FRAME_LENGTH // 2]], mode="REFLECT")
    stft = tf.signal.stft(
        padded,
        frame_length=FRAME_LENGTH,
        frame_step=FRAME_STEP,
        fft_length=FRAME_LENGTH,
        window_fn=tf.signal.hann_window,
        pad_end=False,
    )
    log_power = tf.math.log(tf.square(tf.abs(stft)) + 1e-14)
    mean, variance = tf.nn.moments(log_power, axes=[0], keepdims=True)
    return (log_power - mean) / (tf.sqrt(variance) + 1e-6)
