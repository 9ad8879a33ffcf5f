import keras
import numpy as np
import pytest
import tensorflow as tf

from deepsc_st.bidirectional_gru import bidirectional_gru


def _layer(units: int, features: int, seed: int, **gru_options) -> keras.layers.Bidirectional:
    keras.utils.set_random_seed(seed)
    layer = keras.layers.Bidirectional(keras.layers.GRU(units, return_sequences=True, reset_after=True, **gru_options))
    layer.build((None, None, features))
    rng = np.random.default_rng(seed)
    for weight in layer.weights:  # biases too, so the input and recurrent biases both matter; each direction its own
        weight.assign(rng.normal(0, 0.3, weight.shape).astype(np.float32))
    return layer


@pytest.mark.parametrize("lengths", [[7, 7, 7], [1, 9, 4, 0, 6]])
def test_equals_the_keras_layer_at_every_unmasked_step(lengths):
    layer = _layer(units=5, features=3, seed=len(lengths))
    x = tf.constant(np.random.default_rng(1).normal(size=(len(lengths), max(lengths), 3)).astype(np.float32))
    mask = tf.sequence_mask(lengths, max(lengths))
    expected = layer(x, mask=mask, training=False).numpy()
    got = bidirectional_gru(layer, x, mask).numpy()
    assert got.shape == expected.shape == (len(lengths), max(lengths), 10)
    valid = mask.numpy()
    np.testing.assert_allclose(got[valid], expected[valid], rtol=0, atol=1e-6)


def test_inside_a_traced_function_with_unknown_lengths():
    layer = _layer(units=4, features=2, seed=3)
    run = tf.function(lambda x, mask: bidirectional_gru(layer, x, mask), input_signature=[tf.TensorSpec([None, None, 2]), tf.TensorSpec([None, None], tf.bool)])
    x = tf.constant(np.random.default_rng(2).normal(size=(2, 5, 2)).astype(np.float32))
    mask = tf.sequence_mask([5, 3], 5)
    np.testing.assert_allclose(run(x, mask).numpy()[mask.numpy()], layer(x, mask=mask).numpy()[mask.numpy()], rtol=0, atol=1e-6)


def test_refuses_layers_it_does_not_compute():
    with pytest.raises(ValueError, match="reset_after=True"):
        bidirectional_gru(_layer(3, 2, 0, dropout=0.1), tf.zeros([1, 2, 2]), tf.ones([1, 2], tf.bool))
    layer = keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True, reset_after=True), merge_mode="sum")
    layer.build((None, None, 2))
    with pytest.raises(ValueError, match="concat merging"):
        bidirectional_gru(layer, tf.zeros([1, 2, 2]), tf.ones([1, 2], tf.bool))
