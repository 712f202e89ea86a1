"""When the pocketsphinx backend acts on a safety intent before its segment ends.

The decisions only (text in, intent out), fed with the partial results of the decoder ahead
(``ps_ahead``) frame by frame, so they are tested without audio: a partial result that has named
the same safety intent for ``early_frames`` frames in a row is reported at once.
"""

from __future__ import annotations

from typing import Mapping

from coach.session.messages import SAFETY_INTENTS


class EarlyRule:
    """One segment's early-report state. ``partial`` after each frame the decoder ahead got
    returns the intent to report now, or "" (at most one report per segment: ``reported``)."""

    def __init__(self, early_frames: int) -> None:
        self.early_frames = early_frames
        self._by_phrase: Mapping[str, str] = {}
        self.reset()

    def use(self, by_phrase: Mapping[str, str]) -> None:
        """The vocabulary: phrase -> intent."""
        self._by_phrase = by_phrase

    def reset(self) -> None:
        """A new segment."""
        self._run_intent = ""
        self._run_len = 0
        self._seen: set[str] = set()
        self.reported = ""
        """The intent reported early in this segment ("" if none)."""

    @property
    def seen_both(self) -> bool:
        """The partial results of this segment named more than one safety intent (two frames
        each): report ``unsure``."""
        return len(self._seen) > 1

    def partial(self, text: str) -> str:
        """The decoder ahead's partial result after a frame."""
        intent = self._by_phrase.get(text, "")
        if intent and intent == self._run_intent:
            self._run_len += 1
        else:
            self._run_intent, self._run_len = intent, 1 if intent else 0
        if intent in SAFETY_INTENTS and self._run_len >= 2:
            self._seen.add(intent)
        if intent in SAFETY_INTENTS and self._run_len >= self.early_frames and not self.reported:
            self.reported = intent
            return intent
        return ""
