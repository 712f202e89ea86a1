"""What the engine's handlers share: small state changes (the voice, timers, ending a hold or the
session) and the rules they consult (what each state listens for, hold cues, time left, pace).

Each is pure: it takes the state (and the action list ``out``, to which it appends the actions the
change needs: ``Silence``, ``Record``, ``End``) and returns the new state. Timers are deadlines in
the state (``State.timers``); the event log records when they are set and cancelled.
"""

from __future__ import annotations

from dataclasses import replace

from coach.content import Step, StepKind, Timing
from coach.session.messages import Action, BreathPace, End, Outcome, Pacer, Record, Silence
from coach.session.speech import Speech
from coach.session.state import ALWAYS, SAFETY_TIMERS, Phase, State


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
def set_timer(s: State, name: str, due: float) -> State:
    return replace(s, timers=tuple(x for x in s.timers if x[0] != name) + ((name, due),))


def cancel_timer(s: State, name: str) -> State:
    if not has_timer(s, name):
        return s
    return replace(s, timers=tuple(x for x in s.timers if x[0] != name))


def has_timer(s: State, name: str) -> bool:
    return any(n == name for n, _ in s.timers)


def suspend(s: State, t: float, out: list[Action], not_repeated: frozenset[str],
            freeze_countdown: bool) -> State:
    """Stop the voice, keep what was to be said, freeze timers; the hold's maximum runs on.

    ``not_repeated``: lines not worth saying again on resume (see ``speech.NOT_REPEATED``).
    """
    stash = tuple(x for x in (((s.speaking[1], s.speaking[2]),) if s.speaking else ()) + s.queue
                  if x[0] not in not_repeated)
    if not stash and s.phase is Phase.AWAIT and s.last_line:
        stash = (s.last_line,)
    s = silence(s, out)
    keep = ("hold_max",) if freeze_countdown else SAFETY_TIMERS
    frozen = tuple((n, max(0.0, d - t)) for n, d in s.timers if n not in keep)
    hold = s.hold
    if freeze_countdown and hold and hold.end_due is not None:
        hold = replace(hold, end_due=None, left_frozen=max(0.0, hold.end_due - t))
        frozen = tuple(x for x in frozen if x[0] != "hold_end")
    return replace(s, stash=stash, resume=s.phase, resume_awaiting=s.awaiting, hold=hold, queue=(),
                   timers=tuple(x for x in s.timers if x[0] in keep), frozen=frozen)


def restore_timers(s: State, t: float) -> State:
    """Restart what ``suspend`` froze, with the time each had left."""
    timers = s.timers + tuple((n, t + left) for n, left in s.frozen)
    hold = s.hold
    if hold and hold.end_due is None:
        hold = replace(hold, end_due=t + hold.left_frozen)
        timers += (("hold_end", hold.end_due),)
    return replace(s, timers=timers, frozen=(), hold=hold)


# --- endings ----------------------------------------------------------------------------------
def end_hold(s: State, t: float, how: str, out: list[Action]) -> State:
    h = s.hold
    if h is None:
        return s
    out.append(Record("hold_end", {"side": h.side, "planned": h.planned,
                                   "actual": round(min(t, h.max_due) - h.started, 3), "how": how}))
    s = cancel_timer(cancel_timer(s, "hold_end"), "hold_max")
    return replace(s, hold=None)


def finish(s: State, outcome: Outcome) -> State:
    """Cancel every timer and say the last queued lines; ``End`` follows when they are said."""
    return replace(s, phase=Phase.FINISH, outcome=outcome, timers=(), frozen=(), awaiting=frozenset())


def end(s: State, out: list[Action], reason: str) -> State:
    outcome = s.outcome or Outcome.STOPPED
    s = pacer_off(s, out)
    out.append(Record("session_end", {"outcome": outcome.value, "reason": reason}))
    out.append(End(outcome, reason))
    return replace(s, phase=Phase.ENDED, outcome=outcome, timers=(), queue=())


# --- the breathing pacer ----------------------------------------------------------------------
def pacer_off(s: State, out: list[Action]) -> State:
    """Silence the pacer now (with the voice, when the session stops)."""
    if s.pacing is not None:
        out.append(Pacer(None))
    return replace(s, pacing=None, inhale_at=None)


def follow_breath(s: State, t: float, out: list[Action]) -> State:
    """Keep the paced breathing's anchor and tell the pacer when the pace changes: outside the
    breathing and the hold there is no anchor; a hold without one starts with an in-breath now
    (the breathing step anchors at its first "breathe in"); a ``Pacer`` goes out whenever the
    paced breathing differs from what the pacer was last told."""
    if s.phase not in (Phase.BREATHE, Phase.HOLD):
        if s.inhale_at is not None:
            s = replace(s, inhale_at=None)
    elif s.phase is Phase.HOLD and s.hold is not None and s.inhale_at is None:
        s = replace(s, inhale_at=t)
    now = s.breath_pace
    if now != s.pacing:
        out.append(Pacer(now))
        s = replace(s, pacing=now)
    return s


