"""A word n-gram language model for the receiver's CTC decoding: KenLM counts it, pyctcdecode searches with it.

Greedy decoding (:mod:`deepsc_st.decoding`) spells what each frame sounds
like; a beam search over the same token scores, weighted by a word language
model, prefers hypotheses made of likely word sequences. The model is counted
by KenLM's ``lmplz`` (modified Kneser-Ney) from the **train split's**
transcripts of one or more corpora and, optionally, every usable sentence of
the corpus's text sources (:func:`deepsc_st.corpus.text_pool`: more words and
word sequences than any corpus speaks), less every sentence that a
validation or test split of those corpora (or of others named to be held
out) speaks, and stored as a KenLM binary beside its word list and facts:

``DIR/words.arpa.bin``  KenLM binary (trie)
``DIR/unigrams.txt``    every word of the model, one per line (pyctcdecode's vocabulary)
``DIR/lm.json``         order, corpora (seed and checksum), sentence and word counts

>>> build_language_model(["data/mixed-texts"], "runs/lm")  # doctest: +SKIP
>>> BeamSearchDecoder("runs/lm")(logits_per_utterance)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.special

from deepsc_st.data import corpus_facts, read_utterances
from deepsc_st.errors import UserError
from deepsc_st.shipped import model_folder
from deepsc_st.tokens import BLANK_INDEX, TOKENS

DEFAULT_ORDER = 4
MEASURED_SPLITS = ("validation", "test", "test_heldout")
BINARY_FILE = "words.arpa.bin"
UNIGRAMS_FILE = "unigrams.txt"
FACTS_FILE = "lm.json"
# pyctcdecode's own defaults (language model weight, word insertion bonus), not tuned on any of our data
DEFAULT_ALPHA, DEFAULT_BETA, DEFAULT_BEAM_WIDTH = 0.5, 1.0, 32


def kenlm_tool(name: str) -> str:
    """The path of KenLM's ``lmplz`` or ``build_binary``: beside this Python (make setup builds them there) or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        raise UserError(f"KenLM's {name} is missing: make setup builds it into {beside.parent}")
    return found


