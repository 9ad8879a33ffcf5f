"""The embedded synthetic speech corpus: Jane Austen's novels read by espeak-ng voices.

No speech corpus can be downloaded here, so :func:`generate_corpus` makes one.

Text source
    The six novels of Jane Austen ("Sense and Sensibility", "Pride and
    Prejudice", "Mansfield Park", "Emma", "Northanger Abbey", "Persuasion"),
    public domain, as transcribed by Project Gutenberg and packaged by the CRAN
    package *janeaustenr* 1.0.0 (Julia Silge, MIT licence). Debian ships it as
    ``r-cran-janeaustenr``; the text is read straight from R's lazy-load
    database where that package installs it (:data:`JANEAUSTENR_DATA`) by a
    small reader of R's serialisation format, so R itself is never run.
    Paragraphs are split into sentences; Gutenberg's ``_italics_`` marks are
    dropped; sentences with digits, ``&``, brackets, ``etc``, all-capital words
    (emphasis, Roman numerals) or single-letter words other than "a" and "I"
    are left out, as espeak-ng might read them otherwise than the transcript
    says. Titles (``Mr.`` or ``Mr``, ``Mrs.``, ``Dr.``, ...) are spelt out for
    the voice and the normalised transcript alike, as LJSpeech does; on a
    sample of 3,000 sentences espeak-ng's phonemes for the spoken text and for
    the transcript agree word for word. Sentences are
    deduplicated by their normalised text and kept if their estimated length
    is well inside 2-12 s for every voice. The real length is checked after
    synthesis: an utterance outside 2-12 s is dropped and the next unused
    sentence is spoken instead, by the same speaker in the same split, under
    the next free utterance number.

Voices
    :data:`SPEAKERS` is the registry of users: user id -> voice
    (:mod:`deepsc_st.voices`): 12 espeak-ng voices (accent, variant, pitch,
    rate), 10 voices of flite, festival and Piper, and Kokoro-82M's 28 English
    voices. A corpus is spoken by one of :data:`VOICE_SETS`: ``espeak`` (the
    default, the 12 espeak-ng users; spk10 and spk11 only in ``test_heldout``),
    ``mixed`` (espeak-ng, flite, festival and Piper, 22 users; held out: two
    espeak-ng users and two whole engine voices, flite's rms and festival's
    ked_diphone), ``kokoro`` (the 28 Kokoro voices, 4 held out) or
    ``kokoro-blends`` (60 new voices, each a mix of two Kokoro voices' styles:
    56 from the 24 trained ones, 4 held out made of the 4 held-out ones) or
    ``kokoro-all`` (both Kokoro sets: 80 trained voices, 8 held out).

Layout of the output folder (LJSpeech-compatible)
    ``wavs/ID.wav``
        16-bit PCM, mono, 16 kHz; ``ID`` is ``SPEAKER-NNNNN``.
    ``metadata.csv``
        ``id|text|normalized text`` per line, no header, in id-number order;
        ``text`` is the sentence as in the book (``_`` marks, ``|`` and line
        breaks removed), ``normalized text`` is
        :func:`deepsc_st.tokens.normalize_text` of it with titles spelt out.
    ``speakers.json``
        ``{user_id: voice settings}`` of the users who speak it.
    ``splits.json``
        ``{"train", "validation", "test", "test_heldout": [ids]}`` (only the
        splits generated). Every
        sentence is spoken once, so the four splits share no sentence;
        ``test_heldout`` (about 5 %) is spoken by the held-out speakers only,
        ``test`` (5 %) and ``validation`` (2 %) by the training speakers.
    ``utterance_speakers.json``
        ``{id: user_id}`` for every utterance (kept out of ``splits.json`` so
        that file holds split lists only).
    ``generation.json``
        the parameters (seed, utterances, espeak-ng version, voices), written
        first; a rerun with other parameters into the same folder is refused.
    ``manifest.json``
        espeak-ng version, text source, seed, counts and the sha256 checksum of
        ``metadata.csv`` followed by every wav file in sorted name order, and
        the ``splits`` generated (``deepsc-st corpus --splits``); written last,
        so its presence means those splits are complete.

Deterministic: the same seed, utterance count and espeak-ng version give
byte-identical files. Resumable: each wav is written under a temporary name
and renamed, so a rerun after an interruption synthesises only the
utterances whose wav is missing.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import struct
import subprocess
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile as sf
from tqdm import tqdm

from deepsc_st.audio import write_audio
from deepsc_st import voices
from deepsc_st.errors import UserError
from deepsc_st.frontend import SAMPLE_RATE  # Hz, output wavs
from deepsc_st.text_sources import TEXT_SOURCES
from deepsc_st.tokens import normalize_text

MIN_SECONDS, MAX_SECONDS = 2.0, 12.0  # allowed utterance length
DEFAULT_UTTERANCES = 6000
HELDOUT_FRACTION, TEST_FRACTION, VALIDATION_FRACTION = 0.05, 0.05, 0.02

TEXT_PACKAGE = "r-cran-janeaustenr"
JANEAUSTENR_DATA = Path("/usr/lib/R/site-library/janeaustenr/data/Rdata")  # .rdx index + .rdb data
NOVELS = ("sensesensibility", "prideprejudice", "mansfieldpark", "emma", "northangerabbey", "persuasion")
TEXT_SOURCE = {
    "title": "Jane Austen's six completed novels (Project Gutenberg transcriptions)",
    "text_licence": "public domain",
    "package": f"Debian {TEXT_PACKAGE} (CRAN janeaustenr 1.0.0 by Julia Silge)",
    "package_licence": "MIT",
    "novels": list(NOVELS),
}

ESPEAK_SPEAKERS: dict[str, dict] = {
    "spk00": {"voice": "en-us", "variant": "m3", "pitch": 45, "rate": 170},
    "spk01": {"voice": "en-us", "variant": "f2", "pitch": 60, "rate": 165},
    "spk02": {"voice": "en-gb-x-rp", "variant": "m1", "pitch": 40, "rate": 160},
    "spk03": {"voice": "en-gb", "variant": "f3", "pitch": 65, "rate": 175},
    "spk04": {"voice": "en-gb-scotland", "variant": "m4", "pitch": 50, "rate": 155},
    "spk05": {"voice": "en-029", "variant": "f4", "pitch": 55, "rate": 170},
    "spk06": {"voice": "en-gb-x-gbclan", "variant": "m2", "pitch": 35, "rate": 165},
    "spk07": {"voice": "en-us-nyc", "variant": "f1", "pitch": 70, "rate": 180},
    "spk08": {"voice": "en-gb-x-gbcwmd", "variant": "m7", "pitch": 45, "rate": 175},
    "spk09": {"voice": "en-us", "variant": "f5", "pitch": 58, "rate": 160},
    "spk10": {"voice": "en-gb-x-rp", "variant": "f2", "pitch": 62, "rate": 168},
    "spk11": {"voice": "en-us", "variant": "m6", "pitch": 42, "rate": 172},
}  # espeak-ng voice (accent), variant (timbre), pitch (0-99), rate (words per minute); no "engine": espeak-ng
OTHER_ENGINE_SPEAKERS: dict[str, dict] = {
    "spk12": {"engine": "flite", "name": "kal16", "duration_stretch": 1.0, "f0_mean": 95},
    "spk13": {"engine": "flite", "name": "awb", "duration_stretch": 1.1, "f0_mean": 130},
    "spk14": {"engine": "flite", "name": "slt", "duration_stretch": 0.95, "f0_mean": 180},
    "spk15": {"engine": "flite", "name": "rms", "duration_stretch": 1.05, "f0_mean": 100},
    "spk16": {"engine": "festival", "name": "kal_diphone", "stretch": 1.1, "f0_mean": 105},
    "spk17": {"engine": "festival", "name": "cmu_us_slt_arctic_hts", "stretch": 1.0},
    "spk18": {"engine": "festival", "name": "ked_diphone", "stretch": 1.05, "f0_mean": 115},
    "spk19": {"engine": "piper", "length_scale": 1.0, "noise_scale": 0.667, "noise_w_scale": 0.8},
    "spk20": {"engine": "piper", "length_scale": 0.85, "noise_scale": 0.333, "noise_w_scale": 0.5},
    "spk21": {"engine": "piper", "length_scale": 1.15, "noise_scale": 0.9, "noise_w_scale": 1.0},
}
# Kokoro-82M's 28 English voices (a: American, b: British; f: female, m: male), each at one of three speeds.
KOKORO_VOICES = (
    "af_alloy", "af_aoede", "af_bella", "af_heart", "af_jessica", "af_kore", "af_nicole", "af_nova", "af_river", "af_sarah", "af_sky",
    "am_adam", "am_echo", "am_eric", "am_fenrir", "am_liam", "am_michael", "am_onyx", "am_puck", "am_santa",
    "bf_alice", "bf_emma", "bf_isabella", "bf_lily", "bm_daniel", "bm_fable", "bm_george", "bm_lewis",
)
KOKORO_SPEAKERS: dict[str, dict] = {
    f"spk{22 + k}": {"engine": "kokoro", "name": name, "lang": "en-gb" if name[0] == "b" else "en-us", "speed": (1.0, 0.9, 1.1)[k % 3]}
    for k, name in enumerate(KOKORO_VOICES)
}
KOKORO_HELDOUT_VOICES = ("af_river", "am_puck", "bf_lily", "bm_lewis")  # one of each accent and sex


def _kokoro_blends(count: int = 56, seed: int = 2026) -> list[dict]:
    """``count`` new Kokoro voices, each two trained voices' styles mixed (weights 0.3-0.7), at speed 0.85-1.15,
    then four made of the held-out voices only (a voice set that holds them out never trains on their styles)."""
    rng = np.random.default_rng(seed)
    trained = [name for name in KOKORO_VOICES if name not in KOKORO_HELDOUT_VOICES]
    pairs = [(str(a), str(b), round(float(rng.uniform(0.3, 0.7)), 2), round(float(rng.uniform(0.85, 1.15)), 2))
             for a, b in (rng.choice(trained, 2, replace=False) for _ in range(count))]
    river, puck, lily, lewis = KOKORO_HELDOUT_VOICES
    pairs += [(river, lily, 0.5, 1.0), (puck, lewis, 0.5, 1.0), (lily, puck, 0.5, 1.0), (lewis, river, 0.5, 1.0)]
    return [{"engine": "kokoro", "blend": {a: weight, b: round(1 - weight, 2)}, "lang": "en-gb" if a[0] == "b" else "en-us", "speed": speed}
            for a, b, weight, speed in pairs]


KOKORO_BLEND_SPEAKERS: dict[str, dict] = {f"spk{50 + k}": voice for k, voice in enumerate(_kokoro_blends())}
SPEAKERS: dict[str, dict] = {**ESPEAK_SPEAKERS, **OTHER_ENGINE_SPEAKERS, **KOKORO_SPEAKERS, **KOKORO_BLEND_SPEAKERS}  # every registered user (deepsc_st.voices)
# Which users speak a corpus, and which of them only in test_heldout. "mixed" holds out whole engine
# voices (flite's rms, festival's ked_diphone) besides two espeak-ng speakers; "kokoro" one voice of
# each accent and sex (af_river, am_puck, bf_lily, bm_lewis).
VOICE_SETS: dict[str, dict] = {
    "espeak": {"speakers": tuple(ESPEAK_SPEAKERS), "heldout": ("spk10", "spk11")},
    "mixed": {"speakers": tuple(ESPEAK_SPEAKERS) + tuple(OTHER_ENGINE_SPEAKERS), "heldout": ("spk10", "spk11", "spk15", "spk18")},
    "kokoro": {"speakers": tuple(KOKORO_SPEAKERS), "heldout": ("spk30", "spk40", "spk45", "spk49")},
    "kokoro-blends": {"speakers": tuple(KOKORO_BLEND_SPEAKERS), "heldout": tuple(KOKORO_BLEND_SPEAKERS)[-4:]},
}
VOICE_SETS["kokoro-all"] = {key: VOICE_SETS["kokoro"][key] + VOICE_SETS["kokoro-blends"][key] for key in ("speakers", "heldout")}
DEFAULT_VOICE_SET = "espeak"
HELDOUT_SPEAKERS = VOICE_SETS[DEFAULT_VOICE_SET]["heldout"]

# Titles (with or without a full stop, which does not end the sentence) and how they are read.
_TITLES = {
    "Mr": "Mister", "Mrs": "Missus", "Dr": "Doctor", "St": "Saint", "Rev": "Reverend",
    "Hon": "Honourable", "Lieut": "Lieutenant", "Col": "Colonel", "Capt": "Captain",
}
_TITLE = re.compile(r"\b(" + "|".join(_TITLES) + r")\b\.?")
_BOUNDARY = re.compile(r"[.!?]+[\"')]*\s+(?=[\"'(]?[A-Z])")
_EXCLUDED = re.compile(r"[0-9&*\[\]£]|\b[A-Z]{2,}\b|\betc\b")
# Estimated speech length: seconds = characters of normalised text * 175 / rate / _CHARS_PER_SECOND_175.
_CHARS_PER_SECOND_175 = 14.0
_ESTIMATE_MARGIN = 0.8  # s kept away from MIN_SECONDS and MAX_SECONDS by the estimate


# ----------------------------------------------------------------------------- text


class _RReader:
    """Reads the subset of R's XDR serialisation that janeaustenr's data use."""

    def __init__(self, data: bytes):
        if data[:2] != b"X\n":
            raise ValueError("not an R XDR serialisation")
        self.data, self.pos, self.refs = data, 2, []
        version = self._int()
        self.pos += 8  # writer and minimal reader R versions
        if version == 3:
            self.pos += 4 + self._int()  # native encoding name

    def _int(self) -> int:
        (value,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return value

    def read(self):
        """The next object: character -> list[str | None], integer/logical/double -> list,
        named list -> dict, pairlist -> dict keyed by tag, NULL -> None."""
        flags = self._int()
        kind, has_attributes, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind == 254:  # NULL
            return None
        if kind == 255:  # reference to an earlier symbol
            return self.refs[(flags >> 8 or self._int()) - 1]
        if kind == 1:  # symbol
            self.refs.append(self.read())
            return self.refs[-1]
        if kind == 9:  # one string; bit 14 marks latin-1
            length = self._int()
            if length == -1:
                return None
            raw = self.data[self.pos:self.pos + length]
            self.pos += length
            return raw.decode("latin-1" if flags & (1 << 14) else "utf-8")
        if kind == 2:  # pairlist (attributes)
            items = {}
            while kind == 2:
                if has_attributes:
                    self.read()
                tag = self.read() if has_tag else None
                items[tag] = self.read()
                flags = self._int()
                kind, has_attributes, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
            if kind != 254:
                raise ValueError(f"pairlist ends in R type {kind}")
            return items
        if kind in (10, 13, 14, 16, 19):  # logical, integer, double, character, list
            length = self._int()
            if kind in (10, 13, 14):
                code = "d" if kind == 14 else "i"
                values = list(struct.unpack_from(f">{length}{code}", self.data, self.pos))
                self.pos += length * struct.calcsize(code)
            else:
                values = [self.read() for _ in range(length)]
            names = (self.read() or {}).get("names") if has_attributes else None
            return dict(zip(names, values)) if names else values
        raise ValueError(f"unsupported R type {kind}")


def read_novels(data: Path = JANEAUSTENR_DATA) -> dict[str, list[str]]:
    """Each novel of :data:`NOVELS` as its list of text lines, read from janeaustenr's lazy-load database."""
    index_path, data_path = data.with_suffix(".rdx"), data.with_suffix(".rdb")
    if not index_path.is_file() or not data_path.is_file():
        raise UserError(f"corpus text not found at {data}.rdb: install it with 'apt-get install --no-install-recommends {TEXT_PACKAGE}'")
    variables = _RReader(gzip.decompress(index_path.read_bytes())).read()["variables"]
    blob = data_path.read_bytes()
    novels = {}
    for name in NOVELS:
        offset, length = (int(v) for v in variables[name])
        # Each record: 4-byte big-endian uncompressed length, then a zlib stream.
        novels[name] = _RReader(zlib.decompress(blob[offset + 4:offset + length])).read()
    return novels


