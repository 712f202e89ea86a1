"""The session engine: a pure state machine, ``(state, event) -> (state, actions)``.

No I/O, no sleeping, no clock: every event carries its time, timers are deadlines kept in the
state, fired when due at the start of every event but "stop" (a ``Tick`` carries nothing else but
the hold's cues; the runner's tick rate never delays a deadline). The voice says one line at a time: a ``Say`` is followed by
the next only after its ``LineDone``. Safety rules held here:

* "stop" is heard in every state and ends the session within one step;
* a hold ends at its maximum (``Hold.max_due``) whatever else happens — pause, ease-off, deafness;
* screening is never skipped, and any "yes" ends the session before anything touches the ball;
* when the recognizer is unsure between stop and too painful, the voice stops and asks.

What the user said is dispatched by one table, ``HEARD_RULES``, from (phase, intent) to a handler;
what passing time does (deadlines, an idle voice) is in ``coach.session.timers``; the state
changes the handlers share (voice, timers, endings) and the rules they consult (what to listen
for, hold cues, pace) are in ``coach.session.changes``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from coach.content import Content, Step, StepKind
from coach.session.messages import (
    BETTER, FASTER, HEALTH_CHANGED, HELP, HOW_LONG, NO, PAUSE, READY, RELEASED, REPEAT, RESUME,
    SAME, SKIP, SLOWER, STOP, TOO_PAINFUL, UNSURE, WORSE, YES, Action, Event, Fault, FaultKind,
    Heard, LineDone, Listen, Outcome, Record, Say, Tick)
from coach.session.plan import Screening, SessionPlan
from coach.session.speech import Speech
from coach.session.state import Hold, Phase, State
from coach.session.changes import (after_side, cancel_timer, end, end_hold, finish,
                                   follow_breath, interject, listen_set, pace, pacer_off,
                                   restore_timers, set_timer, silence, suspend, time_left,
                                   today_sides)
from coach.session.timers import TimerRules


class Engine(TimerRules):
    def __init__(self, content: Content, plan: SessionPlan = SessionPlan()) -> None:
        self.content = content
        self.plan = plan
        r = content.routine
        self.sides = today_sides(r.sides, plan.sides)
        self.steps: list[tuple[Step, str | None]] = [(r.steps[s], None) for s in r.intro]
        for side in self.sides:
            self.steps += [(r.steps[s], side) for s in r.per_side]
        self.steps += [(r.steps[s], None) for s in r.outro]
        self.speech = Speech(content)
        self.sides_text = self.speech.sides(self.sides, r.sides)
        self.timing = r.timing

    # --- public ------------------------------------------------------------------------------
    def start(self, t: float) -> tuple[State, list[Action]]:
        p, tm = self.plan, self.timing
        s = State(Phase.NARRATE, screening=p.screening,
                  breath_in=p.breath_in or tm.breath_in, breath_out=p.breath_out or tm.breath_out)
        out: list[Action] = [Record("session_start", {
            "routine": self.content.routine.id, "hold_seconds": self._hold_seconds(),
            "max_hold_seconds": self._hold_step().max_seconds, "breath_in": s.breath_in,
            "breath_out": s.breath_out, "screening_mode": p.screening.value,
            "sides": list(self.sides), "short_intro": p.short_intro})]
        s = self._enter(s, 0, t, out)
        return self._finish_step(s, t, out)

    def step(self, s: State, ev: Event) -> tuple[State, list[Action]]:
        out: list[Action] = []
        if s.phase is Phase.ENDED:
            return s, out
        t = ev.t
        if not (isinstance(ev, Heard) and ev.intent == STOP):
            s = self._fire_due(s, t, out)  # deadlines due by now come first, on any event
            if s.phase is Phase.ENDED:
                return self._finish_step(s, t, out)
        if isinstance(ev, Fault):
            s = self._fault(s, ev, out)
        elif isinstance(ev, Heard):
            if ev.intent in s.listening or ev.intent in (STOP, UNSURE):
                s = self._heard(s, ev, out)
        elif isinstance(ev, LineDone):
            if s.speaking and s.speaking[0] == ev.utterance:
                s = replace(s, speaking=None)
        elif isinstance(ev, Tick):
            s = self._hold_cues(s, t)
        return self._finish_step(s, t, out)

    def current_step(self, s: State) -> Step | None:
        return self.steps[s.pos][0] if 0 <= s.pos < len(self.steps) else None

    # --- what the user said: one table from (phase, intent) to handler ----------------------
    def _heard(self, s: State, ev: Heard, out: list[Action]) -> State:
        """The first rule whose phases (``None``: any) and intents match handles ``ev``."""
        for phases, intents, handler in HEARD_RULES:
            if ev.intent in intents and (phases is None or s.phase in phases):
                return handler(self, s, ev, out)
        return s

    def _on_stop(self, s: State, ev: Heard, out: list[Action]) -> State:
        return self._stop(s, ev.t, out, "user said stop")

    def _on_unsure(self, s: State, ev: Heard, out: list[Action]) -> State:
        if s.phase in (Phase.CONFIRM, Phase.FINISH):
            return s
        s = suspend(s, ev.t, out, self.speech.not_repeated, freeze_countdown=False)
        return replace(s, phase=Phase.CONFIRM, awaiting=frozenset({YES, NO, TOO_PAINFUL}),
                       reprompts=0, queue=(self.speech.line("unsure_confirm"),))

    def _on_help(self, s: State, ev: Heard, out: list[Action]) -> State:
        can_say = listen_set(s, self.current_step(s), self._screening_pos())
        return interject(s, self.speech.help(can_say), out)

    def _on_repeat(self, s: State, ev: Heard, out: list[Action]) -> State:
        if s.speaking and (s.speaking[1], s.speaking[2]) == s.last_line:
            return replace(silence(s, out), queue=(s.last_line,) + s.queue)
        return interject(s, s.last_line, out) if s.last_line else s

    def _on_how_long(self, s: State, ev: Heard, out: list[Action]) -> State:
        return interject(s, time_left(s, ev.t, self.speech), out)

    def _on_confirmed_stop(self, s: State, ev: Heard, out: list[Action]) -> State:
        return self._stop(s, ev.t, out, "user confirmed stop")

    def _on_not_stop(self, s: State, ev: Heard, out: list[Action]) -> State:
        return self._resume(s, ev.t, out, None)

    def _on_pause(self, s: State, ev: Heard, out: list[Action]) -> State:
        s = suspend(s, ev.t, out, self.speech.not_repeated, freeze_countdown=True)
        out.append(Record("pause", {"step": self._sid(s)}))
        s = replace(s, phase=Phase.PAUSED, reprompts=0, queue=(self.speech.line("paused"),))
        return set_timer(s, "pause_timeout", ev.t + self.timing.pause_timeout)

    def _on_resume(self, s: State, ev: Heard, out: list[Action]) -> State:
        out.append(Record("resume", {"step": self._sid(s)}))
        return self._resume(s, ev.t, out, "resumed")

    def _on_lighter(self, s: State, ev: Heard, out: list[Action]) -> State:
        return self._resume(s, ev.t, out, "lighter")

    def _on_pace(self, s: State, ev: Heard, out: list[Action]) -> State:
        return pace(s, ev.intent, ev.t, self.timing, self.speech, out)

    def _on_health_changed(self, s: State, ev: Heard, out: list[Action]) -> State:
        if s.pos > self._screening_pos():
            return s
        out.append(Record("health_changed"))
        s = silence(s, out)
        s = replace(s, screening=Screening.FULL, queue=(self.speech.line("health_changed"),))
        return self._enter(s, self._screening_pos(), ev.t, out, intro=False)

    def _on_released(self, s: State, ev: Heard, out: list[Action]) -> State:
        s = end_hold(s, ev.t, "released", out)
        return self._next(replace(s, queue=s.queue + (self._line(s, "released"),)), ev.t, out)

    def _on_rest_over(self, s: State, ev: Heard, out: list[Action]) -> State:
        return self._next(replace(s, queue=s.queue + (self._line(s, "done"),)), ev.t, out)

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
                s = restore_timers(s, ev.t)
            return replace(s, phase=Phase.HOLD, deaf=True, stash=(), resume=None,
                           queue=(self.speech.line("cannot_hear_hold"),))
        s = silence(s, out)
        return finish(replace(s, deaf=True, queue=(self.speech.line("cannot_hear"),
                                                   self.speech.line("fault_end"))),
                      Outcome.FAULT)

    # --- steps -------------------------------------------------------------------------------
    def _enter(self, s: State, pos: int, t: float, out: list[Action], intro: bool = True) -> State:
        s = replace(s, pos=pos, timers=(), awaiting=frozenset(), reprompts=0, breaths=0,
                    phase=Phase.NARRATE)
        if pos >= len(self.steps):
            return finish(s, Outcome.COMPLETED)
        step, side = self.steps[pos]
        prev_side = self.steps[pos - 1][1] if pos > 0 else None
        if side and side != prev_side:
            s = replace(s, pain=0)
            out.append(Record("side_start", {"side": side}))
        q = s.queue
        say = self.speech.line
        if step.kind is StepKind.SAY:
            keys = step.short_lines if self.plan.short_intro and step.short_lines else step.lines
            q += tuple(say(k, side=side, sides=self.sides_text) for k in keys)
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
            s = set_timer(s, "hold_end", hold.end_due)
            s = set_timer(s, "hold_max", hold.max_due)
        elif step.kind is StepKind.REST:
            q += tuple(say(k) for k in step.lines)
            s = set_timer(replace(s, phase=Phase.REST), "rest", t + step.seconds)
        elif step.kind is StepKind.FEEDBACK:
            q += (say(step.prompt),)
            s = replace(s, awaiting=frozenset({"better", "same", "worse"}))
        return replace(s, queue=q)

    def _next(self, s: State, t: float, out: list[Action]) -> State:
        return self._enter(s, s.pos + 1, t, out)

    def _on_answer(self, s: State, ev: Heard, out: list[Action]) -> State:
        intent, t, step = ev.intent, ev.t, self.current_step(s)
        if intent not in s.awaiting:
            return s
        s = cancel_timer(s, "reprompt")
        if step.kind is StepKind.SCREENING:
            question = step.reconfirm if s.screening is Screening.RECONFIRM else step.questions[s.question]
            out.append(Record("screening_answer", {"question": question, "answer": intent}))
            if intent == "yes" and s.screening is Screening.RECONFIRM:
                s = replace(s, screening=Screening.FULL)
                return self._enter(s, s.pos, t, out)
            if intent == "yes":
                q = tuple(self.speech.line(k) for k in step.screened_out)
                return finish(replace(s, queue=q), Outcome.SCREENED_OUT)
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
            return finish(replace(s, queue=q), Outcome.COMPLETED)
        if step.kind is StepKind.REST:
            return self._on_rest_over(s, ev, out)
        return self._next(s, t, out)  # "ready"

    def _on_skip(self, s: State, ev: Heard, out: list[Action]) -> State:
        t, step = ev.t, self.current_step(s)
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
    def _on_too_painful(self, s: State, ev: Heard, out: list[Action]) -> State:
        t, step = ev.t, self.current_step(s)
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
        s = cancel_timer(cancel_timer(s, "reprompt"), "pause_timeout")
        s = restore_timers(s, t)
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
                if s.phase is Phase.BREATHE and s.inhale_at is None and \
                        key == self.current_step(s).inhale:
                    s = replace(s, inhale_at=t)  # the paced breath starts with this "breathe in"
            if s.speaking is not None:
                break
            before = s
            s = self._idle(s, t, out)
            if s == before:
                break
        if s.phase is Phase.ENDED:
            return s, out
        s = follow_breath(s, t, out)
        listen = frozenset() if s.deaf else listen_set(s, self.current_step(s), self._screening_pos())
        if listen != s.listening:
            out.append(Listen(listen))
            s = replace(s, listening=listen)
        return s, out

    def _stop(self, s: State, t: float, out: list[Action], reason: str) -> State:
        s = pacer_off(silence(s, out), out)
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

    def texts_ahead(self) -> list[str]:
        """Every text this session can say that is known before it starts (``Speech.ahead``)."""
        return self.speech.ahead(self.steps, self.timing, self.plan, self._hold_seconds(),
                                 self.sides_text)

    def _hold_seconds(self) -> float:
        step = self._hold_step()
        return min(step.max_seconds, self.plan.hold_seconds or step.seconds)


Handler = Callable[[Engine, State, Heard, list[Action]], State]
ANY_PHASE = None

HEARD_RULES: tuple[tuple[frozenset[Phase] | None, frozenset[str], Handler], ...] = tuple(
    (None if phases is ANY_PHASE else frozenset(phases), frozenset(intents), handler)
    for phases, intents, handler in (
        # safety first: stop, then the doubt between stop and too painful
        (ANY_PHASE, {STOP}, Engine._on_stop),
        (ANY_PHASE, {UNSURE}, Engine._on_unsure),
        (ANY_PHASE, {HELP}, Engine._on_help),
        (ANY_PHASE, {REPEAT}, Engine._on_repeat),
        (ANY_PHASE, {HOW_LONG}, Engine._on_how_long),
        ({Phase.CONFIRM}, {YES}, Engine._on_confirmed_stop),
        ({Phase.CONFIRM}, {NO}, Engine._on_not_stop),
        (ANY_PHASE, {TOO_PAINFUL}, Engine._on_too_painful),
        (ANY_PHASE, {PAUSE}, Engine._on_pause),
        ({Phase.PAUSED}, {RESUME, READY}, Engine._on_resume),
        ({Phase.EASE}, {READY}, Engine._on_lighter),
        (ANY_PHASE, {SLOWER, FASTER}, Engine._on_pace),
        (ANY_PHASE, {HEALTH_CHANGED}, Engine._on_health_changed),
        (ANY_PHASE, {SKIP}, Engine._on_skip),
        ({Phase.AWAIT}, {READY, YES, NO, BETTER, SAME, WORSE}, Engine._on_answer),
        ({Phase.HOLD}, {RELEASED, BETTER}, Engine._on_released),
        ({Phase.REST}, {READY}, Engine._on_rest_over),
    ))
"""Ordered: the first rule matching the phase and the intent handles it; no match, nothing
changes. Only intents the state listens for reach it (plus stop and unsure, always)."""
