"""One spoken line of a game: what the corpus builder (:mod:`deepsc_st.game_speech`) gets from each game's reader."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GameLine:
    """``id``: the corpus id (``GAME-CLIP``); ``text``: the subtitle as the game shows it (not normalised);
    ``speaker``: the character (lower case); ``origin``: where the clip and its text are in the package;
    ``clip``: the game reader's key for the audio (an archive entry or a file path)."""

    id: str
    text: str
    speaker: str
    origin: str
    clip: str
