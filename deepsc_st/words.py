"""Word tokens for the DeepSC text transceiver: PAD, START, END, UNK, then words by frequency.

The layout of the published DeepSC code. Text is the project's normalised
text (:mod:`deepsc_st.tokens`: lower-case words separated by single spaces);
a word outside the vocabulary becomes UNK, and UNK decodes to nothing (a
receiver that outputs UNK loses the word; the shipped text model outputs a
vocabulary word there instead, :mod:`baselines.sr_deepsc_transceiver`). :meth:`WordVocabulary.nearest_known`
is the alternative a transmitter can apply first: each such word becomes the
vocabulary word nearest to it in edit distance.

>>> words = WordVocabulary.from_transcripts(["the cat sat", "the dog"])
>>> words.encode("the cat ran")
[1, 4, 5, 3, 2]
>>> words.decode([1, 4, 5, 3, 2, 0])
'the cat'
>>> words.nearest_known("the cot ran")
'the cat cat'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from deepsc_st.errors import UserError

PAD, START, END, UNK = 0, 1, 2, 3
SPECIAL_TOKENS = ("<pad>", "<start>", "<end>", "<unk>")
VOCABULARY_FILE = "vocabulary.json"


class WordVocabulary:
    """Word <-> token id. ``words``: the vocabulary after the four special tokens."""

    def __init__(self, words: list[str]):
        self.words = list(words)
        self.ids = {word: index for index, word in enumerate(self.words, start=len(SPECIAL_TOKENS))}

    def __len__(self) -> int:
        """V: special tokens included."""
        return len(SPECIAL_TOKENS) + len(self.words)

    @classmethod
    def from_transcripts(cls, transcripts: Iterable[str], size: int | None = None) -> "WordVocabulary":
        """The words of ``transcripts``, most frequent first (ties alphabetical); at most ``size`` - 4 of them."""
        counts = Counter(word for text in transcripts for word in text.split())
        ranked = sorted(counts, key=lambda word: (-counts[word], word))
        return cls(ranked if size is None else ranked[: size - len(SPECIAL_TOKENS)])

    def encode(self, text: str) -> list[int]:
        """START, one id per word (UNK outside the vocabulary), END."""
        return [START, *(self.ids.get(word, UNK) for word in text.split()), END]

    def nearest_known(self, text: str) -> str:
        """``text`` with each word outside the vocabulary replaced by the vocabulary word at the smallest
        Levenshtein distance (RapidFuzz); on a tie the more frequent word, i.e. the earlier one."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        if not self.words:
            return text
        known = []
        for word in text.split():
            known.append(word if word in self.ids else process.extractOne(word, self.words, scorer=Levenshtein.distance)[0])
        return " ".join(known)

    def decode(self, tokens: Iterable[int]) -> str:
        """Words up to the first END; START, PAD and UNK render as nothing."""
        words = []
        for token in tokens:
            token = int(token)
            if token == END:
                break
            if token >= len(SPECIAL_TOKENS) and token < len(self):
                words.append(self.words[token - len(SPECIAL_TOKENS)])
        return " ".join(words)

    def save(self, folder) -> None:
        from deepsc_st.checkpoint import write_json

        write_json(Path(folder) / VOCABULARY_FILE, {"special": list(SPECIAL_TOKENS), "words": self.words})

    @classmethod
    def load(cls, folder) -> "WordVocabulary":
        from deepsc_st.checkpoint import read_json

        values = read_json(Path(folder) / VOCABULARY_FILE)
        if values.get("special") != list(SPECIAL_TOKENS) or not isinstance(values.get("words"), list):
            raise UserError(f"{Path(folder) / VOCABULARY_FILE}: not a DeepSC word vocabulary")
        return cls(values["words"])
