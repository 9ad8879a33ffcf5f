"""The one measurement path: a transceiver, utterances, a channel, an SNR and a seed -> CER, WER, symbols.

``deepsc-st evaluate``, the model cards (``deepsc-st ship``) and every sweep
cell call :func:`measure`, on utterances loaded by
:func:`deepsc_st.data.load_utterances`, so the same model, utterances,
channel, SNR and seed give the same number wherever it is printed.

Seeding: every random draw of a measurement (Sionna's generator for noise,
fading and pad bits; the Keras/TensorFlow/NumPy/Python globals) is seeded
with :func:`measurement_seed`, which depends only on the seed the user gave
and the measurement's coordinates (system, channel, SNR). A number therefore
does not depend on what was measured before it, nor on which sweep worker
measured it.

>>> result = measure(DeepSCSTTransceiver(model), load_utterances("data/synth", "test"), make_channel("awgn"), 0.0)  # doctest: +SKIP
>>> result.cer, result.symbols_per_16000_samples  # doctest: +SKIP
(0.0508, 502.3)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras
import sionna.phy

from channels import Channel
from deepsc_st.data import LoadedUtterance
from deepsc_st.frontend import SAMPLE_RATE
from deepsc_st.metrics import cer_interval, character_error_rate, word_error_rate
from deepsc_st.seeds import seed_from
from deepsc_st.transceiver import Transceiver, Transmission

EXAMPLES = 3  # utterances shown as sent / received pairs


def measurement_seed(seed: int, system: str, channel: str, snr_db: float) -> int:
    """A seed in [0, 2**32) for one measurement, from the user's ``seed`` and the measurement's coordinates."""
    return seed_from(seed, system, channel, float(snr_db))


@dataclass
class Measurement:
    """One system over one channel at one SNR on a list of utterances.

    ``snr_db``: Es/N0 per complex symbol, dB. ``cer`` / ``wer``: corpus error
    rates (jiwer). ``cer_low`` / ``cer_high``: the CER's 95 % bootstrap
    interval over utterances (:func:`deepsc_st.metrics.cer_interval`, seeded by ``cell_seed``). ``symbols_per_16000_samples``: complex channel symbols per
    second of speech at 16 kHz. ``seed``: the seed given; ``cell_seed``: the
    one every draw used (:func:`measurement_seed`). ``elapsed_s``: wall time.
    ``examples``: the first utterances as {"id", "reference", "hypothesis"}.
    ``link_bits_per_symbol``: for digital links, information bits per complex
    symbol of the code, averaged over the symbols sent; None for other systems.
    ``symbols_per_utterance``: mean complex symbols sent per utterance.
    ``transmissions``: what the receiver recovered, one per utterance (not stored).
    """

    system: str
    channel: str
    snr_db: float
    cer: float
    wer: float
    utterances: int
    symbols_per_16000_samples: float
    seed: int
    cell_seed: int
    elapsed_s: float
    examples: list[dict[str, str]] = field(default_factory=list)
    link_bits_per_symbol: float | None = None
    cer_low: float | None = None
    cer_high: float | None = None
    symbols_per_utterance: float | None = None
    transmissions: list[Transmission] = field(default_factory=list, repr=False)

    def row(self) -> dict:
        """The stored fields as a dict (everything but ``transmissions``)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "transmissions"}


def measure(transceiver: Transceiver, utterances: list[LoadedUtterance], channel: Channel, snr_db: float, seed: int = 0, transcripts: bool = False) -> Measurement:
    """Send ``utterances`` through ``transceiver`` over ``channel`` at ``snr_db`` (Es/N0, dB) and score the text.

    ``transcripts``: send the reference transcripts instead of the speech, through
    the transceiver's text link alone (``transmit_text``, e.g. SR+DeepSC's DeepSC
    part); measured as system ``<name>:text``.
    """
    system = f"{transceiver.name}:text" if transcripts else transceiver.name
    cell_seed = measurement_seed(seed, system, channel.name, snr_db)
    sionna.phy.config.seed = cell_seed
    keras.utils.set_random_seed(cell_seed)
    start = time.perf_counter()
    if transcripts:
        received = transceiver.transmit_text([item.utterance.text for item in utterances], channel, float(snr_db))
    else:
        received = transceiver.transmit([item.waveform for item in utterances], channel, float(snr_db))
    elapsed = time.perf_counter() - start
    references = [item.utterance.text for item in utterances]
    hypotheses = [r.text for r in received]
    samples = sum(len(item.waveform) for item in utterances)
    low, high = cer_interval(references, hypotheses, seed=cell_seed) if utterances else (None, None)
    return Measurement(
        system=system,
        channel=channel.name,
        snr_db=float(snr_db),
        cer=character_error_rate(references, hypotheses),
        wer=word_error_rate(references, hypotheses),
        utterances=len(utterances),
        symbols_per_16000_samples=sum(r.channel_symbols for r in received) * SAMPLE_RATE / samples,
        seed=seed,
        cell_seed=cell_seed,
        elapsed_s=elapsed,
        examples=[
            {"id": item.utterance.id, "reference": ref, "hypothesis": hyp}
            for item, ref, hyp in zip(utterances[:EXAMPLES], references, hypotheses)
        ],
        link_bits_per_symbol=_link_bits_per_symbol(received),
        cer_low=low,
        cer_high=high,
        symbols_per_utterance=sum(r.channel_symbols for r in received) / len(received) if received else None,
        transmissions=received,
    )


def cer_by_folder(measurement: Measurement, utterances: list[LoadedUtterance]) -> dict[str, float]:
    """The corpus CER of each first-level folder of the utterance ids (``asterisk/agent-pass`` -> ``asterisk``),
    e.g. each source of the human dev set; empty when the ids have no folders."""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for item, received in zip(utterances, measurement.transmissions):
        if "/" in item.utterance.id:
            references, hypotheses = groups.setdefault(item.utterance.id.split("/")[0], ([], []))
            references.append(item.utterance.text)
            hypotheses.append(received.text)
    return {folder: character_error_rate(*groups[folder]) for folder in sorted(groups)}


def _link_bits_per_symbol(received: list[Transmission]) -> float | None:
    """Information bits per complex symbol of the digital link's code, weighted by symbols; None without a link."""
    sent = [(r.link_bits_per_symbol, r.channel_symbols) for r in received if r.link_bits_per_symbol is not None]
    symbols = sum(s for _, s in sent)
    return sum(rate * s for rate, s in sent) / symbols if sent and symbols else None