def _paragraphs(lines: list[str]):
    """Yield the prose paragraphs of a novel as single lines (headings skipped, ``_`` marks removed)."""
    block: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            block.append(line.strip())
            continue
        paragraph = " ".join(" ".join(block).replace("_", "").replace("|", " ").split())
        block = []
        if re.search(r"[a-z]", paragraph) and not re.match(r"(?i)(chapter|volume)\b", paragraph):
            yield paragraph


def _split_sentences(paragraph: str) -> list[str]:
    """Split at ``.``, ``!`` or ``?`` (plus closing quotes) before a capital, except after titles and initials."""
    sentences, start = [], 0
    for boundary in _BOUNDARY.finditer(paragraph):
        word = re.search(r"(\w*)\W*$", paragraph[start:boundary.start() + 1]).group(1)
        if paragraph[boundary.start()] == "." and (word in _TITLES or re.fullmatch(r"[A-Z]", word)):
            continue
        sentences.append(paragraph[start:boundary.end()].strip())
        start = boundary.end()
    sentences.append(paragraph[start:].strip())
    return [s.replace('"', "") if s.count('"') % 2 else s for s in sentences if s]


def spoken_text(sentence: str) -> str:
    """The sentence as given to espeak-ng: titles spelt out (``Mr.`` or ``Mr`` -> ``Mister``) and dashes
    set apart (espeak-ng reads ``!--`` as "exclamation")."""
    return re.sub(r"\s*-{2,}\s*", " -- ", _TITLE.sub(lambda m: _TITLES[m.group(1)], sentence))


