"""One rule for derived seeds: a hash of the user's seed and the coordinates of a draw.

Training crops and augmentations (seed, epoch, utterance), measurements
(seed, system, channel, SNR) and BLER points (seed, channel, MCS, SNR) each
get their own stream, so resuming or reordering work draws what an
uninterrupted run would.
"""

from __future__ import annotations

import hashlib


def seed_from(*parts) -> int:
    """A seed in [0, 2**32): the first 32 bits of sha256 of the parts' ``str`` joined by "/"."""
    return int(hashlib.sha256("/".join(str(part) for part in parts).encode()).hexdigest()[:8], 16)
