import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from deepsc_st.checkpoint import load_run
from deepsc_st.config import get_config
from deepsc_st.errors import UserError
from deepsc_st.frontend import NUM_BINS
from deepsc_st.model import build_model
from deepsc_st.train import TrainingSettings, _init_semantic_encoder, train
from deepsc_st.widen import widen_semantic_encoder

NARROW = dataclasses.replace(get_config("tiny"), name="narrow", gru_layers=2, gru_units=8)
WIDE = dataclasses.replace(NARROW, name="wide", gru_units=13)


def trained_looking(model, seed=0):
    """Random weights everywhere, BatchNorm statistics included (a fresh model's are 0 and 1)."""
    generator = np.random.default_rng(seed)
    model.set_weights([generator.normal(0.0, 0.3, w.shape).astype(w.dtype) + (1.0 if "variance" in v.path else 0.0) for v, w in zip(model.weights, model.get_weights())])
    return model


def logits(model, spectrogram, frames):
    values, steps = model.semantic_encoder(spectrogram, frames, training=False)
    return values.numpy(), steps.numpy()


def test_a_widened_encoder_computes_what_the_narrow_one_did():
    narrow, wide = trained_looking(build_model(NARROW)), build_model(WIDE)
    widen_semantic_encoder(narrow.semantic_encoder, wide.semantic_encoder)
    spectrogram = tf.random.stateless_normal([3, 57, NUM_BINS], seed=[1, 2])
    frames = tf.constant([57, 40, 23])
    (expected, expected_steps), (actual, actual_steps) = logits(narrow, spectrogram, frames), logits(wide, spectrogram, frames)
    np.testing.assert_array_equal(actual_steps, expected_steps)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
    assert wide.trainable_parameter_count() > narrow.trainable_parameter_count()


def test_the_new_units_start_random_and_reach_nothing_old():
    narrow, wide = trained_looking(build_model(NARROW)), build_model(WIDE)
    widen_semantic_encoder(narrow.semantic_encoder, wide.semantic_encoder)
    kernel, recurrent, bias = wide.semantic_encoder.recurrent_blocks[1][0].forward_layer.get_weights()
    new_unit_columns = np.concatenate([gate * 13 + np.arange(8, 13) for gate in range(3)])
    old_unit_columns = np.setdiff1d(np.arange(39), new_unit_columns)
    new_inputs = np.r_[8:13, 21:26]  # the first BiGRU's new forward and backward outputs
    assert np.all(kernel[np.ix_(new_inputs, old_unit_columns)] == 0) and np.all(recurrent[np.ix_(np.r_[8:13], old_unit_columns)] == 0)
    assert np.all(kernel[:, new_unit_columns] != 0) and np.all(bias[:, new_unit_columns] == 0)
    classifier = wide.semantic_encoder.classifier.get_weights()[0]
    assert np.all(classifier[np.r_[8:13, 21:26]] == 0)


@pytest.mark.slow
def test_training_grows_a_narrower_run_and_refuses_other_differences(espeak_corpus, tmp_path):
    def settings(config, **overrides):
        return TrainingSettings(config=config, data=str(espeak_corpus), channel="none", epochs=1, batch_size=4, max_utterances=8, **overrides)

    train(settings(NARROW), tmp_path / "narrow", progress=False)
    narrow, _ = load_run(tmp_path / "narrow")
    wide = build_model(WIDE)
    _init_semantic_encoder(wide, tmp_path / "narrow")
    spectrogram, frames = tf.random.stateless_normal([2, 30, NUM_BINS], seed=[3, 4]), tf.constant([30, 17])
    np.testing.assert_allclose(logits(wide, spectrogram, frames)[0], logits(narrow, spectrogram, frames)[0], rtol=1e-5, atol=1e-5)
    assert train(settings(WIDE, init_from=str(tmp_path / "narrow")), tmp_path / "wide", progress=False)["epochs_done"] == 1
    for other in (dataclasses.replace(NARROW, name="fewer", gru_units=5), dataclasses.replace(WIDE, gru_layers=3)):
        with pytest.raises(UserError, match="config differs"):
            _init_semantic_encoder(build_model(other), tmp_path / "narrow")
