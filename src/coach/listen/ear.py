"""The listening stage: microphone blocks (16 kHz int16) and the coach's own played audio in,
``Heard`` events out.

mic block ─▶ echo suppressor (reference: what the coach is playing) ─▶ recognizer ─▶ self-speech
filter ─▶ Heard. The vocabulary follows the engine's ``Listen`` actions: a small set per state.
"""

from __future__ import annotations

import queue
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from coach.listen.asr.base import Hypothesis, Recognizer

from coach.pcm import SAMPLE_RATE
from coach.listen.echo.self_speech import Verdict
from coach.content import Content
from coach.session.messages import Heard

ECHO_TAIL = 0.5
"""Seconds after the coach's audio last sounded during which words heard may still be its echo
(room reverberation, the recognizer's hang-over), on top of the echo stage's largest bulk delay.
A final "... or stop" reaches the recognizer after the line has ended: without this tail it was
obeyed (live echo-loopback test, heard 0.16 s after the line ended)."""


@dataclass(frozen=True)
class Filtered:
    """A hypothesis the self-speech filter dropped (``verdict`` DROP) or turned into ``unsure``
    (ASK): ``ratio`` is the echo stage's user-to-echo power ratio while the words were heard;
    ``t`` session seconds."""

    intent: str
    text: str
    ratio: float
    t: float
    verdict: Verdict = Verdict.DROP


@dataclass(frozen=True)
class EarStats:
    blocks: int
    audio_seconds: float
    cpu_seconds: float
    """Process CPU time spent inside ``hear`` (echo + recognizer + filter)."""
    dropped_self: int
    """Hypotheses dropped as the coach's own voice."""


WORD_SLACK = 0.3
"""Seconds a word of the coach's line is taken to sound before espeak-ng's time for it."""

LineWords = Callable[[str], Sequence[tuple[str, float]]]
"""A line's words with the second each starts in its audio (``Synthesizer.words_of``)."""


