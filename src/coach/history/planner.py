"""The adaptive plan: next session's hold, breathing pace and screening depth, from history.

Hold rules (seconds; the guide's range is 120–180):

* no session with a hold yet → ``default_hold`` (``NEW_USER``);
* the last session with a hold had "too painful" (an event, or a hold ended that way) → one
  ``step`` shorter, but never below ``min_hold`` (``EASIER``, or ``AT_MIN`` if already there);
  the feedback "worse" without pain does the same (``EASIER_AFTER_WORSE``,
  ``AT_MIN_AFTER_WORSE``: the words differ). Decision: we do not go below the guide's 120 s by
  default — a shorter hold is not the technique the guide describes; the user eases pressure
  (and can say "too painful" at any time) instead. Pass ``min_hold`` lower to change that;
* every hold of that session ran to its end (``completed``, ``released`` or ``max``) and the
  user answered the feedback "better" or "the same" → one ``step`` longer, at most ``max_hold``
  (``LONGER``, or ``AT_MAX``);
* otherwise (stopped mid-hold, no response, a crash, or no feedback: a session interrupted by
  Ctrl-C or a signal before the question) → the same hold again (``SAME``).

The breathing pace is the last one the user chose (the last ``pace`` entry), else the routine's.

Screening is ``FULL`` for a new user, when the last full screening passed is ``rescreen_days``
(30) or more days old, after the user said "my health has changed", and while any "yes" answer
stands: a "yes" is only cleared by a later full screening that passes. Otherwise ``RECONFIRM``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum

from coach.history.store import HistoryStore, ScreeningAnswer, SessionRecord
from coach.session.plan import Screening

ScreeningNeed = Screening
"""FULL | RECONFIRM — the engine's own enum, so a plan feeds ``SessionPlan`` directly."""

HELD_TO_END = frozenset({"completed", "released", "max"})
"""How a hold ends when it ran its course (the clock, the user's "released", the maximum)."""
GOOD_FEEDBACK = frozenset({"better", "same"})
"""Feedback that lets the next hold be longer (no answer does not)."""


class PlanReason(Enum):
    NEW_USER = "new_user"
    LONGER = "longer"
    AT_MAX = "at_max"
    SAME = "same"
    EASIER = "easier"
    AT_MIN = "at_min"
    EASIER_AFTER_WORSE = "easier_after_worse"
    AT_MIN_AFTER_WORSE = "at_min_after_worse"


class ScreeningWhy(Enum):
    NEW_USER = "new_user"
    NEVER_PASSED = "never_passed"
    DUE = "due"
    """The last full screening is ``rescreen_days`` old or more."""
    HEALTH_CHANGED = "health_changed"
    ANSWERED_YES = "answered_yes"
    RECENT = "recent"
    """A full screening passed recently: one reconfirm question is enough."""


@dataclass(frozen=True)
class Plan:
    hold_seconds: float
    """Planned hold per side, seconds."""
    breath_in: float | None
    """Seconds per breath in the user last chose; None: the routine's default."""
    breath_out: float | None
    reason: PlanReason
    previous_hold: float | None
    """Seconds planned per side in the last session with a hold; None for a new user."""
    screening: Screening
    screening_why: ScreeningWhy
    answers: tuple[ScreeningAnswer, ...]
    """The latest answer to each screening question ever asked, in the order first asked."""
    open_yes: tuple[str, ...]
    """Questions answered "yes" since the last full screening passed."""
    last_feedback: str | None
    """'better' | 'same' | 'worse' of the last session with a hold, if answered."""
    last_pain: int
    """Times "too painful" was said in the last session with a hold."""
    last_full_screening: datetime | None
    """UTC time of the last full screening passed."""


def _hold_step(last: SessionRecord | None, *, default_hold: float, min_hold: float,
               max_hold: float, step: float) -> tuple[float, PlanReason, float | None]:
    if last is None:
        return min(max(default_hold, min_hold), max_hold), PlanReason.NEW_USER, None
    planned = [h.planned for h in last.holds if h.planned is not None]
    previous = planned[-1] if planned else (last.planned_hold or default_hold)
    base = min(max(previous, min_hold), max_hold)
    pain = last.pain_count > 0 or any(h.pain or h.how == "too_painful" for h in last.holds)
    if pain or last.feedback == "worse":
        hold = max(base - step, min_hold)
        if pain:
            return hold, (PlanReason.EASIER if hold < base else PlanReason.AT_MIN), previous
        return hold, (PlanReason.EASIER_AFTER_WORSE if hold < base
                      else PlanReason.AT_MIN_AFTER_WORSE), previous
    if (last.holds and all(h.how in HELD_TO_END for h in last.holds)
            and last.feedback in GOOD_FEEDBACK):
        hold = min(base + step, max_hold)
        return hold, (PlanReason.LONGER if hold > base else PlanReason.AT_MAX), previous
    return base, PlanReason.SAME, previous


def plan_next(store: HistoryStore, *, now: datetime | None = None, default_hold: float = 120,
              min_hold: float = 120, max_hold: float = 180, step: float = 15,
              rescreen_days: float = 30) -> Plan:
    """The plan for the next session. ``now`` (aware or UTC-naive) defaults to the real clock."""
    now = now or datetime.now(timezone.utc)
    now = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now
    sessions = store.sessions()
    with_holds = [s for s in sessions if s.holds]
    last = with_holds[-1] if with_holds else None
    hold, reason, previous = _hold_step(last, default_hold=default_hold, min_hold=min_hold,
                                        max_hold=max_hold, step=step)
    breath_in = breath_out = None
    for s in sessions:
        if s.pace_in is not None and s.pace_out is not None:
            breath_in, breath_out = s.pace_in, s.pace_out

    # Screening memory: walk the stored events in the order they happened.
    last_full: datetime | None = None
    health = False
    open_yes: dict[str, None] = {}
    answers: dict[str, str] = {}
    for ev in store.events({"screening_answer", "screening_passed", "health_changed"}):
        if ev.kind == "screening_answer":
            q, a = str(ev.data.get("question")), str(ev.data.get("answer"))
            answers[q] = a
            if a == "yes":
                open_yes[q] = None
        elif ev.kind == "screening_passed" and ev.data.get("mode") == Screening.FULL.value:
            last_full = ev.wall or last_full
            health = False
            open_yes.clear()
        elif ev.kind == "health_changed":
            health = True

    if not sessions:
        why = ScreeningWhy.NEW_USER
    elif open_yes:
        why = ScreeningWhy.ANSWERED_YES
    elif health:
        why = ScreeningWhy.HEALTH_CHANGED
    elif last_full is None:
        why = ScreeningWhy.NEVER_PASSED
    elif now - last_full >= timedelta(days=rescreen_days):
        why = ScreeningWhy.DUE
    else:
        why = ScreeningWhy.RECENT
    screening = Screening.RECONFIRM if why is ScreeningWhy.RECENT else Screening.FULL
    return Plan(
        hold_seconds=float(hold), breath_in=breath_in, breath_out=breath_out, reason=reason,
        previous_hold=previous, screening=screening, screening_why=why,
        answers=tuple(ScreeningAnswer(q, a) for q, a in answers.items()),
        open_yes=tuple(open_yes), last_feedback=last.feedback if last else None,
        last_pain=last.pain_count if last else 0, last_full_screening=last_full)