def _estimated_seconds(normalized: str, rate: int) -> float:
    """Rough speech length in seconds of ``normalized`` text spoken at ``rate`` words per minute."""
    return len(normalized) * 175 / rate / _CHARS_PER_SECOND_175


def sentence_pool(novels: dict[str, list[str]]) -> list[tuple[str, str]]:
    """All usable ``(sentence, normalised text)`` pairs of the novels in book order (:func:`usable_sentences`)."""
    return usable_sentences(_novel_paragraphs(novels))


def _novel_paragraphs(novels: dict[str, list[str]]):
    """The prose paragraphs of every novel of :data:`NOVELS`, in book order."""
    return (paragraph for name in NOVELS for paragraph in _paragraphs(novels[name]))


def usable_sentences(paragraphs, seen: set[str] | None = None) -> list[tuple[str, str]]:
    """The usable ``(sentence, normalised text)`` pairs of one-line ``paragraphs``, in order, deduplicated by
    normalised text (also against ``seen``, which grows).

    Usable: no excluded characters or words (see the module docstring), nothing
    dropped by the normaliser, and an estimated length at least
    ``_ESTIMATE_MARGIN`` inside 2-12 s for the slowest and fastest voice.
    """
    rates = [speaker["rate"] for speaker in ESPEAK_SPEAKERS.values()]  # other engines' lengths are checked after synthesis
    pool, seen = [], set() if seen is None else seen
    for paragraph in paragraphs:
        for sentence in _split_sentences(paragraph):
            if _EXCLUDED.search(sentence):
                continue
            normalized = normalize_text(spoken_text(sentence))
            words = normalized.text.split()
            if normalized.removed or normalized.text in seen or any(len(w) == 1 and w not in ("a", "i") for w in words):
                continue
            if _estimated_seconds(normalized.text, max(rates)) < MIN_SECONDS + _ESTIMATE_MARGIN:
                continue
            if _estimated_seconds(normalized.text, min(rates)) > MAX_SECONDS - _ESTIMATE_MARGIN:
                continue
            seen.add(normalized.text)
            pool.append((sentence, normalized.text))
    return pool


