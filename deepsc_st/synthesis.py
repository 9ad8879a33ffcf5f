"""Speech synthesis at the receiver: recognised text -> speech in a registered user's voice.

The receiver of DeepSC-ST (and of the text transceiver) recovers text; for a
listener it speaks that text again with the voice registered for the sender's
user ID (paper section III-D). A :class:`Synthesizer` maps (text, user ID) to
a float32 waveform at 16 kHz. The transceivers never call it themselves: the
caller passes what they recovered to :func:`receiver_speech`, so another
backend (a neural TTS) is one new subclass of :class:`Synthesizer`.

>>> synthesizer = RegisteredVoices()
>>> synthesizer.synthesize("the cat sat on the mat", "spk03").shape  # doctest: +SKIP
(27348,)
"""

from __future__ import annotations

import numpy as np

from deepsc_st import voices
from deepsc_st.corpus import SPEAKERS
from deepsc_st.errors import UserError
from deepsc_st.transceiver import ReceiverSpeech, Transceiver, Transmission

SILENCE_SAMPLES = 1_600  # 0.1 s: the speech of an empty transcript
DEFAULT_USER = "spk00"


class Synthesizer:
    """Base class: ``synthesize(text, user) -> float32 [num_samples]`` at 16 kHz, for ``users``."""

    users: tuple[str, ...] = ()

    def synthesize(self, text: str, user: str) -> np.ndarray:
        raise NotImplementedError

    def deterministic(self, user: str) -> bool:
        """Whether ``user``'s voice gives the same samples for the same text every time (safe to remember)."""
        return False

    def check_user(self, user: str) -> None:
        """A one-line :class:`UserError` listing the registered users when ``user`` is not one."""
        if user not in self.users:
            raise UserError(f"unknown user {user!r}; registered users: {', '.join(self.users)}")


class RegisteredVoices(Synthesizer):
    """Each user speaks with the voice registered for them (:data:`deepsc_st.corpus.SPEAKERS`, any engine of
    :mod:`deepsc_st.voices`): the corpus's own voices.

    ``speakers``: user ID -> voice settings (default: every registered user).
    """

    def __init__(self, speakers: dict[str, dict] | None = None):
        self.speakers = dict(SPEAKERS if speakers is None else speakers)
        self.users = tuple(self.speakers)

    def synthesize(self, text: str, user: str) -> np.ndarray:
        self.check_user(user)
        if not text.strip():
            return np.zeros(SILENCE_SAMPLES, np.float32)
        return voices.synthesize(self.speakers[user], text)

    def deterministic(self, user: str) -> bool:
        return voices.is_deterministic(self.speakers[user])


class PiperSynthesizer(RegisteredVoices):
    """Piper's neural voice (en_US-joe-medium) for every user; a Piper user keeps their own settings."""

    def synthesize(self, text: str, user: str) -> np.ndarray:
        self.check_user(user)
        voice = self.speakers[user] if self.speakers[user].get("engine") == "piper" else PIPER_DEFAULT
        return voices.synthesize(voice, text) if text.strip() else np.zeros(SILENCE_SAMPLES, np.float32)

    def deterministic(self, user: str) -> bool:
        return False


class RememberingSynthesizer(Synthesizer):
    """``synthesizer`` that remembers what deterministic voices said during the current and the previous cell.

    A sweep speaks each cell's recovered texts; at high SNR most are the
    previous cell's again. Call :meth:`next_cell` before each cell; memory
    stays at two cells' worth. Speech of other voices (Piper) is made anew.
    """

    def __init__(self, synthesizer: Synthesizer):
        self.synthesizer = synthesizer
        self.users = synthesizer.users
        self._previous: dict[tuple[str, str], np.ndarray] = {}
        self._current: dict[tuple[str, str], np.ndarray] = {}

    def next_cell(self) -> None:
        self._previous, self._current = self._current, {}

    def synthesize(self, text: str, user: str) -> np.ndarray:
        if not self.synthesizer.deterministic(user):
            return self.synthesizer.synthesize(text, user)
        key = (text, user)
        if key not in self._current:
            self._current[key] = self._previous[key] if key in self._previous else self.synthesizer.synthesize(text, user)
        return self._current[key]

    def deterministic(self, user: str) -> bool:
        return self.synthesizer.deterministic(user)


PIPER_DEFAULT = {"engine": "piper", "length_scale": 1.0, "noise_scale": 0.667, "noise_w_scale": 0.8}  # Piper's own defaults
SYNTHESIZERS = {"registered": RegisteredVoices, "piper": PiperSynthesizer}
DEFAULT_SYNTHESIZER = "registered"


def make_synthesizer(name: str = DEFAULT_SYNTHESIZER) -> Synthesizer:
    """The receiver's synthesiser by name (:data:`SYNTHESIZERS`); a :class:`UserError` for an unknown one."""
    if name not in SYNTHESIZERS:
        raise UserError(f"unknown synthesizer {name!r}; choose one of {', '.join(SYNTHESIZERS)}")
    return SYNTHESIZERS[name]()


def receiver_speech(transceiver: Transceiver, transmission: Transmission, synthesizer: Synthesizer, user: str) -> np.ndarray | None:
    """The speech ``transceiver``'s receiver outputs for one :class:`deepsc_st.transceiver.Transmission`.

    Its ``receiver_speech`` (:class:`deepsc_st.transceiver.ReceiverSpeech`)
    says how: DECODED (the speech transceiver's codec output), SYNTHESIZED
    (the recovered text spoken in ``user``'s voice: DeepSC-ST, the text
    transceiver) or NONE (no speech: features only).
    Returns float32 [num_samples] at 16 kHz, or None.
    """
    if transceiver.receiver_speech is ReceiverSpeech.DECODED:
        return transmission.waveform
    if transceiver.receiver_speech is ReceiverSpeech.SYNTHESIZED:
        return synthesizer.synthesize(transmission.text, user)
    return None