# --- rules the handlers consult ---------------------------------------------------------------
def listen_set(s: State, step: Step | None, screening_pos: int) -> frozenset[str]:
    """What the user can say in this state: a small vocabulary, so recognition stays accurate."""
    ball = {"too_painful"} if step and step.on_ball else set()
    early = {"health_changed"} if s.pos <= screening_pos else set()
    by_phase = {
        Phase.NARRATE: {"pause", "skip"} | ball | early,
        Phase.AWAIT: {"pause", "skip"} | set(s.awaiting) | ball | early,
        Phase.BREATHE: {"pause", "skip", "slower", "faster"} | ball,
        Phase.HOLD: {"pause", "skip", "slower", "faster", "released", "better", "how_long"} | ball,
        Phase.EASE: {"ready", "too_painful", "how_long"},
        Phase.REST: {"pause", "skip", "ready", "how_long"},
        Phase.PAUSED: {"resume", "ready", "how_long"},
        Phase.CONFIRM: {"yes", "no", "too_painful"},
        Phase.FINISH: set(),
    }[s.phase]
    if step and step.kind is StepKind.FEEDBACK:
        by_phase -= {"skip"}
    if s.phase in (Phase.CONFIRM, Phase.FINISH):
        return frozenset(by_phase | {"stop"} | ({"repeat"} if s.phase is Phase.CONFIRM else set()))
    return frozenset(by_phase | ALWAYS)


def hold_cues(s: State, step: Step, speech: Speech, t: float) -> State:
    """Announcements, the last seconds counted, and calm check-ins during a hold."""
    h = s.hold
    left = h.left(t)
    said, q, checkins = set(h.said), s.queue, h.checkins
    due = [a for a in step.announce if left <= a.left and f"a{a.left:g}" not in said]
    for a in due:
        said.add(f"a{a.left:g}")
    if due and left > min(a.left for a in due) - 10:
        q += (speech.line(min(due, key=lambda a: a.left).line),)
    idle = s.speaking is None and not q
    n = int(-(-left // 1))  # ceil
    if idle and 0 < n <= step.count_last and f"c{n}" not in said:
        said |= {f"c{k}" for k in range(n, step.count_last + 1)}
        q += (speech.line("count", n=str(n)),)
    elif idle and step.checkins and left > step.count_last + 8 and step.checkin_every > 0 \
            and h.planned - left >= (checkins + 1) * step.checkin_every \
            and not any(0 <= left - a.left < 8 for a in step.announce):
        key = step.checkins[checkins % len(step.checkins)]
        q += (speech.line(key, inhale=f"{s.breath_in:g}", exhale=f"{s.breath_out:g}"),)
        checkins += 1
    if q == s.queue and said == h.said:
        return s
    return replace(s, queue=q, hold=replace(h, said=frozenset(said), checkins=checkins))


def time_left(s: State, t: float, speech: Speech) -> tuple[str, str]:
    """The answer to "how long": the hold's time left, else the rest's, else that no timer runs."""
    if s.hold:
        return speech.line("time_left", time=speech.duration(s.hold.left(t)))
    rest = dict(s.timers).get("rest")
    if s.phase is Phase.REST and rest is not None:
        return speech.line("time_left", time=speech.duration(rest - t))
    return speech.line("no_timer")


def pace(s: State, which: str, t: float, tm: Timing, speech: Speech, out: list[Action]) -> State:
    """Slower or faster: one step of breathing pace, within the routine's limits, said at once;
    the pacer carries the breath under way on at the new pace (``BreathPace.retimed``), and the
    breathing step's next cue follows it."""
    delta = tm.breath_step if which == "slower" else -tm.breath_step
    b_in = min(tm.breath_max, max(tm.breath_min, s.breath_in + delta))
    b_out = min(tm.breath_max, max(tm.breath_min, s.breath_out + delta))
    key = "pace_limit" if (b_in, b_out) == (s.breath_in, s.breath_out) else f"pace_{which}"
    if key != "pace_limit":
        out.append(Record("pace", {"breath_in": b_in, "breath_out": b_out}))
    if s.inhale_at is not None:
        was = BreathPace(s.breath_in, s.breath_out, s.inhale_at)
        s = cancel_timer(replace(s, inhale_at=was.retimed(b_in, b_out, t).inhale_at), "breath")
    s = replace(s, breath_in=b_in, breath_out=b_out)
    return interject(s, speech.line(key, inhale=f"{b_in:g}", exhale=f"{b_out:g}"), out)


def today_sides(routine_sides: tuple[str, ...], chosen: tuple[str, ...] | None) -> tuple[str, ...]:
    """The sides to work: the ``chosen`` ones (None: all) in the routine's order. A side the
    routine does not have is a caller's bug (``coach.settings`` checks the user's choice)."""
    if chosen is None:
        return routine_sides
    unknown = set(chosen) - set(routine_sides)
    if unknown or not chosen:
        raise ValueError(f"sides {sorted(chosen)}: the routine has {list(routine_sides)}")
    return tuple(x for x in routine_sides if x in chosen)


def after_side(steps: list[tuple[Step, str | None]], pos: int) -> int:
    """Where a side ended early goes: its rest, else the next side's first step (or the end)."""
    side = steps[pos][1]
    rest = next((i for i in range(pos + 1, len(steps))
                 if steps[i][1] == side and steps[i][0].kind is StepKind.REST), None)
    if rest is None:
        rest = next((i for i in range(pos + 1, len(steps)) if steps[i][1] != side), len(steps))
    return rest
