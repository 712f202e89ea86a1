"""The session's state: what the engine remembers between events. Frozen; replaced, never mutated."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from coach.session.messages import BreathPace, Outcome
from coach.session.plan import Screening


class Phase(Enum):
    NARRATE = "narrate"      # saying a step's lines; then AWAIT (if ``awaiting``) or next step
    AWAIT = "await"          # waiting for one of ``awaiting``; re-prompts on silence
    BREATHE = "breathe"      # paced breathing cues
    HOLD = "hold"            # the countdown on the tender spot
    EASE = "ease"            # after "too painful": lighter pressure, waiting for ready
    REST = "rest"
    PAUSED = "paused"
    CONFIRM = "confirm"      # "did you say stop?"
    FINISH = "finish"        # saying the last lines, then End
    ENDED = "ended"


@dataclass(frozen=True)
class Hold:
    side: str
    started: float
    planned: float
    max_due: float
    """Hard limit: started + the step's max_seconds. Never moved, never frozen."""
    end_due: float | None
    """When the planned countdown ends; None while frozen (paused), see ``left_frozen``."""
    left_frozen: float = 0.0
    said: frozenset[str] = frozenset()
    checkins: int = 0

    def left(self, t: float) -> float:
        due = self.left_frozen if self.end_due is None else self.end_due - t
        return max(0.0, min(due, self.max_due - t))


@dataclass(frozen=True)
class State:
    phase: Phase
    pos: int = -1
    queue: tuple[tuple[str, str], ...] = ()
    speaking: tuple[int, str, str] | None = None
    spoke_at: float = 0.0
    next_id: int = 1
    last_line: tuple[str, str] | None = None
    awaiting: frozenset[str] = frozenset()
    reprompts: int = 0
    question: int = 0
    screening: Screening = Screening.FULL
    timers: tuple[tuple[str, float], ...] = ()
    frozen: tuple[tuple[str, float], ...] = ()
    stash: tuple[tuple[str, str], ...] = ()
    resume: Phase | None = None
    resume_awaiting: frozenset[str] = frozenset()
    pain: int = 0
    breath_in: float = 5.0
    breath_out: float = 5.0
    breaths: int = 0
    inhale_at: float | None = None
    """Session second an in-breath of the paced breathing began (the pacer's anchor); None
    outside the breathing and the hold, and in the breathing until its first "breathe in"."""
    hold: Hold | None = None
    deaf: bool = False
    outcome: Outcome | None = None
    listening: frozenset[str] = frozenset()
    pacing: BreathPace | None = None
    """What the pacer was last told to follow (``Pacer``)."""

    @property
    def breath_pace(self) -> BreathPace | None:
        """The paced breathing now: during the breathing and the hold, once anchored."""
        if self.phase not in (Phase.BREATHE, Phase.HOLD) or self.inhale_at is None:
            return None
        return BreathPace(self.breath_in, self.breath_out, self.inhale_at)


ALWAYS = frozenset({"stop", "help", "repeat"})
SAFETY_TIMERS = ("hold_end", "hold_max")
"""Timers that keep running through pause, ease-off and confirmation."""
