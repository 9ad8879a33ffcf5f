"""Character and word error rates over a set of utterances (jiwer); BLEU-1 (NLTK), DeepSC's text metric."""

import warnings

import jiwer
from nltk.translate.bleu_score import sentence_bleu


def character_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus CER: character edits / reference characters, over all utterances."""
    return float(jiwer.cer(list(references), list(hypotheses)))


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus WER: word edits / reference words, over all utterances."""
    return float(jiwer.wer(list(references), list(hypotheses)))


def bleu1(references: list[str], hypotheses: list[str]) -> float:
    """Mean sentence BLEU-1 (unigram precision x brevity penalty), as the DeepSC authors score their text; 0 for an empty hypothesis."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NLTK warns when a sentence has no matching n-gram
        scores = [sentence_bleu([ref.split()], hyp.split(), weights=(1, 0, 0, 0)) if hyp.split() else 0.0 for ref, hyp in zip(references, hypotheses)]
    return float(sum(scores) / len(scores)) if scores else 0.0
