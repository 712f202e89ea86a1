"""Feeds events to the engine and keeps its state and log: the one place that owns a session."""

from __future__ import annotations

from coach.session.engine import Engine, Phase, State
from coach.session.eventlog import EventLog
from coach.session.messages import Action, End, Event


class SessionDriver:
    """Wraps the pure engine: ``feed(event) -> actions``, logging everything on the way."""

    def __init__(self, engine: Engine, log: EventLog) -> None:
        self.engine = engine
        self.log = log
        self.state: State | None = None
        self.end: End | None = None

    def start(self, t: float) -> list[Action]:
        state, actions = self.engine.start(t)
        return self._apply(t, None, state, actions)

    def feed(self, ev: Event) -> list[Action]:
        assert self.state is not None, "start() first"
        self.log.event(ev)
        state, actions = self.engine.step(self.state, ev)
        return self._apply(ev.t, self.state, state, actions)

    @property
    def ended(self) -> bool:
        return self.state is not None and self.state.phase is Phase.ENDED

    def next_due(self) -> float | None:
        """The earliest timer deadline, for a runner that sleeps until then."""
        if self.state is None or not self.state.timers:
            return None
        return min(d for _, d in self.state.timers)

    def where(self, state: State) -> tuple[str | None, str | None]:
        """(step id, side) of ``state``'s step; (None, None) outside the routine's steps."""
        steps = self.engine.steps
        return (steps[state.pos][0].id, steps[state.pos][1]) if 0 <= state.pos < len(steps) \
            else (None, None)

    def _apply(self, t: float, before: State | None, state: State, actions: list[Action]) -> list[Action]:
        self.state = state
        self.log.actions(t, actions, before, state, self.where(state))
        for a in actions:
            if isinstance(a, End):
                self.end = a
        return actions
