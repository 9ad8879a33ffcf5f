"""Every engine speaks 16 kHz speech for every registered user that claims it."""

import numpy as np
import pytest

from deepsc_st import voices
from deepsc_st.corpus import SPEAKERS
from deepsc_st.errors import UserError

pytestmark = pytest.mark.slow  # about 20 engine runs, Piper's model load among them

SENTENCE = "The cat sat on the mat, and Mr. Smith's dog ran home."


@pytest.mark.parametrize("user", sorted(SPEAKERS))
def test_each_registered_user_speaks(user):
    speech = voices.synthesize(SPEAKERS[user], SENTENCE)
    assert speech.dtype == np.float32 and speech.ndim == 1
    assert 1.5 < len(speech) / 16_000 < 8.0  # about 3 s of speech at 16 kHz
    assert np.max(np.abs(speech)) <= 1.0 and np.sqrt(np.mean(speech**2)) > 0.01


@pytest.mark.parametrize("engine", ["espeak-ng", "flite", "festival"])
def test_deterministic_engines_repeat_themselves(engine):
    user = next(user for user, voice in SPEAKERS.items() if voice.get("engine", "espeak-ng") == engine)
    assert np.array_equal(voices.synthesize(SPEAKERS[user], "open the red door"), voices.synthesize(SPEAKERS[user], "open the red door"))


def test_text_without_letters_and_unknown_engines():
    assert voices.synthesize(SPEAKERS["spk16"], "...").shape == (0,)  # festival would crash on it
    with pytest.raises(UserError, match="unknown speech engine 'sam'"):
        voices.synthesize({"engine": "sam"}, "hello")
    assert voices.ascii_text("It\u2019s \u201cfine\u201d , ok") == 'It\'s "fine", ok'
    assert "--" not in voices.ascii_text("half blood!--But you") and voices.synthesize(SPEAKERS["spk18"], "half blood!--But you").size > 0
