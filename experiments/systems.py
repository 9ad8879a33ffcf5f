"""The systems a sweep or ``deepsc-st transmit`` can run, built by name.

==============  ========================================================  =================
system          chain                                                     model option
==============  ========================================================  =================
``deepsc-st``   semantic + channel encoder -> channel -> channel decoder   ``--model``
``speech``      AMR-WB -> polar + 64-QAM -> AMR-WB -> ASR                  ``--asr-model``
``text``        ASR -> Huffman -> polar + 64-QAM -> text                   ``--asr-model``
``feature``     ASR posteriors -> float32 -> polar + 64-QAM -> CTC greedy  ``--asr-model``
==============  ========================================================  =================

``--model`` is a DeepSC-ST run folder, ``--asr-model`` an ASR-only run
folder (``deepsc-st train --channel none``). When one is omitted,
:func:`default_model_dir` gives the shipped model under ``models/``.

Huffman table of the text system (``huffman_table`` / ``--huffman-table``):
a JSON file (:meth:`HuffmanTextCodec.to_json`), or a corpus folder whose
training transcripts build the code. By default the table is
``huffman.json`` in the ASR run folder; if it is missing it is built from the
training transcripts of the corpus the ASR model was trained on (``data`` in
its ``run.json``) and saved there, so the ASR and the Huffman code see the
same text. Ship ``huffman.json`` with a model whose corpus does not travel.

Adding a system: write its :class:`deepsc_st.transceiver.Transceiver` in its
own file and add one line to ``_BUILDERS``.
"""

from __future__ import annotations

import json
from pathlib import Path

from baselines.codecs import CodecUnavailable, HuffmanTextCodec
from baselines.feature_transceiver import FeatureTransceiver
from baselines.link import DECODERS, FEATURE_CODE_K, SPEECH_CODE_K, TEXT_CODE_K, DigitalLink
from baselines.speech_transceiver import SpeechTransceiver
from baselines.text_transceiver import TextTransceiver
from deepsc_st.checkpoint import load_run, write_atomically
from deepsc_st.data import read_utterances
from deepsc_st.errors import UserError
from deepsc_st.model import ASRModel, CTCModel, DeepSCST
from deepsc_st.transceiver import DeepSCSTTransceiver, Transceiver

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
DEFAULT_MODELS = {"asr": "asr-small", "deepsc-st": "deepsc-st-small"}  # run.json "kind" -> folder in MODELS_DIR
MODEL_OPTIONS = {"asr": "--asr-model", "deepsc-st": "--model"}
MODEL_LABELS = {"asr": "an ASR-only run (trained with --channel none)", "deepsc-st": "a DeepSC-ST run (trained under a channel)"}
HUFFMAN_FILE = "huffman.json"


def default_model_dir(kind: str, option: str | None = None) -> Path:
    """The shipped run folder of ``kind`` ("asr" or "deepsc-st"): ``models/asr-small`` or ``models/deepsc-st-small``.

    Raises :class:`UserError` naming the option to pass (``option``, else the transceiver's) when the folder does not exist.
    """
    folder = MODELS_DIR / DEFAULT_MODELS[kind]
    if not folder.is_dir():
        raise UserError(f"no {kind} model given and no shipped model in {folder}; pass {option or MODEL_OPTIONS[kind]} RUNDIR")
    return folder


def load_huffman_codec(huffman_table, asr_run_dir, asr_run: dict) -> HuffmanTextCodec:
    """The text system's Huffman code, from ``huffman_table`` (JSON file or corpus folder) or the default in the module docstring."""
    if huffman_table is not None:
        path = Path(huffman_table)
        if path.is_dir():
            return HuffmanTextCodec.from_transcripts(u.text for u in read_utterances(path, "train"))
        return _read_huffman_json(path)
    path = Path(asr_run_dir) / HUFFMAN_FILE
    if path.is_file():
        return _read_huffman_json(path)
    corpus = Path(asr_run["data"])
    if not corpus.is_dir():
        raise UserError(
            f"{path} is missing and the ASR model's training corpus {corpus} is not there to build it; "
            "pass --huffman-table JSON_OR_CORPUS"
        )
    codec = HuffmanTextCodec.from_transcripts(u.text for u in read_utterances(corpus, "train"))
    write_atomically(path, lambda p: Path(p).write_text(codec.to_json() + "\n"))
    return codec


