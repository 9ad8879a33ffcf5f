import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from channels import make_channel
from deepsc_st.config import CONFIGS, ModelConfig, get_config
from deepsc_st.model import ASRModel, DeepSCST, build_model, output_steps
from deepsc_st.text_model import build_text_model


@pytest.fixture(scope="module")
def paper_models():
    config = get_config("paper")
    return build_model(config, "awgn"), build_model(config, "none")


def test_paper_parameter_counts(paper_models):
    deepsc, asr = paper_models
    assert deepsc.trainable_parameter_count() == 85_796_042
    assert asr.trainable_parameter_count() == 85_788_733
    text = build_text_model(get_config("text-paper"), "awgn")  # DeepSC as published: 6,423,283
    assert asr.trainable_parameter_count() + text.trainable_parameter_count() == 92_212_016  # SR+DeepSC


def test_paper_symbols_per_second():
    config = get_config("paper")
    assert output_steps(101, config) * config.symbols_per_step == 520


def test_paper_forward_pass_on_three_seconds(paper_models):
    deepsc, asr = paper_models
    batch = {"spectrogram": tf.random.normal([1, 301, 161]), "frames": tf.constant([301])}
    logits, steps = tf.function(lambda b: deepsc.forward(b, channel=make_channel("rayleigh"), snr_db=4.0))(batch)  # a graph: 3.2 s, eager 5.6 s
    assert logits.shape == (1, 76, 29) and int(steps[0]) == 76
    asr_logits, _ = tf.function(asr.forward)(batch)
    assert asr_logits.shape == (1, 76, 29)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_config_sends_520_symbols_per_second(name):
    config = get_config(name)
    assert output_steps(101, config) * config.symbols_per_step == 520


def test_channel_encoder_output_has_unit_power_over_valid_steps():
    model = build_model(get_config("tiny"), "awgn")
    frames = tf.constant([301, 151])
    batch = {"spectrogram": tf.random.normal([2, 301, 161]), "frames": frames}
    symbols, steps = model.transmit(batch)
    assert symbols.dtype == tf.complex64 and symbols.shape == (2, int(steps[0]) * 20)
    for row, step_count in zip(symbols.numpy(), steps.numpy()):
        sent = row[: step_count * 20]
        assert abs(np.mean(np.abs(sent) ** 2) - 1) < 1e-4
        assert np.all(row[step_count * 20 :] == 0)


def test_padding_does_not_change_the_result():
    model = build_model(get_config("tiny"), "none")
    features = tf.random.normal([1, 151, 161])
    alone, _ = model.forward({"spectrogram": features, "frames": tf.constant([151])})
    padded = tf.pad(features, [[0, 0], [0, 100], [0, 0]])
    in_batch, steps = model.forward({"spectrogram": padded, "frames": tf.constant([151])})
    np.testing.assert_allclose(in_batch.numpy()[0, : int(steps[0])], alone.numpy()[0], atol=1e-4)


def test_gru_dropout_acts_in_training_of_a_trainable_encoder_only():
    model = build_model(dataclasses.replace(get_config("tiny"), gru_dropout=0.5), "none")
    features, frames = tf.random.normal([2, 151, 161]), tf.constant([151, 151])
    inference = [model.semantic_encoder.hidden_states(features, frames)[0].numpy() for _ in range(2)]
    training = [model.semantic_encoder.hidden_states(features, frames, training=True)[0].numpy() for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    assert not np.allclose(training[0], training[1])
    assert 0.3 < np.mean(training[0] == 0) < 0.7  # half the hidden units dropped
    model.semantic_encoder.trainable = False  # frozen, as under train --freeze-encoder
    frozen = model.semantic_encoder.hidden_states(features, frames, training=True)[0].numpy()
    np.testing.assert_array_equal(frozen, model.semantic_encoder.hidden_states(features, frames)[0].numpy())


def test_build_model_kinds():
    assert isinstance(build_model(get_config("tiny"), "none"), ASRModel)
    model = build_model(get_config("tiny"), "rician", snr_db=(0, 10))
    assert isinstance(model, DeepSCST) and model.train_channel.name == "rician" and model.train_snr_db == (0.0, 10.0)


def test_config_dict_round_trip():
    config = get_config("small")
    assert ModelConfig.from_dict(config.to_dict()) == config


def test_unknown_config():
    with pytest.raises(ValueError, match="paper, small, medium, tiny"):
        get_config("huge")
