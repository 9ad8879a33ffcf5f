import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from deepsc_st.codec import EMACodebook, MaskedChannelRVQ, build_codec, channel_bounds, griffin_lim, magnitude_losses, mel_loss, postfilter, stft_magnitude
from deepsc_st.config import CODEC_CONFIGS, CODEC_PAPER, CODEC_SMALL, CODEC_TINY, CodecConfig


def sweep(seconds: float, sample_rate: int = 16_000, low: float = 100.0, high: float = 3000.0) -> np.ndarray:
    """A linear sine sweep from ``low`` to ``high`` Hz, amplitude 0.5: float32 [samples]."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (0.5 * np.sin(2 * np.pi * (low * t + (high - low) * t**2 / (2 * seconds)))).astype(np.float32)


def clusters(centres, per_cluster: int = 50, spread: float = 0.1, seed: int = 0) -> np.ndarray:
    """float32 [len(centres) x per_cluster, d]: Gaussian points around each centre."""
    rng = np.random.default_rng(seed)
    centres = np.asarray(centres, np.float32)
    return (np.repeat(centres, per_cluster, axis=0) + spread * rng.standard_normal((len(centres) * per_cluster, centres.shape[1]))).astype(np.float32)


def codebook_layer(size, dim, **settings) -> EMACodebook:
    layer = EMACodebook(size, dim, **{"decay": 0.8, "epsilon": 1e-5, "dead_code_threshold": 0.0, "kmeans_iterations": 10, **settings})
    layer.build()
    return layer


def set_codebook(layer: EMACodebook, entries, cluster_size):
    """An initialised codebook whose EMA statistics say ``cluster_size`` vectors per entry."""
    entries = np.asarray(entries, np.float32)
    sizes = np.broadcast_to(np.asarray(cluster_size, np.float32), [len(entries)])
    layer.codebook.assign(entries)
    layer.cluster_size.assign(sizes)
    layer.embedding_sum.assign(entries * sizes[:, None])
    layer.initialised.assign(1.0)


def test_channel_thirds_are_the_published_ones():
    assert channel_bounds(128, 3) == [(0, 42), (42, 85), (85, 128)]
    assert channel_bounds(64, 3) == [(0, 21), (21, 42), (42, 64)]


def test_bit_rates_and_frame_rates():
    assert CODEC_SMALL.hop == 320 and CODEC_SMALL.frame_rate == 50 and CODEC_SMALL.bits_per_second == 2000
    assert CODEC_PAPER.hop == 320 and CODEC_PAPER.frame_rate == 75 and CODEC_PAPER.bits_per_second == 6000
    assert dataclasses.replace(CODEC_PAPER, quantizers=4).bits_per_second == 3000


@pytest.mark.parametrize("name", list(CODEC_CONFIGS))
def test_configs_round_trip_through_run_json(name):
    config = CODEC_CONFIGS[name]
    assert CodecConfig.from_dict(config.to_dict()) == config and config.name == name


def test_inconsistent_configs_are_refused():
    with pytest.raises(ValueError, match="fewer than"):
        dataclasses.replace(CODEC_TINY, quantizers=2)
    with pytest.raises(ValueError, match="n_fft"):
        dataclasses.replace(CODEC_TINY, n_fft=161)


def test_masked_quantisers_see_only_their_channel_third_and_the_fourth_the_residual():
    config = CODEC_TINY  # latent 12: thirds 0-3, 4-7, 8-11
    quantizer = MaskedChannelRVQ(config)
    quantizer.build()
    rng = np.random.default_rng(0)
    latent = rng.standard_normal((2, 10, 12)).astype(np.float32)
    codes = quantizer.encode(latent).numpy()
    assert codes.shape == (2, 10, 4) and codes.dtype == np.int32
    for index, (start, stop) in enumerate(channel_bounds(12, 3)):
        outside = np.ones(12, bool)
        outside[start:stop] = False
        changed = latent.copy()
        changed[..., outside] += 3.0 * rng.standard_normal(changed[..., outside].shape)
        np.testing.assert_array_equal(quantizer.encode(changed).numpy()[..., index], codes[..., index])
        output = quantizer.lookup(index, codes[..., index]).numpy()
        assert np.all(output[..., outside] == 0)
        np.testing.assert_array_equal(output[..., start:stop], quantizer.codebooks[index].codebook.numpy()[codes[..., index]])
    # Quantiser 4 codes the nearest entry to x - (q1 + q2 + q3), over all 12 channels.
    residual = latent - sum(quantizer.lookup(index, codes[..., index]).numpy() for index in range(3))
    entries = quantizer.codebooks[3].codebook.numpy()
    nearest = np.argmin(((residual[..., None, :] - entries) ** 2).sum(-1), axis=-1)
    np.testing.assert_array_equal(codes[..., 3], nearest)
    np.testing.assert_allclose(quantizer.decode(codes).numpy(), latent - residual + entries[codes[..., 3]], atol=1e-5)


def test_training_uses_three_to_all_quantisers_with_a_straight_through_gradient():
    """decay 1 freezes the codebooks after their k-means start, so each call's output tells how many quantisers it used."""
    config = dataclasses.replace(CODEC_TINY, quantizers=6, ema_decay=1.0, dead_code_threshold=0.0)
    quantizer = MaskedChannelRVQ(config)
    latent = tf.constant(np.random.default_rng(1).standard_normal((2, 20, 12)), tf.float32)
    for _ in range(30):
        quantizer(latent, training=True)
    assert all(codebook.initialised.numpy() == 1 for codebook in quantizer.codebooks)
    candidates = {count: quantizer.decode(quantizer.encode(latent, count)).numpy() for count in range(1, 7)}
    used = []
    for _ in range(20):
        output = quantizer(latent, training=True).numpy()
        used += [count for count, expected in candidates.items() if np.allclose(output, expected, atol=1e-5)]
    assert set(used) <= {3, 4, 5, 6} and len(set(used)) >= 3 and len(used) == 20
    with tf.GradientTape() as tape:
        tape.watch(latent)
        output = quantizer(latent, training=True)
    np.testing.assert_allclose(tape.gradient(output, latent).numpy(), 1.0)
    assert quantizer.losses[0].numpy() > 0


