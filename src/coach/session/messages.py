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


Action = Say | Silence | Listen | Record | End
