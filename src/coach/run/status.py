"""The status line: what the session is doing now, read from its event log.

``SessionStatus`` follows the log's entries (it is a sink: ``EventLog.sinks``) and keeps what
someone watching wants to see: the step, its side and the phase; the time left in the hold
(frozen while paused) or the rest; the breathing pace, and in or out during paced breathing; and
what the user can say now. Its clock is the entries' ``t`` and the ticks it is told of, never a
real clock, so it is tested by feeding it entries.

``StatusLine`` writes it to a stream. On a terminal: one line redrawn in place when its text
changes (the countdown: once a second), cut to the terminal's width, with the transcript printed
above it (``print_above``). Elsewhere (a pipe, a log file): a plain line when the step, phase,
pace or vocabulary changes, never the countdown. A failing stream turns it off; it never stops
the session.
"""

from __future__ import annotations

import math
import shutil
from typing import Any, Callable, Mapping, TextIO

from coach.content import Content, StepKind
from coach.session.speech import HELP_ORDER

PHASE_WORDS: Mapping[str, str] = {
    "narrate": "", "await": "waiting for you", "breathe": "paced breathing", "hold": "",
    "ease": "easing off", "rest": "", "paused": "paused", "confirm": "did you say stop?",
    "finish": "finishing",
}
"""How the status line names a phase (``Phase.value``); empty: the step's name says it."""


def clock(seconds: float) -> str:
    """m:ss, rounded up to the second (what is left of a countdown)."""
    m, s = divmod(max(0, math.ceil(seconds - 1e-9)), 60)
    return f"{m}:{s:02d}"


class SessionStatus:
    """The session's state as the event log shows it. A sink: call it with each entry."""

    def __init__(self, labels: Mapping[str, str], inhale: frozenset[str] = frozenset(),
                 exhale: frozenset[str] = frozenset()) -> None:
        self.labels = labels
        """intent → what the user says (content/intents.toml ``label``)."""
        self.inhale, self.exhale = inhale, exhale
        """Line keys that cue breathing in / out."""
        self.t = 0.0
        """Session seconds of the latest entry or tick."""
        self.phase: str | None = None
        self.step: str | None = None
        self.side: str | None = None
        self.in_hold = False
        self.hold_end: float | None = None
        """When the planned countdown ends (session seconds); None while paused."""
        self.hold_frozen = 0.0
        """Seconds of countdown left when it was paused."""
        self.hold_max: float | None = None
        self.rest_end: float | None = None
        self.pace: tuple[float, float] | None = None
        """Seconds to breathe in and out."""
        self.breath: str | None = None
        """'in' or 'out' during paced breathing."""
        self.can_say: tuple[str, ...] = ()
        self.outcome: str | None = None

    @classmethod
    def for_content(cls, content: Content) -> SessionStatus:
        breathe = [s for s in content.routine.steps.values() if s.kind is StepKind.BREATHE]
        return cls({n: i.label for n, i in content.intents.items()},
                   frozenset(s.inhale for s in breathe if s.inhale),
                   frozenset(s.exhale for s in breathe if s.exhale))

    # --- following the log -------------------------------------------------------------------
    def __call__(self, entry: Mapping[str, Any]) -> None:
        self.t = max(self.t, float(entry.get("t", self.t)))
        handler = _HANDLERS.get(entry.get("kind", ""))
        if handler:
            handler(self, entry)

    def _on_session_start(self, e: Mapping[str, Any]) -> None:
        if e.get("breath_in") is not None and e.get("breath_out") is not None:
            self.pace = (float(e["breath_in"]), float(e["breath_out"]))

    _on_pace = _on_session_start

    def _on_state(self, e: Mapping[str, Any]) -> None:
        self.phase, self.step, self.side = e.get("phase"), e.get("step"), e.get("side")
        if self.phase != "breathe":
            self.breath = None

    def _on_hold_start(self, e: Mapping[str, Any]) -> None:
        self.in_hold, self.hold_end, self.hold_max = True, None, None

    def _on_hold_end(self, e: Mapping[str, Any]) -> None:
        self.in_hold, self.hold_end, self.hold_max = False, None, None

    def _on_timer_start(self, e: Mapping[str, Any]) -> None:
        name, due = e.get("name"), float(e["due"])
        if name == "hold_end":
            self.hold_end = due
        elif name == "hold_max":
            self.hold_max = due
        elif name == "rest":
            self.rest_end = due

    def _on_timer_cancel(self, e: Mapping[str, Any]) -> None:
        name = e.get("name")
        if name == "hold_end" and self.in_hold and self.hold_end is not None:
            self.hold_frozen, self.hold_end = self.hold_end - float(e["t"]), None  # paused
        elif name == "rest":
            self.rest_end = None

    def _on_said(self, e: Mapping[str, Any]) -> None:
        line = e.get("line")
        if line in self.inhale:
            self.breath = "in"
        elif line in self.exhale:
            self.breath = "out"

    def _on_listen(self, e: Mapping[str, Any]) -> None:
        intents = set(e.get("intents", ()))
        order = [i for i in HELP_ORDER if i in intents] + sorted(intents - set(HELP_ORDER))
        self.can_say = tuple(self.labels.get(i, i.replace("_", " ")) for i in order)

    def _on_session_end(self, e: Mapping[str, Any]) -> None:
        self.phase, self.outcome, self.can_say = "ended", e.get("outcome"), ()

    # --- what it shows -------------------------------------------------------------------------
    def hold_left(self, t: float) -> float | None:
        """Seconds left in the hold at ``t`` (never past its maximum); None outside a hold."""
        if not self.in_hold:
            return None
        left = self.hold_frozen if self.hold_end is None else self.hold_end - t
        if self.hold_max is not None:
            left = min(left, self.hold_max - t)
        return max(0.0, left)

    def key(self) -> tuple[Any, ...]:
        """What a plain line is printed for when it changes: all but the clock."""
        return (self.phase, self.step, self.side, self.in_hold and self.hold_end is None,
                self.pace, self.can_say, self.outcome)

    def render(self, t: float | None = None, *, live: bool = True) -> str:
        """The status at ``t`` (default: the latest entry's time) as one line; ``live`` adds
        whether to breathe in or out now (a terminal's line, redrawn as it changes)."""
        t = self.t if t is None else t
        if self.phase == "ended":
            return f"session ended: {self.outcome or 'not finished'}"
        name = (self.step or "starting").replace("_", " ")
        parts = [f"{name} ({self.side})" if self.side else name]
        word = PHASE_WORDS.get(self.phase or "", "")
        if word:
            parts.append(word)
        left = self.hold_left(t)
        if left is not None:
            parts.append(f"{clock(left)} left" + (" (paused)" if self.hold_end is None else ""))
        elif self.phase == "rest" and self.rest_end is not None:
            parts.append(f"{clock(self.rest_end - t)} left")
        if self.pace and self.phase in ("breathe", "hold", "ease"):
            now = f", now {self.breath}" if live and self.phase == "breathe" and self.breath else ""
            parts.append(f"breathe in {self.pace[0]:g} s, out {self.pace[1]:g} s{now}")
        parts.append("say: " + ", ".join(self.can_say) if self.can_say else "not listening")
        return " | ".join(parts)