def test_kmeans_start_leaves_each_entry_at_the_mean_of_its_vectors():
    data = clusters([[2, 0], [0, 2], [-2, 0], [0, -2]])
    layer = codebook_layer(8, 2)
    layer(data, training=False)  # inference: the random entries stay
    assert layer.initialised.numpy() == 0
    layer(data, training=True)
    entries = layer.codebook.numpy()
    codes = np.argmin(((data[:, None] - entries) ** 2).sum(-1), axis=1)
    for code in np.unique(codes):
        np.testing.assert_allclose(entries[code], data[codes == code].mean(0), atol=0.05)
    assert layer.initialised.numpy() == 1


def test_ema_update_moves_codewords_to_the_means_of_their_clusters():
    centres = np.array([[2, 0], [0, 2], [-2, 0], [0, -2]], np.float32)
    data = clusters(centres)
    means = data.reshape(4, 50, 2).mean(1)
    layer = codebook_layer(4, 2)
    set_codebook(layer, centres + 0.7, cluster_size=50.0)
    for _ in range(30):
        layer(data, training=True)
    np.testing.assert_allclose(layer.codebook.numpy(), means, atol=0.01)  # 0.8^30 of the 0.7 offset is left
    np.testing.assert_allclose(layer.cluster_size.numpy(), 50.0, atol=0.1)


def test_an_inactive_quantiser_changes_nothing():
    layer = codebook_layer(4, 2)
    set_codebook(layer, np.zeros((4, 2)), cluster_size=0.0)
    layer(clusters([[1, 1]]), training=True, active=False)
    assert np.all(layer.codebook.numpy() == 0) and np.all(layer.cluster_size.numpy() == 0)


def test_dead_entries_are_replaced_by_vectors_of_the_batch():
    data = clusters([[2, 0], [-2, 0]])
    layer = codebook_layer(4, 2, dead_code_threshold=1.0)
    set_codebook(layer, [[2, 0], [-2, 0], [100, 100], [-100, 100]], cluster_size=[50.0, 50.0, 1.0, 1.0])
    layer(data, training=True)
    entries = layer.codebook.numpy()
    for entry in entries[2:]:
        assert np.min(np.abs(data - entry).sum(1)) < 1e-6  # now a vector of the batch
    np.testing.assert_allclose(entries[:2], [[2, 0], [-2, 0]], atol=0.05)  # used: kept (and EMA-updated)
    np.testing.assert_allclose(layer.cluster_size.numpy()[2:], 1.0)


@pytest.mark.parametrize("phase", ["learned", "griffin-lim"])
def test_encode_decode_shapes_and_lengths(phase):
    codec = build_codec(dataclasses.replace(CODEC_TINY, phase=phase))
    waveform = np.stack([sweep(0.3), sweep(0.3, low=500)])  # 4,800 samples: 30 frames of 160
    codes = codec.encode(waveform)
    assert codes.shape == (2, 30, 4) and codes.dtype == tf.int32
    assert codec.encode(np.pad(waveform, [[0, 0], [0, 1]]), num_quantizers=3).shape == (2, 31, 3)
    assert codec.decode(codes, 4_800).shape == (2, 4_800)
    assert codec.decode(codes[..., :3], 5_000).shape == (2, 5_000)
    assert codec(waveform[:, :4_799]).shape == ((2, 4_799) if phase == "learned" else (2, 30, 321))  # the waveform, or magnitudes of 640-point frames
    with pytest.raises(ValueError, match="quantisers"):
        codec.encode(waveform, num_quantizers=5)


