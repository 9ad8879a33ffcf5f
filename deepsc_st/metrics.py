"""Character and word error rates over a set of utterances (jiwer), with bootstrap confidence intervals; BLEU-1 (NLTK), DeepSC's text metric."""

import warnings

import jiwer
import numpy as np


def character_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus CER: character edits / reference characters, over all utterances."""
    return float(jiwer.cer(list(references), list(hypotheses)))


CI_LEVEL = 0.95
CI_RESAMPLES = 2000


def character_errors(references: list[str], hypotheses: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(character edits, reference characters) per utterance, int64 [N] each, from jiwer's alignment.

    Their sums give :func:`character_error_rate`'s ratio exactly.
    """
    output = jiwer.process_characters(list(references), list(hypotheses))
    errors, lengths = [], []
    for chunks in output.alignments:
        edits = sum((c.hyp_end_idx - c.hyp_start_idx) if c.type == "insert" else (c.ref_end_idx - c.ref_start_idx) for c in chunks if c.type != "equal")
        errors.append(edits)
        lengths.append(sum(c.ref_end_idx - c.ref_start_idx for c in chunks))
    return np.asarray(errors, np.int64), np.asarray(lengths, np.int64)


def cer_interval(references: list[str], hypotheses: list[str], seed: int = 0, level: float = CI_LEVEL, resamples: int = CI_RESAMPLES) -> tuple[float, float]:
    """Percentile bootstrap interval (over utterances) of the corpus CER: (low, high) at ``level``, seeded."""
    errors, lengths = character_errors(references, hypotheses)
    picks = np.random.default_rng(seed).integers(0, len(errors), size=(resamples, len(errors)))
    ratios = errors[picks].sum(axis=1) / np.maximum(lengths[picks].sum(axis=1), 1)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(ratios, [tail, 100.0 - tail])
    return float(low), float(high)


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus WER: word edits / reference words, over all utterances."""
    return float(jiwer.wer(list(references), list(hypotheses)))


def bleu1(references: list[str], hypotheses: list[str]) -> float:
    """Mean sentence BLEU-1 (unigram precision x brevity penalty), as the DeepSC authors score their text; 0 for an empty hypothesis."""
    from nltk.translate.bleu_score import sentence_bleu  # here: importing NLTK costs about 0.3 s (it loads scikit-learn)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NLTK warns when a sentence has no matching n-gram
        scores = [sentence_bleu([ref.split()], hyp.split(), weights=(1, 0, 0, 0)) if hyp.split() else 0.0 for ref, hyp in zip(references, hypotheses)]
    return float(sum(scores) / len(scores)) if scores else 0.0
