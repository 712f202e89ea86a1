"""The session engine's messages: events in, actions out. All times are seconds on the session clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping


# --- intent names: what the user can mean -----------------------------------------------------
STOP, TOO_PAINFUL, UNSURE = "stop", "too_painful", "unsure"
HELP, REPEAT, HOW_LONG = "help", "repeat", "how_long"
YES, NO, READY = "yes", "no", "ready"
PAUSE, RESUME, SKIP = "pause", "resume", "skip"
SLOWER, FASTER, RELEASED = "slower", "faster", "released"
BETTER, SAME, WORSE = "better", "same", "worse"
HEALTH_CHANGED = "health_changed"

SAFETY_INTENTS: tuple[str, ...] = (STOP, TOO_PAINFUL)
"""Acted on from partial results, never dropped on a poor fit, and given the lower bar of the
self-speech filter: a missed "stop" costs more than a false one. ``unsure`` lists both."""


# --- events: what happened --------------------------------------------------------------------
@dataclass(frozen=True)
class Heard:
    """The recognizer heard an intent (``unsure`` when it could not tell stop from too painful)."""

    intent: str
    t: float
    text: str = ""
    confidence: float = 1.0
    final: bool = True
    alternatives: tuple[str, ...] = ()
    start: float | None = None
    """Session seconds where the words began in the audio (None when not from audio)."""
    end: float | None = None


@dataclass(frozen=True)
class LineDone:
    """The speaker finished (or was cut off in) utterance ``utterance``."""

    utterance: int
    t: float
    interrupted: bool = False


@dataclass(frozen=True)
class Tick:
    """The clock moved on; timers due by ``t`` fire."""

    t: float


class FaultKind(Enum):
    MIC_LOST = "mic_lost"
    SPEAKER_LOST = "speaker_lost"
    RECOGNIZER_STALLED = "recognizer_stalled"
    INTERRUPTED = "interrupted"
    """A signal (Ctrl-C, SIGTERM): stop at once."""


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    t: float
    detail: str = ""


Event = Heard | LineDone | Tick | Fault


# --- actions: what to do ----------------------------------------------------------------------
@dataclass(frozen=True)
class Say:
    utterance: int
    line: str
    """The line's key in content/lines.toml."""
    text: str


@dataclass(frozen=True)
class Silence:
    """Stop the voice now and drop anything queued."""


@dataclass(frozen=True)
class Listen:
    intents: frozenset[str]


@dataclass(frozen=True)
class BreathPace:
    """Paced breathing: in for ``inhale`` seconds, out for ``exhale`` seconds, an in-breath
    beginning at session second ``inhale_at`` and at every cycle (``inhale + exhale``) before and
    after it."""

    inhale: float
    exhale: float
    inhale_at: float

    @property
    def cycle(self) -> float:
        """Seconds of one breath, in and out."""
        return self.inhale + self.exhale

    def position(self, t: float) -> float:
        """Seconds into the breath at ``t``: 0 as an in-breath begins, ``inhale`` as the out-breath
        begins."""
        return (t - self.inhale_at) % self.cycle

    def inhaling(self, t: float) -> bool:
        return self.position(t) < self.inhale

    def next_turn(self, t: float) -> float:
        """Session second of the first turn (in to out, or out to in) after ``t``."""
        p = self.position(t)
        return t + (self.inhale - p if p < self.inhale else self.cycle - p)

    def retimed(self, inhale: float, exhale: float, t: float) -> BreathPace:
        """The breath carried on from ``t`` with new lengths, as far through its in- or out-breath
        (as a fraction) as it was: a new pace takes effect at once, without a jump."""
        p = self.position(t)
        if p < self.inhale:
            return BreathPace(inhale, exhale, t - p / self.inhale * inhale)
        return BreathPace(inhale, exhale, t - inhale - (p - self.inhale) / self.exhale * exhale)


@dataclass(frozen=True)
class Pacer:
    """The breathing pacer (a sound that rises with each in-breath and falls with each out-breath)
    follows ``pace`` from now on; None: it falls silent. Sent whenever either changes."""

    pace: BreathPace | None


@dataclass(frozen=True)
class Record:
    """A fact for the session record and history (``hold_end``, ``too_painful`` …)."""

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)


class Outcome(Enum):
    COMPLETED = "completed"
    STOPPED = "stopped"
    SCREENED_OUT = "screened_out"
    NO_RESPONSE = "no_response"
    FAULT = "fault"


@dataclass(frozen=True)
class End:
    outcome: Outcome
    reason: str = ""


Action = Say | Silence | Listen | Pacer | Record | End
