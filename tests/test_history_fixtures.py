"""Builders of event-log entries shaped like the session engine's, for the history tests.

(No tests here; the name keeps it among the history test files.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=timezone.utc)
"""A fixed Monday morning: tests never read the real clock."""

SECRET = "my private words nobody should keep"
"""Said by the user in every built session: must never reach the database."""


@dataclass(frozen=True)
class H:
    """One hold: side, planned and actual seconds, how it ended, "too painful" count."""

    side: str
    planned: float
    actual: float | None
    how: str | None
    pain: int = 0


def entries(sid: str, start: datetime = T0, *, holds: Iterable[H] = (),
            feedback: str | None = "better", outcome: str | None = "completed",
            pace: tuple[float, float] | None = None, answers: Iterable[tuple[str, str]] = (),
            passed: str | None = "full", health_after_pass: bool = False,
            health_before_pass: bool = False, mode: str = "full") -> list[dict[str, Any]]:
    """A whole session's log (``outcome=None``: it stops before ``session_end``, as in a crash)."""
    holds = list(holds)
    out: list[dict[str, Any]] = []
    t = 0.0

    def add(kind: str, dt: float = 1.0, **data: Any) -> None:
        nonlocal t
        t += dt
        out.append({"seq": len(out), "t": round(t, 3),
                    "wall": (start + timedelta(seconds=t)).isoformat(timespec="milliseconds"),
                    "session": sid, "kind": kind, **data})

    planned = holds[0].planned if holds else 120.0
    add("session_start", routine="psoas-ball", hold_seconds=planned, max_hold_seconds=180.0,
        breath_in=5.0, breath_out=5.0, screening_mode=mode)
    add("said", utterance=0, line="welcome", text="Welcome.")
    add("heard", intent="ready", text=SECRET, confidence=0.9, final=True, alternatives=[])
    if health_before_pass:
        add("health_changed")
    for q, a in answers:
        add("screening_answer", question=q, answer=a)
    if passed:
        add("screening_passed", mode=passed)
    if health_after_pass:
        add("health_changed")
    for h in holds:
        add("side_start", side=h.side)
        add("hold_start", side=h.side, planned=h.planned, max=180.0)
        for i in range(h.pain):
            add("too_painful", 10.0, side=h.side, step="hold", count=i + 1)
        if h.how is not None:
            add("hold_end", h.actual or 0.0, side=h.side, planned=h.planned, actual=h.actual,
                how=h.how)
    if pace:
        add("pace", breath_in=pace[0], breath_out=pace[1])
    if feedback:
        add("feedback", answer=feedback)
    if outcome:
        add("session_end", outcome=outcome, reason="")
    return out


def both(planned: float, how: str = "completed", pain: int = 0,
         actual: float | None = None) -> list[H]:
    """Right then left side, the same way."""
    a = planned if actual is None else actual
    return [H("right", planned, a, how, pain), H("left", planned, a, how, 0)]


def record_all(store: Any, *sessions: list[dict[str, Any]]) -> None:
    for s in sessions:
        for e in s:
            store.record(e)
