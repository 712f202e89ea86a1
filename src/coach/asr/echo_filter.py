"""Reject what the recognizer heard of the coach's own voice.

The rule, in two sentences: **while the coach is playing a line, a hypothesis is kept only if
the echo stage saw user speech while it was heard** (``user_energy_ratio`` at least
``min_user_ratio``), **and a hypothesis whose every word is a word of that line needs clearly
more** (``min_ratio_own_words``), because the recognizer may be hearing exactly the coach's
words. When nothing plays, everything is kept.

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

from coach.asr.base import Hypothesis

_WORD = re.compile(r"[a-z']+")


def words(text: str) -> set[str]:
    """Lower-case words of ``text`` (letters and apostrophes)."""
    return set(_WORD.findall(text.lower()))


@dataclass(frozen=True)
class SelfSpeechFilter:
    """min_user_ratio: linear power ratio from which the user is taken to be speaking while the
    coach plays. min_ratio_own_words: the same, for a hypothesis made only of the playing line's
    words."""

    min_user_ratio: float = 1.0
    min_ratio_own_words: float = 2.0

    def allow(self, hyp: Hypothesis, now_playing_text: str | None, user_energy_ratio: float) -> bool:
        """True to pass ``hyp`` on; False when it is most likely the coach hearing itself."""
        if not now_playing_text:
            return True
        heard = words(hyp.text)
        if heard and heard <= words(now_playing_text):
            return user_energy_ratio >= self.min_ratio_own_words
        return user_energy_ratio >= self.min_user_ratio
