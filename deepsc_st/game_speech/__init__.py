"""A training corpus of real human speech: the voiced lines of three adventure games that Debian ships.

``deepsc-st game-speech --out data/games`` (or ``make game-speech``) reads
the installed packages and writes an LJSpeech-layout corpus that ``train``,
``evaluate`` and ``ship`` read like the synthetic ones:

=========================== ================================ ======== =====================================
Debian package              licence                          clips    what
=========================== ================================ ======== =====================================
flight-of-the-amazon-queen  freeware: free to redistribute   ~6,450   about 4 h, many actors; MP3 at 16
                            and modify, not to sell alone             kbit/s, 11.8 kHz (:mod:`.queen`)
drascula                    the same kind                    ~680     about 43 min, ~10 actors; 8-bit PCM
                                                                      at 11 kHz (:mod:`.drascula`)
beneath-a-steel-sky         the same kind                    ~3,450   about 1.9 h, many actors; 8-bit PCM
                                                                      at 11 kHz, RNC-packed (:mod:`.steel_sky`)
=========================== ================================ ======== =====================================

Each clip's transcript is the subtitle the game shows with it, found the way
ScummVM finds it (the readers cite its sources); acted speech whose
subtitle is not English words (animal noises, laughter, an invented
language) is left out, and so is a clip whose subtitle is implausibly long
or short for its length. A subtitle is what the line was meant to say: an
actor may differ from it slightly, so these transcripts carry some error.
None of these actors or games is in the human dev set
(:mod:`deepsc_st.human_devset`), which stays the measure.

Layout: ``wavs/ID.wav`` (16 kHz mono PCM16; ``ID`` = ``queen-CLIP``,
``drascula-FILE`` or ``sky-NUMBER``), ``metadata.csv`` (``id|subtitle|normalised text``),
``splits.json`` (``train`` / ``validation`` 2 % / ``test`` 5 %, drawn with
the seed), ``lines.tsv`` (id, seconds, character, where it came from) and
``manifest.json`` (packages and versions, counts, the checksum of
:func:`deepsc_st.corpus.corpus_checksum`), written last.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from deepsc_st.audio import resample_to_16k, write_audio
from deepsc_st.corpus import corpus_checksum
from deepsc_st.data import ctc_feasible
from deepsc_st.errors import UserError
from deepsc_st.frontend import SAMPLE_RATE
from deepsc_st.game_speech import drascula, queen, steel_sky
from deepsc_st.game_speech.lines import GameLine
from deepsc_st.tokens import normalize_text

PACKAGES = (queen.PACKAGE, drascula.PACKAGE, steel_sky.PACKAGE)
MIN_SECONDS, MAX_SECONDS = 0.5, 15.0
MIN_CHARACTERS_PER_SECOND = 2.0  # a subtitle this short for its clip was not all that was said
VALIDATION_SHARE, TEST_SHARE = 0.02, 0.05
SOURCE = "voiced lines of adventure games that Debian ships, subtitles as transcripts (deepsc_st.game_speech)"


def game_lines() -> list[tuple[GameLine, Callable]]:
    """Every line of the three games with its decoder (``line -> (float32 samples, rate in Hz)``);
    a :class:`UserError` naming the packages when a game is not installed."""
    games = ((queen.PACKAGE, queen.ARCHIVE), (drascula.PACKAGE, drascula.FOLDER), (steel_sky.PACKAGE, steel_sky.FOLDER))
    missing = [package for package, path in games if not path.exists()]
    if missing:
        raise UserError(f"{', '.join(missing)} not installed: 'apt-get install {' '.join(PACKAGES)}' (make game-speech does)")
    archive, disk = queen.Archive(), steel_sky.Disk()  # each read once, for the subtitles and the clips
    return (
        [(line, lambda line: queen.decode(line, archive)) for line in queen.lines(archive)]
        + [(line, drascula.decode) for line in drascula.lines()]
        + [(line, lambda line: steel_sky.decode(line, disk)) for line in steel_sky.lines(disk)]
    )


def usable(text: str, samples: np.ndarray) -> str | None:
    """Why a clip of 16 kHz ``samples`` with normalised ``text`` is left out, or None to keep it."""
    seconds = len(samples) / SAMPLE_RATE
    if not text:
        return "no words in the subtitle"
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        return f"shorter than {MIN_SECONDS} s or longer than {MAX_SECONDS} s"
    if len(text) / seconds < MIN_CHARACTERS_PER_SECOND or not ctc_feasible(len(samples), text):
        return "subtitle implausibly short or long for the clip"
    return None


def split_ids(ids: list[str], seed: int) -> dict[str, list[str]]:
    """{"train", "validation", "test"}: ``ids`` shuffled with ``seed``, 2 % validation, 5 % test, each list sorted."""
    order = sorted(ids)
    random.Random(seed).shuffle(order)
    validation, test = round(len(order) * VALIDATION_SHARE), round(len(order) * TEST_SHARE)
    return {"train": sorted(order[validation + test:]), "validation": sorted(order[:validation]), "test": sorted(order[validation: validation + test])}


def refuse_other_files(out_dir: Path) -> None:
    """A :class:`UserError` when ``out_dir`` holds anything but a game-speech corpus (its ``lines.tsv``) or the wavs
    of a build cut short: another corpus is never overwritten."""
    names = {path.name for path in out_dir.iterdir()} if out_dir.is_dir() else set()
    if not (out_dir / "lines.tsv").exists() and not names <= {"wavs"}:
        raise UserError(f"{out_dir} holds other files (another corpus?); write the game speech into a new folder")


def _package_version(package: str) -> str:
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=True).stdout or "unknown"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_corpus(out_dir, lines: list[tuple[GameLine, Callable]], seed: int = 0, progress: bool = True) -> dict:
    """Write the corpus of ``lines`` (each with its decoder) into ``out_dir``; returns the manifest's counts."""
    out_dir = Path(out_dir)
    refuse_other_files(out_dir)
    (out_dir / "wavs").mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").unlink(missing_ok=True)  # written again last: its presence means complete
    kept, skipped = [], {}
    for line, decode in tqdm(lines, desc="game speech", unit="clip", disable=not progress):
        samples, rate = decode(line)
        samples = np.clip(resample_to_16k(np.asarray(samples, np.float32), rate), -1.0, 1.0)
        text = normalize_text(line.text).text
        if (why := usable(text, samples)) is not None:
            skipped[why] = skipped.get(why, 0) + 1
            continue
        write_audio(out_dir / "wavs" / f"{line.id}.wav", samples)
        kept.append((line, text, len(samples) / SAMPLE_RATE))
    if not kept:
        raise UserError("no usable game speech found")
    kept.sort(key=lambda item: item[0].id)
    subtitle = lambda line: " ".join(line.text.replace("|", " ").split())  # noqa: E731
    (out_dir / "metadata.csv").write_text("".join(f"{line.id}|{subtitle(line)}|{text}\n" for line, text, _ in kept), encoding="utf-8")
    (out_dir / "lines.tsv").write_text(
        "id\tseconds\tcharacter\torigin\n" + "".join(f"{line.id}\t{seconds:.2f}\t{line.speaker}\t{line.origin}\n" for line, _, seconds in kept),
        encoding="utf-8",
    )
    splits = split_ids([line.id for line, _, _ in kept], seed)
    (out_dir / "splits.json").write_text(json.dumps(splits, indent=1) + "\n", encoding="utf-8")
    counts = {
        "utterances": len(kept), **{name: len(ids) for name, ids in splits.items()},
        "hours": round(sum(seconds for _, _, seconds in kept) / 3600, 3),
        "characters": len({(line.id.split("-")[0], line.speaker) for line, _, _ in kept}),
        "by_game": {game: sum(line.id.startswith(game + "-") for line, _, _ in kept) for game in sorted({line.id.split("-")[0] for line, _, _ in kept})},
        "skipped": skipped,
    }
    manifest = {
        "source": SOURCE,
        "packages": {package: _package_version(package) for package in PACKAGES},
        "seed": seed, "sample_rate": SAMPLE_RATE, "counts": counts,
        "checksum_sha256": corpus_checksum(out_dir, [line.id for line, _, _ in kept]),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return counts


def build_game_speech(out_dir, seed: int = 0, progress: bool = True) -> dict:
    """Read the installed games and write their corpus into ``out_dir`` (:func:`write_corpus`)."""
    refuse_other_files(Path(out_dir))  # before reading the games
    return write_corpus(out_dir, game_lines(), seed, progress)