@pytest.mark.parametrize("config", [CODEC_TINY, dataclasses.replace(CODEC_TINY, phase="learned", encoder_lstm_layers=1)], ids=["tiny", "learned-lstm"])
def test_weights_come_from_the_shapes_and_a_forward_pass_adds_none(config):
    """build_codec creates every weight without running the model; the first call then finds them all built."""
    codec = build_codec(config)
    before = [(v.path, tuple(v.shape)) for v in codec.weights]
    assert codec.built and all(layer.built for layer in codec._flatten_layers())
    codec(sweep(0.1)[None])
    assert [(v.path, tuple(v.shape)) for v in codec.weights] == before


def test_small_codec_parameters_and_codes():
    """2,619,913 trainable parameters (the issue's measured SEANet-lite + ConvNeXt 256/768 x 4: about 2.8 M; 2,751,754 with Vocos's ISTFT head)."""
    codec = build_codec(CODEC_SMALL)
    assert codec.trainable_parameter_count() == 2_619_913
    assert codec.count_params() > codec.trainable_parameter_count()  # plus the codebooks and their EMA statistics
    codes = codec.encode(sweep(1.0)[None])
    assert codes.shape == (1, 50, 4) and codes.numpy().min() >= 0 and codes.numpy().max() < 1024


def test_paper_codec_builds_with_the_published_shapes():
    """18,857,362 trainable parameters: SEANet encoder with LSTM 7,331,856 + Vocos decoder 11,525,506 (measured);
    the codebooks (8 x 1024 x 128 with masked thirds) are non-trainable. Builds in about 2 s."""
    codec = build_codec(CODEC_PAPER)
    print(f"codec-paper: {codec.trainable_parameter_count():,} trainable parameters")
    assert codec.trainable_parameter_count() == 18_857_362
    waveform = sweep(0.2, sample_rate=24_000)[None]
    codes = codec.encode(waveform)
    assert codes.shape == (1, 15, 8)
    assert codec.decode(codes, 4_800).shape == (1, 4_800)


def test_mel_loss_is_zero_for_identical_signals_and_grows_with_noise():
    clean = tf.constant(sweep(0.5)[None])
    noise = tf.random.normal(clean.shape)
    assert mel_loss(clean, clean, CODEC_SMALL).numpy() == 0
    assert 0 < mel_loss(clean, clean + 0.01 * noise, CODEC_SMALL).numpy() < mel_loss(clean, clean + 0.1 * noise, CODEC_SMALL).numpy()


@pytest.mark.slow
def test_a_few_training_steps_overfit_one_batch():
    """About 10 s: tracing the train step and 40 steps."""
    codec = build_codec(CODEC_TINY)
    codec.compile(optimizer=keras.optimizers.Adam(3e-3))
    batch = tf.constant(np.stack([sweep(0.5), sweep(0.5, low=300, high=1000)]))
    one_batch = tf.data.Dataset.from_tensors(batch)
    before = codec.evaluate(one_batch, verbose=0, return_dict=True)
    history = codec.fit(one_batch.repeat(), epochs=1, steps_per_epoch=40, shuffle=False, verbose=0)
    after = codec.evaluate(one_batch, verbose=0, return_dict=True)
    assert set(history.history) == {"loss", "mel_loss", "spectrum_loss", "commitment_loss"}
    assert after["loss"] < 0.8 * before["loss"], (before, after)
    assert all(codebook.initialised.numpy() == 1 for codebook in codec.quantizer.codebooks[:3])


def test_griffin_lim_of_the_true_magnitudes_gives_back_their_spectrum():
    """The magnitude head's framing (stft_magnitude) and the receiver's Griffin-Lim (librosa) agree: 32 iterations on a sweep's own
    magnitudes come within 15 % spectral error; the phase they start from is seeded, so the output repeats."""
    config = dataclasses.replace(CODEC_SMALL, griffin_lim_iterations=32, postfilter_sharpening=0.0, postfilter_expansion=0.0)
    waveform = tf.constant(sweep(0.64)[None])  # 32 frames of 320 samples
    magnitudes = stft_magnitude(waveform, config)
    assert magnitudes.shape == (1, 32, 513)
    rebuilt = griffin_lim(magnitudes.numpy(), config, 10_240)
    assert rebuilt.shape == (1, 10_240) and np.array_equal(rebuilt, griffin_lim(magnitudes.numpy(), config, 10_240))
    again = stft_magnitude(tf.constant(rebuilt), config).numpy()
    assert np.linalg.norm(again - magnitudes.numpy()) / np.linalg.norm(magnitudes.numpy()) < 0.15


