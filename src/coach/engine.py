"""The session engine: a pure state machine, ``(state, event) -> (state, actions)``.

No I/O, no sleeping, no clock: every event carries its time, timers are deadlines kept in the
state and fired by ``Tick``. The voice says one line at a time: a ``Say`` is followed by the next
only after its ``LineDone``. Safety rules held here:

* "stop" is heard in every state and ends the session within one step;
* a hold ends at its maximum (``Hold.max_due``) whatever else happens — pause, ease-off, deafness;
* screening is never skipped, and any "yes" ends the session before anything touches the ball;
* when the recognizer is unsure between stop and too painful, the voice stops and asks.
"""

from __future__ import annotations

from dataclasses import replace

from coach.content import Content, Step, StepKind
from coach.messages import (Action, CancelTimer, End, Event, Fault, FaultKind, Heard, LineDone,
                            Listen, Outcome, Record, Say, Silence, StartTimer, Tick)
from coach.engine_rules import hold_cues, listen_set
from coach.plan import Screening, SessionPlan
from coach.speech_text import Speech
from coach.state import SAFETY_TIMERS, Hold, Phase, State


class Engine:
    def __init__(self, content: Content, plan: SessionPlan = SessionPlan()) -> None:
        self.content = content
        self.plan = plan
        r = content.routine
        self.steps: list[tuple[Step, str | None]] = [(r.steps[s], None) for s in r.intro]
        for side in r.sides:
            self.steps += [(r.steps[s], side) for s in r.per_side]
        self.steps += [(r.steps[s], None) for s in r.outro]
        self.speech = Speech(content)
        self.timing = r.timing

    # --- public ------------------------------------------------------------------------------
    def start(self, t: float) -> tuple[State, list[Action]]:
        p, tm = self.plan, self.timing
        s = State(Phase.NARRATE, screening=p.screening,
                  breath_in=p.breath_in or tm.breath_in, breath_out=p.breath_out or tm.breath_out)
        out: list[Action] = [Record("session_start", {
            "routine": self.content.routine.id, "hold_seconds": self._hold_seconds(),
            "max_hold_seconds": self._hold_step().max_seconds, "breath_in": s.breath_in,
            "breath_out": s.breath_out, "screening_mode": p.screening.value})]
        s = self._enter(s, 0, t, out)
        return self._finish_step(s, t, out)

    def step(self, s: State, ev: Event) -> tuple[State, list[Action]]:
        out: list[Action] = []
        if s.phase is Phase.ENDED:
            return s, out
        t = ev.t
        if isinstance(ev, Fault):
            s = self._fault(s, ev, out)
        elif isinstance(ev, Heard):
            if ev.intent in s.listening or ev.intent == "stop" or ev.intent == "unsure":
                s = self._heard(s, ev, out)
        elif isinstance(ev, LineDone):
            if s.speaking and s.speaking[0] == ev.utterance:
                s = replace(s, speaking=None)
        elif isinstance(ev, Tick):
            s = self._tick(s, t, out)
        return self._finish_step(s, t, out)

    def current_step(self, s: State) -> Step | None:
        return self.steps[s.pos][0] if 0 <= s.pos < len(self.steps) else None

    # --- the per-event handlers --------------------------------------------------------------
    def _heard(self, s: State, ev: Heard, out: list[Action]) -> State:
        t, i = ev.t, ev.intent
        if i == "stop":
            return self._stop(s, t, out, "user said stop")
        if i == "unsure":
            if s.phase in (Phase.CONFIRM, Phase.FINISH):
                return s
            s = self._suspend(s, t, out, freeze_countdown=False)
            s = replace(s, phase=Phase.CONFIRM, awaiting=frozenset({"yes", "no", "too_painful"}),
                        reprompts=0, queue=(self.speech.line("unsure_confirm"),))
            return s
        if i == "help":
            return self._interject(s, self.speech.help(listen_set(s, self.current_step(s), self._screening_pos())), out)
        if i == "repeat":
            if s.speaking and (s.speaking[1], s.speaking[2]) == s.last_line:
                return replace(self._silence(s, out), queue=(s.last_line,) + s.queue)
            return self._interject(s, s.last_line, out) if s.last_line else s
        if i == "how_long":
            return self._interject(s, self._time_left(s, t), out)
        if s.phase is Phase.CONFIRM:
            if i == "yes":
                return self._stop(s, t, out, "user confirmed stop")
            if i == "no":
                return self._resume(s, t, out, None)
            if i == "too_painful":
                return self._too_painful(s, t, out)
        if i == "too_painful":
            return self._too_painful(s, t, out)
        if i == "pause":
            s = self._suspend(s, t, out, freeze_countdown=True)
            out.append(Record("pause", {"step": self._sid(s)}))
            s = replace(s, phase=Phase.PAUSED, reprompts=0, queue=(self.speech.line("paused"),))
            return self._set_timer(s, "pause_timeout", t + self.timing.pause_timeout, out)
        if s.phase is Phase.PAUSED and i in ("resume", "ready"):
            out.append(Record("resume", {"step": self._sid(s)}))
            return self._resume(s, t, out, "resumed")
        if s.phase is Phase.EASE and i == "ready":
            return self._resume(s, t, out, "lighter")
        if i in ("slower", "faster"):
            return self._pace(s, i, out)
        if i == "health_changed" and s.pos <= self._screening_pos():
            out.append(Record("health_changed"))
            s = self._silence(s, out)
            s = replace(s, screening=Screening.FULL, queue=(self.speech.line("health_changed"),))
            return self._enter(s, self._screening_pos(), t, out, intro=False)
        if i == "skip":
            return self._skip(s, t, out)
        if s.phase is Phase.AWAIT and i in s.awaiting:
            return self._answer(s, i, t, out)
        if s.phase is Phase.HOLD and i in ("released", "better"):
            s = self._end_hold(s, t, "released", out)
            return self._next(replace(s, queue=s.queue + (self._line(s, "released"),)), t, out)
        if s.phase is Phase.REST and i == "ready":
            return self._next(replace(s, queue=s.queue + (self._line(s, "done"),)), t, out)
        return s

    def _idle(self, s: State, t: float, out: list[Action]) -> State:
        """Nothing is being said and nothing is queued: what comes next in this phase."""
        if s.phase is Phase.NARRATE:
            if s.awaiting:
                return self._set_timer(replace(s, phase=Phase.AWAIT), "reprompt",
                                       t + self.timing.reprompt_after, out)
            return self._next(s, t, out)
        if s.phase in (Phase.AWAIT, Phase.CONFIRM, Phase.EASE) and not self._has_timer(s, "reprompt"):
            return self._set_timer(s, "reprompt", t + self.timing.reprompt_after, out)
        if s.phase is Phase.BREATHE and not self._has_timer(s, "breath"):
            length = s.breath_in if s.breaths % 2 == 0 else s.breath_out
            return self._set_timer(s, "breath", max(t, s.spoke_at + length), out)
        if s.phase is Phase.FINISH:
            return self._end(s, out, "")
        return s

    def _tick(self, s: State, t: float, out: list[Action]) -> State:
        while True:
            due = sorted((d, n) for n, d in s.timers if d <= t)
            if not due or s.phase is Phase.ENDED:
                break
            _, name = due[0]
            s = replace(s, timers=tuple(x for x in s.timers if x[0] != name))
            s = self._timer_fired(s, name, t, out)
        if s.phase is Phase.HOLD and s.hold:
            s = hold_cues(s, self.current_step(s), self.speech, t)
        return s

    def _timer_fired(self, s: State, name: str, t: float, out: list[Action]) -> State:
        if name in ("hold_end", "hold_max") and s.hold:
            how = "completed" if name == "hold_end" else "max"
            line = "done" if name == "hold_end" else "max_reached"
            if s.phase in (Phase.PAUSED, Phase.CONFIRM, Phase.EASE):
                s = replace(self._silence(s, out), stash=(), frozen=(), resume=None)
            s = self._end_hold(s, t, how, out)
            s = replace(s, queue=s.queue + (self._line(s, line),))
            if s.deaf:
                return self._finish(replace(s, queue=s.queue + (self.speech.line("stopping"),)),
                                    Outcome.FAULT, out)
            return self._next(s, t, out)
        if name == "reprompt":
            if s.reprompts >= self.timing.max_reprompts:
                s = self._silence(s, out)
                s = self._end_hold(s, t, "no_response", out) if s.hold else s
                return self._finish(replace(s, queue=(self.speech.line("no_response_end"),)),
                                    Outcome.NO_RESPONSE, out)
            prompt = s.last_line or self.speech.line("not_heard")
            return replace(s, reprompts=s.reprompts + 1,
                           queue=s.queue + (self.speech.line("not_heard"), prompt))
        if name == "pause_timeout":
            if s.reprompts >= self.timing.max_reprompts:
                s = self._end_hold(s, t, "no_response", out) if s.hold else s
                return self._finish(replace(s, queue=(self.speech.line("no_response_end"),)),
                                    Outcome.NO_RESPONSE, out)
            s = replace(s, reprompts=s.reprompts + 1, queue=s.queue + (self.speech.line("still_paused"),))
            return self._set_timer(s, "pause_timeout", t + self.timing.pause_timeout, out)
        if name == "breath":
            step = self.current_step(s)
            s = replace(s, breaths=s.breaths + 1)
            if s.breaths >= 2 * step.cycles:
                return self._next(s, t, out)
            key = step.inhale if s.breaths % 2 == 0 else step.exhale
            return replace(s, queue=s.queue + (self.speech.line(key),))
        if name == "rest":
            return self._next(replace(s, queue=s.queue + (self._line(s, "done"),)), t, out)
        return s

    def _fault(self, s: State, ev: Fault, out: list[Action]) -> State:
        out.append(Record("fault", {"what": ev.kind.value, "detail": ev.detail}))
        if ev.kind is FaultKind.INTERRUPTED:
            s = self._silence(s, out)
            s = self._end_hold(s, ev.t, "stopped", out) if s.hold else s
            return self._end(replace(s, outcome=Outcome.STOPPED), out, ev.detail or "interrupted")
        if s.deaf:
            return s
        if s.hold and s.phase in (Phase.HOLD, Phase.EASE, Phase.PAUSED, Phase.CONFIRM):
            s = self._silence(s, out)
            if s.phase is not Phase.HOLD:
                s = self._restore_timers(s, ev.t, out)
            return replace(s, phase=Phase.HOLD, deaf=True, stash=(), resume=None,
                           queue=(self.speech.line("cannot_hear_hold"),))
        s = self._silence(s, out)
        return self._finish(replace(s, deaf=True, queue=(self.speech.line("cannot_hear"),
                                                         self.speech.line("fault_end"))),
                            Outcome.FAULT, out)

    # --- steps -------------------------------------------------------------------------------
    def _enter(self, s: State, pos: int, t: float, out: list[Action], intro: bool = True) -> State:
        for name, _ in s.timers:
            out.append(CancelTimer(name))
        s = replace(s, pos=pos, timers=(), awaiting=frozenset(), reprompts=0, breaths=0,
                    phase=Phase.NARRATE)
        if pos >= len(self.steps):
            return self._finish(s, Outcome.COMPLETED, out)
        step, side = self.steps[pos]
        prev_side = self.steps[pos - 1][1] if pos > 0 else None
        if side and side != prev_side:
            s = replace(s, pain=0)
            out.append(Record("side_start", {"side": side}))
        q = s.queue
        say = self.speech.line
        if step.kind is StepKind.SAY:
            q += tuple(say(k, side=side) for k in step.lines)
            if step.prompt:
                q += (say(step.prompt),)
                s = replace(s, awaiting=frozenset({"ready"}))
            if pos == 0 and self.plan.plan_text:
                q += (say("plan", plan=self.plan.plan_text),)
        elif step.kind is StepKind.SCREENING:
            if s.screening is Screening.RECONFIRM:
                q += (say(step.reconfirm),)
            else:
                q += ((say(step.intro),) if intro else ()) + (say(step.questions[0]),)
            s = replace(s, awaiting=frozenset({"yes", "no"}), question=0)
        elif step.kind is StepKind.BREATHE:
            q += (say(step.intro), say(step.inhale))
            s = replace(s, phase=Phase.BREATHE)
        elif step.kind is StepKind.HOLD:
            planned = self._hold_seconds()
            hold = Hold(side or "", t, planned, t + step.max_seconds, t + planned)
            out.append(Record("hold_start", {"side": side, "planned": planned,
                                             "max": step.max_seconds}))
            q += (say(step.start, time=self.speech.duration(planned)),)
            s = replace(s, phase=Phase.HOLD, hold=hold)
            s = self._set_timer(s, "hold_end", hold.end_due, out)
            s = self._set_timer(s, "hold_max", hold.max_due, out)
        elif step.kind is StepKind.REST:
            q += tuple(say(k) for k in step.lines)
            s = self._set_timer(replace(s, phase=Phase.REST), "rest", t + step.seconds, out)
        elif step.kind is StepKind.FEEDBACK:
            q += (say(step.prompt),)
            s = replace(s, awaiting=frozenset({"better", "same", "worse"}))
        return replace(s, queue=q)

    def _next(self, s: State, t: float, out: list[Action]) -> State:
        return self._enter(s, s.pos + 1, t, out)

    def _answer(self, s: State, intent: str, t: float, out: list[Action]) -> State:
        step = self.current_step(s)
        s = self._cancel_timer(s, "reprompt", out)
        if step.kind is StepKind.SCREENING:
            question = step.reconfirm if s.screening is Screening.RECONFIRM else step.questions[s.question]
            out.append(Record("screening_answer", {"question": question, "answer": intent}))
            if intent == "yes" and s.screening is Screening.RECONFIRM:
                s = replace(s, screening=Screening.FULL)
                return self._enter(s, s.pos, t, out)
            if intent == "yes":
                q = tuple(self.speech.line(k) for k in step.screened_out)
                return self._finish(replace(s, queue=q), Outcome.SCREENED_OUT, out)
            if s.screening is Screening.FULL and s.question + 1 < len(step.questions):
                nxt = self.speech.line(step.questions[s.question + 1])
                return replace(s, question=s.question + 1, phase=Phase.NARRATE, queue=(nxt,))
            out.append(Record("screening_passed", {"mode": s.screening.value}))
            return self._next(replace(s, queue=(self.speech.line(step.passed),)), t, out)
        if step.kind is StepKind.FEEDBACK:
            out.append(Record("feedback", {"answer": intent}))
            q = (self.speech.line(step.answers[intent]),)
            if self.plan.summary_text:
                q += (self.speech.line("summary", summary=self.plan.summary_text),)
            q += tuple(self.speech.line(k) for k in step.after)
            return self._finish(replace(s, queue=q), Outcome.COMPLETED, out)
        return self._next(s, t, out)  # "ready"

    def _skip(self, s: State, t: float, out: list[Action]) -> State:
        step = self.current_step(s)
        if step is None or s.phase in (Phase.PAUSED, Phase.CONFIRM, Phase.EASE, Phase.FINISH):
            return s
        if step.kind is StepKind.SCREENING:
            return self._interject(s, self.speech.line("screening_no_skip"), out)
        if step.kind is StepKind.FEEDBACK:
            return s
        s = self._silence(s, out)
        s = self._end_hold(s, t, "skipped", out) if s.hold else s
        return self._next(replace(s, queue=(self.speech.line("skipping"),)), t, out)

    # --- pain, pause, confirmation -------------------------------------------------------------
    def _too_painful(self, s: State, t: float, out: list[Action]) -> State:
        step = self.current_step(s)
        if step is None or not step.on_ball:
            return self._resume(s, t, out, None) if s.phase is Phase.CONFIRM else s
        s = replace(s, pain=s.pain + 1)
        out.append(Record("too_painful", {"side": self.steps[s.pos][1], "step": step.id,
                                          "count": s.pain}))
        if s.pain >= 2:
            return self._end_side(s, t, out)
        if s.phase in (Phase.EASE, Phase.CONFIRM):
            s = self._silence(s, out)
        else:
            s = self._suspend(s, t, out, freeze_countdown=False)
        say = self.speech.line
        s = replace(s, phase=Phase.EASE, awaiting=frozenset({"ready", "too_painful"}), reprompts=0,
                    queue=(say("ease_off_weight"), say("ease_off_shift"), say("ease_off_prompt")))
        return s

    def _end_side(self, s: State, t: float, out: list[Action]) -> State:
        s = self._silence(s, out)
        s = self._end_hold(s, t, "too_painful", out) if s.hold else s
        s = replace(s, stash=(), frozen=(), resume=None, queue=(self.speech.line("pain_end_side"),))
        side = self.steps[s.pos][1]
        rest = next((i for i in range(s.pos + 1, len(self.steps))
                     if self.steps[i][1] == side and self.steps[i][0].kind is StepKind.REST), None)
        if rest is None:
            rest = next((i for i in range(s.pos + 1, len(self.steps)) if self.steps[i][1] != side),
                        len(self.steps))
        return self._enter(s, rest, t, out)

    def _suspend(self, s: State, t: float, out: list[Action], freeze_countdown: bool) -> State:
        """Stop the voice, keep what was to be said, freeze timers; the hold's maximum runs on."""
        stash = tuple(x for x in (((s.speaking[1], s.speaking[2]),) if s.speaking else ()) + s.queue
                      if x[0] not in self.speech.not_repeated)
        if not stash and s.phase is Phase.AWAIT and s.last_line:
            stash = (s.last_line,)
        s = self._silence(s, out)
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

    def _resume(self, s: State, t: float, out: list[Action], line: str | None) -> State:
        phase = s.resume or Phase.NARRATE
        s = self._silence(s, out)
        s = self._cancel_timer(self._cancel_timer(s, "reprompt", out), "pause_timeout", out)
        s = self._restore_timers(s, t, out)
        q = ((self.speech.line(line),) if line else ()) + s.stash
        return replace(s, phase=Phase.NARRATE if phase is Phase.AWAIT else phase, queue=q,
                       stash=(), resume=None, reprompts=0, awaiting=s.resume_awaiting)

    def _restore_timers(self, s: State, t: float, out: list[Action]) -> State:
        timers = s.timers + tuple((n, t + left) for n, left in s.frozen)
        hold = s.hold
        if hold and hold.end_due is None:
            hold = replace(hold, end_due=t + hold.left_frozen)
            timers += (("hold_end", hold.end_due),)
        for n, d in timers:
            if n not in dict(s.timers):
                out.append(StartTimer(n, d))
        return replace(s, timers=timers, frozen=(), hold=hold)

    # --- small helpers ------------------------------------------------------------------------
    def _finish_step(self, s: State, t: float, out: list[Action]) -> tuple[State, list[Action]]:
        """Say the next queued line if the voice is free, settle idle phases, update listening."""
        for _ in range(len(self.steps) * 4 + 10):
            if s.phase is Phase.ENDED:
                break
            if s.speaking is None and s.queue:
                (key, text), rest = s.queue[0], s.queue[1:]
                out.append(Say(s.next_id, key, text))
                last = s.last_line if key in self.speech.not_repeated else (key, text)
                s = replace(s, queue=rest, speaking=(s.next_id, key, text), spoke_at=t,
                            next_id=s.next_id + 1, last_line=last)
            if s.speaking is not None:
                break
            before = s
            s = self._idle(s, t, out)
            if s == before:
                break
        if s.phase is Phase.ENDED:
            return s, out
        listen = frozenset() if s.deaf else listen_set(s, self.current_step(s), self._screening_pos())
        if listen != s.listening:
            out.append(Listen(listen))
            s = replace(s, listening=listen)
        return s, out

    def _interject(self, s: State, line: tuple[str, str], out: list[Action]) -> State:
        """Say ``line`` now; whatever it cut off is said again after it."""
        cut = ((s.speaking[1], s.speaking[2]),) if s.speaking else ()
        s = self._silence(s, out)
        return replace(s, queue=(line,) + cut + s.queue)

    def _time_left(self, s: State, t: float) -> tuple[str, str]:
        if s.hold:
            return self.speech.line("time_left", time=self.speech.duration(s.hold.left(t)))
        rest = dict(s.timers).get("rest")
        if s.phase is Phase.REST and rest is not None:
            return self.speech.line("time_left", time=self.speech.duration(rest - t))
        return self.speech.line("no_timer")

    def _pace(self, s: State, which: str, out: list[Action]) -> State:
        tm = self.timing
        delta = tm.breath_step if which == "slower" else -tm.breath_step
        b_in = min(tm.breath_max, max(tm.breath_min, s.breath_in + delta))
        b_out = min(tm.breath_max, max(tm.breath_min, s.breath_out + delta))
        key = "pace_limit" if (b_in, b_out) == (s.breath_in, s.breath_out) else f"pace_{which}"
        if key != "pace_limit":
            out.append(Record("pace", {"breath_in": b_in, "breath_out": b_out}))
        s = replace(s, breath_in=b_in, breath_out=b_out)
        return self._interject(s, self.speech.line(key, inhale=f"{b_in:g}", exhale=f"{b_out:g}"), out)

    def _stop(self, s: State, t: float, out: list[Action], reason: str) -> State:
        s = self._silence(s, out)
        if s.phase is Phase.FINISH:
            return self._end(s, out, reason)
        out.append(Record("stop", {"step": self._sid(s)}))
        s = self._end_hold(s, t, "stopped", out) if s.hold else s
        s = replace(s, queue=(), stash=(), frozen=())
        s, _ = self._finish_step(replace(s, queue=(self.speech.line("stopping"),)), t, out)
        return self._end(replace(s, outcome=Outcome.STOPPED), out, reason)

    def _end_hold(self, s: State, t: float, how: str, out: list[Action]) -> State:
        h = s.hold
        if h is None:
            return s
        out.append(Record("hold_end", {"side": h.side, "planned": h.planned,
                                       "actual": round(min(t, h.max_due) - h.started, 3), "how": how}))
        s = self._cancel_timer(self._cancel_timer(s, "hold_end", out), "hold_max", out)
        return replace(s, hold=None)

    def _finish(self, s: State, outcome: Outcome, out: list[Action]) -> State:
        for name, _ in s.timers:
            out.append(CancelTimer(name))
        return replace(s, phase=Phase.FINISH, outcome=outcome, timers=(), frozen=(), awaiting=frozenset())

    def _end(self, s: State, out: list[Action], reason: str) -> State:
        for name, _ in s.timers:
            out.append(CancelTimer(name))
        outcome = s.outcome or Outcome.STOPPED
        out.append(Record("session_end", {"outcome": outcome.value, "reason": reason}))
        out.append(End(outcome, reason))
        return replace(s, phase=Phase.ENDED, outcome=outcome, timers=(), queue=())

    def _silence(self, s: State, out: list[Action]) -> State:
        if s.speaking is not None:
            out.append(Silence())
        return replace(s, speaking=None)

    def _set_timer(self, s: State, name: str, due: float, out: list[Action]) -> State:
        out.append(StartTimer(name, due))
        return replace(s, timers=tuple(x for x in s.timers if x[0] != name) + ((name, due),))

    def _cancel_timer(self, s: State, name: str, out: list[Action]) -> State:
        if not self._has_timer(s, name):
            return s
        out.append(CancelTimer(name))
        return replace(s, timers=tuple(x for x in s.timers if x[0] != name))

    @staticmethod
    def _has_timer(s: State, name: str) -> bool:
        return any(n == name for n, _ in s.timers)

    def _line(self, s: State, field: str) -> tuple[str, str]:
        return self.speech.line(getattr(self.current_step(s), field))

    def _sid(self, s: State) -> str | None:
        step = self.current_step(s)
        return step.id if step else None

    def _screening_pos(self) -> int:
        return next(i for i, (st, _) in enumerate(self.steps) if st.kind is StepKind.SCREENING)

    def _hold_step(self) -> Step:
        return next(st for st, _ in self.steps if st.kind is StepKind.HOLD)

    def _hold_seconds(self) -> float:
        step = self._hold_step()
        return min(step.max_seconds, self.plan.hold_seconds or step.seconds)
