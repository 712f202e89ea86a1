"""A whole session in virtual time, no audio: the engine, a scripted user and a simulated voice.

Lines take as long as they would to say (a words-per-second estimate), the user answers as the
script says, and the clock jumps from one event to the next, so a two-side session with three-minute
holds runs in milliseconds. Used by the tests and by ``coach simulate``.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, replace
from typing import Callable

from coach.driver import SessionDriver
from coach.messages import Fault, Heard, LineDone, Say, Silence, Tick
from coach.user_script import ReplyBook, Reply, intent_of

WORDS_PER_SECOND = 2.6
"""About 155 words a minute: espeak-ng's calm rate."""


def line_seconds(text: str) -> float:
    return 0.3 + len(text.split()) / WORDS_PER_SECOND


@dataclass(frozen=True)
class Injected:
    """An event the test injects at a fixed time (e.g. a fault, or an unsure hypothesis)."""

    t: float
    event: Heard | Fault


class Simulation:
    """Steps a session through virtual time: one event (line end, reply, tick, injection) at a time."""

    def __init__(self, driver: SessionDriver, replies: list[Reply], *, tick: float = 0.25,
                 injected: tuple[Injected, ...] = ()) -> None:
        self.driver = driver
        self.book = ReplyBook(replies)
        self.tick = tick
        self.t = 0.0
        self._order = itertools.count()
        self._pending: list[tuple[float, int, object]] = []
        self._current: int | None = None
        self._cut: set[int] = set()
        self._next_tick = tick
        for inj in injected:
            self._schedule(inj.t, inj.event)
        self._perform(driver.start(0.0))

    def _schedule(self, t: float, item: object) -> None:
        heapq.heappush(self._pending, (t, next(self._order), item))

    def _perform(self, actions: list) -> None:
        t = self.t
        for a in actions:
            if isinstance(a, Silence) and self._current is not None:
                self._cut.add(self._current)
                self._current = None
            elif isinstance(a, Say):
                dur = line_seconds(a.text)
                self._current = a.utterance
                self._schedule(t + dur, LineDone(a.utterance, t + dur))
                for r in self.book.triggered(a.line):
                    when = t + r.delay if r.during else t + dur + r.delay
                    self._schedule(when, ("reply", r.say, a.utterance, r.during))

    def feed(self, event: Heard | Fault) -> list:
        """Deliver an event now (a test's injection); returns the engine's actions."""
        actions = self.driver.feed(replace(event, t=self.t))
        self._perform(actions)
        return actions

    def advance(self) -> None:
        if self._pending and self._pending[0][0] <= self._next_tick:
            self.t, _, item = heapq.heappop(self._pending)
        else:
            self.t, item = self._next_tick, Tick(self._next_tick)
            self._next_tick += self.tick
        if isinstance(item, LineDone):
            if self._current != item.utterance:
                return  # cut off: the speaker never reports it as finished
            self._current = None
            self._perform(self.driver.feed(item))
        elif isinstance(item, tuple):
            _, words, utterance, during = item
            if not during and utterance in self._cut:
                return  # the prompt was cut off before the user heard it out
            intent = intent_of(words, self.driver.engine.content)
            if intent:
                self._perform(self.driver.feed(Heard(intent, self.t, text=words, confidence=0.9)))
        elif isinstance(item, (Heard, Fault)):
            self._perform(self.driver.feed(replace(item, t=self.t)))
        else:
            self._perform(self.driver.feed(item))

    def run(self, until: Callable[[SessionDriver], bool] | None = None,
            limit: float = 4 * 3600) -> SessionDriver:
        while not self.driver.ended and self.t < limit:
            if until is not None and until(self.driver):
                break
            self.advance()
        return self.driver


def simulate(driver: SessionDriver, replies: list[Reply], *, tick: float = 0.25,
             limit: float = 4 * 3600, injected: tuple[Injected, ...] = ()) -> SessionDriver:
    return Simulation(driver, replies, tick=tick, injected=injected).run(limit=limit)