def _run(command: list[str], stdin=None, stdout=subprocess.DEVNULL) -> None:
    result = subprocess.run(command, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise UserError(f"{Path(command[0]).name} failed: {last}")


def measured_sentences(corpora: list) -> set[str]:
    """Every transcript of the splits that measure a model (validation, test, test_heldout) of ``corpora``;
    all of a folder without ``splits.json`` (recordings with transcripts, e.g. the human dev set)."""
    measured = set()
    for corpus in corpora:
        splits_file = Path(corpus) / "splits.json"
        splits = json.loads(splits_file.read_text()) if splits_file.is_file() else {"all": True}
        for split in [name for name in (*MEASURED_SPLITS, "all") if splits.get(name)]:
            measured |= {utterance.text for utterance in read_utterances(corpus, split)}
    return measured


def quotes(sentence: str, sentences: set[str], min_words: int = 3) -> bool:
    """Whether ``sentence`` contains one of ``sentences`` of at least ``min_words`` words as a run of whole words
    (a fortune cookie can quote a telephone prompt of the human dev set)."""
    words = sentence.split()
    return any(" ".join(words[start:stop]) in sentences
               for start in range(len(words)) for stop in range(start + min_words, len(words) + 1))


def build_language_model(corpora: list, out_dir, order: int = DEFAULT_ORDER, hold_out: list = (), texts: tuple = ()) -> dict:
    """Count an ``order``-gram word model of the train-split transcripts of ``corpora`` and the usable sentences
    of the text sources ``texts`` (e.g. ("austen", "fortunes")) into ``out_dir``; its facts.

    Corpora made with other seeds or sizes share sentences across splits: a train sentence of one can be a
    test sentence of another. Sentences found in a measured split of any of ``corpora`` or ``hold_out``
    are left out, so the model never knows a sentence that any of them tests with.
    """
    if order < 2:
        raise UserError(f"--order must be at least 2, got {order}")
    if (Path(out_dir) / FACTS_FILE).is_file():
        raise UserError(f"{out_dir} already holds a language model; choose a new --out folder")
    sentences, described, measured = [], [], measured_sentences([*corpora, *hold_out])
    for corpus in corpora:
        spoken = [utterance.text for utterance in read_utterances(corpus, "train") if utterance.text not in measured]
        described.append({**corpus_facts(corpus), "sentences": len(spoken)})
        sentences += spoken
    if texts:  # the sources' sentences that no corpus above trains with (those are counted once, as spoken)
        from deepsc_st.corpus import text_pool

        known = measured | set(sentences)
        unspoken = [normalized for _, normalized in text_pool(tuple(texts))[0] if normalized not in known and not quotes(normalized, measured)]
        described.append({"texts": list(texts), "sentences": len(unspoken)})
        sentences += unspoken
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        text_file, arpa_file = Path(scratch) / "text.txt", Path(scratch) / "words.arpa"
        text_file.write_text("\n".join(sentences) + "\n", encoding="utf-8")
        with text_file.open() as text, arpa_file.open("w") as arpa:
            _run([kenlm_tool("lmplz"), "-o", str(order), "--discount_fallback", "-S", "20%", "-T", scratch], stdin=text, stdout=arpa)
        _run([kenlm_tool("build_binary"), "trie", str(arpa_file), str(out_dir / BINARY_FILE)])
    words = sorted({word for sentence in sentences for word in sentence.split()})
    (out_dir / UNIGRAMS_FILE).write_text("\n".join(words) + "\n", encoding="utf-8")
    facts = {"order": order, "corpora": described, "held_out_from": [str(corpus) for corpus in [*corpora, *hold_out]],
             "held_out_sentences": len(measured), "sentences": len(sentences),
             "words": sum(len(sentence.split()) for sentence in sentences), "vocabulary": len(words),
             "counted_by": "KenLM lmplz (modified Kneser-Ney), --discount_fallback"}
    (out_dir / FACTS_FILE).write_text(json.dumps(facts, indent=1) + "\n", encoding="utf-8")
    return facts


def check_language_model(lm_dir) -> Path:
    """The folder of a language model made by :func:`build_language_model`: ``lm_dir`` itself, or the shipped
    model of that name (:mod:`deepsc_st.shipped`, e.g. ``lm-words``); else a :class:`UserError`."""
    lm_dir = model_folder(lm_dir)
    missing = [name for name in (BINARY_FILE, UNIGRAMS_FILE) if not (lm_dir / name).is_file()]
    if missing:
        raise UserError(f"--lm {lm_dir}: no language model there ({missing[0]} missing); make one with deepsc-st lm")
    return lm_dir


class BeamSearchDecoder:
    """CTC prefix beam search with a word language model (pyctcdecode over KenLM).

    Called with each utterance's token scores [steps_i, 29] (logits or log
    posteriors; blank last), returns the texts, like
    :data:`deepsc_st.decoding.GREEDY`.
    """

    def __init__(self, lm_dir, alpha: float = DEFAULT_ALPHA, beta: float = DEFAULT_BETA, beam_width: int = DEFAULT_BEAM_WIDTH):
        try:
            from pyctcdecode import build_ctcdecoder
        except ImportError:
            raise UserError("--lm needs the Python packages kenlm and pyctcdecode (make setup installs them)") from None
        lm_dir = check_language_model(lm_dir)
        self.lm_dir, self.beam_width = lm_dir, beam_width
        labels = TOKENS + [""]  # pyctcdecode: "" is the blank, " " the word boundary
        assert len(labels) == BLANK_INDEX + 1
        unigrams = (lm_dir / UNIGRAMS_FILE).read_text(encoding="utf-8").split()
        self._decoder = build_ctcdecoder(labels, kenlm_model_path=str(lm_dir / BINARY_FILE), unigrams=unigrams, alpha=alpha, beta=beta)

    def from_posteriors(self, posteriors_per_utterance: list[np.ndarray]) -> list[str]:
        """Texts of token posteriors [steps_i, 29] (e.g. received over a link: NaN, negative or huge values
        from corrupted floats count as 0 or 1)."""
        return self([np.log(np.clip(np.nan_to_num(np.asarray(p, np.float64), nan=0.0), 1e-30, 1.0)) for p in posteriors_per_utterance])

    def __call__(self, logits_per_utterance: list[np.ndarray]) -> list[str]:
        return [self._decoder.decode(scipy.special.log_softmax(np.asarray(logits, np.float32), axis=-1), beam_width=self.beam_width).strip()
                for logits in logits_per_utterance]
