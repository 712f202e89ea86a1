"""Routine options through the session plan: one side only, and the short introduction for a
returning user (never shorter safety questions). Virtual time, no audio."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.content import load_content
from coach.errors import CoachError
from coach.history import HistoryStore
from coach.history.session import plan_and_record
from coach.session.engine import Engine
from coach.session.eventlog import EventLog
from coach.session.plan import Choices, Screening, SessionPlan
from sessions import content, kinds, outcome, run, said
from test_content import content_copy, edit  # noqa: F401  (fixture)
from test_history_fixtures import T0, both, entries, record_all


def texts(log, key: str) -> list[str]:
    return [e["text"] for e in log if e["kind"] == "said" and e["line"] == key]


def test_both_sides_by_default_and_the_welcome_says_so():
    log = run()
    assert [e["side"] for e in kinds(log, "side_start")] == ["right", "left"]
    assert texts(log, "welcome")[0].endswith("one side and then the other.")
    assert kinds(log, "session_start")[0]["sides"] == ["right", "left"]


@pytest.mark.parametrize("side", ["left", "right"])
def test_one_side_only(side):
    log = run(plan=SessionPlan(sides=(side,)))
    assert [e["side"] for e in kinds(log, "side_start")] == [side]
    assert [(h["side"], h["how"]) for h in kinds(log, "hold_end")] == [(side, "completed")]
    assert texts(log, "side_intro") == [f"Now the {side} side."]
    assert texts(log, "welcome")[0].endswith(f"on the {side} side only.")
    assert kinds(log, "session_start")[0]["sides"] == [side]
    assert outcome(log) == "completed"


def test_a_side_the_routine_lacks_is_refused_by_the_engine():
    with pytest.raises(ValueError, match="middle"):
        Engine(content(), SessionPlan(sides=("middle",)))


def screening_lines(log) -> list[str]:
    keys = set(content().routine.steps["screening"].questions) | {
        "screening_intro", "screening_reconfirm", "screening_passed"}
    return [k for k in said(log) if k in keys]


def test_the_short_intro_shortens_the_set_up_only():
    full, short = run(), run(plan=SessionPlan(short_intro=True))
    steps = content().routine.steps
    for sid in ("welcome", "setup"):
        assert set(steps[sid].short_lines) <= set(said(short))
        assert not set(steps[sid].lines) & set(said(short))
    per_side = [k for k in said(full) if k.startswith(("position_", "find_spot_", "relax_",
                                                          "hold_", "roll_off"))]
    assert [k for k in said(short) if k in per_side] == per_side
    assert kinds(short, "session_start")[0]["short_intro"] is True
    # figures for the record: simulated seconds until the set-up prompt is said
    until = {name: next(e["t"] for e in log if e["kind"] == "said" and e["line"] == "setup_prompt")
             for name, log in (("full", full), ("short", short))}
    assert until["short"] < until["full"] - 15, until


@pytest.mark.parametrize("screening", [Screening.FULL, Screening.RECONFIRM])
def test_the_short_intro_never_shortens_the_safety_questions(screening):
    full = run(plan=SessionPlan(screening=screening))
    short = run(plan=SessionPlan(screening=screening, short_intro=True))
    assert screening_lines(short) == screening_lines(full)
    n = 7 if screening is Screening.FULL else 0
    assert len([k for k in screening_lines(short) if k.startswith("screen_")]) == n


def test_the_short_welcome_still_says_how_to_stop():
    c = content()
    words = " ".join(c.lines[k] for k in c.routine.steps["welcome"].short_lines)
    assert "stop" in words and "too painful" in words


def test_short_lines_cannot_shorten_screening_or_ball_work(content_copy):  # noqa: F811
    edit(content_copy, "routines/psoas-ball.toml", 'reconfirm = "screening_reconfirm"',
         'reconfirm = "screening_reconfirm"\nshort_lines = ["screening_passed"]')
    with pytest.raises(CoachError, match="short_lines' is not a known key"):
        load_content(root=content_copy)


def test_short_lines_only_in_the_intro(content_copy):  # noqa: F811
    edit(content_copy, "routines/psoas-ball.toml", 'lines = ["side_intro",',
         'short_lines = ["side_intro"]\nlines = ["side_intro",')
    with pytest.raises(CoachError, match="steps.position.short_lines' shortens a step outside"):
        load_content(root=content_copy)


# --- with the user's history --------------------------------------------------------------------
def planned(tmp_path: Path, choices: Choices, *sessions) -> SessionPlan:
    store = HistoryStore(tmp_path / "h.db")
    record_all(store, *sessions)
    return plan_and_record(content(), EventLog(), store=store, now=T0, choices=choices)


def test_a_first_session_gets_the_full_intro_even_if_asked(tmp_path):
    assert not planned(tmp_path, Choices(short_intro=True)).short_intro


def test_a_returning_user_gets_the_short_intro_when_asked(tmp_path):
    earlier = entries("s1", T0.replace(day=1), holds=both(120))
    assert planned(tmp_path, Choices(short_intro=True), earlier).short_intro
    assert not planned(tmp_path / "b", Choices(), earlier).short_intro


def test_chosen_pace_and_side_go_into_the_plan_and_its_words(tmp_path):
    earlier = entries("s1", T0.replace(day=1), holds=both(120), pace=(6.0, 6.0))
    plan = planned(tmp_path, Choices(sides=("left",), pace=(4.0, 7.0)), earlier)
    assert (plan.breath_in, plan.breath_out, plan.sides) == (4.0, 7.0, ("left",))
    assert "in for four and out for seven seconds" in (plan.plan_text or "")
    remembered = planned(tmp_path / "b", Choices(), earlier)
    assert (remembered.breath_in, remembered.sides) == (6.0, None)
