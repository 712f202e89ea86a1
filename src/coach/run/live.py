"""A session on real devices: the speaker, the microphone and the engine, in real time.

Threads, each with one job, talking through one queue of events to the main loop:

* listener: ``Microphone.read`` → ``Ear.hear`` (echo suppressor, recognizer, self-speech filter)
  → ``Heard``; a lost microphone or a failing recognizer becomes a ``Fault``;
* speaker events: ``Played`` → ``LineDone``;
* main thread: ``events`` waits on that queue, adds a ``Tick`` every 50 ms and the watchdogs'
  faults (a stalled listener, a line that never finished playing, Ctrl-C), and the one session
  loop (``coach.run.loop``) feeds them to the engine and performs its actions here (``say`` →
  synthesis and playback, ``silence``, ``listen`` → the listener's vocabulary, ``pace`` → the
  breathing pacer's loop under the voice).

Only this module and ``coach.run.demo`` touch real time; the engine never does.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from coach.errors import CoachError
from coach.listen.ear import Ear, log_filtered
from coach.pcm import SAMPLE_RATE, float_to_int16
from coach.run.loop import Performer, feed_events, signals_end_the_session
from coach.run.played import hear_played
from coach.session.driver import SessionDriver
from coach.session.messages import (BreathPace, End, Event, Fault, FaultKind, Heard, LineDone, Say,
                                    Tick)

TICK = 0.05
"""Seconds between clock ticks of the main loop."""
STALL_AFTER = 3.0
"""Seconds without a processed microphone block before the listener counts as stalled."""
LINE_GRACE = 2.0
"""Seconds past a line's length before a speaker that never finished it counts as lost."""
DRAIN_LIMIT = 15.0
"""Seconds the session's last lines (the safe "roll off" instruction) may play after its end."""


@dataclass
class LiveDevices:
    speaker: Any
    """``coach.devices.streams.Speaker`` (or anything with play/stop/reference/events/is_playing)."""
    mic: Any
    """``coach.devices.streams.Microphone`` (read → MicBlock)."""
    render: Callable[[str], tuple[np.ndarray, int]]
    """text → (samples, rate): the coach's voice."""
    pacer: Any = None
    """``coach.voice.pacer.PacerSound`` at the speaker's rate (None: no pacer)."""