class Ear:
    def __init__(self, recognizer: Recognizer, content: Content, echo=None, self_filter=None,
                 line_words: LineWords | None = None) -> None:
        self.recognizer = recognizer
        self.content = content
        self.echo = echo
        self.self_filter = self_filter
        self._line_words = line_words
        self._intents: frozenset[str] | None = None
        self._fed = 0  # samples fed to the recognizer
        self._t0: float | None = None
        self._blocks = 0
        self._cpu = 0.0
        self._dropped = 0
        # the last lines the coach played: [text, fed seconds first heard, last sounding,
        # first sounding (None until its audio sounds)]
        self._lines: deque[list] = deque(maxlen=8)
        self._playing: str | None = None  # now_playing of the block before
        self._tail = ECHO_TAIL + (echo.max_lag / echo.rate if echo is not None else 0.0)
        self._sounded_until = float("-inf")  # fed seconds when the coach's audio last sounded
        self.filtered: queue.SimpleQueue[Filtered] = queue.SimpleQueue()
        """Hypotheses taken for the coach's own voice or doubted, for the event log
        (thread-safe)."""

    def listen_for(self, intents: frozenset[str]) -> None:
        if intents == self._intents:
            return
        self._intents = intents
        if intents:
            self.recognizer.set_vocabulary(self.content.phrases(intents))

    def hear(self, block: np.ndarray, t_start: float, reference: np.ndarray | None = None,
             now_playing: str | None = None) -> list[Heard]:
        """Feed one block that began at session time ``t_start``; return what was heard."""
        c0 = time.process_time()
        if self._t0 is None:
            self._t0 = t_start - self._fed / SAMPLE_RATE
        if self.echo is not None:
            ref = reference if reference is not None else np.zeros_like(block)
            block = self.echo.process(block, ref)
        sounding = reference is not None and bool(reference.any())
        if sounding:
            self._sounded_until = (self._fed + len(block)) / SAMPLE_RATE
        # the coach's voice or its echo tail is in this block
        self.recognizer.note_far_end(self._fed / SAMPLE_RATE < self._sounded_until + self._tail)
        hyps = self.recognizer.accept(block) if self._intents else []
        self._fed += len(block)
        self._note_playing(now_playing, sounding, len(block))
        out = self._judged(hyps, now_playing, t_start + len(block) / SAMPLE_RATE)
        self._blocks += 1
        self._cpu += time.process_time() - c0
        return out

    def flush(self, t_now: float) -> list[Heard]:
        """What the recognizer still holds at the end of the audio, judged like the rest."""
        return self._judged(self.recognizer.flush(), self._playing, t_now)

    def _judged(self, hyps: Sequence[Hypothesis], now_playing: str | None,
                t_now: float) -> list[Heard]:
        """``hyps`` through the self-speech filter: kept, turned into ``unsure``, or dropped
        (those two also put on ``filtered``)."""
        out = []
        for h in hyps:
            # how much louder than the predicted echo the mic was while these words were heard
            ratio = self.echo.user_ratio_between(h.start, h.end) if self.echo else float("inf")
            line = self._lines_heard_with(h, now_playing)
            verdict = Verdict.KEEP if self.self_filter is None else self.self_filter.verdict(
                h, line, ratio, self._phrases_of(h) if line else ())
            if verdict is not Verdict.KEEP:
                self.filtered.put(Filtered(h.intent, h.text, ratio, t_now, verdict))
            if verdict is Verdict.DROP:
                self._dropped += 1
                continue
            if verdict is Verdict.ASK:  # the user's voice barely above the echo: pause and ask
                h = replace(h, intent="unsure", alternatives=(h.intent,))
            out.append(self._heard(h, t_now))
        return out

    def stats(self) -> EarStats:
        return EarStats(self._blocks, self._fed / SAMPLE_RATE, self._cpu, self._dropped)

    def _note_playing(self, now_playing: str | None, sounding: bool, n: int) -> None:
        end = self._fed / SAMPLE_RATE
        started = now_playing != self._playing  # (the same line said again is a new entry)
        self._playing = now_playing
        if now_playing and (started or not self._lines):
            self._lines.append([now_playing, end - n / SAMPLE_RATE, end, None])
        elif (now_playing or sounding) and self._lines:
            self._lines[-1][2] = end
        if sounding and self._lines and self._lines[-1][3] is None:
            self._lines[-1][3] = end - n / SAMPLE_RATE

    def _lines_heard_with(self, h: Hypothesis, now_playing: str | None) -> str | None:
        """The words whose echo ``h`` may be: of every line that sounded while its words were
        said, or less than the echo tail before (the next line may already play when the words
        are reported), and of the one playing now; None when there is none. With the lines'
        word times (``line_words``), only the words sounding then, give or take the slack and
        the echo tail: a user's "stop" over the first half of "... say resume, or stop to end"
        is not the line's own "stop"."""
        lines = [line for line in self._lines
                 if line[1] <= h.end and h.start <= line[2] + self._tail]
        texts = [self._words_sounding(*line, h) for line in lines]
        if now_playing and not any(line[0] == now_playing for line in lines):
            texts.append(now_playing)  # (started after the words: kept whole, to be safe)
        return " ".join(texts) or None

    def _words_sounding(self, text: str, first: float, last: float, sound: float | None,
                        h: Hypothesis) -> str:
        words = self._line_words(text) if self._line_words is not None else ()
        if not words or sound is None:
            return text  # no word times: the whole line
        starts = [sound + t for _, t in words]  # a word sounds until the next starts
        ends = starts[1:] + [last]
        near = [w for (w, _), a, b in zip(words, starts, ends)
                if a - WORD_SLACK <= h.end and h.start <= b + self._tail]
        return " ".join(near) or text

    def _phrases_of(self, h: Hypothesis) -> list[str]:
        """The phrases of the intent heard (of every alternative, for ``unsure``)."""
        names = {n for n in (h.alternatives or (h.intent,)) if n in self.content.intents}
        return [p for plist in self.content.phrases(names).values() for p in plist]

    def _heard(self, h: Hypothesis, t_now: float) -> Heard:
        t0 = self._t0 or 0.0
        return Heard(h.intent, t_now, text=h.text, confidence=h.confidence, final=h.final,
                     alternatives=h.alternatives, start=t0 + h.start, end=t0 + h.end)


def log_filtered(ear: Ear, log) -> None:
    """Move what the self-speech filter dropped (``heard_dropped``) or doubted
    (``heard_doubted``: passed on as ``unsure``) into the session's event log."""
    while True:
        try:
            d = ear.filtered.get_nowait()
        except queue.Empty:
            return
        kind = "heard_doubted" if d.verdict is Verdict.ASK else "heard_dropped"
        log.write(d.t, kind, intent=d.intent, text=d.text,
                  ratio=round(d.ratio, 3) if d.ratio != float("inf") else None)
