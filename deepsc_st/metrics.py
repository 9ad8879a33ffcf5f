"""Character and word error rates over a set of utterances (jiwer)."""

import jiwer


def character_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus CER: character edits / reference characters, over all utterances."""
    return float(jiwer.cer(list(references), list(hypotheses)))


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus WER: word edits / reference words, over all utterances."""
    return float(jiwer.wer(list(references), list(hypotheses)))
