"""Rules the engine consults: what each state listens for, what a hold says when, how long is left,
how the breathing pace changes, and where a side that hurts too much goes next."""

from __future__ import annotations

from dataclasses import replace

from coach.content import Step, StepKind, Timing
from coach.messages import Action, Record
from coach.speech_text import Speech
from coach.state import ALWAYS, Phase, State
from coach.state_changes import interject


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


def pace(s: State, which: str, tm: Timing, speech: Speech, out: list[Action]) -> State:
    """Slower or faster: one step of breathing pace, within the routine's limits, said at once."""
    delta = tm.breath_step if which == "slower" else -tm.breath_step
    b_in = min(tm.breath_max, max(tm.breath_min, s.breath_in + delta))
    b_out = min(tm.breath_max, max(tm.breath_min, s.breath_out + delta))
    key = "pace_limit" if (b_in, b_out) == (s.breath_in, s.breath_out) else f"pace_{which}"
    if key != "pace_limit":
        out.append(Record("pace", {"breath_in": b_in, "breath_out": b_out}))
    s = replace(s, breath_in=b_in, breath_out=b_out)
    return interject(s, speech.line(key, inhale=f"{b_in:g}", exhale=f"{b_out:g}"), out)


def after_side(steps: list[tuple[Step, str | None]], pos: int) -> int:
    """Where a side ended early goes: its rest, else the next side's first step (or the end)."""
    side = steps[pos][1]
    rest = next((i for i in range(pos + 1, len(steps))
                 if steps[i][1] == side and steps[i][0].kind is StepKind.REST), None)
    if rest is None:
        rest = next((i for i in range(pos + 1, len(steps)) if steps[i][1] != side), len(steps))
    return rest
