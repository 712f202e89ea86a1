"""Reject what the recognizer heard of the coach's own voice.

The rule, in two sentences: **while the coach is playing a line, "stop", "too painful" (or
``unsure`` between them) is kept if the echo stage saw user speech while it was heard**
(``user_energy_ratio`` at least ``min_user_ratio``), **and anything else, or a safety intent
that could be the line's own words, needs clearly more** (``min_ratio_own_words``): own words
means every word heard is a word of that line, or the line says one of the heard intent's
phrases ("… say too painful, or stop" and a "stop" heard in any words). When nothing plays,
everything is kept. Safety intents get the lower bar because a missed "stop" costs more than a
false one; a missed "help" or "ready" is simply said again. (With the lower bar for every
intent, the live loopback test took the echo of a long line for "what can i say": stray blocks
of the echo reached ratios of 1.3-1.6 over its four seconds.)

A "stop" kept at a ratio under ``sure_user_ratio`` (1.5) is passed on as ``unsure``: the voice
pauses at once and asks "Did you say stop?" instead of ending the session. That band is where
the coach's own echo and a quiet user overlap: in simulated rooms the echo alone reached 1.02
and 1.20 in word-sized spans (espeak-ng program's voice; 0.88 with the coach's synthesizer),
people as loud as the echo gave 1.25 and more, and the live loopback replays heard the coach's
own voice as "stop" at 0.57-0.95 (``bench/barge_in.py``, bench/README.md).

The line is what the Ear passes: with espeak-ng's word times (``Ear(line_words=...)``) only the
words of the line sounding around the hypothesis (with slack and the echo tail), so a user's
"stop" over the start of "Paused. … or stop to end." gets the lower bar and one over its
"… or stop" the own-words bar; without word times, the whole line.

So the user's "stop" over "… to end, say stop" is kept (the user's voice raises the cleaned
energy far above the predicted echo), while "ready" heard from the echo of "say ready" is dropped.

``user_energy_ratio`` comes from ``EchoSuppressor.user_ratio_between(hyp.start, hyp.end)``:
power of the cleaned microphone signal / (predicted echo power + 4 x noise power), linear.
Measured with bench/echo_probe.py: echo left-overs and room noise 0.04-0.8 once the canceller
has converged; a real person's "stop" over the narration 4.7 and more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Sequence

from coach.listen.asr.base import Hypothesis

from coach.session.messages import SAFETY_INTENTS

_WORD = re.compile(r"[a-z']+")


def words(text: str) -> set[str]:
    """Lower-case words of ``text`` (letters and apostrophes)."""
    return set(_WORD.findall(text.lower()))


class Verdict(Enum):
    KEEP = "keep"
    ASK = "ask"
    """A "stop" barely above the echo: pass it on as ``unsure`` (the voice pauses and asks)."""
    DROP = "drop"


@dataclass(frozen=True)
class SelfSpeechFilter:
    """min_user_ratio: linear power ratio from which the user is taken to be speaking while the
    coach plays (safety intents). sure_user_ratio: from there a "stop" is obeyed as heard; between
    the two it is asked about (``Verdict.ASK``). min_ratio_own_words: the bar for other intents
    and for a hypothesis that could be the playing line's own words."""

    min_user_ratio: float = 1.0
    sure_user_ratio: float = 1.5
    min_ratio_own_words: float = 2.0
    lenient: frozenset[str] = frozenset(SAFETY_INTENTS) | {"unsure"}
    """Intents that need only ``min_user_ratio`` when not the line's own words."""
    doubtful: frozenset[str] = frozenset({"stop"})
    """Intents asked about, not obeyed, under ``sure_user_ratio`` ("too painful" eases off the
    pressure either way, which is the safe side)."""

    def verdict(self, hyp: Hypothesis, now_playing_text: str | None, user_energy_ratio: float,
                intent_phrases: Sequence[str] = ()) -> Verdict:
        """What to do with ``hyp``: DROP when it is most likely the coach hearing itself.
        ``intent_phrases``: the phrases of the heard intent (of both, for ``unsure``)."""
        if not now_playing_text:
            return Verdict.KEEP
        heard = words(hyp.text)
        line = " ".join(_WORD.findall(now_playing_text.lower()))
        says_it = any(f" {p} " in f" {line} " for p in intent_phrases)
        if says_it or (heard and heard <= set(line.split())) or hyp.intent not in self.lenient:
            return Verdict.KEEP if user_energy_ratio >= self.min_ratio_own_words else Verdict.DROP
        if user_energy_ratio < self.min_user_ratio:
            return Verdict.DROP
        if hyp.intent in self.doubtful and user_energy_ratio < self.sure_user_ratio:
            return Verdict.ASK
        return Verdict.KEEP

    def allow(self, hyp: Hypothesis, now_playing_text: str | None, user_energy_ratio: float,
              intent_phrases: Sequence[str] = ()) -> bool:
        """True to pass ``hyp`` on (as heard, or as ``unsure``); False to drop it."""
        return self.verdict(hyp, now_playing_text, user_energy_ratio,
                            intent_phrases) is not Verdict.DROP
