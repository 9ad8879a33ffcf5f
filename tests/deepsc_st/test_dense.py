import keras
import numpy as np
import tensorflow as tf

from deepsc_st.dense import Dense, sequence_norm


def _pair(units, activation, use_bias=True):
    """A Keras Dense and a project Dense with the same weights, both built for 24 input features."""
    reference, flat = keras.layers.Dense(units, activation=activation, use_bias=use_bias), Dense(units, activation=activation, use_bias=use_bias)
    for layer in (reference, flat):
        layer.build((None, None, 24))
    rng = np.random.default_rng(0)
    flat.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in reference.get_weights()])
    reference.set_weights(flat.get_weights())
    return reference, flat


def test_rank_3_inputs_give_bit_identical_outputs_in_a_graph_of_fewer_operations():
    reference, flat = _pair(40, "relu")
    spec = tf.TensorSpec([None, None, 24], tf.float32)
    reference_graph = tf.function(reference.__call__).get_concrete_function(spec)
    flat_graph = tf.function(flat.__call__).get_concrete_function(spec)
    x = tf.constant(np.random.default_rng(1).standard_normal((3, 17, 24)).astype(np.float32))

    np.testing.assert_array_equal(flat_graph(x).numpy(), reference_graph(x).numpy())
    np.testing.assert_array_equal(flat(x).numpy(), reference(x).numpy())  # eager too
    tensordot_ops = {"GatherV2", "Prod", "Pack", "Transpose"}  # what tf.tensordot adds around its MatMul for a dynamic shape
    assert tensordot_ops <= {node.op for node in reference_graph.graph.as_graph_def().node}
    assert not tensordot_ops & {node.op for node in flat_graph.graph.as_graph_def().node}
    assert flat_graph.structured_outputs.shape.as_list() == [None, None, 40]


def test_rank_2_and_rank_4_inputs_and_no_bias():
    reference, flat = _pair(8, None, use_bias=False)
    for shape in [(5, 24), (2, 3, 4, 24)]:
        x = tf.constant(np.random.default_rng(2).standard_normal(shape).astype(np.float32))
        np.testing.assert_array_equal(flat(x).numpy(), reference(x).numpy())
        assert flat(x).shape == shape[:-1] + (8,)


def test_weights_files_keep_keras_paths(tmp_path):
    """A model saved with keras.layers.Dense in a list loads into one with the project's Dense, and back."""

    class Stack(keras.Model):
        def __init__(self, layer):
            super().__init__()
            self.layers_list = [layer(6), layer(3)]

        def call(self, x):
            for layer in self.layers_list:
                x = layer(x)
            return x

    x = np.random.default_rng(3).standard_normal((2, 5, 4)).astype(np.float32)
    keras_stack, project_stack = Stack(keras.layers.Dense), Stack(Dense)
    keras_stack(x), project_stack(x)
    keras_stack.save_weights(tmp_path / "keras.weights.h5")
    project_stack.load_weights(tmp_path / "keras.weights.h5")
    np.testing.assert_array_equal(project_stack(x).numpy(), keras_stack(x).numpy())


def test_sequence_norm_is_keras_layer_norm_without_reshaping_its_weights():
    reference, norm = keras.layers.LayerNormalization(epsilon=1e-6), sequence_norm()
    for layer in (reference, norm):
        layer.build((None, None, 12))
    rng = np.random.default_rng(4)
    norm.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in reference.get_weights()])
    reference.set_weights(norm.get_weights())
    spec = tf.TensorSpec([None, None, 12], tf.float32)
    reference_graph, norm_graph = (tf.function(layer.__call__).get_concrete_function(spec) for layer in (reference, norm))
    x = tf.constant(rng.standard_normal((2, 9, 12)).astype(np.float32) * 3 + 1)

    np.testing.assert_array_equal(norm_graph(x).numpy(), reference_graph(x).numpy())
    assert "Reshape" in {node.op for node in reference_graph.graph.as_graph_def().node}
    assert "Reshape" not in {node.op for node in norm_graph.graph.as_graph_def().node}
