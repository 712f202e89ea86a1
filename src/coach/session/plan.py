"""What one session is set up with: the hold length, breathing pace and screening depth.

The adaptive rules that choose these from history live in ``coach.history``; the engine only
reads a ``SessionPlan``.
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