def test_the_postfilter_sharpens_each_frame_keeping_its_energy_and_quietens_quiet_frames():
    rng = np.random.default_rng(0)
    magnitudes = rng.uniform(0.1, 1.0, (6, 513)).astype(np.float32)
    magnitudes[3] *= 0.1  # a frame 20 dB below the others
    magnitudes[5] = 0.0  # silence stays silence
    off = dataclasses.replace(CODEC_SMALL, postfilter_sharpening=0.0, postfilter_expansion=0.0)
    assert np.allclose(postfilter(magnitudes, off), magnitudes)
    sharpened = postfilter(magnitudes, dataclasses.replace(off, postfilter_sharpening=0.5))
    energy = lambda m: np.sum(m.astype(np.float64) ** 2, axis=1)  # noqa: E731
    assert np.allclose(energy(sharpened), energy(magnitudes), rtol=1e-5)
    spread = lambda m: np.max(m[:5], axis=1) / np.min(m[:5], axis=1)  # noqa: E731
    assert np.all(spread(sharpened) > spread(magnitudes) * 1.5)
    expanded = postfilter(magnitudes, dataclasses.replace(off, postfilter_expansion=0.2))
    ratio = np.sqrt(energy(expanded)[:5] / energy(magnitudes)[:5])
    loudest = np.argmax(energy(magnitudes))
    assert np.isclose(ratio[loudest], 1.0) and np.all(ratio <= 1.0 + 1e-6)
    assert np.isclose(ratio[3], (energy(magnitudes)[3] / energy(magnitudes)[loudest]) ** 0.1, rtol=1e-4)
    assert np.all(expanded[5] == 0) and np.all(np.isfinite(postfilter(np.zeros((4, 513), np.float32), CODEC_SMALL)))


def test_magnitude_losses_are_zero_for_identical_magnitudes():
    magnitudes = stft_magnitude(tf.constant(sweep(0.32)[None]), CODEC_SMALL)
    mel, spectrum = magnitude_losses(magnitudes, magnitudes, CODEC_SMALL)
    assert mel.numpy() == 0 and spectrum.numpy() == 0
    mel, spectrum = magnitude_losses(magnitudes, 1.5 * magnitudes, CODEC_SMALL)
    assert mel.numpy() > 0 and spectrum.numpy() > 0


@pytest.mark.slow
def test_a_codec_run_continues_from_another_with_its_codebooks(codec_run, espeak_corpus, tmp_path):
    from deepsc_st.checkpoint import load_run
    from deepsc_st.config import get_config
    from deepsc_st.train import TrainingSettings, train

    settings = TrainingSettings(config=get_config("codec-tiny"), data=str(espeak_corpus), epochs=1, batch_size=4, learning_rate=1e-9,
                                validation_utterances=4)
    train(settings, tmp_path / "fresh", progress=False)
    train(dataclasses.replace(settings, init_from=str(codec_run)), tmp_path / "more", progress=False)
    before, _ = load_run(codec_run)
    after, run = load_run(tmp_path / "more")
    fresh, _ = load_run(tmp_path / "fresh")
    assert run["init_from"] == str(codec_run)

    def distance(a, b):  # mean |difference| of the codebooks, relative to their mean size
        return np.mean([np.abs(x.codebook.numpy() - y.codebook.numpy()).mean() / np.abs(x.codebook.numpy()).mean()
                        for x, y in zip(a.quantizer.codebooks, b.quantizer.codebooks)])

    assert distance(before, after) < 0.2 < distance(before, fresh)  # one epoch of EMA moved them a little; no k-means restart
    np.testing.assert_allclose(before.decoder.embed.kernel.numpy(), after.decoder.embed.kernel.numpy(), atol=1e-5)  # lr 1e-9
    assert not np.allclose(before.decoder.embed.kernel.numpy(), fresh.decoder.embed.kernel.numpy(), atol=1e-3)

    from deepsc_st.model_card import card_facts, read_history, render_card

    history = read_history(tmp_path / "more")
    facts = card_facts(tmp_path / "more", after, run, history, espeak_corpus, None, None)
    assert facts["ancestors"][0]["run"] == str(codec_run) and "val_mel_loss" in facts["ancestors"][0]
    assert f"- First `{codec_run}`: 2 epochs, validation mel loss" in render_card(facts, [], history)
