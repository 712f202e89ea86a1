"""The one session loop: start the driver, then feed it each event and perform its actions.

A live session, the demo and a simulation differ only in where their events come from (and so
which clock they keep: real time, the audio, or virtual time) and in the ``Output`` that carries
the actions out. The rule that a reply to a prompt cut off before its end is never given (the user
did not hear it out) is kept here, once, in ``Performer.heard_to_the_end``.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Protocol

from coach.session.driver import SessionDriver
from coach.session.messages import (Action, BreathPace, End, Event, LineDone, Listen, Pacer, Say,
                                    Silence, Tick)


class Output(Protocol):
    """Where the engine's actions land. ``t``: session seconds when the action is performed."""

    def say(self, say: Say, t: float) -> None:
        """Start playing ``say.text`` as utterance ``say.utterance``; its ``LineDone`` follows."""

    def silence(self, t: float) -> None:
        """Stop playing now and drop whatever is queued."""

    def listen(self, intents: frozenset[str]) -> None:
        """From now on, listen only for these intents."""

    def pace(self, pace: BreathPace | None, t: float) -> None:
        """The breathing pacer follows ``pace`` from now on (None: silent at once)."""

    def end(self, end: End, t: float) -> None:
        """The session ended; its last lines may still be playing."""


class Performer:
    """Carries out a driver's actions against an ``Output`` and remembers which line is playing
    and which lines were cut off."""

    def __init__(self, driver: SessionDriver, output: Output,
                 clock: Callable[[], float] | None = None,
                 on_tick: Callable[[float], None] | None = None) -> None:
        self.driver, self.output = driver, output
        self.clock = clock
        """Session seconds for the log's ``speaker_stopped`` (default: the event's time)."""
        self.on_tick = on_tick
        """Told each ``Tick``'s time once the driver has had it (the status line's clock)."""
        self.playing: int | None = None
        """The utterance said last and not yet finished or cut."""
        self.cut: set[int] = set()

    def start(self, t: float) -> None:
        self.perform(self.driver.start(t), t)

    def feed(self, ev: Event) -> list[Action]:
        """Feed one event to the driver and perform what it answers."""
        if isinstance(ev, LineDone) and self.playing == ev.utterance:
            self.playing = None
        actions = self.driver.feed(ev)
        self.perform(actions, ev.t)
        if self.on_tick is not None and isinstance(ev, Tick):
            self.on_tick(ev.t)
        return actions

    def perform(self, actions: list[Action], t: float) -> None:
        for a in actions:
            if isinstance(a, Say):
                self.playing = a.utterance
                self.output.say(a, t)
            elif isinstance(a, Silence):
                if self.playing is not None:
                    self.cut.add(self.playing)
                    self.playing = None
                self.output.silence(t)
                self.driver.log.write(self.clock() if self.clock else t, "speaker_stopped")
            elif isinstance(a, Listen):
                self.output.listen(a.intents)
            elif isinstance(a, Pacer):
                self.output.pace(a.pace, t)
            elif isinstance(a, End):
                self.output.end(a, t)

    def heard_to_the_end(self, utterance: int) -> bool:
        """False when ``utterance`` was cut off before its end: a reply to it is not given."""
        return utterance not in self.cut


def run_session(performer: Performer, events: Iterable[Event], t_start: float = 0.0) -> End | None:
    """Start the session at ``t_start``, then feed it ``events`` (``feed_events``)."""
    performer.start(t_start)
    return feed_events(performer, events)


def feed_events(performer: Performer, events: Iterable[Event]) -> End | None:
    """The loop: feed ``events`` in order until the session ends or they run out. Returns how the
    session ended (None if it has not)."""
    driver = performer.driver
    for ev in events:
        if driver.ended:
            break
        performer.feed(ev)
    return driver.end


ENDING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Signals that end a session as stopped, recorded, the sound cut at once: Ctrl-C, ``kill``, and
the terminal being closed."""


@contextmanager
def signals_end_the_session(on_signal: Callable[[str], None]) -> Iterator[None]:
    """Inside the block, each of ``ENDING_SIGNALS`` calls ``on_signal`` with its name
    (``"SIGHUP"`` …) instead of ending the process; the previous handlers come back after.
    Signals can only be caught on the main thread: elsewhere this changes nothing."""
    saved = {}
    if threading.current_thread() is threading.main_thread():
        for sig in ENDING_SIGNALS:
            saved[sig] = signal.signal(sig, lambda num, _frame: on_signal(signal.Signals(num).name))
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
