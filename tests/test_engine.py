"""The session engine over scripted events, in virtual time (a 180 s hold takes milliseconds)."""

from __future__ import annotations

import pytest

from coach.session.engine import Phase
from coach.session.messages import End, Fault, FaultKind, Heard, LineDone, Record, Say, Silence
from coach.session.plan import Screening, SessionPlan
from coach.run.simulate import Injected
from coach.run.user_script import Reply, default_replies
from sessions import content, in_phase, kinds, outcome, run, said, session


def test_full_routine_covers_every_step_of_the_guide():
    log = run()
    c = content()
    r = c.routine
    visited = [e["pos"] for e in kinds(log, "state")]
    n_steps = len(r.intro) + len(r.sides) * len(r.per_side) + len(r.outro)
    assert set(range(n_steps)) <= set(visited)
    lines = said(log)
    for sid in r.intro + r.per_side + r.outro:
        step = r.steps[sid]
        for key in step.lines + step.questions + step.after + tuple(
                k for k in (step.prompt, step.intro, step.start, step.done, step.inhale) if k):
            assert key in lines, f"step {sid}: line {key} never said"
    # the guide's steps in order, per side
    order = ["position_lie", "position_ball", "find_spot_adjust", "relax_let_go", "breathe_in",
             "hold_start", "hold_done", "roll_off", "rest_intro"]
    idx = [lines.index(k) for k in order]
    assert idx == sorted(idx)
    assert [e["side"] for e in kinds(log, "side_start")] == ["right", "left"]
    holds = kinds(log, "hold_end")
    assert [(h["side"], h["how"], h["actual"]) for h in holds] == [
        ("right", "completed", 120.0), ("left", "completed", 120.0)]
    assert [e["answer"] for e in kinds(log, "screening_answer")] == ["no"] * 7
    assert kinds(log, "feedback")[0]["answer"] == "better"
    for key in ("reminder_progress", "reminder_report", "reminder_methods", "disclaimer"):
        assert key in lines
    assert outcome(log) == "completed"


def test_countdown_announces_and_counts_the_last_ten_seconds():
    log = run()
    hold = [e for e in log if e["kind"] == "said"]
    start = next(e["t"] for e in hold if e["line"] == "hold_start")
    at = {}
    for e in hold:
        if e["t"] >= start:
            at.setdefault(e["line"], e["t"] - start)
    assert at["hold_one_minute"] == pytest.approx(60, abs=0.5)
    assert at["hold_thirty_seconds"] == pytest.approx(90, abs=0.5)
    counts = [e["text"] for e in hold if e["line"] == "count"][:10]
    assert counts == [str(n) for n in range(10, 0, -1)]


# --- stop in every state --------------------------------------------------------------------
STOP_POINTS = [
    (Phase.NARRATE, "welcome", []),
    (Phase.AWAIT, "screening", []),
    (Phase.AWAIT, "setup", []),
    (Phase.NARRATE, "position", []),
    (Phase.AWAIT, "find_spot", []),
    (Phase.BREATHE, "breathe", []),
    (Phase.HOLD, "hold", []),
    (Phase.EASE, "hold", [Reply("hold_start", "too painful", delay=5, times=1)]),
    (Phase.PAUSED, "hold", [Reply("hold_start", "pause", delay=5, times=1)]),
    (Phase.CONFIRM, "hold", []),
    (Phase.REST, "rest", []),
    (Phase.AWAIT, "wrapup", [Reply("feedback_prompt", "mumble")]),
    (Phase.FINISH, "wrapup", []),
]


@pytest.mark.parametrize("phase,step,extra", STOP_POINTS, ids=[f"{p.value}-{s}" for p, s, _ in STOP_POINTS])
def test_stop_ends_the_session_from_every_state_in_one_step(phase, step, extra):
    sim = session(extra)
    if phase is Phase.CONFIRM:
        sim.run(until=in_phase(Phase.HOLD, "hold"))
        sim.feed(Heard("unsure", 0, text="stop", confidence=0.4, alternatives=("stop", "too_painful")))
    sim.run(until=in_phase(phase, step))
    assert sim.driver.state.phase is phase, f"never reached {phase} in {step}"
    was_speaking = sim.driver.state.speaking is not None
    actions = sim.feed(Heard("stop", 0, text="stop"))
    assert sim.driver.ended
    assert isinstance(actions[-1], End)
    if was_speaking:
        assert isinstance(actions[0], Silence), "the voice must be cut off first"
    log = sim.driver.log.entries
    if phase is Phase.FINISH:
        assert outcome(log) == "completed"  # already finishing: stop just silences the voice
        return
    assert any(isinstance(a, Say) and a.line == "stopping" for a in actions)
    assert outcome(log) == "stopped"
    if step == "hold":
        assert kinds(log, "hold_end")[-1]["how"] == "stopped"


