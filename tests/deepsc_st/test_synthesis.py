import numpy as np
import pytest

from deepsc_st.corpus import SPEAKERS
from deepsc_st.errors import UserError
from deepsc_st.synthesis import DEFAULT_USER, SILENCE_SAMPLES, RegisteredVoices, RememberingSynthesizer, receiver_speech
from deepsc_st.transceiver import ReceiverSpeech, Transceiver, Transmission


@pytest.fixture(scope="module")
def synthesizer():
    return RegisteredVoices()


def test_every_corpus_speaker_is_a_user(synthesizer):
    assert synthesizer.users == tuple(SPEAKERS) and DEFAULT_USER in synthesizer.users


def test_speaks_in_each_users_voice(synthesizer):
    speech = {user: synthesizer.synthesize("the cat sat on the mat", user) for user in ("spk00", "spk03")}
    for waveform in speech.values():
        assert waveform.dtype == np.float32 and waveform.ndim == 1
        assert 0.8 * 16_000 < len(waveform) < 4 * 16_000  # about 1.5 s of speech at 16 kHz
        assert 0.01 < np.sqrt(np.mean(waveform**2)) and np.max(np.abs(waveform)) <= 1.0
    assert len(speech["spk00"]) != len(speech["spk03"]) or not np.allclose(speech["spk00"], speech["spk03"])


def test_same_text_and_user_same_speech(synthesizer):
    assert np.array_equal(synthesizer.synthesize("open the red door", "spk01"), synthesizer.synthesize("open the red door", "spk01"))


def test_empty_text_is_a_short_silence(synthesizer):
    silence = synthesizer.synthesize("", "spk02")
    assert silence.shape == (SILENCE_SAMPLES,) and not silence.any()


def test_unknown_user_lists_the_registered_ones(synthesizer):
    with pytest.raises(UserError, match=r"^unknown user 'alice'; registered users: spk00, spk01, .*spk109$"):
        synthesizer.synthesize("hello", "alice")


def test_own_registry():
    synthesizer = RegisteredVoices({"bob": SPEAKERS["spk04"]})
    assert synthesizer.users == ("bob",)
    assert np.array_equal(synthesizer.synthesize("my hat is blue", "bob"), RegisteredVoices().synthesize("my hat is blue", "spk04"))


class _Receiver(Transceiver):
    def __init__(self, receiver_speech):
        self.receiver_speech = receiver_speech


def test_receiver_speech_by_kind_of_receiver(synthesizer):
    decoded = np.ones(320, np.float32)
    assert receiver_speech(_Receiver(ReceiverSpeech.DECODED), Transmission("ignored", 10, decoded), synthesizer, "spk00") is decoded
    spoken = receiver_speech(_Receiver(ReceiverSpeech.SYNTHESIZED), Transmission("fish swim in water", 10), synthesizer, "spk05")
    assert np.array_equal(spoken, synthesizer.synthesize("fish swim in water", "spk05"))
    assert receiver_speech(_Receiver(ReceiverSpeech.NONE), Transmission("features only", 10), synthesizer, "spk00") is None


def test_piper_speaks_for_every_user(tmp_path):
    from deepsc_st.synthesis import PIPER_DEFAULT, make_synthesizer

    piper = make_synthesizer("piper")
    speech = piper.synthesize("open the red door", "spk00")
    assert speech.dtype == np.float32 and 0.5 * 16_000 < len(speech) < 3 * 16_000 and np.sqrt(np.mean(speech**2)) > 0.01
    assert PIPER_DEFAULT["engine"] == "piper"
    with pytest.raises(UserError, match="unknown synthesizer 'tacotron'; choose one of registered, piper"):
        make_synthesizer("tacotron")


class CountingVoices(RegisteredVoices):
    """Registered voices that count what they are asked to speak, without running an engine."""

    def __init__(self):
        super().__init__({"det": {"engine": "espeak-ng"}, "neural": {"engine": "piper"}})
        self.spoken = []

    def synthesize(self, text, user):
        self.spoken.append((text, user))
        return np.full(len(text), len(self.spoken), np.float32)


def test_remembering_synthesizer_speaks_a_deterministic_voice_once_per_text_over_two_cells():
    voices = CountingVoices()
    remembering = RememberingSynthesizer(voices)
    remembering.next_cell()
    first = remembering.synthesize("hello there", "det")
    assert remembering.synthesize("hello there", "det") is first
    remembering.next_cell()
    assert remembering.synthesize("hello there", "det") is first  # the previous cell's speech
    remembering.synthesize("hello there", "neural")
    remembering.synthesize("hello there", "neural")  # Piper draws noise: made anew each time
    assert voices.spoken == [("hello there", "det"), ("hello there", "neural"), ("hello there", "neural")]
    remembering.next_cell()
    remembering.next_cell()  # two cells without it: forgotten
    remembering.synthesize("hello there", "det")
    assert voices.spoken[-1] == ("hello there", "det") and len(voices.spoken) == 4


def test_engines_that_repeat_themselves_are_known():
    assert RegisteredVoices().deterministic(DEFAULT_USER)
    assert not CountingVoices().deterministic("neural")
