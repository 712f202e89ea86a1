"""The pre-roll: audio from just before a speech segment, given to the decoder in a noise floor.

The endpointer opens a segment where its voice detector is sure. Over a noise floor that is often
after a word's quiet onset (the "s" of "stop" is a hiss like the noise), and the decoder, hearing
"top", took it for competitor words ("out up"). In near silence the same pre-roll cost (quiet
frames ahead of a word were decoded as a competitor word: espeak-ng's "no" as "than oh"), so it
is given only when the segment's loudest frame is within ``snr_db`` of the noise floor.
Measurements: bench/README.md, "Noise floor and the pre-roll".
"""

from __future__ import annotations

from collections import deque

import numpy as np


def _power(frame: bytes) -> float:
    return float(np.mean(np.frombuffer(frame, np.int16).astype(np.float64) ** 2))


class PreRoll:
    """The last frames given to the endpointer, and which of them to give the decoder before a
    segment. ``frames``: pre-roll length in frames; ``snr_db``: only when the segment is within
    this of the noise floor (the 20th percentile of the frames kept, ~2 s)."""

    def __init__(self, frames: int, snr_db: float, history: int = 64) -> None:
        self.frames = frames
        self.snr_db = snr_db
        self._recent: deque[bytes] = deque(maxlen=frames + history)

    def push(self, frame: bytes) -> None:
        """Every frame given to the endpointer, in order."""
        self._recent.append(frame)

    def last(self, count: int) -> list[bytes]:
        """The newest ``count`` frames (fewer if fewer are kept)."""
        recent = list(self._recent)
        return recent[max(0, len(recent) - count):]

    def before(self, segment_frames: int) -> list[bytes]:
        """The frames just before a segment of the newest ``segment_frames`` frames; [] when the
        segment stands far above the noise floor. Digital silence at their head is left out (no
        microphone gives it: a null sink or a padded file, whose floor is then 0 and gets no
        pre-roll at all)."""
        recent = list(self._recent)
        at = len(recent) - segment_frames  # the segment's first frame in ``recent``
        head = recent[max(0, at - self.frames):max(0, at)]
        if not head or not self._near_floor([_power(f) for f in recent], max(0, at)):
            return []
        while head and not any(head[0]):
            head.pop(0)
        return head

    def _near_floor(self, power: list[float], at: int) -> bool:
        """``power`` of the frames kept, the segment's from ``at`` on."""
        floor = float(np.percentile(power, 20))
        loudest = max(power[at:], default=0.0)
        return floor > 0 and loudest < floor * 10 ** (self.snr_db / 10)