TEXTS = ("austen", *TEXT_SOURCES)  # what a corpus can be read from (--texts)
DEFAULT_TEXTS = ("austen",)


def text_pool(texts: tuple[str, ...] = DEFAULT_TEXTS) -> tuple[list[tuple[str, str]], dict]:
    """The usable sentences of ``texts`` (:data:`TEXTS`), one source after the other, deduplicated across them,
    and the manifest's description of the sources; Austen alone gives :func:`sentence_pool` of the novels."""
    unknown = [name for name in texts if name not in TEXTS]
    if unknown or not texts or len(set(texts)) != len(texts):
        raise UserError(f"--texts: {'unknown text ' + repr(unknown[0]) if unknown else 'each text once'}; choose from {', '.join(TEXTS)}")
    pool, seen, described = [], set(), []
    for name in texts:
        if name == "austen":
            paragraphs, description = _novel_paragraphs(read_novels()), TEXT_SOURCE
        else:
            paragraphs = TEXT_SOURCES[name]["paragraphs"]()
            description = {key: value for key, value in TEXT_SOURCES[name].items() if key != "paragraphs"}
        sentences = usable_sentences(paragraphs, seen)
        pool += sentences
        described.append({"name": name, **description, "usable_sentences": len(sentences)})
    if texts == DEFAULT_TEXTS:
        return pool, {**TEXT_SOURCE, "usable_sentences": len(pool)}
    return pool, {"sources": described, "usable_sentences": len(pool)}


