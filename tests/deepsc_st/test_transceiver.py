import numpy as np
import pytest

from channels import make_channel
from deepsc_st.config import get_config
from deepsc_st.errors import UserError
from deepsc_st.model import build_model
from deepsc_st.transceiver import ASR_MODEL, DEEPSC_ST_MODEL, DeepSCSTTransceiver, Parts, ReceiverSpeech, SystemOption

WAVEFORMS = [np.random.default_rng(0).normal(0, 0.1, n).astype(np.float32) for n in (16_000, 8_000)]


def test_deepsc_st_sends_20_symbols_per_step_of_each_utterance():
    transceiver = DeepSCSTTransceiver(build_model(get_config("tiny"), channel="awgn"))
    sent = transceiver.transmit(WAVEFORMS, make_channel("awgn"), 10.0)
    assert [t.channel_symbols for t in sent] == [26 * 20, 13 * 20]  # ceil(101 / 4), ceil(51 / 4) steps
    assert all(isinstance(t.text, str) and t.waveform is None for t in sent)
    assert transceiver.name == "deepsc-st" and transceiver.receiver_speech is ReceiverSpeech.SYNTHESIZED
    assert set(transceiver.models) == {"deepsc-st"}


def test_an_asr_model_is_measured_without_a_channel():
    transceiver = DeepSCSTTransceiver(build_model(get_config("tiny"), channel="none"))
    assert transceiver.name == "asr"
    assert [t.channel_symbols for t in transceiver.transmit(WAVEFORMS, make_channel("none"), 0.0)] == [0, 0]
    with pytest.raises(UserError, match="ASR-only model sends no channel symbols"):
        transceiver.transmit(WAVEFORMS, make_channel("awgn"), 0.0)


def test_parts_check_options_and_name_the_missing_model(tmp_path):
    option = SystemOption("decoder", "--decoder", "fast", "polar decoder", ("fast", "sionna"), "polar decoder")
    assert Parts().option(option) == "fast" and Parts(options={"decoder": "sionna"}).option(option) == "sionna"
    with pytest.raises(UserError, match="unknown polar decoder 'slow'; choose one of fast, sionna"):
        Parts(options={"decoder": "slow"}).option(option)
    with pytest.raises(UserError, match="no such model folder"):
        Parts({"asr": tmp_path / "missing"}).model(ASR_MODEL)
    assert ASR_MODEL.setting == "asr_model" and DEEPSC_ST_MODEL.setting == "model"
