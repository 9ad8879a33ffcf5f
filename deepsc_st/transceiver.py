"""The interface every system shares, and DeepSC-ST as one such system.

A *transceiver* takes speech at the transmitter and returns what the receiver
recovers: text, optionally a waveform, and the complex channel symbols it
used. A *system* is one :class:`Transceiver` subclass in its own file that
declares what it needs:

* ``name``: what users type (``--system deepsc-st``);
* ``model_kinds``: the trained models it loads (:class:`ModelKind`: the
  ``run.json`` kind, the command-line option that names its folder, the
  shipped default);
* ``options``: its own settings (:class:`SystemOption`, e.g. the polar decoder);
* ``receiver_speech``: whether and how its receiver outputs speech
  (:class:`ReceiverSpeech`);

and builds itself with ``from_parts(parts)`` from a :class:`Parts`. The
registry (:mod:`experiments.systems`), the sweep, the command line and model
lookup derive everything from these declarations, so a new system, even one
with a new kind of model, is one new file plus one registry line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from channels import Channel
from deepsc_st.checkpoint import load_run
from deepsc_st.errors import UserError
from deepsc_st.decoding import GREEDY
from deepsc_st.inference import BATCH_SIZE, received_logits, token_logits, transmitted_symbols
from deepsc_st.model import ASRModel, CTCModel, DeepSCST
from deepsc_st.remember import LastListMemory
from deepsc_st.shipped import shipped_model_dir


@dataclass
class Transmission:
    """What the receiver recovered from one utterance.

    ``text``: normalised text (tokens only). ``channel_symbols``: complex
    symbols sent over the channel for this utterance. ``waveform``: float32
    [num_samples] at 16 kHz for systems whose receiver decodes speech, else None.
    ``token_scores``: the receiver's token logits float32 [steps, 29] for
    systems that decode text from CTC token scores after the channel, else None.
    ``link_bits_per_symbol``: for systems that send bits over a digital link,
    the information bits per complex symbol of its code (the rate of the
    capacity bound, :mod:`baselines.capacity`), else None.
    """

    text: str
    channel_symbols: int
    waveform: np.ndarray | None = None
    token_scores: np.ndarray | None = None
    link_bits_per_symbol: float | None = None


class ReceiverSpeech(enum.Enum):
    """How a system's receiver outputs speech (:func:`deepsc_st.synthesis.receiver_speech`)."""

    NONE = "none"  # text only (the feature transceiver)
    DECODED = "decoded"  # speech decoded from the channel (``Transmission.waveform``)
    SYNTHESIZED = "synthesized"  # the recovered text spoken in the sender's registered voice


RUN_LABELS = {
    "asr": "an ASR-only run (trained with --channel none)",
    "deepsc-st": "a DeepSC-ST run (trained under a channel)",
    "deepsc-text": "a DeepSC text run (trained with --config text-...)",
    "codec": "a speech codec run (trained with --config codec-...)",
}


@dataclass(frozen=True)
class ModelKind:
    """A kind of trained model a system loads.

    ``name``: the ``kind`` in the run folder's ``run.json``. ``option``: the
    command-line option naming its folder. ``label``: how errors name such a
    folder. ``shipped``: the shipped model's folder name
    (:func:`deepsc_st.shipped.shipped_model_dir`), None for no default.
    Subclass and override :meth:`load` for models that are not CTC run folders.
    """

    name: str
    option: str
    label: str
    shipped: str | None = None

    @property
    def setting(self) -> str:
        """The option as a settings key: ``--asr-model`` -> ``asr_model``."""
        return self.option.lstrip("-").replace("-", "_")

    def default_dir(self, option: str | None = None) -> Path:
        """The shipped model's folder; a :class:`UserError` naming ``option`` (default :attr:`option`) when there is none."""
        folder = shipped_model_dir(self.shipped) if self.shipped else None
        if folder is None:
            raise UserError(f"no {self.name} model given and no shipped {self.shipped or self.name} model found; pass {option or self.option} RUNDIR")
        return folder

    def load(self, run_dir: Path) -> tuple[Any, dict]:
        """The trained model in ``run_dir`` and its ``run.json``; a :class:`UserError` for a run of another kind."""
        model, run = load_run(run_dir)
        if run["kind"] != self.name:
            raise UserError(f"{self.option} {run_dir} is {RUN_LABELS.get(run['kind'], repr(run['kind']))}; it takes {self.label}")
        return model, run


ASR_MODEL = ModelKind("asr", "--asr-model", RUN_LABELS["asr"], shipped="asr-small-games-texts")
DEEPSC_ST_MODEL = ModelKind("deepsc-st", "--model", RUN_LABELS["deepsc-st"], shipped="deepsc-st-small-games-texts")


@dataclass(frozen=True)
class SystemOption:
    """A setting of a system: ``name`` (settings key), ``flag`` (command line), ``default``, ``help``.

    ``choices``: the valid values, None for any; a bad value is a :class:`UserError` naming ``what``.
    ``parse``: turns a given value (a string from the command line) into the
    option's value, raising :class:`UserError` for a bad one; None keeps it.
    """

    name: str
    flag: str
    default: Any
    help: str
    choices: tuple | None = None
    what: str = "value"
    parse: Callable[[Any], Any] | None = None

    def check(self, value):
        if self.choices is not None and value not in self.choices:
            raise UserError(f"unknown {self.what} {value!r}; choose one of {', '.join(map(str, self.choices))}")
        return self.parse(value) if self.parse is not None else value


