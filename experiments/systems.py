"""The systems a sweep or ``deepsc-st transmit`` can run: the registry.

==============  ========================================================  =================
system          chain                                                     model option
==============  ========================================================  =================
``deepsc-st``   semantic + channel encoder -> channel -> channel decoder   ``--model``
``speech``      AMR-WB -> polar + 64-QAM -> AMR-WB -> ASR                  ``--asr-model``
``text``        ASR -> Huffman -> polar + 64-QAM -> text                   ``--asr-model``
``feature``     ASR posteriors -> float32 -> polar + 64-QAM -> CTC greedy  ``--asr-model``
``sr-deepsc``   ASR -> DeepSC text transformer -> channel -> text          ``--asr-model``, ``--text-model``
==============  ========================================================  =================

Each system declares its model kinds, options and receiver speech
(:mod:`deepsc_st.transceiver`); a :class:`Registry` derives the rest: the
model options of the command line and the sweep, the option flags, which
shipped model a kind defaults to. Adding a system: write its
:class:`deepsc_st.transceiver.Transceiver` subclass in its own file and add
it to :data:`PROJECT_SYSTEMS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from baselines.codec_transceiver import CodecTransceiver
from baselines.codecs import CodecUnavailable
from baselines.feature_transceiver import FeatureTransceiver
from baselines.speech_transceiver import SpeechTransceiver
from baselines.sr_deepsc_transceiver import SRDeepSCTransceiver
from baselines.text_transceiver import TextTransceiver
from deepsc_st.errors import UserError
from deepsc_st.shipped import model_folder
from deepsc_st.transceiver import DeepSCSTTransceiver, ModelKind, Parts, SystemOption, Transceiver


@dataclass(frozen=True)
class Registry:
    """Systems by name, in the order of tables and legends.

    ``systems``: :class:`Transceiver` subclasses defined at module level
    (sweep workers are spawned processes that import them by name).
    """

    systems: tuple[type[Transceiver], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(system.name for system in self.systems)

    @property
    def model_kinds(self) -> tuple[ModelKind, ...]:
        """Every model kind a system needs, each once, in declaration order."""
        return tuple({kind.name: kind for system in self.systems for kind in system.model_kinds}.values())

    @property
    def options(self) -> tuple[SystemOption, ...]:
        """Every system option, each once, in declaration order."""
        return tuple({option.name: option for system in self.systems for option in system.options}.values())

    def system(self, name: str) -> type[Transceiver]:
        for system in self.systems:
            if system.name == name:
                return system
        raise UserError(f"unknown system {name!r}; choose one of {', '.join(self.names)}")

    def model_dirs(self, given: dict[str, str | None]) -> dict[str, Path | None]:
        """Model kind name -> folder: the one ``given`` (by kind name), else the shipped one, else None.

        Given folders of kinds no system declares are kept (the sweep's speech
        quality uses an ASR model whatever the systems). A given folder that
        does not exist is a :class:`UserError` naming its option.
        """
        options = {kind.name: kind.option for kind in self.model_kinds}
        dirs = {}
        for name, folder in given.items():
            dirs[name] = None if folder is None else model_folder(folder)
            if dirs[name] is not None and not dirs[name].is_dir():
                raise UserError(f"{options.get(name, name)} {folder}: no such model folder or shipped model")
        for kind in self.model_kinds:
            if dirs.get(kind.name) is None:
                try:
                    dirs[kind.name] = kind.default_dir()
                except UserError:
                    dirs[kind.name] = None
        return dirs

    def build(self, name: str, model_dirs: dict | None = None, options: dict | None = None, parts: Parts | None = None) -> Transceiver:
        """The transceiver of system ``name``, ready to ``transmit``.

        ``model_dirs``: model kind name -> run folder (missing or None: the
        shipped model). ``options``: option name -> value (missing: its default).
        ``parts``: instead of those two, a :class:`Parts` that other systems share (their models load once).
        Unknown names, bad option values, missing or wrong models, and a
        missing AMR-WB library raise :class:`UserError`.
        """
        return self._build(self.system(name), parts if parts is not None else Parts(model_dirs, options))

    def build_each(self, model_dirs: dict | None = None, options: dict | None = None) -> dict[str, Transceiver | UserError]:
        """Every system by name: its transceiver, or the :class:`UserError` that stops it building.

        The systems share one :class:`Parts`, so a model two systems use (the ASR) loads once.
        """
        parts = Parts(model_dirs, options)
        built = {}
        for system in self.systems:
            try:
                built[system.name] = self._build(system, parts)
            except UserError as error:
                built[system.name] = error
        return built

    @staticmethod
    def _build(system: type[Transceiver], parts: Parts) -> Transceiver:
        for option in system.options:
            parts.option(option)  # a bad value fails before any model loads
        try:
            return system.from_parts(parts)
        except CodecUnavailable as error:
            raise UserError(str(error)) from None


PROJECT_SYSTEMS = Registry((DeepSCSTTransceiver, SpeechTransceiver, TextTransceiver, FeatureTransceiver, SRDeepSCTransceiver, CodecTransceiver))
