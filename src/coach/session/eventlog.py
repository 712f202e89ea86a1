"""The session's event log: JSON Lines, one entry per event, action and state change, written as
it happens (flushed per line) to the user's data directory, so a crash loses nothing.

The log is both the user's record and the tests' oracle. Entries are dicts:
``{"seq", "t", "wall", "session", "kind", ...}``; ``t`` is seconds on the session clock.
"""

from __future__ import annotations

import json
import os
import queue
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TextIO

from coach.errors import CoachError
from coach.session.messages import (Action, End, Event, Fault, Heard, LineDone, Listen, Pacer,
                                    Record, Say, Silence, Tick)
from coach.paths import data_dir

Sink = Callable[[dict[str, Any]], None]


def new_session_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


@dataclass
class EventLog:
    """Collects entries in memory and passes each to the sinks (file, history store …)."""

    session: str = field(default_factory=new_session_id)
    sinks: list[Sink] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    keep: bool = True
    header: dict[str, Any] = field(default_factory=dict)
    """Merged into the ``session_start`` entry (recognizer, voice, mode …)."""
    failures: list[CoachError] = field(default_factory=list)
    """Sinks that failed (disk full, database locked …) and were dropped."""

    _posted: queue.SimpleQueue = field(default_factory=queue.SimpleQueue, repr=False)

    def post(self, kind: str, **data: Any) -> None:
        """An entry from another thread (the sinks, such as SQLite, belong to the thread that
        writes the log): it is written just before that thread's next entry, with its time."""
        self._posted.put((kind, data))

    def write(self, t: float, kind: str, **data: Any) -> dict[str, Any]:
        while True:
            try:
                posted_kind, posted = self._posted.get_nowait()
            except queue.Empty:
                break
            self._write(t, posted_kind, posted)
        return self._write(t, kind, data)

    def _write(self, t: float, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        entry = {"seq": len(self.entries) if self.keep else None, "t": round(t, 3),
                 "wall": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                 "session": self.session, "kind": kind, **data}
        if self.keep:
            self.entries.append(entry)
        for sink in list(self.sinks):
            try:
                sink(entry)
            except CoachError as err:
                # The voice matters more than the record: drop the failing sink, keep the session
                # going (entries stay in memory), and report it when the session ends.
                self.sinks.remove(sink)
                self.failures.append(err)
        return entry

    def event(self, ev: Event) -> None:
        if isinstance(ev, Heard):
            self.write(ev.t, "heard", intent=ev.intent, text=ev.text,
                       confidence=round(ev.confidence, 3), final=ev.final,
                       alternatives=list(ev.alternatives),
                       **({"start": round(ev.start, 3), "end": round(ev.end, 3)}
                          if ev.start is not None and ev.end is not None else {}))
        elif isinstance(ev, LineDone):
            self.write(ev.t, "line_done", utterance=ev.utterance, interrupted=ev.interrupted)
        elif isinstance(ev, Fault):
            self.write(ev.t, "fault_event", what=ev.kind.value, detail=ev.detail)
        elif isinstance(ev, Tick):
            pass  # ticks are implied by time; timers firing show in state changes

    def actions(self, t: float, actions: list[Action], state_before: Any, state_after: Any,
                where: tuple[str | None, str | None] = (None, None)) -> None:
        """Log ``actions`` and what changed between the states; ``where``: (step id, side) of
        ``state_after``, written in its ``state`` entry."""
        for a in actions:
            if isinstance(a, Say):
                self.write(t, "said", utterance=a.utterance, line=a.line, text=a.text)
            elif isinstance(a, Silence):
                self.write(t, "silence")
            elif isinstance(a, Listen):
                self.write(t, "listen", intents=sorted(a.intents))
            elif isinstance(a, Pacer):
                p = a.pace
                self.write(t, "pacer", **({"inhale": p.inhale, "exhale": p.exhale,
                                           "inhale_at": round(p.inhale_at, 3)} if p else {"off": True}))
            elif isinstance(a, Record):
                extra = self.header if a.kind == "session_start" else {}
                self.write(t, a.kind, **{**dict(a.data), **extra})
            elif isinstance(a, End):
                pass  # the engine records session_end itself
        before = dict(state_before.timers) if state_before is not None else {}
        after = dict(state_after.timers)
        for name, due in after.items():
            if before.get(name) != due:
                self.write(t, "timer_start", name=name, due=round(due, 3))
        for name in sorted(before.keys() - after.keys()):
            self.write(t, "timer_cancel", name=name)
        if (state_before is None or state_before.phase != state_after.phase
                or state_before.pos != state_after.pos):
            self.write(t, "state", phase=state_after.phase.value, pos=state_after.pos,
                       step=where[0], side=where[1],
                       **({"from": state_before.phase.value} if state_before else {}))


class JsonlFile:
    """A sink writing one JSON line per entry, flushed at once. The file is created at the
    first entry, so a session refused before it starts (a wrong voice, a busy device) leaves
    no empty log; its folder is made, and checked writable, at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f: TextIO | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise self._unwritable(err.strerror) from err
        if path.is_dir():
            raise CoachError("log.unwritable", f"{path} is a folder, not a session log file",
                             "give a file name for the event log")
        if not os.access(path.parent, os.W_OK):
            raise self._unwritable("permission denied")

    def _unwritable(self, why: str | None) -> CoachError:
        return CoachError("log.unwritable", f"{self.path}: cannot write the session log ({why})",
                          "free disk space or fix the folder's permissions (XDG_DATA_HOME "
                          "chooses where it goes)")

    def __call__(self, entry: dict[str, Any]) -> None:
        try:
            if self._f is None:
                self._f = open(self.path, "a", encoding="utf-8")
            self._f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._f.flush()
        except OSError as err:
            raise CoachError("log.unwritable", f"{self.path}: writing the session log failed "
                             f"({err.strerror})", "free disk space; what was written before "
                             "the failure is in the file") from err

    def close(self) -> None:
        if self._f is None:
            return
        try:
            self._f.flush()
            os.fsync(self._f.fileno())
        except OSError:
            pass
        self._f.close()


def default_log_path(session: str) -> Path:
    return data_dir() / "sessions" / f"{session}.jsonl"