# ----------------------------------------------------------------------------- speech


def espeak_version() -> str:
    """The espeak-ng version string, e.g. ``"1.51"``."""
    try:
        output = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        raise UserError("espeak-ng not found: install it with 'apt-get install espeak-ng'") from None
    return re.search(r"text-to-speech:\s*(\S+)", output).group(1)


def synthesize(speaker: dict, text: str) -> np.ndarray:
    """Speak ``text`` with a registered ``speaker``'s voice (:func:`deepsc_st.voices.synthesize`): float32 at 16 kHz."""
    return voices.synthesize(speaker, text)


# ----------------------------------------------------------------------------- corpus


class _Utterance(NamedTuple):
    number: int  # utterance number; the id is f"{speaker}-{number:05d}"
    split: str
    speaker: str
    sentence: int  # index into the sentence pool

    @property
    def id(self) -> str:
        return f"{self.speaker}-{self.number:05d}"


CORPUS_SPLITS = ("train", "validation", "test", "test_heldout")


def _plan(pool_size: int, utterances: int, seed: int, voice_set: dict) -> tuple[list[_Utterance], list[int]]:
    """The first ``utterances`` utterances, and the spare pool indices that replace rejected ones (in order).

    The pool is shuffled with ``seed``; its first ``utterances`` sentences go to
    ``test_heldout``, ``test``, ``validation`` and ``train`` in that order, and
    each split gives its sentences to its speakers in turn.
    """
    order = [int(i) for i in np.random.default_rng(seed).permutation(pool_size)]
    sizes = {name: max(1, round(fraction * utterances)) for name, fraction in
             (("test_heldout", HELDOUT_FRACTION), ("test", TEST_FRACTION), ("validation", VALIDATION_FRACTION))}
    sizes["train"] = utterances - sum(sizes.values())
    seen_speakers = [s for s in voice_set["speakers"] if s not in voice_set["heldout"]]
    plan = []
    for name in ("test_heldout", "test", "validation", "train"):
        speakers = list(voice_set["heldout"]) if name == "test_heldout" else seen_speakers
        for k in range(sizes[name]):
            plan.append(_Utterance(len(plan), name, speakers[k % len(speakers)], order[len(plan)]))
    return plan, order[utterances:]


