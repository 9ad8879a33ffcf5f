"""Text beside Jane Austen for the embedded corpus: Debian's fortune cookies and WordNet's example sentences.

Each source yields *paragraphs*: one line of prose each, which the corpus
splits into sentences and filters with the same rules as the novels
(:func:`deepsc_st.corpus.usable_sentences`: no digits, all-capital words or
symbols espeak-ng may read otherwise than the transcript says; 2-12 s).

fortunes
    The ``fortunes`` package's cookie files (BSD fortune-mod data, BSD
    licence; quotations, jokes, definitions and modern prose with names and
    everyday and technical words). A cookie is the text between ``%`` lines;
    attribution lines (``-- Author``), indented verse and lines with
    dialogue markers (``Q:``, ``A:``, ``Name:``) are left out, the rest of the
    cookie joined into one paragraph.
wordnet
    The example sentences in the glosses of WordNet 3.0 (``wordnet-base``,
    Princeton WordNet licence: free use with its copyright notice), in
    double quotes after a gloss's definition, e.g. "the oceans are teeming
    with life": short everyday sentences of many domains. The corpus holds
    this source out of training (an unseen-domain test set, see the README).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from deepsc_st.errors import UserError

FORTUNES_DIR = Path("/usr/share/games/fortunes")
# Cookie files of prose (left out: ascii-art, songs-poems, translate-me, the
# Debian/Linux/Perl/Star Trek in-jokes full of commands and symbols).
FORTUNE_FILES = (
    "art", "computers", "cookie", "definitions", "drugs", "education", "ethnic", "food", "fortunes", "goedel",
    "humorists", "kids", "law", "literature", "love", "magic", "medicine", "men-women", "miscellaneous", "news",
    "people", "pets", "platitudes", "politics", "riddles", "science", "sports", "wisdom", "work",
)
WORDNET_DIR = Path("/usr/share/wordnet")
WORDNET_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")

_DIALOGUE = re.compile(r"^\s*[A-Za-z][\w .']{0,20}:\s")  # "Q: ...", "Calvin: ..."
_EXAMPLE = re.compile(r'"([^"]+)"')


def _require(path: Path, package: str) -> None:
    if not path.exists():
        raise UserError(f"text source not found at {path}: install it with 'apt-get install --no-install-recommends {package}'")


def fortune_paragraphs(directory: Path = FORTUNES_DIR) -> Iterator[str]:
    """Each prose cookie of :data:`FORTUNE_FILES` as one line (attribution, verse and dialogue lines left out)."""
    _require(directory / "fortunes", "fortunes")
    for name in FORTUNE_FILES:
        path = directory / name
        if not path.is_file():
            continue
        for cookie in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
            lines = [line for line in cookie.splitlines() if line.strip() and line.strip() != "%"]
            if not lines or any(_DIALOGUE.match(line) for line in lines):
                continue
            prose = [line.strip() for line in lines if not line.startswith(("\t", "  ")) and not line.strip().startswith("--")]
            if prose:
                yield " ".join(" ".join(prose).split())


def wordnet_examples(directory: Path = WORDNET_DIR) -> Iterator[str]:
    """Each example sentence of WordNet's glosses, capitalised and with a full stop, in file and synset order."""
    _require(directory / "data.noun", "wordnet-base")
    for name in WORDNET_FILES:
        for line in (directory / name).read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("  ") or "|" not in line:  # the licence header
                continue
            for example in _EXAMPLE.findall(line.split("|", 1)[1]):
                example = " ".join(example.split()).rstrip(" ;,")
                if example:
                    yield example[0].upper() + example[1:] + ("" if example[-1] in ".!?" else ".")


TEXT_SOURCES = {
    "fortunes": {
        "title": "fortune cookies (BSD fortune-mod data files)",
        "package": "Debian fortunes",
        "package_licence": "BSD",
        "paragraphs": fortune_paragraphs,
    },
    "wordnet": {
        "title": "example sentences of WordNet 3.0's glosses",
        "package": "Debian wordnet-base",
        "package_licence": "WordNet 3.0 licence (Princeton University)",
        "paragraphs": wordnet_examples,
    },
}
