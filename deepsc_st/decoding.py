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