class Parts:
    """What a system is built from: model folders by kind name (None or missing: the shipped model) and option values.

    Models load on first use; :meth:`run` and :meth:`run_dir` then tell their ``run.json`` and folder.
    """

    def __init__(self, model_dirs: dict[str, Any] | None = None, options: dict[str, Any] | None = None):
        self.model_dirs = dict(model_dirs or {})
        self.options = dict(options or {})
        self._loaded: dict[str, tuple[Any, dict, Path]] = {}
        self._decoder = None

    def model(self, kind: ModelKind):
        if kind.name not in self._loaded:
            given = self.model_dirs.get(kind.name)
            run_dir = Path(given) if given is not None else kind.default_dir()
            model, run = kind.load(run_dir)
            self._loaded[kind.name] = (model, run, run_dir)
        return self._loaded[kind.name][0]

    def run(self, kind: ModelKind) -> dict:
        self.model(kind)
        return self._loaded[kind.name][1]

    def run_dir(self, kind: ModelKind) -> Path:
        self.model(kind)
        return self._loaded[kind.name][2]

    def option(self, option: SystemOption):
        return option.check(self.options.get(option.name, option.default))

    def ctc_decoder(self):
        """The receivers' CTC decoding (every system that reads token scores): greedy, or beam search with
        the ``--lm`` word language model (:data:`LM_OPTION`), loaded once."""
        if self._decoder is None:
            folder = self.option(LM_OPTION)
            if folder is None:
                self._decoder = GREEDY
            else:
                from deepsc_st.language_model import BeamSearchDecoder

                self._decoder = BeamSearchDecoder(folder)
        return self._decoder


class Transceiver:
    """Base class: ``transmit(waveforms, channel, snr_db) -> list[Transmission]``.

    ``waveforms``: list of float32 [num_samples] at 16 kHz. ``channel``: a
    :class:`channels.Channel`. ``snr_db``: Es/N0 per complex symbol in dB.
    Randomness (noise, fading) comes from Sionna's generator, seeded by the
    caller (:func:`deepsc_st.measure.measure`). The class attributes are the
    system's declarations (module docstring).
    """

    name: ClassVar[str] = "transceiver"
    model_kinds: ClassVar[tuple[ModelKind, ...]] = ()
    options: ClassVar[tuple[SystemOption, ...]] = ()
    receiver_speech: ClassVar[ReceiverSpeech] = ReceiverSpeech.NONE

    @classmethod
    def from_parts(cls, parts: Parts) -> "Transceiver":
        raise NotImplementedError

    @property
    def models(self) -> dict[str, Any]:
        """The trained models this transceiver holds, by model kind name (none by default)."""
        return {}

    def transmit(self, waveforms: list[np.ndarray], channel: Channel, snr_db: float) -> list[Transmission]:
        raise NotImplementedError


def _language_model_folder(value) -> str | None:
    """``--lm``: the folder of the language model it names (a folder or a shipped name), as a string (a sweep records it)."""
    from deepsc_st.language_model import check_language_model

    return None if value is None else str(check_language_model(value))


LM_OPTION = SystemOption(
    "lm", "--lm", None, "every system that decodes CTC token scores: a word language model (folder or shipped name; deepsc-st lm) for beam search instead of greedy decoding",
    parse=_language_model_folder,
)


class DeepSCSTTransceiver(Transceiver):
    """DeepSC-ST: semantic encoder + channel encoder -> channel -> channel decoder + CTC decoding.

    The receiver decodes the token scores with ``decoder``: greedily, or a
    :class:`deepsc_st.language_model.BeamSearchDecoder` (``--lm``).

    An ASR-only model (the semantic encoder alone) is accepted for the
    channel ``none`` only: it is what ``deepsc-st evaluate`` measures for an
    ASR run, and it sends no channel symbols.

    The transmitter's symbols do not depend on the channel or the SNR: those
    of the last :attr:`SENT_LISTS` lists are remembered by content, so a sweep
    worker runs the semantic encoder once per test set and only the channel
    and the channel decoder per cell (the same numbers: the noise is drawn
    in the same batches and order).
    """

    SENT_LISTS = 2

    name = "deepsc-st"
    model_kinds = (DEEPSC_ST_MODEL,)
    options = (LM_OPTION,)
    receiver_speech = ReceiverSpeech.SYNTHESIZED

    def __init__(self, model: CTCModel, batch_size: int = BATCH_SIZE, decoder: Callable[[list[np.ndarray]], list[str]] = GREEDY):
        self.model = model
        self.batch_size = batch_size
        self.decoder = decoder
        self._sent = LastListMemory(lambda speech: transmitted_symbols(model, speech, batch_size), lists=self.SENT_LISTS)
        if isinstance(model, ASRModel):
            self.name = ASR_MODEL.name  # measured as "asr": the ASR alone is not the deepsc-st system

    @classmethod
    def from_parts(cls, parts: Parts) -> "DeepSCSTTransceiver":
        return cls(parts.model(DEEPSC_ST_MODEL), decoder=parts.ctc_decoder())

    @property
    def models(self) -> dict[str, CTCModel]:
        return {self.name: self.model}

    def transmit(self, waveforms, channel, snr_db):
        if isinstance(self.model, DeepSCST):
            logits = received_logits(self.model, self._sent(waveforms), channel, snr_db)
            symbols_per_step = self.model.config.symbols_per_step
        elif channel.name != "none":
            raise UserError("an ASR-only model sends no channel symbols; use --channel none")
        else:
            logits, symbols_per_step = token_logits(self.model, waveforms, batch_size=self.batch_size), 0
        return [Transmission(text, len(scores) * symbols_per_step, token_scores=scores) for text, scores in zip(self.decoder(logits), logits)]

