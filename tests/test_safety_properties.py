"""Safety properties of the engine over random event sequences (hypothesis).

* "stop" ends the session from every state within one engine step;
* no hold runs past its maximum;
* no session gets onto the ball after a "yes" to a screening question;
* the coach never says two lines at once;
* the breathing pacer sounds only in the breathing and the hold, and "stop" silences it in the
  same step as the voice.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.content import INTENTS
from coach.session.driver import SessionDriver
from coach.session.engine import Engine, Phase
from coach.session.eventlog import EventLog
from coach.session.messages import Fault, FaultKind, Heard, LineDone, Pacer, Say, Silence, Tick
from coach.session.plan import Screening, SessionPlan
from sessions import content

TICK_MAX = 0.5

# One step of the world: the current line finishes, time passes, or the user says something.
_done = st.tuples(st.just("done"), st.floats(0.1, 6.0))
_coop = st.tuples(st.just("cooperate"), st.just(0))
step_st = st.one_of(
    _done, _done, _done, _done, _done, _done, _done, _done,
    _coop, _coop, _coop, _coop, _coop, _coop, _coop, _coop,
    st.tuples(st.just("answer"), st.integers(0, 30)),
    st.tuples(st.just("tick"), st.floats(0.01, TICK_MAX)),
    st.tuples(st.just("wait"), st.integers(1, 400)),  # many ticks: long silences
    st.tuples(st.just("say"), st.sampled_from(tuple(i for i in INTENTS if i != "stop") + ("unsure",))),
    st.tuples(st.just("rare"), st.integers(0, 199)),  # now and then a fault (1 in 200 of these)
)
plan_st = st.builds(SessionPlan, hold_seconds=st.one_of(st.none(), st.floats(30, 1000)),
                    screening=st.sampled_from(list(Screening)),
                    sides=st.sampled_from([None, ("left",), ("right",)]),
                    short_intro=st.booleans())


def _check(driver: SessionDriver, steps: list, stop_at: int | None) -> None:
    engine = driver.engine
    t = 0.0
    speaking: int | None = None
    lines_at_once_ok = True

    def apply(actions: list) -> None:
        nonlocal speaking, lines_at_once_ok
        for a in actions:
            if isinstance(a, Silence):
                speaking = None
            elif isinstance(a, Say):
                if speaking is not None:
                    lines_at_once_ok = False
                speaking = a.utterance

    def advance(to: float) -> None:
        """Time passes as the runners let it pass: a Tick at least every TICK_MAX (the engine's
        timers are deadlines fired by ticks; a line's end alone does not fire them)."""
        nonlocal t
        while t + TICK_MAX < to and not driver.ended:
            t += TICK_MAX
            apply(driver.feed(Tick(t)))
        t = to

    apply(driver.start(t))
    for i, (kind, arg) in enumerate(steps):
        if driver.ended:
            break
        if stop_at is not None and i == stop_at:
            driver.feed(Heard("stop", t))
            assert driver.ended and driver.state.phase is Phase.ENDED, "stop did not end it at once"
            break
        if kind == "done" and speaking is not None:
            line = speaking
            advance(t + arg)
            if speaking == line and not driver.ended:  # (a line cut off reports no end)
                speaking = None
                apply(driver.feed(LineDone(line, t)))
        elif kind == "tick":
            t += arg
            apply(driver.feed(Tick(t)))
        elif kind == "wait":
            for _ in range(arg):
                t += TICK_MAX
                apply(driver.feed(Tick(t)))
                if driver.ended:
                    break
        elif kind == "cooperate":
            want = next((i for i in ("no", "ready", "better", "resume") if i in driver.state.listening),
                        None)
            if want:
                apply(driver.feed(Heard(want, t)))
        elif kind == "answer":
            options = sorted(driver.state.listening - {"stop", "health_changed", "yes"})
            if options:
                apply(driver.feed(Heard(options[arg % len(options)], t)))
        elif kind == "say":
            apply(driver.feed(Heard(arg, t, alternatives=("stop", "too_painful")
                                    if arg == "unsure" else ())))
        elif kind == "rare" and arg == 113:
            apply(driver.feed(Fault(FaultKind.MIC_LOST, t)))
        s = driver.state
        if not driver.ended:
            # from this very state, "stop" ends the session in one step (the engine is pure: fork it)
            after, actions = engine.step(s, Heard("stop", t))
            assert after.phase is Phase.ENDED, f"stop did not end the session from {s.phase}"
            paces = [a.pace for a in actions if isinstance(a, Pacer)]
            assert after.pacing is None and paces == ([None] if s.pacing else []), \
                f"stop left the pacer on from {s.phase}: {paces}"
            # and with nothing heard ever again, the clock alone ends any hold by its maximum
            if s.hold is not None:
                fork, tt = s, t
                while fork.hold is not None and tt < s.hold.max_due + 1:
                    tt += TICK_MAX
                    fork, _ = engine.step(fork, Tick(tt))
                assert fork.hold is None, "a hold ran past its maximum with nothing heard"
        if s.pacing is not None:
            assert s.phase in (Phase.BREATHE, Phase.HOLD), f"the pacer sounds in {s.phase}"
        if s.hold is not None:
            assert t - s.hold.started <= s.hold.max_due - s.hold.started + TICK_MAX + 1e-6
            assert s.hold.max_due - s.hold.started <= 180 + 1e-6
    assert lines_at_once_ok, "two lines were said at once"
    log = driver.log.entries
    for e in log:
        if e["kind"] == "hold_end":
            assert e["actual"] <= 180 + 1e-6, e
    yes_at = [e["seq"] for e in log if e["kind"] == "screening_answer" and e["answer"] == "yes"
              and e["question"] != "screening_reconfirm"]
    if yes_at:
        assert not [e for e in log if e["kind"] in ("side_start", "hold_start") and e["seq"] > yes_at[0]]
    assert engine is driver.engine


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step_st, min_size=200, max_size=500), plan=plan_st)
def test_random_sessions_keep_the_safety_rules(steps, plan):
    driver = SessionDriver(Engine(content(), plan), EventLog())
    _check(driver, steps, None)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step_st, min_size=200, max_size=500), plan=plan_st, data=st.data())