# --- too painful ----------------------------------------------------------------------------
def test_too_painful_once_in_hold_eases_off_and_continues_lighter():
    log = run([Reply("hold_start", "too painful", delay=20, times=1)])
    lines = said(log)
    i = lines.index("ease_off_weight")
    assert lines[i:i + 3] == ["ease_off_weight", "ease_off_shift", "ease_off_prompt"]
    assert "lighter" in lines[i:]
    assert kinds(log, "too_painful")[0] == {**kinds(log, "too_painful")[0], "side": "right",
                                            "step": "hold", "count": 1}
    assert kinds(log, "hold_end")[0]["how"] == "completed"
    assert outcome(log) == "completed"


def test_too_painful_twice_ends_the_side_and_moves_on():
    log = run([Reply("hold_start", "too painful", delay=20, times=1),
               Reply("ease_off_prompt", "too painful", delay=1, times=1)])
    first = kinds(log, "hold_end")[0]
    assert first["how"] == "too_painful" and first["actual"] < 120
    lines = said(log)
    assert "pain_end_side" in lines
    after = lines[lines.index("pain_end_side") + 1:]
    assert after[0] == "rest_intro"  # straight to resting: the line already said to roll off
    assert [e["side"] for e in kinds(log, "side_start")] == ["right", "left"]
    assert outcome(log) == "completed"


def test_too_painful_during_positioning_eases_off_then_continues_on_ready():
    log = run([Reply("position_ball", "too painful", delay=1, times=1, during=True)])
    lines = said(log)
    i = lines.index("ease_off_weight")
    assert lines[i + 3] == "lighter" and lines[i + 4] == "position_ball"
    assert kinds(log, "too_painful")[0]["step"] == "position"
    assert outcome(log) == "completed"


def test_too_painful_is_not_heard_off_the_ball():
    sim = session()
    sim.run(until=in_phase(Phase.AWAIT, "setup"))
    assert "too_painful" not in sim.driver.state.listening
    assert "too_painful" in session().run(until=in_phase(Phase.HOLD)).state.listening


# --- pause, resume, how long, repeat, help, pace -------------------------------------------
def test_pause_freezes_the_countdown_and_resume_continues_it():
    log = run([Reply("hold_start", "pause", delay=30, times=1),
               Reply("paused", "how long", delay=5, times=1),
               Reply("paused", "resume", delay=25, times=1, during=True)])
    hold = kinds(log, "hold_end")[0]
    assert hold["how"] == "completed"
    # 120 s of countdown plus the time spent paused, all inside the 180 s maximum
    pause_t = kinds(log, "pause")[0]["t"]
    resume_t = kinds(log, "resume")[0]["t"]
    assert hold["actual"] == pytest.approx(120 + (resume_t - pause_t), abs=0.3)
    left = [e["text"] for e in log if e["kind"] == "said" and e["line"] == "time_left"]
    assert len(left) == 1 and left[0].startswith("About one minute")


def test_a_pause_never_stretches_a_hold_past_its_maximum():
    log = run([Reply("hold_start", "pause", delay=30, times=1)])
    hold = kinds(log, "hold_end")[0]
    assert hold["how"] == "max" and hold["actual"] == pytest.approx(180, abs=0.3)
    assert "hold_max" in said(log)


def test_plan_above_the_maximum_is_clamped():
    log = run(plan=SessionPlan(hold_seconds=900))
    assert {h["actual"] for h in kinds(log, "hold_end")} == {180.0}


def test_hold_ends_at_maximum_even_if_nothing_is_ever_heard():
    sim = session()
    sim.run(until=in_phase(Phase.HOLD))
    sim.book.replies.clear()  # from here on the recognizer hears nothing at all
    sim.run(until=lambda d: bool(kinds(d.log.entries, "hold_end")))
    hold = kinds(sim.driver.log.entries, "hold_end")[0]
    assert hold["actual"] <= 180


def _paused_in_hold():
    """A driver's engine and state paused in the first hold (pure engine from here on)."""
    sim = session([Reply("hold_start", "pause", delay=30, times=1)])
    sim.run(until=in_phase(Phase.PAUSED))
    return sim.driver.engine, sim.driver.state


@pytest.mark.parametrize("event", ["heard", "line_done"])
def test_a_hold_past_its_maximum_ends_at_the_next_event_without_a_tick(event):
    """Deadlines do not wait for the runner's tick: an event that comes after the hold's maximum
    ends the hold first (at the event's time), whatever the event is."""
    engine, s = _paused_in_hold()
    t = s.hold.max_due + 0.2
    ev = Heard("how_long", t) if event == "heard" else LineDone(10 ** 6, t)
    s, actions = engine.step(s, ev)
    ends = [a for a in actions if isinstance(a, Record) and a.kind == "hold_end"]
    assert [e.data["how"] for e in ends] == ["max"]
    assert s.hold is None and s.phase is not Phase.PAUSED


