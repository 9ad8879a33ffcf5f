import numpy as np
import pytest

from baselines.codecs import AmrWbCodec, HuffmanTextCodec
from baselines.feature_transceiver import FeatureTransceiver
from baselines.link import FEATURE_CODE_K, SPEECH_CODE_K, TEXT_CODE_K, DigitalLink
from baselines.link_policy import PaperLink
from baselines.speech_transceiver import SpeechTransceiver
from baselines.text_transceiver import TextTransceiver
from channels import make_channel
from tests.conftest import SENTENCE_ASR_SENTENCES
from deepsc_st.audio import load_audio
from deepsc_st.checkpoint import load_run
from deepsc_st.data import read_utterances
from deepsc_st.frontend import num_frames
from deepsc_st.model import output_steps


@pytest.fixture(scope="module")
def asr_model(overfit_asr_run):
    return load_run(overfit_asr_run[0])[0]


@pytest.fixture(scope="module")
def corpus(espeak_corpus):
    """(transcripts, waveforms) of the four espeak-ng sentences ``sentence_asr_run`` knows."""
    utterances = read_utterances(espeak_corpus, "train")[:SENTENCE_ASR_SENTENCES]
    return [u.text for u in utterances], [load_audio(u.wav_path) for u in utterances]


@pytest.fixture(scope="module")
def sentence_asr_model(sentence_asr_run):
    return load_run(sentence_asr_run)[0]


# The link interleaves each message's codewords, so block fading at 30 dB leaves long messages error-free.
ERROR_FREE = [("awgn", 30.0), ("rayleigh", 30.0), ("rician", 30.0)]


@pytest.mark.parametrize("channel, snr_db", ERROR_FREE)
def test_speech_returns_the_sentence_and_the_decoded_speech(sentence_asr_model, corpus, channel, snr_db):
    transcripts, waveforms = corpus
    sent = SpeechTransceiver(sentence_asr_model).transmit(waveforms, make_channel(channel), snr_db)
    assert [r.text for r in sent] == transcripts[: len(waveforms)]
    codec, link = AmrWbCodec(23.85), DigitalLink(k=SPEECH_CODE_K)
    for result, waveform in zip(sent, waveforms):
        assert np.array_equal(result.waveform, codec.decode(codec.encode(waveform), len(waveform)))
        assert result.channel_symbols == link.symbols_for_bits(codec.num_bits(len(waveform)))


@pytest.mark.parametrize("channel", ["awgn", "rayleigh", "rician"])
def test_text_returns_the_sentence_sending_its_huffman_code(sentence_asr_model, corpus, channel):
    transcripts, waveforms = corpus
    huffman = HuffmanTextCodec.from_transcripts(transcripts)
    text = TextTransceiver(sentence_asr_model, huffman)
    sent = text.transmit(waveforms, make_channel(channel), 30.0)
    recognised = text.transcribe(waveforms)
    assert [r.text for r in sent] == recognised == transcripts[: len(waveforms)]
    link = DigitalLink(k=TEXT_CODE_K)
    assert [r.channel_symbols for r in sent] == [link.symbols_for_bits(huffman.encode(t).size) for t in recognised]
    assert all(r.waveform is None for r in sent)


@pytest.mark.parametrize("channel, snr_db", ERROR_FREE)
def test_feature_returns_the_sentence_sending_float32_posteriors(sentence_asr_model, corpus, channel, snr_db):
    transcripts, waveforms = corpus
    feature = FeatureTransceiver(sentence_asr_model)
    sent = feature.transmit(waveforms, make_channel(channel), snr_db)
    assert [r.text for r in sent] == feature.transcribe(waveforms) == transcripts[: len(waveforms)]
    link = DigitalLink(k=FEATURE_CODE_K)
    steps = [int(output_steps(num_frames(len(w)), sentence_asr_model.config)) for w in waveforms]
    assert [r.channel_symbols for r in sent] == [link.symbols_for_bits(s * 29 * 32) for s in steps]


def test_link_gets_the_channel_itself_fading_block_and_k_factor_included(asr_model, corpus):
    _, waveforms = corpus
    calls = []

    class RecordingLink(PaperLink):
        def send(self, messages, num_samples, channel, snr_db):
            calls.append((channel.name, channel.block_length, channel.k_factor, len(messages)))
            return super().send(messages, num_samples, channel, snr_db)

    feature = FeatureTransceiver(asr_model, link=RecordingLink(FEATURE_CODE_K))
    feature.transmit(waveforms, make_channel("rician", block_length=16, k_factor=4.0), 30.0)
    feature.transmit(waveforms[:1], make_channel("awgn"), 30.0)
    assert calls == [("rician", 16, 4.0, 4), ("awgn", 128, 1.0, 1)]  # one link batch per call


def test_no_waveforms_no_transmissions(asr_model):
    assert FeatureTransceiver(asr_model).transmit([], make_channel("awgn"), 0.0) == []


def test_needs_the_asr_only_model():
    with pytest.raises(TypeError, match="ASR-only"):
        FeatureTransceiver(object())
