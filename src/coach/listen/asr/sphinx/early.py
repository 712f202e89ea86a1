"""When the pocketsphinx backend acts on a safety intent before its segment ends.

The decisions only (text in, intent out), fed with the partial results of the decoder ahead
(``ps_ahead``) frame by frame, so they are tested without audio. Two ways to an early report:

- the run: a partial result has named the same safety intent for ``early_frames`` frames;
- the pause: ``pause_frames`` frames after the word the voice detector heard no speech, and the
  last partial result names a safety intent, or can only become one (``committed_prefixes``:
  "stop the" of "stop the session"). espeak-ng's released final "p" turned "stop" into "stop the"
  at the word's very end, and the run then waited for the segment's end, ~0.2-0.25 s later.
  Such a prefix counts only soon after its whole phrase (``PREFIX_FRAMES``): in a sentence the
  grammar's competitor branch (one or two words) cannot cover, "stop the" stayed the best
  partial path for 45-86 frames ("a spotted woodpecker", "the shop assistant") and is no stop.
"""

from __future__ import annotations

from typing import Mapping

from coach.session.messages import SAFETY_INTENTS
from coach.listen.asr.sphinx.grammar import committed_prefixes

PREFIX_FRAMES = 10
"""A committed prefix is taken at a pause only if its whole phrase was the partial result at
most this many frames before (0.3 s; on espeak-ng's "stop"s "stop the" held 1-8 frames after
the last "stop")."""


class EarlyRule:
    """One segment's early-report state. ``partial`` after each frame the decoder ahead got,
    ``pause`` after each frame held back from it; each returns the intent to report now, or ""
    (at most one report per segment: ``reported``)."""

    def __init__(self, early_frames: int, pause_frames: int) -> None:
        self.early_frames = early_frames
        self.pause_frames = pause_frames
        self._by_phrase: Mapping[str, str] = {}
        self._by_prefix: dict[str, str] = {}
        self.reset()

    def use(self, by_phrase: Mapping[str, str]) -> None:
        """The vocabulary: phrase -> intent."""
        self._by_phrase = by_phrase
        self._by_prefix = committed_prefixes(by_phrase)

    def reset(self) -> None:
        """A new segment."""
        self._run_intent = ""
        self._run_len = 0
        self._last = ""
        self._frames = 0
        self._whole_at: dict[str, int] = {}
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
        self._frames += 1
        if intent:
            self._whole_at[intent] = self._frames
        self._last = intent or self._by_prefix.get(text, "")
        if intent and intent == self._run_intent:
            self._run_len += 1
        else:
            self._run_intent, self._run_len = intent, 1 if intent else 0
        if intent in SAFETY_INTENTS and self._run_len >= 2:
            self._seen.add(intent)
        if intent in SAFETY_INTENTS and self._run_len >= self.early_frames:
            return self._report(intent)
        return ""

    def pause(self, held: int) -> str:
        """``held`` frames in a row have been held back from the decoder ahead (no speech)."""
        if not self.pause_frames or held != self.pause_frames or self._last not in SAFETY_INTENTS:
            return ""
        since_whole = self._frames - self._whole_at.get(self._last, -PREFIX_FRAMES - 1)
        if since_whole > PREFIX_FRAMES:  # 0 when the last partial is the whole phrase
            return ""
        return self._report(self._last)

    def _report(self, intent: str) -> str:
        if self.reported:
            return ""
        self.reported = intent
        return intent
