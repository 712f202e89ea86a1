"""The session engine: a pure state machine, ``(state, event) -> (state, actions)``.

No I/O, no sleeping, no clock: every event carries its time, timers are deadlines kept in the
state and fired by ``Tick``. The voice says one line at a time: a ``Say`` is followed by the next
only after its ``LineDone``. Safety rules held here:

* "stop" is heard in every state and ends the session within one step;
* a hold ends at its maximum (``Hold.max_due``) whatever else happens — pause, ease-off, deafness;
* screening is never skipped, and any "yes" ends the session before anything touches the ball;
* when the recognizer is unsure between stop and too painful, the voice stops and asks.

The small state changes the handlers share (voice, timers, endings) are in ``state_changes``; the
rules they consult (what to listen for, hold cues, pace) in ``engine_rules``.
"""

from __future__ import annotations

from dataclasses import replace

from coach.content import Content, Step, StepKind
from coach.engine_rules import after_side, hold_cues, listen_set, pace, time_left
from coach.messages import (Action, CancelTimer, Event, Fault, FaultKind, Heard, LineDone, Listen,
                            Outcome, Record, Say, Tick)
from coach.plan import Screening, SessionPlan
from coach.speech_text import Speech
from coach.state import Hold, Phase, State
from coach.state_changes import (cancel_timer, end, end_hold, finish, has_timer, interject,
                                 restore_timers, set_timer, silence, suspend)


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
            s = suspend(s, t, out, self.speech.not_repeated, freeze_countdown=False)
            s = replace(s, phase=Phase.CONFIRM, awaiting=frozenset({"yes", "no", "too_painful"}),
                        reprompts=0, queue=(self.speech.line("unsure_confirm"),))
            return s
        if i == "help":
            return interject(s, self.speech.help(listen_set(s, self.current_step(s), self._screening_pos())), out)
        if i == "repeat":
            if s.speaking and (s.speaking[1], s.speaking[2]) == s.last_line:
                return replace(silence(s, out), queue=(s.last_line,) + s.queue)
            return interject(s, s.last_line, out) if s.last_line else s
        if i == "how_long":
            return interject(s, time_left(s, t, self.speech), out)
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
            s = suspend(s, t, out, self.speech.not_repeated, freeze_countdown=True)
            out.append(Record("pause", {"step": self._sid(s)}))
            s = replace(s, phase=Phase.PAUSED, reprompts=0, queue=(self.speech.line("paused"),))
            return set_timer(s, "pause_timeout", t + self.timing.pause_timeout, out)
        if s.phase is Phase.PAUSED and i in ("resume", "ready"):
            out.append(Record("resume", {"step": self._sid(s)}))
            return self._resume(s, t, out, "resumed")
        if s.phase is Phase.EASE and i == "ready":
            return self._resume(s, t, out, "lighter")
        if i in ("slower", "faster"):
            return pace(s, i, self.timing, self.speech, out)
        if i == "health_changed" and s.pos <= self._screening_pos():
            out.append(Record("health_changed"))
            s = silence(s, out)
            s = replace(s, screening=Screening.FULL, queue=(self.speech.line("health_changed"),))
            return self._enter(s, self._screening_pos(), t, out, intro=False)
        if i == "skip":
            return self._skip(s, t, out)
        if s.phase is Phase.AWAIT and i in s.awaiting:
            return self._answer(s, i, t, out)
        if s.phase is Phase.HOLD and i in ("released", "better"):
            s = end_hold(s, t, "released", out)
            return self._next(replace(s, queue=s.queue + (self._line(s, "released"),)), t, out)
        if s.phase is Phase.REST and i == "ready":
            return self._next(replace(s, queue=s.queue + (self._line(s, "done"),)), t, out)
        return s

    def _idle(self, s: State, t: float, out: list[Action]) -> State:
        """Nothing is being said and nothing is queued: what comes next in this phase."""
        if s.phase is Phase.NARRATE:
            if s.awaiting:
                return set_timer(replace(s, phase=Phase.AWAIT), "reprompt",
                                 t + self.timing.reprompt_after, out)
            return self._next(s, t, out)
        if s.phase in (Phase.AWAIT, Phase.CONFIRM, Phase.EASE) and not has_timer(s, "reprompt"):
            return set_timer(s, "reprompt", t + self.timing.reprompt_after, out)
        if s.phase is Phase.BREATHE and not has_timer(s, "breath"):
            length = s.breath_in if s.breaths % 2 == 0 else s.breath_out
            return set_timer(s, "breath", max(t, s.spoke_at + length), out)
        if s.phase is Phase.FINISH:
            return end(s, out, "")
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
                s = replace(silence(s, out), stash=(), frozen=(), resume=None)
            s = end_hold(s, t, how, out)
            s = replace(s, queue=s.queue + (self._line(s, line),))
            if s.deaf:
                return finish(replace(s, queue=s.queue + (self.speech.line("stopping"),)),
                              Outcome.FAULT, out)
            return self._next(s, t, out)
        if name == "reprompt":
            if s.reprompts >= self.timing.max_reprompts:
                s = silence(s, out)
                s = end_hold(s, t, "no_response", out) if s.hold else s
                return finish(replace(s, queue=(self.speech.line("no_response_end"),)),
                              Outcome.NO_RESPONSE, out)
            prompt = s.last_line or self.speech.line("not_heard")
            return replace(s, reprompts=s.reprompts + 1,
                           queue=s.queue + (self.speech.line("not_heard"), prompt))
        if name == "pause_timeout":
            if s.reprompts >= self.timing.max_reprompts:
                s = end_hold(s, t, "no_response", out) if s.hold else s
                return finish(replace(s, queue=(self.speech.line("no_response_end"),)),
                              Outcome.NO_RESPONSE, out)
            s = replace(s, reprompts=s.reprompts + 1, queue=s.queue + (self.speech.line("still_paused"),))
            return set_timer(s, "pause_timeout", t + self.timing.pause_timeout, out)
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
            s = silence(s, out)
            s = end_hold(s, ev.t, "stopped", out) if s.hold else s
            return end(replace(s, outcome=Outcome.STOPPED), out, ev.detail or "interrupted")
        if s.deaf:
            return s
        if s.hold and s.phase in (Phase.HOLD, Phase.EASE, Phase.PAUSED, Phase.CONFIRM):
            s = silence(s, out)
            if s.phase is not Phase.HOLD:
                s = restore_timers(s, ev.t, out)
            return replace(s, phase=Phase.HOLD, deaf=True, stash=(), resume=None,
                           queue=(self.speech.line("cannot_hear_hold"),))
        s = silence(s, out)
        return finish(replace(s, deaf=True, queue=(self.speech.line("cannot_hear"),
                                                   self.speech.line("fault_end"))),
                      Outcome.FAULT, out)

    # --- steps -------------------------------------------------------------------------------
    def _enter(self, s: State, pos: int, t: float, out: list[Action], intro: bool = True) -> State:
        for name, _ in s.timers:
            out.append(CancelTimer(name))
        s = replace(s, pos=pos, timers=(), awaiting=frozenset(), reprompts=0, breaths=0,
                    phase=Phase.NARRATE)
        if pos >= len(self.steps):
            return finish(s, Outcome.COMPLETED, out)
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
            s = set_timer(s, "hold_end", hold.end_due, out)
            s = set_timer(s, "hold_max", hold.max_due, out)
        elif step.kind is StepKind.REST:
            q += tuple(say(k) for k in step.lines)
            s = set_timer(replace(s, phase=Phase.REST), "rest", t + step.seconds, out)
        elif step.kind is StepKind.FEEDBACK:
            q += (say(step.prompt),)
            s = replace(s, awaiting=frozenset({"better", "same", "worse"}))
        return replace(s, queue=q)

    def _next(self, s: State, t: float, out: list[Action]) -> State:
        return self._enter(s, s.pos + 1, t, out)

    def _answer(self, s: State, intent: str, t: float, out: list[Action]) -> State:
        step = self.current_step(s)
        s = cancel_timer(s, "reprompt", out)
        if step.kind is StepKind.SCREENING:
            question = step.reconfirm if s.screening is Screening.RECONFIRM else step.questions[s.question]
            out.append(Record("screening_answer", {"question": question, "answer": intent}))
            if intent == "yes" and s.screening is Screening.RECONFIRM:
                s = replace(s, screening=Screening.FULL)
                return self._enter(s, s.pos, t, out)
            if intent == "yes":
                q = tuple(self.speech.line(k) for k in step.screened_out)
                return finish(replace(s, queue=q), Outcome.SCREENED_OUT, out)
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
            return finish(replace(s, queue=q), Outcome.COMPLETED, out)
        return self._next(s, t, out)  # "ready"

    def _skip(self, s: State, t: float, out: list[Action]) -> State:
        step = self.current_step(s)
        if step is None or s.phase in (Phase.PAUSED, Phase.CONFIRM, Phase.EASE, Phase.FINISH):
            return s
        if step.kind is StepKind.SCREENING:
            return interject(s, self.speech.line("screening_no_skip"), out)
        if step.kind is StepKind.FEEDBACK:
            return s
        s = silence(s, out)
        s = end_hold(s, t, "skipped", out) if s.hold else s
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
            s = silence(s, out)
        else:
            s = suspend(s, t, out, self.speech.not_repeated, freeze_countdown=False)
        say = self.speech.line
        s = replace(s, phase=Phase.EASE, awaiting=frozenset({"ready", "too_painful"}), reprompts=0,
                    queue=(say("ease_off_weight"), say("ease_off_shift"), say("ease_off_prompt")))
        return s

    def _end_side(self, s: State, t: float, out: list[Action]) -> State:
        s = silence(s, out)
        s = end_hold(s, t, "too_painful", out) if s.hold else s
        s = replace(s, stash=(), frozen=(), resume=None, queue=(self.speech.line("pain_end_side"),))
        return self._enter(s, after_side(self.steps, s.pos), t, out)

    def _resume(self, s: State, t: float, out: list[Action], line: str | None) -> State:
        phase = s.resume or Phase.NARRATE
        s = silence(s, out)
        s = cancel_timer(cancel_timer(s, "reprompt", out), "pause_timeout", out)
        s = restore_timers(s, t, out)
        q = ((self.speech.line(line),) if line else ()) + s.stash
        return replace(s, phase=Phase.NARRATE if phase is Phase.AWAIT else phase, queue=q,
                       stash=(), resume=None, reprompts=0, awaiting=s.resume_awaiting)

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

    def _stop(self, s: State, t: float, out: list[Action], reason: str) -> State:
        s = silence(s, out)
        if s.phase is Phase.FINISH:
            return end(s, out, reason)
        out.append(Record("stop", {"step": self._sid(s)}))
        s = end_hold(s, t, "stopped", out) if s.hold else s
        s = replace(s, queue=(), stash=(), frozen=())
        s, _ = self._finish_step(replace(s, queue=(self.speech.line("stopping"),)), t, out)
        return end(replace(s, outcome=Outcome.STOPPED), out, reason)

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
