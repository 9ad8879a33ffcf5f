"""Named model configurations.

Speech (:class:`ModelConfig`): ``paper``, ``small`` and ``tiny``. All three
share the front-end, the time stride of 4 (25 semantic steps per second) and
the channel codec (29 -> 40 reals = 20 complex symbols per step), so they send
the same number of symbols: 520 per 16,000 samples.

Text (:class:`TextConfig`, the DeepSC transceiver of SR+DeepSC,
:mod:`deepsc_st.text_model`): ``text-paper``, ``text-small`` and ``text-tiny``.

Codec (:class:`CodecConfig`, the Language-Codec-style speech codec,
:mod:`deepsc_st.codec`): ``codec-paper``, ``codec-small`` and ``codec-tiny``.
"""

from __future__ import annotations

import dataclasses
import math
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
SMALL = ModelConfig(
    name="small",
    conv_filters=(16, 16),
    conv_kernels=((41, 11), (11, 11)),
    conv_strides=((2, 2), (2, 2)),
    gru_layers=4,
    gru_units=192,
    gru_dropout=0.2,  # without it the ASR memorised its 5,280 training utterances (CTC loss 2 in training, 21 on validation)
    batchnorm_momentum=0.99,  # moving statistics settle within a few hundred steps
)


CONFIGS = {
    # DESIGN.md section 2 exactly: 85,796,042 trainable parameters, 85,788,733 without
    # the channel codec, 520 symbols per 16,000 samples.
    "paper": ModelConfig(name="paper"),
    "small": SMALL,
    # `small` with 320 GRU units: 7.5 M parameters, grown from a trained `small`
    # run (train --init-from, deepsc_st/widen.py). A training step of 16 x 5 s
    # took 1.69 s against small's 0.84 s (idle cores). Grown from
    # asr-small-games and trained 5 epochs on game speech, it read people and
    # the games as well as `small` trained the same way (README, Shipped models).
    "medium": dataclasses.replace(SMALL, name="medium", gru_units=320),
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


@dataclass(frozen=True)
class TextConfig:
    """Layer sizes of the DeepSC text transceiver (Xie et al. 2021; :mod:`deepsc_st.text_model`).

    ``vocabulary_size``: word tokens, PAD/START/END/UNK included; None: all
    words of the training transcripts (fixed when a run starts).
    ``feed_forward_units``: hidden units of each position-wise feed-forward
    block; None: the block is an identity, as in the published code (see
    ``text-paper``). ``max_tokens``: longest sentence, START and END included.
    Each token is sent as ``channel_encoder_units[-1] / 2`` complex symbols.
    """

    name: str
    vocabulary_size: int | None = None
    model_units: int = 128
    attention_heads: int = 8
    encoder_layers: int = 4
    decoder_layers: int = 4
    feed_forward_units: int | None = 512
    dropout: float = 0.1
    channel_encoder_units: tuple[int, ...] = (256, 16)
    channel_decoder_units: tuple[int, int] = (128, 512)  # x1 = Dense(a, relu); Dense(b, relu); x3 = Dense(a); LayerNorm(x1 + x3)
    max_tokens: int = 40
    shared_embeddings: bool = False  # one table for encoder, decoder and classifier (Vaswani et al.); the published code has three
    family: str = "text"  # tells run.json's config apart from a speech ModelConfig

    @property
    def symbols_per_token(self) -> int:
        """Complex channel symbols sent per word token."""
        return self.channel_encoder_units[-1] // 2

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TextConfig":
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in values.items()})


TEXT_CONFIGS = {
    # The published TensorFlow code (DESIGN.md): its feed-forward block has no
    # `call`, so in TF 2.x it passes its input through and every sublayer
    # computes LayerNorm(x + x). Parameters 964,368 + 385 V; V = 14,179 gives
    # the paper's 6,423,283 (92,212,016 for SR+DeepSC minus 85,788,733).
    "text-paper": TextConfig(name="text-paper", vocabulary_size=14_179, feed_forward_units=None),
    # A working 512-unit feed-forward, the words of its training sentences and
    # one embedding table shared by encoder, decoder and classifier
    # (Vaswani et al.): 964,368 + 129 V + 1,053,696 parameters, 3.13 M for the
    # shipped sr-deepsc-small (V = 8,654). On the 5,280 training transcripts
    # alone at a constant 5e-4, three tables or one, it had learnt little more
    # than word frequencies after 10-16 epochs (validation CER 0.65-0.75);
    # warmup (--lr-schedule warmup-cosine) and the corpus's unspoken sentences
    # (--unspoken-text, 14,271 sentences) got it to 0.06 CER at AWGN 20 dB in
    # 40 epochs of about 85 s each on 2 cores.
    "text-small": TextConfig(name="text-small", shared_embeddings=True),
    # For tests: trains in seconds.
    "text-tiny": TextConfig(
        name="text-tiny", model_units=32, attention_heads=2, encoder_layers=1, decoder_layers=1, feed_forward_units=64,
        channel_encoder_units=(32, 16), channel_decoder_units=(32, 64),
    ),
}


