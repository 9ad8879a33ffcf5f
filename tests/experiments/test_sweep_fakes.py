"""Cheap transceivers for the sweep tests (no tests here; spawned workers import this module).

They know the test corpus's transcripts (folder in ``$SWEEP_FAKE_CORPUS``)
and recognise each waveform by a hash of its samples, so no model is needed:

* ``oracle``: the transcript, untouched, one symbol per character; its
  receiver synthesises speech, like DeepSC-ST's;
* ``qpsk``: each character's token id as 6 bits (3 QPSK symbols) over the
  given channel at the given SNR, hard decisions: CER falls with SNR and the
  numbers depend on the noise draws (what the sweep's seeding must fix); a
  digital link of 2 bits per symbol (its capacity bound: 4.77 dB over AWGN);
* ``unfit``: a digital system whose bits never fit (:class:`LinkDoesNotFit`);
* ``echo``: the sent speech comes back as decoded speech, untouched (PESQ
  and STOI at their best), with its transcript.

With ``$SWEEP_FAKE_KILL_AFTER = N`` the process SIGKILLs itself when asked
for its (N+1)-th transmission: a sweep (or a worker) killed mid-way. With
``$SWEEP_FAKE_DELAY = S`` every transmission takes S seconds more.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time

import numpy as np
import tensorflow as tf

from baselines.link_policy import LinkDoesNotFit
from deepsc_st.audio import load_audio
from deepsc_st.data import read_utterances
from deepsc_st.tokens import TOKENS, ids_to_text, text_to_ids
from deepsc_st.transceiver import ReceiverSpeech, Transceiver, Transmission
from experiments.systems import Registry

CORPUS_ENV = "SWEEP_FAKE_CORPUS"
KILL_ENV = "SWEEP_FAKE_KILL_AFTER"
DELAY_ENV = "SWEEP_FAKE_DELAY"
BITS_PER_TOKEN = 6

_transmissions = 0


def _key(waveform: np.ndarray) -> str:
    return hashlib.sha1(waveform.tobytes()).hexdigest()


class _Fake(Transceiver):
    """Recognises each test waveform by the hash of its samples."""

    def __init__(self):
        self.transcripts = {
            _key(load_audio(u.wav_path, allow_silent=True)): u.text for u in read_utterances(os.environ[CORPUS_ENV], "all")
        }

    @classmethod
    def from_parts(cls, parts):
        return cls()

    def transmit(self, waveforms, channel, snr_db):
        global _transmissions
        _transmissions += 1
        if _transmissions > int(os.environ.get(KILL_ENV, "1000000")):
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(float(os.environ.get(DELAY_ENV, "0")))
        return [self.send(self.transcripts[_key(w)], channel, snr_db) for w in waveforms]


class Oracle(_Fake):
    name = "oracle"
    receiver_speech = ReceiverSpeech.SYNTHESIZED

    def send(self, text, channel, snr_db):
        return Transmission(text, len(text))


class Qpsk(_Fake):
    name = "qpsk"

    def send(self, text, channel, snr_db):
        bits = ((text_to_ids(text)[:, None] >> np.arange(BITS_PER_TOKEN)) & 1).reshape(-1, 2)
        symbols = ((1 - 2 * bits[:, 0]) + 1j * (1 - 2 * bits[:, 1])) / np.sqrt(2)
        received = channel(tf.constant(symbols[None], tf.complex64), snr_db).symbols.numpy()[0]
        decided = np.stack([received.real < 0, received.imag < 0], axis=1).astype(np.int64).reshape(-1, BITS_PER_TOKEN)
        ids = (decided << np.arange(BITS_PER_TOKEN)).sum(axis=1) % len(TOKENS)
        return Transmission(ids_to_text(ids), len(symbols), link_bits_per_symbol=2.0)


class Unfit(_Fake):
    name = "unfit"

    def send(self, text, channel, snr_db):
        raise LinkDoesNotFit(f"{6 * len(text)} bits in a budget of 1 symbol need {6 * len(text)} bits per symbol")


class Echo(_Fake):
    name = "echo"
    receiver_speech = ReceiverSpeech.DECODED

    def transmit(self, waveforms, channel, snr_db):
        return [Transmission(self.transcripts[_key(w)], len(w) // 100, waveform=w) for w in waveforms]


FAKES = Registry((Oracle, Qpsk, Unfit, Echo))
