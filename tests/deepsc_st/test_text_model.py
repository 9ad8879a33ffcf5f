import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from channels import make_channel
from deepsc_st.config import TEXT_CONFIGS, config_from_dict, get_config
from deepsc_st.text_model import MultiHeadAttention, build_text_model, sinusoidal_positions
from deepsc_st.words import END, PAD, START


def test_paper_configuration_has_the_papers_parameter_count():
    """6,423,283 = 964,368 + 385 x 14,179 with the published identity feed-forward (DESIGN.md)."""
    paper = get_config("text-paper")
    assert build_text_model(paper, "awgn").trainable_parameter_count() == 6_423_283
    assert build_text_model(dataclasses.replace(paper, vocabulary_size=1000), "awgn").trainable_parameter_count() == 964_368 + 385 * 1000
    working = dataclasses.replace(paper, feed_forward_units=512)
    assert build_text_model(working, "awgn").trainable_parameter_count() == 7_476_979


@pytest.mark.parametrize("name", list(TEXT_CONFIGS))
def test_configs_round_trip_through_run_json(name):
    config = dataclasses.replace(get_config(name), vocabulary_size=50)
    assert config_from_dict(config.to_dict()) == config


def test_vocabulary_size_must_be_fixed_first():
    with pytest.raises(ValueError, match="vocabulary size"):
        build_text_model(get_config("text-small"))


def test_transmitter_sends_eight_unit_power_symbols_per_token_and_nothing_for_pad():
    model = build_text_model(dataclasses.replace(get_config("text-tiny"), vocabulary_size=30), "awgn")
    tokens = tf.constant([[START, 5, 6, 7, END], [START, 8, END, PAD, PAD]])
    symbols = model.transmit(tokens).numpy()
    assert symbols.shape == (2, 5 * 8) and model.config.symbols_per_token == 8
    energy = np.abs(symbols) ** 2
    np.testing.assert_allclose(energy[0].mean(), 1.0, rtol=1e-5)
    np.testing.assert_allclose(energy[1, : 3 * 8].mean(), 1.0, rtol=1e-5)
    assert np.all(symbols[1, 3 * 8 :] == 0)


def test_greedy_decoding_starts_with_start_and_is_causal():
    """Changing a later token of the decoder's input leaves the logits of earlier positions alone."""
    model = build_text_model(dataclasses.replace(get_config("text-tiny"), vocabulary_size=30), "none")
    tokens = tf.constant([[START, 5, 6, END]])
    memory = model.receive(model.over_channel(model.transmit(tokens), make_channel("none"), 0.0))
    first = model.decoder(tf.constant([[START, 5, 6, 9]]), memory, tokens != PAD)
    second = model.decoder(tf.constant([[START, 5, 7, 12]]), memory, tokens != PAD)
    np.testing.assert_allclose(first[:, :2].numpy(), second[:, :2].numpy(), rtol=1e-5, atol=1e-5)
    decoded = model.greedy_decode(model.transmit(tokens), tokens != PAD).numpy()
    assert decoded.shape == (1, 4) and decoded[0, 0] == START


def test_greedy_decoding_reads_what_the_whole_decoder_would_classify():
    """Classifying only the step's position picks the tokens that argmax over the full logits picks, step by step."""
    model = build_text_model(dataclasses.replace(get_config("text-tiny"), vocabulary_size=30), "awgn")
    tokens = tf.constant(np.random.default_rng(0).integers(4, 30, (6, 7)), tf.int32)
    tokens = tf.concat([tf.fill([6, 1], START), tokens[:, :5], tf.fill([6, 1], END), tf.fill([6, 2], PAD)], axis=1)
    received = model.over_channel(model.transmit(tokens), make_channel("awgn"), 3.0)
    memory, mask = model.receive(received), tokens != PAD
    expected = np.full(tokens.shape, PAD, np.int32)
    expected[:, 0] = START
    for step in range(1, tokens.shape[1]):
        logits = model.decoder(tf.constant(expected), memory, mask).numpy()
        expected[:, step] = logits[:, step - 1].argmax(axis=-1)
    np.testing.assert_array_equal(model.greedy_decode(received, mask).numpy(), expected)


def test_positions_are_sines_and_cosines():
    table = sinusoidal_positions(5, 4)
    np.testing.assert_allclose(table[:, 0], np.sin(np.arange(5)), rtol=1e-6)
    np.testing.assert_allclose(table[:, 1], np.cos(np.arange(5)), rtol=1e-6)
    np.testing.assert_allclose(table[:, 2], np.sin(np.arange(5) / 100.0), rtol=1e-6)


def _attention_as_written_before(layer: MultiHeadAttention, queries, keys, mask):
    """The layer's arithmetic as it was before the projections ran on rows: each projection on [batch, n, units]."""
    def split(x):
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        return tf.transpose(tf.reshape(x, [batch, length, layer.heads, layer.units // layer.heads]), [0, 2, 1, 3])

    q, k, v = split(layer.query(queries)), split(layer.key(keys)), split(layer.value(keys))
    scores = tf.where(mask, tf.matmul(q, k, transpose_b=True) / tf.sqrt(float(layer.units // layer.heads)), -1e9)
    attended = tf.transpose(tf.matmul(tf.nn.softmax(scores, axis=-1), v), [0, 2, 1, 3])
    return layer.output_projection(tf.reshape(attended, [tf.shape(queries)[0], -1, layer.units]))


def test_attention_on_rows_is_bit_identical_to_projecting_each_sequence_and_right_against_numpy():
    layer = MultiHeadAttention(16, 4)
    layer.build()
    rng = np.random.default_rng(0)
    layer.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 0.3 for w in layer.get_weights()])
    queries = tf.constant(rng.standard_normal((3, 5, 16)).astype(np.float32))
    keys = tf.constant(rng.standard_normal((3, 7, 16)).astype(np.float32))
    mask = tf.constant(rng.random((3, 1, 1, 7)) > 0.3) | tf.one_hot([0], 7, on_value=True, off_value=False, dtype=tf.bool)
    spec = [tf.TensorSpec([None, None, 16]), tf.TensorSpec([None, None, 16]), tf.TensorSpec([None, 1, 1, None], tf.bool)]
    now = tf.function(layer.call, input_signature=spec).get_concrete_function()
    before = tf.function(lambda q, k, m: _attention_as_written_before(layer, q, k, m), input_signature=spec).get_concrete_function()

    for q, k in ((queries, keys), (queries, queries)):
        m = mask if k is keys else tf.ones([3, 1, 1, 5], tf.bool)
        np.testing.assert_array_equal(now(q, k, m).numpy(), before(q, k, m).numpy())
    assert len(now.graph.as_graph_def().node) < 0.7 * len(before.graph.as_graph_def().node)

    wq, wk, wv, wo, bo = layer.get_weights()
    heads = lambda x: x.reshape(x.shape[0], x.shape[1], 4, 4).transpose(0, 2, 1, 3)
    q, k, v = heads(queries.numpy() @ wq), heads(keys.numpy() @ wk), heads(keys.numpy() @ wv)
    scores = np.where(mask.numpy(), q @ k.transpose(0, 1, 3, 2) / 2.0, -1e9)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    attended = (weights / weights.sum(-1, keepdims=True)) @ v
    expected = attended.transpose(0, 2, 1, 3).reshape(3, 5, 16) @ wo + bo
    np.testing.assert_allclose(layer(queries, keys, mask).numpy(), expected, rtol=1e-4, atol=1e-4)
