"""Small state changes the engine's handlers share: the voice, timers, ending a hold or the session.

Each is pure: it takes the state and the action list ``out``, appends the actions the change needs
(``Silence``, ``StartTimer``, ``CancelTimer``, ``Record``, ``End``) and returns the new state.
"""

from __future__ import annotations

from dataclasses import replace

from coach.messages import Action, CancelTimer, End, Outcome, Record, Silence, StartTimer
from coach.state import SAFETY_TIMERS, Phase, State


# --- the voice --------------------------------------------------------------------------------
def silence(s: State, out: list[Action]) -> State:
    if s.speaking is not None:
        out.append(Silence())
    return replace(s, speaking=None)


def interject(s: State, line: tuple[str, str], out: list[Action]) -> State:
    """Say ``line`` now; whatever it cut off is said again after it."""
    cut = ((s.speaking[1], s.speaking[2]),) if s.speaking else ()
    s = silence(s, out)
    return replace(s, queue=(line,) + cut + s.queue)


# --- timers: deadlines kept in the state ------------------------------------------------------
def set_timer(s: State, name: str, due: float, out: list[Action]) -> State:
    out.append(StartTimer(name, due))
    return replace(s, timers=tuple(x for x in s.timers if x[0] != name) + ((name, due),))


def cancel_timer(s: State, name: str, out: list[Action]) -> State:
    if not has_timer(s, name):
        return s
    out.append(CancelTimer(name))
    return replace(s, timers=tuple(x for x in s.timers if x[0] != name))


def has_timer(s: State, name: str) -> bool:
    return any(n == name for n, _ in s.timers)


def suspend(s: State, t: float, out: list[Action], not_repeated: frozenset[str],
            freeze_countdown: bool) -> State:
    """Stop the voice, keep what was to be said, freeze timers; the hold's maximum runs on.

    ``not_repeated``: lines not worth saying again on resume (see ``speech_text.NOT_REPEATED``).
    """
    stash = tuple(x for x in (((s.speaking[1], s.speaking[2]),) if s.speaking else ()) + s.queue
                  if x[0] not in not_repeated)
    if not stash and s.phase is Phase.AWAIT and s.last_line:
        stash = (s.last_line,)
    s = silence(s, out)
    keep = ("hold_max",) if freeze_countdown else SAFETY_TIMERS
    frozen = tuple((n, max(0.0, d - t)) for n, d in s.timers if n not in keep)
    for n, _ in frozen:
        out.append(CancelTimer(n))
    hold = s.hold
    if freeze_countdown and hold and hold.end_due is not None:
        hold = replace(hold, end_due=None, left_frozen=max(0.0, hold.end_due - t))
        frozen = tuple(x for x in frozen if x[0] != "hold_end")
    return replace(s, stash=stash, resume=s.phase, resume_awaiting=s.awaiting, hold=hold, queue=(),
                   timers=tuple(x for x in s.timers if x[0] in keep), frozen=frozen)


def restore_timers(s: State, t: float, out: list[Action]) -> State:
    """Restart what ``suspend`` froze, with the time each had left."""
    timers = s.timers + tuple((n, t + left) for n, left in s.frozen)
    hold = s.hold
    if hold and hold.end_due is None:
        hold = replace(hold, end_due=t + hold.left_frozen)
        timers += (("hold_end", hold.end_due),)
    for n, d in timers:
        if n not in dict(s.timers):
            out.append(StartTimer(n, d))
    return replace(s, timers=timers, frozen=(), hold=hold)


# --- endings ----------------------------------------------------------------------------------
def end_hold(s: State, t: float, how: str, out: list[Action]) -> State:
    h = s.hold
    if h is None:
        return s
    out.append(Record("hold_end", {"side": h.side, "planned": h.planned,
                                   "actual": round(min(t, h.max_due) - h.started, 3), "how": how}))
    s = cancel_timer(cancel_timer(s, "hold_end", out), "hold_max", out)
    return replace(s, hold=None)


def finish(s: State, outcome: Outcome, out: list[Action]) -> State:
    """Cancel every timer and say the last queued lines; ``End`` follows when they are said."""
    for name, _ in s.timers:
        out.append(CancelTimer(name))
    return replace(s, phase=Phase.FINISH, outcome=outcome, timers=(), frozen=(), awaiting=frozenset())


def end(s: State, out: list[Action], reason: str) -> State:
    for name, _ in s.timers:
        out.append(CancelTimer(name))
    outcome = s.outcome or Outcome.STOPPED
    out.append(Record("session_end", {"outcome": outcome.value, "reason": reason}))
    out.append(End(outcome, reason))
    return replace(s, phase=Phase.ENDED, outcome=outcome, timers=(), queue=())