class LiveSession:
    """One session on real devices; ``run`` blocks until it ends. It is the ``Output`` of its
    ``Performer``: the engine's actions land on the speaker and the listener."""

    def __init__(self, driver: SessionDriver, ear: Ear, devices: LiveDevices,
                 *, echo_to: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, record: bool = False,
                 on_tick: Callable[[float], None] | None = None) -> None:
        self.driver, self.ear, self.dev = driver, ear, devices
        self.echo_to = echo_to or (lambda s: None)
        self.clock = clock
        self.events: queue.Queue = queue.Queue()
        self._t0 = clock()
        self._stop = threading.Event()
        self._want: frozenset[str] | None = None
        self._now_playing: str | None = None
        self._last_block = clock()
        self._interrupted: str | None = None
        self._line_due: tuple[int, float] | None = None
        self.performer = Performer(driver, self, clock=self.now, on_tick=on_tick)
        self.recorded: list[np.ndarray] | None = [] if record else None
        """Microphone blocks (16 kHz int16), kept only when asked (``coach session --record``)."""
        self.recorded_reference: list[np.ndarray] = []
        """What the echo stage was told was playing during each recorded block (same lengths)."""

    def now(self) -> float:
        """Session seconds since this object was made."""
        return self.clock() - self._t0

    # --- threads -------------------------------------------------------------------------------
    def _listen(self) -> None:
        mic, spk = self.dev.mic, self.dev.speaker
        try:
            while not self._stop.is_set():
                block = mic.read(timeout=0.5)
                if block is None:
                    continue
                if self.recorded is not None:
                    self.recorded.append(block.samples)
                want = self._want
                if want is not None:
                    self._want = None
                    self.ear.listen_for(want)
                n = len(block.samples)
                ref16 = float_to_int16(spk.reference(block.t_start, n))
                voice16 = float_to_int16(spk.reference(block.t_start, n, voice_only=True)) \
                    if self.dev.pacer is not None else ref16
                if self.recorded is not None:
                    self.recorded_reference.append(ref16)
                t_block = self.now() - n / SAMPLE_RATE
                for h in hear_played(self.ear, block.samples, t_block, ref16, voice16,
                                     self._now_playing):
                    self.events.put(Heard(h.intent, self.now(), h.text, h.confidence, h.final,
                                          h.alternatives, h.start, h.end))
                self._last_block = self.clock()
        except CoachError as err:
            kind = FaultKind.MIC_LOST if err.code.startswith("audio") else FaultKind.RECOGNIZER_STALLED
            self.events.put(Fault(kind, self.now(), err.message))
        except Exception as err:  # the recognizer or echo stage failed
            self.events.put(Fault(FaultKind.RECOGNIZER_STALLED, self.now(), repr(err)))

    def _forward_played(self) -> None:
        while not self._stop.is_set():
            try:
                p = self.dev.speaker.events.get(timeout=0.2)
            except queue.Empty:
                continue
            self.events.put(LineDone(p.utterance_id, self.now(), p.interrupted))

    # --- Output ----------------------------------------------------------------------------------
    def say(self, a: Say, t: float) -> None:
        self.echo_to(f"{self.now():8.1f}s  coach  {a.text}")
        try:
            samples, rate = self.dev.render(a.text)
            self.dev.speaker.play(samples, rate, a.utterance)
            self._now_playing = a.text
            # a speaker that stops consuming audio must not leave the session waiting
            self._line_due = (a.utterance, self.clock() + len(samples) / rate + LINE_GRACE)
        except CoachError as err:
            self.events.put(Fault(FaultKind.SPEAKER_LOST, self.now(), err.message))
            self.events.put(LineDone(a.utterance, self.now(), True))

    def silence(self, t: float) -> None:
        self.dev.speaker.stop()
        self._now_playing = None

    def listen(self, intents: frozenset[str]) -> None:
        self._want = intents

    def pace(self, pace: BreathPace | None, t: float) -> None:
        if self.dev.pacer is not None:
            self.dev.speaker.set_bed(*self.dev.pacer.loop_for(pace, self.now()))

    def end(self, end: End, t: float) -> None:
        pass

    # --- events ----------------------------------------------------------------------------------
    def _events(self, max_seconds: float) -> Iterator[Event]:
        """What happens, in order: the threads' events, the watchdogs' faults and a ``Tick``
        every ``TICK`` seconds, until ``max_seconds`` or an interruption."""
        faulted = False
        while self.now() < max_seconds:
            if self._interrupted:
                self.dev.speaker.stop()
                yield Fault(FaultKind.INTERRUPTED, self.now(), self._interrupted)
                return
            try:
                ev = self.events.get(timeout=TICK)
            except queue.Empty:
                ev = None
            if self._line_due and self.clock() > self._line_due[1]:
                utt, self._line_due = self._line_due[0], None
                self.dev.speaker.stop()
                yield Fault(FaultKind.SPEAKER_LOST, self.now(), "a line did not finish playing")
                yield LineDone(utt, self.now(), True)
            if ev is not None:
                if isinstance(ev, LineDone):
                    if self._line_due and ev.utterance == self._line_due[0]:
                        self._line_due = None
                    if not ev.interrupted:
                        self._now_playing = None
                elif isinstance(ev, Heard):
                    self.echo_to(f"{self.now():8.1f}s  heard  {ev.intent} ({ev.text!r}, "
                                 f"{ev.confidence:.2f})")
                elif isinstance(ev, Fault):
                    faulted = True
                yield ev
            if not faulted and self.clock() - self._last_block > STALL_AFTER:
                faulted = True
                yield Fault(FaultKind.RECOGNIZER_STALLED, self.now(),
                            f"no audio processed for {STALL_AFTER:g} s")
            log_filtered(self.ear, self.driver.log)
            yield Tick(self.now())

    def _on_signal(self, name: str) -> None:
        self._interrupted = name

    def run(self, max_seconds: float = 3 * 3600) -> End | None:
        """Run the session to its end (or ``max_seconds``); returns how it ended."""
        threads = [threading.Thread(target=self._listen, name="coach-listener", daemon=True),
                   threading.Thread(target=self._forward_played, name="coach-played", daemon=True)]
        try:
            with signals_end_the_session(self._on_signal):
                threads[1].start()
                # The listener starts once the session has said what it listens for: the Ear
                # counts blocks it got before any vocabulary but its recognizer never heard them,
                # and then looks the words' echo ratios up that much too early (the first line,
                # rendered by the neural voice on an empty cache, took 1.3 s: the user's "no" and
                # "stop" were judged by the echo of other moments, ratio 0.0, and dropped).
                # Blocks wait queued.
                self.performer.start(self.now())
                self._last_block = self.clock()
                threads[0].start()
                feed_events(self.performer, self._events(max_seconds))
                self._drain_final_lines()
        finally:
            self._stop.set()
            for th in threads:
                th.join(timeout=2)
        return self.driver.end

    def _drain_final_lines(self, limit: float = DRAIN_LIMIT) -> None:
        """Let the last lines (the safe "roll off" instruction) play out, then return."""
        deadline = self.clock() + limit
        while self.dev.speaker.is_playing and self.clock() < deadline and not self._interrupted:
            time.sleep(0.05)
        if self._interrupted:
            self.dev.speaker.stop()