def test_stop_past_a_hold_maximum_is_a_stop_not_a_completed_hold():
    engine, s = _paused_in_hold()
    s, actions = engine.step(s, Heard("stop", s.hold.max_due + 0.2))
    assert s.phase is Phase.ENDED
    ends = [a for a in actions if isinstance(a, End)]
    assert [e.outcome.value for e in ends] == ["stopped"]


def test_how_long_repeat_help_and_pace():
    log = run([Reply("hold_start", "how long", delay=10, times=1),
               Reply("hold_one_minute", "slower", delay=2, times=1),
               Reply("setup_mat", "repeat", delay=1, times=1, during=True),
               Reply("setup_prompt", "help", delay=0.5, times=1)])
    texts = [e["text"] for e in log if e["kind"] == "said"]
    assert any(t.startswith("About one minute") for t in texts)
    assert kinds(log, "pace")[0] == {**kinds(log, "pace")[0], "breath_in": 6.0, "breath_out": 6.0}
    assert "Keep breathing: in for 6, out for 6." in texts  # later check-ins use the new pace
    lines = said(log)
    assert lines.count("setup_mat") == 2
    help_text = next(e["text"] for e in log if e["kind"] == "said" and e["line"] == "help")
    assert "ready" in help_text and "stop" in help_text and "too painful" not in help_text


# --- silence ------------------------------------------------------------------------------
def test_no_answer_reprompts_then_ends_safely():
    """Silence at the first safety question: the user is not on the ball yet, so the ending does
    not tell them to roll off it."""
    log = run([], defaults=False)
    lines = said(log)
    assert lines.count("not_heard") == content().routine.timing.max_reprompts
    assert lines[-1] == "no_response_end_off_ball"
    assert "ball" not in content().lines["no_response_end_off_ball"]
    assert outcome(log) == "no_response"
    assert not kinds(log, "hold_start")


def test_no_answer_on_the_ball_ends_telling_the_user_to_roll_off():
    replies = [r for r in default_replies(content()) if r.after != "find_spot_prompt"]
    log = run(replies, defaults=False)
    assert said(log)[-1] == "no_response_end" and "ball" in content().lines["no_response_end"]
    assert outcome(log) == "no_response"


def test_the_rest_between_sides_waits_for_ready_and_ends_safely_without_it():
    """After the rest's seconds the coach asks and waits, re-prompting, as at any prompt; it
    never moves on to the other side by itself or says "Good." to nobody."""
    replies = [r for r in default_replies(content()) if r.after != "rest_prompt"]
    log = run(replies, defaults=False)
    lines = said(log)
    rest = content().routine.steps["rest"]
    i = lines.index("rest_intro")
    assert lines[i + 1:] == ["rest_prompt"] + ["not_heard", "rest_prompt"] * \
        content().routine.timing.max_reprompts + ["no_response_end_off_ball"]
    asked = next(e for e in log if e["kind"] == "said" and e["line"] == "rest_prompt")
    start = next(e for e in log if e["kind"] == "said" and e["line"] == "rest_intro")
    assert asked["t"] >= start["t"] + rest.seconds
    assert [e["side"] for e in kinds(log, "side_start")] == ["right"]
    assert outcome(log) == "no_response"


def test_ready_after_the_rest_goes_on_to_the_other_side():
    log = run()
    lines = said(log)
    i = lines.index("rest_prompt")
    assert lines[i + 1:i + 3] == ["rest_done", "side_intro"]


def test_silence_in_ease_off_ends_safely_with_the_hold_recorded():
    log = run([Reply("hold_start", "too painful", delay=5, times=1),
               Reply("ease_off_prompt", "nothing", delay=1)])
    hold = kinds(log, "hold_end")[0]
    assert hold["how"] in ("completed", "max", "no_response")
    assert hold["actual"] <= 180


# --- screening ----------------------------------------------------------------------------
@pytest.mark.parametrize("question", ["screen_pregnancy", "screen_hernia", "screen_blood_thinners"])
def test_any_yes_in_screening_ends_before_the_ball(question):
    log = run([Reply(question, "yes")])
    assert outcome(log) == "screened_out"
    lines = said(log)
    assert {"screened_out", "screened_out_professional", "screened_out_methods"} <= set(lines)
    assert not any(k.startswith(("position", "hold", "setup")) for k in lines)
    assert {"question": question, "answer": "yes"}.items() <= kinds(log, "screening_answer")[-1].items()


