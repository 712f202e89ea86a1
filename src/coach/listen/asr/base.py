"""The recognizer interface every backend implements.

Audio flows one way: 16 kHz mono int16 blocks go in through ``accept``; ``Hypothesis``
messages come out. A backend knows nothing of the session: it is told which intents
(and their phrases) to listen for with ``set_vocabulary``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Protocol, Sequence

import numpy as np


@dataclass(frozen=True)
class Hypothesis:
    """An intent the recognizer heard.

    intent: the intent name from content (``stop``, ``too_painful`` …), or ``unsure`` when the
        backend could not tell two safety intents apart (``alternatives`` then lists them).
    text: the words recognized.
    confidence: 0..1.
    start, end: seconds from the start of the audio fed to this recognizer.
    final: False for a result taken from a partial hypothesis (acted on early), True at an endpoint.
    """

    intent: str
    text: str
    confidence: float
    start: float
    end: float
    final: bool = True
    alternatives: tuple[str, ...] = ()


class Recognizer(Protocol):
    name: str
    """Backend and model, for the start-up announcement (e.g. ``pocketsphinx en-us``)."""

    def set_vocabulary(self, phrases: Mapping[str, Sequence[str]]) -> None:
        """Listen only for these intents: intent name -> phrases (lower-case words)."""

    def accept(self, block: np.ndarray) -> list[Hypothesis]:
        """Feed one block of 16 kHz mono int16 samples; return what was heard in it."""

    def flush(self) -> list[Hypothesis]:
        """End of input: return what the utterance in progress still holds."""

    def reset(self) -> None:
        """Forget the utterance in progress (audio time keeps counting)."""

    def note_far_end(self, sounding: bool) -> None:
        """Told before each block whether the coach's own voice (or its echo tail) is in it, for a
        backend whose adaptation must not learn from the echo's residue (a no-op elsewhere)."""