PHASE_RECONSTRUCTIONS = {
    "learned": "Vocos's head: magnitude and phase per STFT bin, inverse STFT; trained on the waveform (mel + compressed complex STFT losses)",
    "griffin-lim": "the decoder gives STFT magnitudes only (trained on them: mel + compressed magnitude losses); Griffin-Lim (librosa's algorithm, deepsc_st.griffin_lim) finds a phase",
}


@dataclass(frozen=True)
class CodecConfig:
    """Layer sizes, quantiser settings and loss of a :class:`SpeechCodec`.

    ``encoder_strides``: downsampling factors of the SEANet stages (each stage
    doubles the channels, starting from ``encoder_filters``); their product is
    the hop (samples per frame). ``encoder_dilations``: the residual units of
    each stage. ``masked_groups``: MCRVQ's masked quantisers (3), each on one
    contiguous part of the ``latent_channels``. ``dead_code_threshold``: EMA
    cluster size (vectors per batch) under which a codebook entry is replaced
    by a vector of the batch; scale it with the frames per batch over the
    codebook size. ``n_fft``: the decoder's inverse STFT (hop = the encoder's).
    ``mel_fft_sizes`` / ``mel_bins``: the resolutions of the mel loss (hop
    n_fft / 4). ``commitment_weight`` multiplies the commitment loss against a
    mel loss of weight 1. ``phase``: how the decoder makes a waveform (see
    :data:`PHASE_RECONSTRUCTIONS`). ``postfilter_sharpening`` /
    ``postfilter_expansion``: the "griffin-lim" decoder's magnitude postfilter
    (decoding only, not trained; :func:`deepsc_st.codec.postfilter`).
    """

    name: str
    sample_rate: int = 16_000
    encoder_filters: int = 16
    encoder_strides: tuple[int, ...] = (2, 4, 5, 8)
    encoder_dilations: tuple[int, ...] = (1,)  # Encodec's one residual unit per stage; SoundStream has (1, 3, 9)
    encoder_lstm_layers: int = 0
    latent_channels: int = 64
    quantizers: int = 4
    codebook_size: int = 1024
    masked_groups: int = 3
    decoder_dim: int = 256
    decoder_hidden: int = 768
    decoder_blocks: int = 4
    n_fft: int = 1024
    commitment_weight: float = 1000 / 45
    spectrum_weight: float = 1.0  # of the compressed complex STFT loss (deepsc_st.codec.spectrum_loss); 0: the mel loss alone
    ema_decay: float = 0.99
    ema_epsilon: float = 1e-5  # Laplace smoothing of the EMA cluster sizes
    dead_code_threshold: float = 0.2
    kmeans_iterations: int = 10
    mel_fft_sizes: tuple[int, ...] = (512, 1024, 2048)
    mel_bins: tuple[int, ...] = (32, 64, 128)
    phase: str = "learned"
    griffin_lim_iterations: int = 32
    # The magnitude postfilter before Griffin-Lim (deepsc_st.codec.postfilter; 0, 0 = none). Tuned for
    # codec-small on 40 data/mixed-texts validation utterances (PESQ 1.726 -> 1.901, STOI 0.894 -> 0.894).
    postfilter_sharpening: float = 0.2
    postfilter_expansion: float = 0.2
    family: str = "codec"  # tells run.json's config apart from the speech and text ones

    def __post_init__(self):
        if self.phase not in PHASE_RECONSTRUCTIONS:
            raise ValueError(f"{self.name}: phase {self.phase!r} is not one of {', '.join(PHASE_RECONSTRUCTIONS)}")
        if self.quantizers < self.masked_groups:
            raise ValueError(f"{self.name}: {self.quantizers} quantisers, fewer than the {self.masked_groups} masked ones")
        if (self.n_fft - self.hop) % 2 or self.n_fft < self.hop:
            raise ValueError(f"{self.name}: n_fft {self.n_fft} must be at least the hop {self.hop} and differ from it by an even number")
        if len(self.mel_fft_sizes) != len(self.mel_bins):
            raise ValueError(f"{self.name}: one mel bin count per mel FFT size")

    @property
    def hop(self) -> int:
        """Samples per frame (per code of each quantiser)."""
        return math.prod(self.encoder_strides)

    @property
    def frame_rate(self) -> float:
        """Frames per second."""
        return self.sample_rate / self.hop

    @property
    def bits_per_code(self) -> float:
        return math.log2(self.codebook_size)

    @property
    def bits_per_second(self) -> float:
        """Bit rate with all quantisers: frames/s x quantisers x log2(codebook size)."""
        return self.frame_rate * self.quantizers * self.bits_per_code

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "CodecConfig":
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in values.items()})


