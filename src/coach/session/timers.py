"""What the session engine does when time passes: the deadlines it keeps (hold end and maximum,
re-prompts, the pause's time-out, breath turns, the rest) and what an idle voice does next.

A mixin of ``coach.session.engine.Engine`` (pure: state and time in, state and actions out); it
uses the engine's ``speech``, ``timing``, ``current_step``, ``_next`` and ``_line``.
"""

from __future__ import annotations

from dataclasses import replace

from coach.session.changes import end, end_hold, finish, has_timer, hold_cues, set_timer, silence
from coach.session.messages import READY, Action, Outcome
from coach.session.state import Phase, State

TURN_SLACK = 1e-3
"""Seconds past a breath's turn at which its direction is read (a timer fires at the turn)."""


class TimerRules:
    """Deadlines and idle turns of the engine (see the module)."""

    def _idle(self, s: State, t: float, out: list[Action]) -> State:
        """Nothing is being said and nothing is queued: what comes next in this phase."""
        if s.phase is Phase.NARRATE:
            if s.awaiting:
                return set_timer(replace(s, phase=Phase.AWAIT), "reprompt",
                                 t + self.timing.reprompt_after)
            return self._next(s, t, out)
        if s.phase in (Phase.AWAIT, Phase.CONFIRM, Phase.EASE) and not has_timer(s, "reprompt"):
            return set_timer(s, "reprompt", t + self.timing.reprompt_after)
        if s.phase is Phase.BREATHE and not has_timer(s, "breath"):
            length = s.breath_in if s.breaths % 2 == 0 else s.breath_out
            pace_now = s.breath_pace  # the next turn of the paced breath, once it is anchored
            due = pace_now.next_turn(t) if pace_now else max(t, s.spoke_at + length)
            return set_timer(s, "breath", due)
        if s.phase is Phase.FINISH:
            return end(s, out, "")
        return s

    def _hold_cues(self, s: State, t: float) -> State:
        """On a tick (its due deadlines already fired): the hold's spoken cues due by ``t``."""
        if s.phase is Phase.HOLD and s.hold:
            s = hold_cues(s, self.current_step(s), self.speech, t)
        return s

    def _fire_due(self, s: State, t: float, out: list[Action]) -> State:
        """Fire every timer due at ``t``, earliest first."""
        while True:
            due = sorted((d, n) for n, d in s.timers if d <= t)
            if not due or s.phase is Phase.ENDED:
                break
            _, name = due[0]
            s = replace(s, timers=tuple(x for x in s.timers if x[0] != name))
            s = self._timer_fired(s, name, t, out)
        return s

    def _timer_fired(self, s: State, name: str, t: float, out: list[Action]) -> State:
        if name in ("hold_end", "hold_max") and s.hold:
            how = "completed" if name == "hold_end" else "max"
            line = "done" if name == "hold_end" else "max_reached"
            if s.phase in (Phase.PAUSED, Phase.CONFIRM, Phase.EASE):
                s = replace(silence(s, out), stash=(), frozen=(), resume=None)
            s = end_hold(s, t, how, out)
            s = replace(s, queue=s.queue + (self._line(s, line),))
            if s.deaf:
                return finish(replace(s, queue=s.queue + (self.speech.line("stopping"),)),
                              Outcome.FAULT)
            return self._next(s, t, out)
        if name == "reprompt":
            if s.reprompts >= self.timing.max_reprompts:
                s = silence(s, out)
                return self._no_response_end(s, t, out)
            prompt = s.last_line or self.speech.line("not_heard")
            return replace(s, reprompts=s.reprompts + 1,
                           queue=s.queue + (self.speech.line("not_heard"), prompt))
        if name == "pause_timeout":
            if s.reprompts >= self.timing.max_reprompts:
                return self._no_response_end(s, t, out)
            s = replace(s, reprompts=s.reprompts + 1, queue=s.queue + (self.speech.line("still_paused"),))
            return set_timer(s, "pause_timeout", t + self.timing.pause_timeout)
        if name == "breath":
            step = self.current_step(s)
            s = replace(s, breaths=s.breaths + 1)
            if s.breaths >= 2 * step.cycles:
                return self._next(s, t, out)
            pace_now = s.breath_pace
            inhale = pace_now.inhaling(t + TURN_SLACK) if pace_now else s.breaths % 2 == 0
            key = step.inhale if inhale else step.exhale
            return replace(s, queue=s.queue + (self.speech.line(key),))
        if name == "rest":  # the rest is over: wait for the user, as at any prompt
            return replace(s, phase=Phase.NARRATE, awaiting=frozenset({READY}),
                           queue=s.queue + (self._line(s, "prompt"),))
        return s

    def _no_response_end(self, s: State, t: float, out: list[Action]) -> State:
        """Nobody answered: end safely; "roll off the ball" only if the user may be on it."""
        step = self.current_step(s)
        on_ball = s.hold is not None or (step is not None and step.on_ball)
        s = end_hold(s, t, "no_response", out) if s.hold else s
        line = "no_response_end" if on_ball else "no_response_end_off_ball"
        return finish(replace(s, queue=(self.speech.line(line),)), Outcome.NO_RESPONSE)
