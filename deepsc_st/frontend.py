"""Spectrogram front-end: 16 kHz waveform -> normalised log power spectrogram.

20 ms Hann frames (320 samples), 10 ms hop (160 samples), centre padding of
160 samples on each side (reflect), rfft of 320 -> 161 bins, power spectrum,
``log(x + 1e-14)``, then per-utterance, per-bin mean/std normalisation
(std + 1e-6). 16,000 samples give 1 + 16000 // 160 = 101 frames.
Pure TensorFlow, so it runs inside ``tf.data`` and inside a model.

Training may warp the frequency axis of the power spectrum first
(vocal-tract-length perturbation as Jaitly & Hinton 2013 apply it to their
filterbank: :func:`warped_source_bins`), which moves formants and pitch like
a longer or shorter vocal tract without touching the waveform.
"""

import tensorflow as tf

SAMPLE_RATE = 16_000
FRAME_LENGTH = 320
FRAME_STEP = 160
FRAMES_PER_SECOND = SAMPLE_RATE // FRAME_STEP  # 100
NUM_BINS = FRAME_LENGTH // 2 + 1  # 161
WARP_BOUNDARY_HZ = 4_800.0  # Jaitly & Hinton's F_hi: above it the warp bends back to meet Nyquist


def num_frames(num_samples):
    """Frames produced for ``num_samples`` samples (int or int tensor)."""
    return 1 + num_samples // FRAME_STEP


def warped_source_bins(factor) -> tf.Tensor:
    """Fractional bin [161] of the spectrum that each bin of the warped spectrum takes its power from.

    Jaitly & Hinton's piecewise-linear warp of frequency f (Hz), ``factor``
    (alpha, about 0.9-1.1; float scalar) and Nyquist N = 8 kHz:
    f -> alpha f up to the boundary f0 = F min(alpha, 1) / alpha (F =
    :data:`WARP_BOUNDARY_HZ`), then a straight line from (f0, alpha f0) to
    (N, N), so the band stays 0-8 kHz. This is its inverse at each bin's
    frequency. alpha > 1 moves formants up (a shorter vocal tract).
    """
    factor = tf.cast(factor, tf.float32)
    nyquist = SAMPLE_RATE / 2
    warped = tf.range(NUM_BINS, dtype=tf.float32) * (nyquist / (NUM_BINS - 1))  # Hz of each output bin
    boundary_out = WARP_BOUNDARY_HZ * tf.minimum(factor, 1.0)  # alpha f0
    boundary_in = boundary_out / factor  # f0
    upper = nyquist - (nyquist - warped) * (nyquist - boundary_in) / (nyquist - boundary_out)
    source_hz = tf.where(warped <= boundary_out, warped / factor, upper)
    return source_hz * ((NUM_BINS - 1) / nyquist)


def warp_power(power: tf.Tensor, factor) -> tf.Tensor:
    """Power spectrogram [frames, 161] with its frequency axis warped by ``factor`` (:func:`warped_source_bins`),
    linear interpolation between bins."""
    source = tf.clip_by_value(warped_source_bins(factor), 0.0, NUM_BINS - 1.0)
    below = tf.minimum(tf.cast(tf.floor(source), tf.int32), NUM_BINS - 2)
    weight = source - tf.cast(below, tf.float32)
    return tf.gather(power, below, axis=1) * (1.0 - weight) + tf.gather(power, below + 1, axis=1) * weight


def power_spectrum(waveform: tf.Tensor) -> tf.Tensor:
    """Power spectrum float32 [num_frames(num_samples), 161] of a float32 16 kHz waveform (num_samples >= 161):
    reflect-padded by half a frame, Hann-windowed 20 ms frames every 10 ms."""
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
    return tf.square(tf.abs(stft))


def spectrogram(waveform: tf.Tensor, frequency_warp=None) -> tf.Tensor:
    """Normalised log power spectrogram of one utterance.

    ``waveform``: float32 [num_samples] at 16 kHz, num_samples >= 161.
    ``frequency_warp``: None, or a VTLP factor alpha (:func:`warp_power`), applied to the power spectrum.
    Returns float32 [num_frames(num_samples), 161].
    """
    power = power_spectrum(waveform)
    if frequency_warp is not None:
        power = warp_power(power, frequency_warp)
    log_power = tf.math.log(power + 1e-14)
    mean, variance = tf.nn.moments(log_power, axes=[0], keepdims=True)
    return (log_power - mean) / (tf.sqrt(variance) + 1e-6)
