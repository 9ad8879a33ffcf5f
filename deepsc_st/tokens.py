"""The 29 output tokens and the transcript normaliser.

Tokens: index 0 is space, 1..26 are ``a``..``z``, 27 is the apostrophe and
28 is the CTC blank (last, as ``tf.nn.ctc_loss(blank_index=-1)`` expects).

>>> normalize_text("Dr. Smith paid $5 on the 3rd of May, 1999!")
NormalizedText(text='dr smith paid five dollars on the third of may nineteen ninety nine', removed=0)
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

import numpy as np

TOKENS = [" "] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["'"]
BLANK_INDEX = len(TOKENS)  # 28
NUM_CLASSES = len(TOKENS) + 1  # 29, blank included
_INDEX = {ch: i for i, ch in enumerate(TOKENS)}


def text_to_ids(text: str) -> np.ndarray:
    """Map normalised text to token ids, int32 of shape [len(text)]."""
    try:
        return np.array([_INDEX[ch] for ch in text], dtype=np.int32)
    except KeyError as error:
        raise ValueError(f"character {error.args[0]!r} is not a token; normalise the text first") from None


def ids_to_text(ids) -> str:
    """Map token ids (blank excluded) back to text."""
    return "".join(TOKENS[int(i)] for i in ids)


class NormalizedText(NamedTuple):
    text: str
    removed: int  # characters that were neither tokens, digits nor punctuation


_CURRENCY = {"$": "dollars", "£": "pounds", "€": "euros"}
_NUMBER = re.compile(r"([$£€]?)(\d[\d,]*(?:\.\d+)?)(st|nd|rd|th|s)?(%?)", re.IGNORECASE)


def _spell_number(match: re.Match) -> str:
    from num2words import num2words  # here, not at the top: only text with digits needs it

    currency, digits, suffix = match.group(1), match.group(2).replace(",", ""), (match.group(3) or "").lower()
    if suffix in ("st", "nd", "rd", "th") and "." not in digits:
        words = num2words(int(digits), to="ordinal")
    elif "." in digits:
        words = num2words(float(digits))
    else:
        is_year = not currency and len(digits) == 4 and 1100 <= int(digits) <= 2099
        words = num2words(int(digits), to="year" if is_year else "cardinal")
        if suffix == "s":  # "1990s" -> "nineteen nineties"
            words = words[:-1] + "ies" if words.endswith("y") else words + "s"
    if currency:
        words += " " + _CURRENCY[currency]
    if match.group(4):
        words += " percent"
    return f" {words} "


def normalize_text(text: str) -> NormalizedText:
    """Lower-case, spell numbers out, drop punctuation and count other dropped characters.

    Numbers become words (``3rd`` -> ``third``, ``1999`` -> ``nineteen ninety-nine``,
    ``$5`` -> ``five dollars``); hyphens and other punctuation become spaces;
    accented letters lose their accents; anything else that is not a token is
    removed and counted in ``removed``.
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = _NUMBER.sub(_spell_number, text).lower()
    kept, removed = [], 0
    for ch in text:
        if ch in _INDEX:
            kept.append(ch)
        elif ch.isspace() or unicodedata.category(ch).startswith("P") or ch in "+=<>|~^`":
            kept.append(" ")
        else:
            removed += 1
    words = "".join(kept).split()
    words = [w.strip("'") for w in words]  # quotes, not contractions
    return NormalizedText(" ".join(w for w in words if w), removed)
