"""What content is once loaded: a routine's steps and timings, the intents, the lines. Frozen."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Mapping


class StepKind(Enum):
    SAY = "say"
    SCREENING = "screening"
    BREATHE = "breathe"
    HOLD = "hold"
    REST = "rest"
    FEEDBACK = "feedback"


@dataclass(frozen=True)
class Announcement:
    left: float
    """Seconds of hold left when the line is said."""
    line: str


@dataclass(frozen=True)
class Step:
    """One step of a routine. Which fields matter depends on ``kind``."""

    id: str
    kind: StepKind
    on_ball: bool = False
    lines: tuple[str, ...] = ()
    short_lines: tuple[str, ...] = ()
    """A say step's lines for a returning user who asked for the short introduction (empty:
    ``lines`` either way). Only say steps have them: screening is never shortened."""
    prompt: str | None = None
    # screening
    intro: str | None = None
    questions: tuple[str, ...] = ()
    reconfirm: str | None = None
    passed: str | None = None
    screened_out: tuple[str, ...] = ()
    # breathe
    inhale: str | None = None
    exhale: str | None = None
    cycles: int = 0
    # hold and rest
    seconds: float = 0.0
    max_seconds: float = 0.0
    start: str | None = None
    announce: tuple[Announcement, ...] = ()
    count_last: int = 0
    checkin_every: float = 0.0
    checkins: tuple[str, ...] = ()
    done: str | None = None
    released: str | None = None
    max_reached: str | None = None
    # feedback
    answers: Mapping[str, str] = field(default_factory=dict)
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timing:
    reprompt_after: float
    max_reprompts: int
    pause_timeout: float
    breath_in: float
    breath_out: float
    breath_min: float
    breath_max: float
    breath_step: float


@dataclass(frozen=True)
class Routine:
    id: str
    title: str
    sides: tuple[str, ...]
    intro: tuple[str, ...]
    per_side: tuple[str, ...]
    outro: tuple[str, ...]
    steps: Mapping[str, Step]
    timing: Timing
    source: Path


@dataclass(frozen=True)
class Intent:
    name: str
    label: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Content:
    routine: Routine
    lines: Mapping[str, str]
    formats: Mapping[str, str]
    intents: Mapping[str, Intent]

    @property
    def intents_path(self) -> Path:
        """The intents file this content was loaded with (beside the ``routines`` folder)."""
        return self.routine.source.parent.parent / "intents.toml"

    def phrases(self, names: frozenset[str] | set[str] | tuple[str, ...]) -> dict[str, list[str]]:
        """intent -> phrases, for a recognizer's vocabulary."""
        return {n: list(self.intents[n].phrases) for n in sorted(names)}
