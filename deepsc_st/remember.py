"""Remembering results by the content of the audio they were computed from.

A sweep sends the same test utterances through a system at every channel and
SNR. Work that depends only on the clean speech (recognising it, AMR-WB
encoding it) or on received speech that did not change between two cells
(error-free decoding at high SNR: PESQ / STOI of the same pair) is then done
once per worker. Keys are SHA-1 digests of the samples, so a remembered
result is exactly the one the computation would give again.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Generic, TypeVar

import numpy as np

Result = TypeVar("Result")


def content_key(*arrays: np.ndarray) -> str:
    """SHA-1 (hex) of each array's size and float32 samples, in order."""
    digest = hashlib.sha1()
    for array in arrays:
        samples = np.ascontiguousarray(array, np.float32)
        digest.update(np.int64(samples.size).tobytes())
        digest.update(samples.tobytes())
    return digest.hexdigest()


class LastListMemory(Generic[Result]):
    """``function(arrays)`` of a whole list, remembering the answers to the last ``lists`` lists by content.

    For work whose answer for one item depends on the others (a model's
    padded batches), where only an identical list may reuse it.
    """

    def __init__(self, function: Callable[[list[np.ndarray]], Result], lists: int = 1):
        self.function = function
        self.lists = lists
        self._recent: dict[str, Result] = {}  # oldest first

    def __call__(self, arrays: list[np.ndarray]) -> Result:
        key = content_key(*arrays)
        result = self._recent.pop(key) if key in self._recent else self.function(arrays)
        self._recent[key] = result
        while len(self._recent) > self.lists:
            del self._recent[next(iter(self._recent))]
        return result


class PerItemMemory(Generic[Result]):
    """``function(*item)`` for each item of a call, remembering the results of the previous call's items by content.

    Only the last call's items are kept, so memory stays at one cell's worth.
    ``function`` must depend on nothing but its arrays. With ``threads`` > 1
    the new items are computed that many at a time (for work that releases
    the GIL: TensorFlow, numpy / scipy FFTs); results keep the items' order.
    """

    def __init__(self, function: Callable[..., Result], threads: int = 1):
        self.function = function
        self.threads = threads
        self._last: dict[str, Result] = {}

    def __call__(self, *columns: list[np.ndarray]) -> list[Result]:
        """``columns``: equally long lists of arrays; item i is (column[i] for each column)."""
        items = list(zip(*columns))
        keys = [content_key(*item) for item in items]
        new = {key: item for key, item in zip(keys, items) if key not in self._last}
        if self.threads > 1 and len(new) > 1:
            with ThreadPoolExecutor(self.threads) as pool:
                computed = dict(zip(new, pool.map(lambda item: self.function(*item), new.values())))
        else:
            computed = {key: self.function(*item) for key, item in new.items()}
        results = [self._last[key] if key in self._last else computed[key] for key in keys]
        self._last = dict(zip(keys, results))
        return results