def test_stop_ends_the_session_within_one_step_wherever_it_comes(steps, plan, data):
    stop_at = data.draw(st.integers(0, len(steps) - 1))
    driver = SessionDriver(Engine(content(), plan), EventLog())
    _check(driver, steps, stop_at)
    if driver.ended:
        outcome = [e for e in driver.log.entries if e["kind"] == "session_end"][0]["outcome"]
        assert outcome in ("stopped", "completed", "screened_out", "no_response", "fault")


def test_random_walk_reaches_deep_states():
    """The generator is not trivially stuck in the welcome: a cooperative walk reaches the hold."""
    driver = SessionDriver(Engine(content()), EventLog())
    steps = []
    for _ in range(60):
        steps += [("done", 3.0)] * 6 + [("say", "no"), ("say", "ready")] + [("tick", 0.5)] * 4
    _check(driver, steps, None)
    assert any(e["kind"] == "hold_start" for e in driver.log.entries)


@settings(max_examples=60, deadline=None)
@given(plan_hold=st.one_of(st.none(), st.floats(30, 1000)), pause_after=st.floats(0, 170),
       resume_after=st.one_of(st.none(), st.floats(0.5, 400)),
       ease_after=st.one_of(st.none(), st.floats(0, 170)))
def test_no_hold_outlasts_its_maximum_whatever_the_user_does(plan_hold, pause_after, resume_after,
                                                            ease_after):
    from coach.run.user_script import Reply
    from sessions import kinds, run
    replies = [Reply("hold_start", "pause", delay=pause_after, times=1)]
    if resume_after is not None:
        replies.append(Reply("paused", "resume", delay=resume_after, times=1))
    if ease_after is not None:
        replies.append(Reply("hold_start", "too painful", delay=ease_after, times=1, during=True))
    log = run(replies, plan=SessionPlan(hold_seconds=plan_hold))
    holds = kinds(log, "hold_end")
    assert holds, "no hold was run"
    for h in holds:
        start = next(e["t"] for e in log if e["kind"] == "hold_start" and e["side"] == h["side"])
        assert h["actual"] <= 180 + 1e-6 and h["t"] - start <= 180 + 0.25 + 1e-6, h
