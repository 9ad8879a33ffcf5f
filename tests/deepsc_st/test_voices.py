"""Every engine speaks 16 kHz speech for every registered user that claims it."""

import numpy as np
import pytest

from deepsc_st import voices
from deepsc_st.corpus import KOKORO_BLEND_SPEAKERS, KOKORO_SPEAKERS, SPEAKERS
from deepsc_st.errors import UserError

pytestmark = pytest.mark.slow  # about 20 engine runs, Piper's model load among them

SENTENCE = "The cat sat on the mat, and Mr. Smith's dog ran home."


# Kokoro runs at about real time on one core: one user of each accent and sex speaks here, and every
# Kokoro user's voice is checked to exist in the voice package below.
KOKORO_SAMPLE = ("spk22", "spk33", "spk42", "spk46", "spk50", "spk109")  # af_alloy, am_adam, bf_alice, bm_daniel; two blends
KOKORO_USERS = set(KOKORO_SPEAKERS) | set(KOKORO_BLEND_SPEAKERS)


@pytest.mark.parametrize("user", sorted(set(SPEAKERS) - KOKORO_USERS) + list(KOKORO_SAMPLE))
def test_each_registered_user_speaks(user):
    speech = voices.synthesize(SPEAKERS[user], SENTENCE)
    assert speech.dtype == np.float32 and speech.ndim == 1
    assert 1.5 < len(speech) / 16_000 < 8.0  # about 3 s of speech at 16 kHz
    assert np.max(np.abs(speech)) <= 1.0 and np.sqrt(np.mean(speech**2)) > 0.01


def test_every_kokoro_user_names_a_voice_of_the_package():
    styles = np.load(voices._kokoro_voices_file(voices.kokoro_folder()))
    assert {voice["name"] for voice in KOKORO_SPEAKERS.values()} <= set(styles.files) and len(KOKORO_SPEAKERS) == 28
    assert all(styles[name].shape == voices.KOKORO_STYLE_SHAPE for name in styles.files)
    assert {voice["lang"] for voice in KOKORO_SPEAKERS.values()} == {"en-us", "en-gb"}
    blended = {name for voice in KOKORO_BLEND_SPEAKERS.values() for name in voice["blend"]}
    assert blended <= set(styles.files) and len(KOKORO_BLEND_SPEAKERS) == 60


def test_a_blend_sounds_between_its_two_voices():
    """A blend's style is the weighted sum of its voices' styles; with all weight on one it is that voice."""
    text = "Please enter your extension."
    alone = voices.synthesize({"engine": "kokoro", "name": "af_bella", "lang": "en-us", "speed": 1.0}, text)
    assert np.array_equal(voices.synthesize({"engine": "kokoro", "blend": {"af_bella": 1.0, "am_adam": 0.0}, "lang": "en-us", "speed": 1.0}, text), alone)
    mixed = voices.synthesize({"engine": "kokoro", "blend": {"af_bella": 0.5, "am_adam": 0.5}, "lang": "en-us", "speed": 1.0}, text)
    assert not np.array_equal(mixed[: len(alone)], alone[: len(mixed)])


def test_kokoro_without_its_voice_package_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPSC_ST_KOKORO", str(tmp_path))
    with pytest.raises(UserError, match=r"kokoro-js-1\.2\.1\.tgz is missing \(make setup runs npm pack kokoro-js@1\.2\.1"):
        voices._kokoro_voices_file(voices.kokoro_folder())
    (tmp_path / voices.KOKORO_VOICES_PACKAGE).write_bytes(b"not the package")
    with pytest.raises(UserError, match="not the expected file"):
        voices._kokoro_voices_file(voices.kokoro_folder())


@pytest.mark.parametrize("engine", ["espeak-ng", "flite", "festival", "kokoro"])
def test_deterministic_engines_repeat_themselves(engine):
    user = next(user for user, voice in SPEAKERS.items() if voice.get("engine", "espeak-ng") == engine)
    assert np.array_equal(voices.synthesize(SPEAKERS[user], "open the red door"), voices.synthesize(SPEAKERS[user], "open the red door"))


def test_text_without_letters_and_unknown_engines():
    assert voices.synthesize(SPEAKERS["spk16"], "...").shape == (0,)  # festival would crash on it
    with pytest.raises(UserError, match="unknown speech engine 'sam'"):
        voices.synthesize({"engine": "sam"}, "hello")
    assert voices.ascii_text("It\u2019s \u201cfine\u201d , ok") == 'It\'s "fine", ok'
    assert "--" not in voices.ascii_text("half blood!--But you") and voices.synthesize(SPEAKERS["spk18"], "half blood!--But you").size > 0
