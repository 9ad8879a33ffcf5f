"""FDSD / KDSD of the speech each system's receiver outputs (paper Figs. 7-8), and PESQ / STOI of decoded speech.

A sweep cell's received speech is what :func:`deepsc_st.synthesis.receiver_speech`
gives: DeepSC-ST's and the text transceiver's recovered text spoken in the
sender's voice, or the speech transceiver's decoded AMR-WB. Its distance is
taken to *reference* speech: real recordings of other utterances (by default
the corpus's validation split), not the test utterances themselves, because
KDSD's unbiased estimate reads low for paired sets (a received utterance next
to its own original; see :func:`deepsc_st.speech_distance.kernel_distance`).
The *ground truth* is the test transcripts themselves through the synthesiser,
the best a synthesising receiver can do.

Users: the embedded corpus records each utterance's speaker
(``utterance_speakers.json``); other corpora are spoken by
:data:`deepsc_st.synthesis.DEFAULT_USER`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepsc_st.audio_quality import mean_quality, utterance_quality
from deepsc_st.checkpoint import load_run
from deepsc_st.remember import PerItemMemory
from deepsc_st.speech_distance import asr_speech_features, frechet_distance, kernel_distance
from deepsc_st.synthesis import DEFAULT_USER, RegisteredVoices, RememberingSynthesizer, receiver_speech
from deepsc_st.transceiver import ReceiverSpeech

SPEAKER_TABLE = "utterance_speakers.json"
# PESQ / STOI are scored on a cell's first 40 utterances, those a 40-utterance sweep scores: PESQ takes 0.1 s per
# utterance of clean speech and up to 0.4 s on a broken link's (P.862 realigns its bad intervals), so at 200 utterances
# per cell the nine cells that score them took 474 of a grid's 1,890 cell-seconds (2026-12-02), 202 with these 40.
# Over the first 40 instead of all 200, the nine means moved by 0.002-0.03 (PESQ) and 0.0002-0.01 (STOI)
DECODED_QUALITY_UTTERANCES = 40


def sender_users(data_dir, utterance_ids: list[str]) -> list[str]:
    """The user ID of each utterance's speaker from the corpus's speaker table, else :data:`DEFAULT_USER`."""
    table_path = Path(data_dir) / SPEAKER_TABLE
    table = json.loads(table_path.read_text()) if table_path.is_file() else {}
    known = set(RegisteredVoices().users)
    return [table[i] if table.get(i) in known else DEFAULT_USER for i in utterance_ids]


@dataclass
class SpeechQualitySetup:
    """What a sweep worker needs to score received speech.

    ``asr_run_dir``: the ASR-only run whose features FDSD / KDSD use.
    ``reference``: float32 16 kHz waveforms of real speech (>= 2).
    ``users``: the sender's user ID for each test utterance, in order.
    ``decoded_quality_snrs``: the SNRs (dB) at which PESQ / STOI of decoded
    speech are measured (0.1-0.4 s per utterance); None: at every SNR.
    ``decoded_quality_utterances``: over how many of a cell's first
    utterances they are measured (None: all).
    """

    asr_run_dir: Path
    reference: list[np.ndarray]
    users: list[str]
    decoded_quality_snrs: tuple[float, ...] | None = None
    decoded_quality_utterances: int | None = DECODED_QUALITY_UTTERANCES


class SpeechQualityMeter:
    """Scores lists of received speech against the reference set (features computed once)."""

    def __init__(self, setup: SpeechQualitySetup, model=None):
        """``model``: the ASR of ``setup.asr_run_dir`` if the caller has it loaded already (shared with its systems)."""
        self.model = model if model is not None else load_run(setup.asr_run_dir)[0]
        self.users = setup.users
        self.decoded_quality_snrs = setup.decoded_quality_snrs
        self.decoded_quality_utterances = setup.decoded_quality_utterances
        self.synthesizer = RememberingSynthesizer(RegisteredVoices())  # error-free cells speak the same texts again
        self.reference_features = asr_speech_features(self.model, setup.reference)
        self.quality_scores = PerItemMemory(utterance_quality)  # error-free cells decode the same speech again

    def distances(self, speech: list[np.ndarray]) -> dict:
        """{"fdsd", "kdsd"} of float32 16 kHz waveforms (>= 2) against the reference set."""
        features = asr_speech_features(self.model, speech)  # remembered: a decoded cell's speech was just recognised
        return {"fdsd": frechet_distance(self.reference_features, features), "kdsd": kernel_distance(self.reference_features, features)}

    def measure(self, transceiver, transmissions, sent: list[np.ndarray], snr_db: float) -> dict:
        """FDSD / KDSD of what ``transceiver``'s receiver outputs for ``transmissions`` (None each if no speech),
        and for a receiver that decodes the sent speech (AMR-WB, the codec) PESQ (wb) / STOI against ``sent``
        (:func:`deepsc_st.audio_quality.mean_quality`) over the first ``decoded_quality_utterances`` at the setup's
        ``decoded_quality_snrs``, with "quality_utterances", how many PESQ scored; None each for the others."""
        if transceiver.receiver_speech is ReceiverSpeech.NONE:
            return {"fdsd": None, "kdsd": None}
        self.synthesizer.next_cell()
        speech = [receiver_speech(transceiver, t, self.synthesizer, user) for t, user in zip(transmissions, self.users)]
        quality = {}
        if transceiver.receiver_speech is ReceiverSpeech.DECODED and (self.decoded_quality_snrs is None or snr_db in self.decoded_quality_snrs):
            count = self.decoded_quality_utterances
            quality = mean_quality(sent[:count], speech[:count], scores=self.quality_scores)
            quality["quality_utterances"] = quality["scored"]["pesq"]
        return {**self.distances(speech), **{name: quality.get(name) for name in ("pesq", "stoi", "quality_utterances")}}

    def ground_truth(self, transcripts: list[str]) -> dict:
        """FDSD / KDSD of the test transcripts spoken by the synthesiser in each sender's voice."""
        return self.distances([self.synthesizer.synthesize(text, user) for text, user in zip(transcripts, self.users)])