def _synthesize_to(path: Path, speaker: dict, text: str) -> int | None:
    """Synthesise into ``path`` unless it exists; number of samples, or None if outside 2-12 s (nothing written)."""
    if path.is_file():
        return sf.info(path).frames
    audio = synthesize(speaker, text)
    if not MIN_SECONDS <= len(audio) / SAMPLE_RATE <= MAX_SECONDS:
        return None
    write_audio(path, audio)
    return len(audio)


def corpus_checksum(out_dir: Path, ids: list[str]) -> str:
    """sha256 of ``metadata.csv`` followed by the wavs of ``ids`` in sorted name order (the manifest's checksum)."""
    digest = hashlib.sha256((out_dir / "metadata.csv").read_bytes())
    for name in sorted(f"{i}.wav" for i in ids):
        digest.update((out_dir / "wavs" / name).read_bytes())
    return digest.hexdigest()


def _generated_splits(out_dir: Path) -> tuple[str, ...]:
    """The splits a finished earlier run wrote into ``out_dir`` (its manifest's; none without a manifest)."""
    manifest = out_dir / "manifest.json"
    return tuple(json.loads(manifest.read_text()).get("splits", CORPUS_SPLITS)) if manifest.is_file() else ()


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=1) + "\n", encoding="utf-8")


