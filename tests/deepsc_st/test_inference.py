"""The batched forward loops of deepsc_st/inference.py: semantic features before the channel, and the receiver's scores after it."""

import numpy as np

from channels import make_channel
from deepsc_st.config import get_config
from deepsc_st.inference import semantic_logits, spectrogram_batches, token_logits
from deepsc_st.model import build_model
from deepsc_st.transceiver import DeepSCSTTransceiver


def _waveforms():
    rng = np.random.default_rng(0)
    return [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in (8000, 16000, 5000)]


def test_semantic_logits_are_the_encoders_own_output_for_each_utterance():
    model = build_model(get_config("tiny"), "awgn")
    waveforms = _waveforms()
    logits = semantic_logits(model, waveforms, batch_size=2)
    for waveform, batch_logits in zip(waveforms, logits):
        batch = next(spectrogram_batches([waveform]))
        expected, steps = model.semantic_encoder(batch["spectrogram"], batch["frames"])
        assert batch_logits.shape == (int(steps[0]), 29)
        np.testing.assert_allclose(batch_logits, expected.numpy()[0], atol=1e-4)


def test_for_an_asr_model_they_equal_the_token_logits():
    model = build_model(get_config("tiny"), "none")
    for semantic, received in zip(semantic_logits(model, _waveforms()), token_logits(model, _waveforms())):
        np.testing.assert_allclose(semantic, received, atol=1e-5)


def test_a_deepsc_transmission_carries_the_receivers_token_scores():
    model = build_model(get_config("tiny"), "awgn")
    [sent] = DeepSCSTTransceiver(model).transmit(_waveforms()[:1], make_channel("awgn"), 30.0)
    assert sent.token_scores.shape == (sent.channel_symbols // model.config.symbols_per_step, 29)


def test_a_deepsc_transceiver_sends_a_test_set_once_and_receives_it_per_cell_as_token_logits_would(monkeypatch):
    import sionna

    import deepsc_st.inference as inference
    import deepsc_st.transceiver as transceiver

    model = build_model(get_config("tiny"), "awgn")
    sends = []

    def counted(*args):
        sends.append(len(args[1]))
        return inference.transmitted_symbols(*args)

    monkeypatch.setattr(transceiver, "transmitted_symbols", counted)
    system = DeepSCSTTransceiver(model, batch_size=2)
    for channel, snr_db in (("awgn", 0.0), ("rayleigh", 4.0)):
        sionna.phy.config.seed = 3
        cell = system.transmit(_waveforms(), make_channel(channel), snr_db)
        sionna.phy.config.seed = 3
        for sent, expected in zip(cell, token_logits(model, _waveforms(), make_channel(channel), snr_db, batch_size=2)):
            np.testing.assert_array_equal(sent.token_scores, expected)
    assert sends == [3]


def test_recognizer_hears_the_same_waveforms_once(monkeypatch):
    import deepsc_st.inference as inference

    calls = []

    def fake_listen(model, waveforms, batch_size):
        calls.append(len(waveforms))
        return inference.Heard([np.full((2, 29), float(len(w))) for w in waveforms], np.zeros((len(waveforms), 4)))

    monkeypatch.setattr(inference, "_listen", fake_listen)
    model = build_model(get_config("tiny"))
    recognizer = inference.Recognizer(model)
    waves = [np.ones(160, np.float32), np.zeros(320, np.float32)]
    first = recognizer(waves)
    assert recognizer([w.copy() for w in waves]) is first  # same samples, other arrays: remembered
    assert calls == [2]
    changed = [waves[0], np.zeros(321, np.float32)]
    assert recognizer(changed)[1][0, 0] == 321.0 and calls == [2, 2]
    recognizer([np.ones(80, np.float32), np.ones(80, np.float32)])
    recognizer([np.ones(160, np.float32)])  # the same samples cut differently is other speech
    assert calls == [2, 2, 2, 1]
    assert inference.Recognizer(model)(waves) is first  # a second recogniser of the same model shares what it heard


def test_listening_gives_the_forward_pass_logits_and_the_speech_features():
    from deepsc_st.inference import listen

    model = build_model(get_config("tiny"))
    heard = listen(model, _waveforms())
    for ours, forward in zip(heard.logits, token_logits(model, _waveforms())):
        np.testing.assert_array_equal(ours, forward)
    assert heard.features.shape == (len(_waveforms()), 2 * get_config("tiny").gru_units)


def test_listening_in_length_order_gives_each_utterance_what_it_gets_alone():
    from deepsc_st.inference import listen

    model = build_model(get_config("tiny"))
    waveforms = _waveforms()  # lengths out of order: batched shortest first, answered in the given order
    heard = listen(model, waveforms, batch_size=2)
    for index, waveform in enumerate(waveforms):
        alone = listen(model, [waveform], batch_size=1)
        np.testing.assert_allclose(heard.logits[index], alone.logits[0], atol=1e-5)  # float rounding of other batch shapes
        np.testing.assert_allclose(heard.features[index], alone.features[0], atol=1e-5)