def _read_huffman_json(path: Path) -> HuffmanTextCodec:
    try:
        return HuffmanTextCodec.from_json(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: no such Huffman table or corpus folder") from None
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise UserError(f"{path}: not a Huffman table ({str(error).splitlines()[0][:120]})") from None


class _Parts:
    """What the builders take from one :func:`build_transceiver` call; models load on first use."""

    def __init__(self, asr_run_dir, deepsc_run_dir, huffman_table, decoder: str):
        self.run_dirs = {"asr": asr_run_dir, "deepsc-st": deepsc_run_dir}
        self.runs = {}  # kind -> run.json of the loaded model
        self.huffman_table = huffman_table
        self.decoder = decoder

    def model(self, kind: str) -> CTCModel:
        """The trained model of ``kind`` ("asr" -> ASRModel, "deepsc-st" -> DeepSCST)."""
        run_dir = self.run_dirs[kind] if self.run_dirs[kind] is not None else default_model_dir(kind)
        self.run_dirs[kind] = run_dir
        model, run = load_run(run_dir)
        if run["kind"] != kind:
            raise UserError(f"{MODEL_OPTIONS[kind]} {run_dir} is {MODEL_LABELS[run['kind']]}; it takes {MODEL_LABELS[kind]}")
        self.runs[kind] = run
        return model

    def asr(self) -> ASRModel:
        return self.model("asr")

    def deepsc(self) -> DeepSCST:
        return self.model("deepsc-st")

    def huffman(self) -> HuffmanTextCodec:
        """Call after :meth:`asr` (the default table lives in the ASR run folder)."""
        return load_huffman_codec(self.huffman_table, self.run_dirs["asr"], self.runs["asr"])

    def link(self, k: int) -> DigitalLink:
        return DigitalLink(k=k, decoder=self.decoder)


_BUILDERS = {
    "deepsc-st": lambda parts: DeepSCSTTransceiver(parts.deepsc()),
    "speech": lambda parts: SpeechTransceiver(parts.asr(), link=parts.link(SPEECH_CODE_K)),
    "text": lambda parts: TextTransceiver(parts.asr(), parts.huffman(), link=parts.link(TEXT_CODE_K)),
    "feature": lambda parts: FeatureTransceiver(parts.asr(), link=parts.link(FEATURE_CODE_K)),
}
SYSTEMS = tuple(_BUILDERS)


def build_transceiver(name: str, asr_run_dir=None, deepsc_run_dir=None, huffman_table=None, decoder: str = "fast") -> Transceiver:
    """The transceiver of system ``name`` (one of :data:`SYSTEMS`), ready to ``transmit``.

    ``asr_run_dir``: ASR-only run folder (speech, text, feature);
    ``deepsc_run_dir``: DeepSC-ST run folder (deepsc-st); omitted ones
    default to :func:`default_model_dir`. ``huffman_table``: see the module
    docstring. ``decoder``: the link's polar decoder, "fast" or "sionna".
    Unknown names, missing or wrong models, and a missing AMR-WB library raise
    :class:`UserError`.
    """
    if name not in _BUILDERS:
        raise UserError(f"unknown system {name!r}; choose one of {', '.join(SYSTEMS)}")
    if decoder not in DECODERS:
        raise UserError(f"unknown polar decoder {decoder!r}; choose one of {', '.join(DECODERS)}")
    try:
        return _BUILDERS[name](_Parts(asr_run_dir, deepsc_run_dir, huffman_table, decoder))
    except CodecUnavailable as error:
        raise UserError(str(error)) from None
