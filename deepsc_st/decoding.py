"""CTC greedy decoding: argmax per step, merge repeats, drop blanks."""

import numpy as np

from deepsc_st.tokens import BLANK_INDEX, ids_to_text


def greedy_decode(logits: np.ndarray, steps) -> list[str]:
    """Texts from token scores ``logits`` [batch, steps, 29] (logits or posteriors) and valid ``steps`` [batch]."""
    best = np.argmax(np.asarray(logits), axis=-1)
    texts = []
    for row, length in zip(best, np.asarray(steps)):
        row = row[: int(length)]
        keep = np.ones(len(row), dtype=bool)
        keep[1:] = row[1:] != row[:-1]
        texts.append(ids_to_text(row[keep & (row != BLANK_INDEX)]))
    return texts


class GreedyDecoder:
    """CTC greedy decoding as a receiver's decoder: the text of each utterance's token scores [steps_i, 29].

    :class:`deepsc_st.language_model.BeamSearchDecoder` has the same two calls.
    """

    def __call__(self, scores_per_utterance: list[np.ndarray]) -> list[str]:
        """Texts of token logits (or log posteriors) [steps_i, 29]."""
        return [greedy_decode(np.asarray(scores)[np.newaxis], [len(scores)])[0] for scores in scores_per_utterance]

    def from_posteriors(self, posteriors_per_utterance: list[np.ndarray]) -> list[str]:
        """Texts of token posteriors [steps_i, 29] (the argmax is the same; corrupted values are taken as they are)."""
        return self(posteriors_per_utterance)


GREEDY = GreedyDecoder()