_HANDLERS: dict[str, Callable[[SessionStatus, Mapping[str, Any]], None]] = {
    "session_start": SessionStatus._on_session_start, "pace": SessionStatus._on_pace,
    "state": SessionStatus._on_state, "hold_start": SessionStatus._on_hold_start,
    "hold_end": SessionStatus._on_hold_end, "timer_start": SessionStatus._on_timer_start,
    "timer_cancel": SessionStatus._on_timer_cancel, "said": SessionStatus._on_said,
    "listen": SessionStatus._on_listen, "session_end": SessionStatus._on_session_end,
}


def is_terminal(out: Any) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class StatusLine:
    """Writes a ``SessionStatus`` to ``out``: in place on a terminal, plain lines elsewhere.

    A sink of the event log (``__call__`` follows an entry); ``at(t)``, called on each tick of
    the session loop, shows it, so the entries of one engine step make one change."""

    def __init__(self, status: SessionStatus, out: TextIO, *, terminal: bool | None = None,
                 width: Callable[[], int] | None = None) -> None:
        self.status, self.out = status, out
        self.terminal = is_terminal(out) if terminal is None else terminal
        self.width = width or (lambda: shutil.get_terminal_size().columns)
        self.shown: str | None = None
        """The text on the terminal's status line now (None: nothing drawn)."""
        self.printed: tuple[Any, ...] | None = None
        """``SessionStatus.key`` of the last plain line."""
        self.broken = False

    def __call__(self, entry: Mapping[str, Any]) -> None:
        self.status(entry)

    def at(self, t: float) -> None:
        """Show the status at session second ``t``: redraw if its text changed."""
        self.status.t = max(self.status.t, t)
        if self.terminal:
            text = self.status.render(t)[: max(10, self.width() - 1)]
            if text != self.shown:
                self._write("\r" + text + "\x1b[K")
                self.shown = text
        elif self.status.key() != self.printed:
            self.printed = self.status.key()
            self._write(f"{t:8.1f}s  status  {self.status.render(t, live=False)}\n")

    def print_above(self, text: str) -> None:
        """Print a line of transcript; on a terminal, the status line is redrawn under it."""
        if self.terminal and self.shown is not None:
            self._write("\r\x1b[K" + text + "\n\r" + self.shown + "\x1b[K")
        else:
            self._write(text + "\n")

    def close(self) -> None:
        """Show the last status, and leave a terminal's cursor on a fresh line."""
        self.at(self.status.t)
        if self.terminal and self.shown is not None:
            self._write("\n")
            self.shown = None

    def _write(self, text: str) -> None:
        if self.broken:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except (OSError, ValueError):
            self.broken = True