def generate_corpus(out_dir, utterances: int = DEFAULT_UTTERANCES, seed: int = 0, workers: int | None = None,
                    progress: bool = True, voice_set: str = DEFAULT_VOICE_SET, splits: tuple[str, ...] = CORPUS_SPLITS,
                    texts: tuple[str, ...] = DEFAULT_TEXTS, exclude_sentences_of: tuple[str, ...] = ()) -> dict:
    """Generate (or finish) the corpus in ``out_dir``; return its summary.

    ``utterances`` >= 4 sentences are spoken, each once, by the users of
    ``voice_set`` (:data:`VOICE_SETS`); ``workers`` synthesisers run at a
    time (default: the number of CPUs, at most 4). ``splits``: synthesise
    only these (``make reproduce`` needs test and validation, not the 5,280
    training utterances); each keeps the utterances, ids and files it has in
    the whole corpus, and running again with other splits adds them to the
    ones already made.
    ``texts``: the text sources read (:func:`text_pool`; default Austen alone).
    ``exclude_sentences_of``: corpus folders none of whose sentences (any
    split) is spoken here, so a corpus made to add training speech brings new
    text only and never a sentence that another corpus tests with.
    Summary: ``hours`` of speech, ``utterances``, ``speakers``,
    ``distinct_words``, one count per split, ``rejected`` (synthesised but
    outside 2-12 s, replaced), ``checksum`` and ``elapsed_s`` (wall-clock
    seconds of this call).
    """
    started = time.perf_counter()
    unknown = [name for name in splits if name not in CORPUS_SPLITS]
    if unknown or not splits:
        raise UserError(f"--splits: unknown split {unknown[0]!r}; choose from {', '.join(CORPUS_SPLITS)}" if unknown else "--splits: no split given")
    if utterances < 4:
        raise UserError(f"--utterances must be at least 4 (one per split), got {utterances}")
    if voice_set not in VOICE_SETS:
        raise UserError(f"unknown voice set {voice_set!r}; choose one of {', '.join(VOICE_SETS)}")
    chosen = VOICE_SETS[voice_set]
    speakers = {user: SPEAKERS[user] for user in chosen["speakers"]}
    pool, text_description = text_pool(tuple(texts))  # unknown or missing texts stop here, before any folder is made
    if exclude_sentences_of:
        from deepsc_st.data import read_utterances  # here: deepsc_st.data imports TensorFlow, which synthesis does not need

        spoken = {utterance.text for corpus in exclude_sentences_of for utterance in read_utterances(corpus)}
        pool = [(sentence, normalized) for sentence, normalized in pool if normalized not in spoken]
    out_dir = Path(out_dir)
    wav_dir = out_dir / "wavs"
    wav_dir.mkdir(parents=True, exist_ok=True)
    parameters = {"seed": seed, "utterances": utterances, "espeak_ng": espeak_version(), "voice_set": voice_set,
                  "speakers": speakers, "heldout_speakers": list(chosen["heldout"])}
    if tuple(texts) != DEFAULT_TEXTS:  # files written before other texts: Austen
        parameters["texts"] = list(texts)
    if exclude_sentences_of:
        parameters["exclude_sentences_of"] = [str(corpus) for corpus in exclude_sentences_of]
    parameters_path = out_dir / "generation.json"
    if parameters_path.is_file():
        stored = {"voice_set": DEFAULT_VOICE_SET, **json.loads(parameters_path.read_text())}  # files written before voice sets: espeak
        if stored != parameters:
            raise UserError(f"{out_dir} holds a corpus made with other parameters ({parameters_path}); use a new folder")
        splits = (*splits, *_generated_splits(out_dir))  # a rerun adds splits; it never drops the ones already made
    _write_json(parameters_path, parameters)
    _write_json(out_dir / "speakers.json", speakers)

    if utterances > len(pool):
        raise UserError(f"--utterances {utterances} is more than the {len(pool)} usable sentences")
    planned, spares = _plan(len(pool), utterances, seed, chosen)
    pending = [u for u in planned if u.split in splits]
    kept: list[tuple[_Utterance, int]] = []  # with its number of samples
    rejected = 0
    bar = tqdm(total=len(pending), desc="corpus", unit="utt", disable=not progress)
    executor = ThreadPoolExecutor(max_workers=workers or min(4, os.cpu_count() or 1))
    try:
        while pending:
            jobs = [(u, executor.submit(_synthesize_to, wav_dir / f"{u.id}.wav", speakers[u.speaker],
                                        spoken_text(pool[u.sentence][0]))) for u in pending]
            failed = []
            for u, job in jobs:
                frames = job.result()
                if frames is None:
                    failed.append(u)
                else:
                    kept.append((u, frames))
                    bar.update()
            rejected += len(failed)
            if len(failed) > len(spares):
                raise UserError(f"ran out of sentences replacing {len(failed)} utterances outside 2-12 s")
            # A replacement keeps the split and speaker, and gets the next free number and spare sentence.
            first = utterances + rejected - len(failed)
            pending = [u._replace(number=first + k, sentence=spares.pop(0)) for k, u in enumerate(failed)]
    finally:  # on an interruption, drop the queued utterances instead of waiting for them
        executor.shutdown(cancel_futures=True)
        bar.close()

    kept.sort(key=lambda item: item[0].number)
    with open(out_dir / "metadata.csv", "w", encoding="utf-8", newline="\n") as handle:
        for u, _ in kept:
            sentence, normalized = pool[u.sentence]
            handle.write(f"{u.id}|{sentence}|{normalized}\n")
    generated = [name for name in CORPUS_SPLITS if name in splits]
    members = {name: [u.id for u, _ in kept if u.split == name] for name in generated}
    _write_json(out_dir / "splits.json", members)
    _write_json(out_dir / "utterance_speakers.json", {u.id: u.speaker for u, _ in kept})

    words = {w for u, _ in kept for w in pool[u.sentence][1].split()}
    counts = {
        "utterances": len(kept),
        **{name: len(ids) for name, ids in members.items()},
        "speakers": len({u.speaker for u, _ in kept}),
        "hours": round(sum(frames for _, frames in kept) / SAMPLE_RATE / 3600, 4),
        "distinct_words": len(words),
        "rejected": rejected,
    }
    manifest = {
        "espeak_ng": parameters["espeak_ng"],
        "text_source": text_description,
        "seed": seed,
        "voice_set": voice_set,
        "splits": generated,
        "heldout_speakers": list(chosen["heldout"]),
        "sample_rate": SAMPLE_RATE,
        "counts": counts,
        "checksum_sha256": corpus_checksum(out_dir, [u.id for u, _ in kept]),
    }
    _write_json(out_dir / "manifest.json", manifest)
    return {**counts, "checksum": manifest["checksum_sha256"], "elapsed_s": round(time.perf_counter() - started, 1)}
