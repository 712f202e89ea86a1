"""A whole session in virtual time, no audio: the engine, a scripted user and a simulated voice.

Lines take as long as they would to say (a words-per-second estimate), the user answers as the
script says, and the clock jumps from one event to the next, so a two-side session with three-minute
holds runs in milliseconds. Used by the tests and by ``coach simulate``.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, replace
from typing import Callable, Iterator

from coach.run.loop import Performer, feed_events
from coach.run.user_script import Reply, ReplyBook, intent_of
from coach.session.driver import SessionDriver
from coach.session.messages import Action, End, Event, Fault, Heard, LineDone, Say, Tick

WORDS_PER_SECOND = 2.6
"""About 155 words a minute: espeak-ng's calm rate."""


def line_seconds(text: str) -> float:
    """Seconds a line takes to say, estimated from its words."""
    return 0.3 + len(text.split()) / WORDS_PER_SECOND


@dataclass(frozen=True)
class Injected:
    """An event the test injects at a fixed time (e.g. a fault, or an unsure hypothesis)."""

    t: float
    event: Heard | Fault


@dataclass(frozen=True)
class _Reply:
    words: str
    utterance: int
    during: bool


class Simulation:
    """Steps a session through virtual time: one event (line end, reply, tick, injection) at a time.

    It is the ``Output`` of its own ``Performer``: a said line schedules its ``LineDone`` and the
    script's replies to it."""

    def __init__(self, driver: SessionDriver, replies: list[Reply], *, tick: float = 0.25,
                 injected: tuple[Injected, ...] = ()) -> None:
        self.driver = driver
        self.book = ReplyBook(replies)
        self.tick = tick
        self.t = 0.0
        self._order = itertools.count()
        self._pending: list[tuple[float, int, object]] = []
        self._next_tick = tick
        for inj in injected:
            self._schedule(inj.t, inj.event)
        self.performer = Performer(driver, self)
        self.performer.start(0.0)

    # --- Output ---------------------------------------------------------------------------------
    def say(self, a: Say, t: float) -> None:
        dur = line_seconds(a.text)
        self._schedule(t + dur, LineDone(a.utterance, t + dur))
        for r in self.book.triggered(a.line):
            when = t + r.delay if r.during else t + dur + r.delay
            self._schedule(when, _Reply(r.say, a.utterance, r.during))

    def silence(self, t: float) -> None:
        pass

    def listen(self, intents: frozenset[str]) -> None:
        pass

    def pace(self, pace, t: float) -> None:
        pass  # no audio: the pace is in the log

    def end(self, end: End, t: float) -> None:
        pass

    # --- events -----------------------------------------------------------------------------------
    def _schedule(self, t: float, item: object) -> None:
        heapq.heappush(self._pending, (t, next(self._order), item))

    def _next_event(self) -> Event | None:
        """Move the clock to the next item; the event it makes (None: nothing to feed)."""
        if self._pending and self._pending[0][0] <= self._next_tick:
            self.t, _, item = heapq.heappop(self._pending)
        else:
            self.t, item = self._next_tick, Tick(self._next_tick)
            self._next_tick += self.tick
        if isinstance(item, LineDone):
            # a line cut off never reports that it finished
            return item if self.performer.playing == item.utterance else None
        if isinstance(item, _Reply):
            if not item.during and not self.performer.heard_to_the_end(item.utterance):
                return None
            intent = intent_of(item.words, self.driver.engine.content)
            return Heard(intent, self.t, text=item.words, confidence=0.9) if intent else None
        if isinstance(item, (Heard, Fault)):
            return replace(item, t=self.t)
        return item  # Tick

    def events(self, until: Callable[[SessionDriver], bool] | None = None,
               limit: float = 4 * 3600) -> Iterator[Event]:
        while self.t < limit and not (until is not None and until(self.driver)):
            ev = self._next_event()
            if ev is not None:
                yield ev

    def feed(self, event: Heard | Fault) -> list[Action]:
        """Deliver an event now (a test's injection); returns the engine's actions."""
        return self.performer.feed(replace(event, t=self.t))

    def advance(self) -> None:
        """One step of virtual time."""
        ev = self._next_event()
        if ev is not None:
            self.performer.feed(ev)

    def run(self, until: Callable[[SessionDriver], bool] | None = None,
            limit: float = 4 * 3600) -> SessionDriver:
        feed_events(self.performer, self.events(until, limit))
        return self.driver


def simulate(driver: SessionDriver, replies: list[Reply], *, tick: float = 0.25,
             limit: float = 4 * 3600, injected: tuple[Injected, ...] = ()) -> SessionDriver:
    return Simulation(driver, replies, tick=tick, injected=injected).run(limit=limit)