# The published shapes (Language-Codec's languagecodec_mm.yaml and Encodec 24 kHz):
# 24 kHz, hop 320 (75 frames/s), SEANet with 32 base filters, one residual
# unit per stage and a 2-layer LSTM, latent 128, 8 x 1024 entries
# (6.0 kbit/s), Vocos 384 / 1152 x 12, ISTFT n_fft 1280; Encodec's 50 k-means
# iterations and dead-code threshold 2 (for batches of 100 x 1 s = 7,500 frames).
CODEC_PAPER = CodecConfig(
    name="codec-paper", sample_rate=24_000, encoder_filters=32, encoder_lstm_layers=2, latent_channels=128, quantizers=8,
    decoder_dim=384, decoder_hidden=1152, decoder_blocks=12, n_fft=1280, dead_code_threshold=2.0, kmeans_iterations=50,
)
# CPU-trainable: 16 kHz, hop 320 (50 frames/s), SEANet-lite without LSTM, latent 64,
# 4 x 1024 entries = 2.0 kbit/s, ConvNeXt 256 / 768 x 4, ISTFT n_fft 1024.
# Residual units with dilations (1, 3, 9) instead of (1,) nearly double the
# encoder's time (0.46 s against 0.24 s forward and backward for 16 x 1 s). The
# dead-code threshold keeps Encodec's ratio to the mean cluster size for
# batches of 16 x 1 s (800 frames for 1024 entries).
# Phase by Griffin-Lim: without the adversarial losses, the learned phase of
# Vocos's head did not follow the sent speech after 4 epochs with either the
# mel loss alone or + a compressed complex STFT loss (PESQ 1.11-1.12, STOI
# 0.72-0.73 on 12 test utterances; the output's correlation with the input
# at any lag below 0.11), while Griffin-Lim on the true magnitudes gives
# PESQ 3.14, STOI 0.98 on the same kind of speech.
CODEC_SMALL = CodecConfig(name="codec-small", phase="griffin-lim")
# For tests: trains in seconds.
CODEC_TINY = CodecConfig(
    name="codec-tiny", encoder_filters=4, encoder_strides=(4, 5, 8), latent_channels=12,
    quantizers=4, codebook_size=16, decoder_dim=32, decoder_hidden=64, decoder_blocks=1, n_fft=640,
    dead_code_threshold=0.05, mel_fft_sizes=(256, 512), mel_bins=(24, 40), phase="griffin-lim", griffin_lim_iterations=4,
)
CODEC_CONFIGS = {config.name: config for config in (CODEC_PAPER, CODEC_SMALL, CODEC_TINY)}


def get_config(name: str) -> ModelConfig | TextConfig | CodecConfig:
    """The configuration called ``name``; unknown names raise ``ValueError`` listing the valid ones."""
    configs = {**CONFIGS, **TEXT_CONFIGS, **CODEC_CONFIGS}
    try:
        return configs[name]
    except KeyError:
        raise ValueError(f"unknown config {name!r}; choose one of {', '.join(configs)}") from None


def config_from_dict(values: dict) -> ModelConfig | TextConfig | CodecConfig:
    """A configuration stored by ``to_dict`` (in ``run.json``): speech, text or codec."""
    family = {"text": TextConfig, "codec": CodecConfig}.get(values.get("family"), ModelConfig)
    return family.from_dict(values)
