"""What the listening stage is told the speaker played, block by block.

The echo stage must be given everything the speaker played, the voice and the breathing pacer
under it, or it cannot cancel it. The Ear itself takes a played reference to mean that the coach
is speaking, and judges what it hears then against the line being said (the self-speech filter:
own words need a clearly louder user). The pacer says no words: taken as the voice, it kept a
hold's line "sounding" through the hold, and in the live end-to-end test the user's "too painful"
was judged as that line's echo and dropped, three times. ``hear_played`` gives the echo stage
the whole and the Ear the voice alone, with the Ear as it is (``coach.listen`` is being replaced;
its ``hear`` could take the two references itself).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class _EchoOfAllPlayed:
    """The Ear's echo stage, cancelling ``played`` (set per block) whatever reference the Ear
    hands it; everything else is the stage's own."""

    def __init__(self, echo: Any) -> None:
        self.echo, self.played = echo, None

    def process(self, mic_block: np.ndarray, ref_block: np.ndarray) -> np.ndarray:
        return self.echo.process(mic_block, self.played if self.played is not None else ref_block)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.echo, name)


def hear_played(ear: Any, block: np.ndarray, t_start: float, played: np.ndarray,
                voice: np.ndarray, now_playing: str | None) -> list:
    """``ear.hear`` for one microphone block (int16, session second ``t_start``): its echo stage
    cancels ``played`` (int16, everything the speaker played over the block), the Ear takes
    ``voice`` (the voice alone) as what the coach was saying."""
    if ear.echo is not None and not isinstance(ear.echo, _EchoOfAllPlayed):
        ear.echo = _EchoOfAllPlayed(ear.echo)
    if ear.echo is not None:
        ear.echo.played = played
    return ear.hear(block, t_start, reference=voice, now_playing=now_playing)
