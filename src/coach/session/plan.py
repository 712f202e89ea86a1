"""What one session is set up with: the hold length, breathing pace, screening depth, which
sides and how long an introduction.

The adaptive rules that choose these from history live in ``coach.history``, the user's own
choices (settings file and flags) in ``coach.settings``; the engine only reads a ``SessionPlan``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Screening(Enum):
    FULL = "full"
    """Every question, one by one (first session, every 30 days, after a 'yes' or a health change)."""
    RECONFIRM = "reconfirm"
    """One question: has anything changed? A 'yes' leads to the full questions."""


@dataclass(frozen=True)
class SessionPlan:
    hold_seconds: float | None = None
    """Planned hold per side, seconds; None: the routine's default. Never above the step's max."""
    breath_in: float | None = None
    breath_out: float | None = None
    screening: Screening = Screening.FULL
    plan_text: str | None = None
    """Said after the welcome ("Last time felt better, so we'll hold for two minutes fifteen")."""
    summary_text: str | None = None
    """Said at wrap-up, after the feedback answer."""
    sides: tuple[str, ...] | None = None
    """The routine's sides to work today, in the routine's order; None: all of them."""
    short_intro: bool = False
    """Say set-up steps' ``short_lines`` (a returning user asked for it). Screening is never
    shortened: its depth is ``screening`` alone."""


@dataclass(frozen=True)
class Choices:
    """What the user chose for the session (settings file or flags), before history is read."""

    sides: tuple[str, ...] | None = None
    """Which sides; None: all of the routine's."""
    pace: tuple[float, float] | None = None
    """Seconds to breathe in and out; None: the pace last chosen in a session, else the routine's."""
    short_intro: bool = False
    """The short introduction, if the history shows the user has done a session before."""

    def plan(self) -> SessionPlan:
        """The plan with no history behind it (demo, simulate): the choices as they are."""
        return SessionPlan(breath_in=self.pace[0] if self.pace else None,
                           breath_out=self.pace[1] if self.pace else None,
                           sides=self.sides, short_intro=self.short_intro)