def test_screening_cannot_be_skipped():
    log = run([Reply("screen_pregnancy", "skip", times=1)])
    lines = said(log)
    assert "screening_no_skip" in lines
    assert [e["answer"] for e in kinds(log, "screening_answer")] == ["no"] * 7


def test_reconfirm_asks_once_and_a_yes_leads_to_all_questions():
    log = run(plan=SessionPlan(screening=Screening.RECONFIRM))
    assert [e["question"] for e in kinds(log, "screening_answer")] == ["screening_reconfirm"]
    log = run([Reply("screening_reconfirm", "yes")], plan=SessionPlan(screening=Screening.RECONFIRM))
    assert len(kinds(log, "screening_answer")) == 1 + 7
    assert outcome(log) == "completed"


def test_health_changed_goes_back_to_full_screening():
    log = run([Reply("welcome", "my health has changed", delay=1, times=1, during=True)],
              plan=SessionPlan(screening=Screening.RECONFIRM))
    assert kinds(log, "health_changed")
    assert len(kinds(log, "screening_answer")) == 7


# --- unsure between stop and too painful --------------------------------------------------
def test_unsure_pauses_the_voice_and_asks_yes_stops():
    sim = session([Reply("unsure_confirm", "yes")])
    sim.run(until=in_phase(Phase.NARRATE, "position"))
    actions = sim.feed(Heard("unsure", 0, alternatives=("stop", "too_painful")))
    assert isinstance(actions[0], Silence)
    assert any(isinstance(a, Say) and a.line == "unsure_confirm" for a in actions)
    sim.run()
    assert outcome(sim.driver.log.entries) == "stopped"


def test_unsure_then_no_carries_on_where_it_was():
    sim = session([Reply("unsure_confirm", "no")])
    sim.run(until=in_phase(Phase.NARRATE, "position"))
    cut = sim.driver.state.speaking[1]
    sim.feed(Heard("unsure", 0, alternatives=("stop", "too_painful")))
    sim.run()
    lines = said(sim.driver.log.entries)
    i = lines.index("unsure_confirm")
    assert lines[i + 1] == cut
    assert outcome(sim.driver.log.entries) == "completed"


# --- faults --------------------------------------------------------------------------------
def test_microphone_lost_in_hold_finishes_by_the_clock_and_says_roll_off():
    sim = session()
    sim.run(until=in_phase(Phase.HOLD))
    sim.t += 10
    sim.feed(Fault(FaultKind.MIC_LOST, 0, "stream stopped"))
    sim.run()
    log = sim.driver.log.entries
    lines = said(log)
    assert "cannot_hear_hold" in lines and lines[-1] == "stopping"
    assert kinds(log, "hold_end")[0]["how"] == "completed"
    assert outcome(log) == "fault"


def test_microphone_lost_outside_hold_ends_with_instructions():
    sim = session()
    sim.run(until=in_phase(Phase.AWAIT, "setup"))
    sim.feed(Fault(FaultKind.MIC_LOST, 0))
    sim.run()
    assert said(sim.driver.log.entries)[-2:] == ["cannot_hear", "fault_end"]
    assert outcome(sim.driver.log.entries) == "fault"


def test_interrupt_signal_stops_at_once():
    sim = session(injected=(Injected(200.0, Fault(FaultKind.INTERRUPTED, 0, "SIGTERM")),))
    sim.run()
    log = sim.driver.log.entries
    assert outcome(log) == "stopped" and kinds(log, "session_end")[0]["t"] == 200.0


def test_never_two_lines_at_once():
    log = run([Reply("hold_start", "too painful", delay=20, times=1),
               Reply("hold_start", "how long", delay=40, times=1)])
    speaking = None
    for e in log:
        if e["kind"] == "said":
            assert speaking is None, f"line {e['line']} started while {speaking} was playing"
            speaking = e["utterance"]
        elif e["kind"] in ("line_done", "silence") and (e["kind"] == "silence" or
                                                        e["utterance"] == speaking):
            speaking = None


@pytest.mark.parametrize("plan", [SessionPlan(), SessionPlan(sides=("left",)),
                                  SessionPlan(short_intro=True)], ids=["both", "left", "short"])
def test_every_line_a_session_says_is_known_ahead_except_help(plan):
    """What ``render_ahead`` renders before the session is what the session then says: the
    first line, above all, is the one the user waits for (a wrong text there renders twice)."""
    sim = session(plan=plan)
    sim.run()
    ahead = set(sim.driver.engine.texts_ahead())
    spoken = [e for e in sim.driver.log.entries if e["kind"] == "said" and e["line"] != "help"]
    assert spoken and [e["text"] for e in spoken if e["text"] not in ahead] == []
