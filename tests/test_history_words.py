"""Spoken durations, the plan sentence and the week summary, all from templates."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from coach.content import load_content
from coach.errors import CoachError
from coach.session.eventlog import EventLog
from coach.history import (HistoryStore, PlanReason, default_templates, describe_plan, plan_next,
                           spoken_duration, spoken_summary)
from coach.history.session import plan_and_record
from test_history_fixtures import T0, H, both, entries, record_all

EN = default_templates()


@pytest.mark.parametrize("seconds,words", [
    (0, "zero seconds"), (7, "seven seconds"), (19.4, "nineteen seconds"), (45, "forty-five seconds"),
    (58, "one minute"), (60, "one minute"), (75, "one minute fifteen"), (120, "two minutes"),
    (135, "two minutes fifteen"), (142, "two minutes twenty"), (150, "two minutes thirty"),
    (173, "two minutes fifty-five"), (180, "three minutes"),
])
def test_spoken_duration(seconds: float, words: str) -> None:
    assert spoken_duration(seconds, EN) == words


def test_words_come_from_the_templates_not_the_code() -> None:
    de = {"seconds": "{seconds} Sekunden", "one_minute": "eine Minute",
          "minutes": "{minutes} Minuten", "minutes_seconds": "{minutes} Minuten {seconds}",
          "one_minute_seconds": "eine Minute {seconds}", "num_2": "zwei", "num_15": "fünfzehn",
          "num_3": "drei"}
    assert spoken_duration(135, de) == "zwei Minuten fünfzehn"
    assert spoken_duration(180, de) == "drei Minuten"
    assert spoken_duration(165, de) == "zwei Minuten 45"  # no word for it: digits


def test_missing_or_broken_templates_are_named() -> None:
    with pytest.raises(CoachError) as e:
        spoken_duration(135, {})
    assert e.value.code == "content.invalid" and "minutes_seconds" in e.value.message
    with pytest.raises(CoachError) as e:
        spoken_duration(135, {**EN, "minutes_seconds": "{mins} and {seconds}"})
    assert "minutes_seconds" in e.value.message


def _plan(tmp_path: Path, *sessions: list[dict]) -> object:
    store = HistoryStore(tmp_path / "h.db")
    record_all(store, *sessions)
    return plan_next(store, now=T0 + timedelta(days=9))


@pytest.mark.parametrize("sessions,expected", [
    ([], "This is your first session, so we'll hold each side for two minutes."),
    ([dict(holds=both(120))], "Last time you held to the end, so today we'll hold for two minutes "
                              "fifteen, up from two minutes."),
    ([dict(holds=both(180))], "Last time you held to the end. We'll stay at the longest hold, "
                              "three minutes."),
    ([dict(holds=[H("right", 150, 60, "stopped")], outcome="stopped", feedback=None)],
     "We'll hold for two minutes thirty again, like last time."),
    ([dict(holds=both(150), feedback="worse")], "Last time you felt worse afterwards, so today "
                                                "we'll hold for two minutes fifteen, down from "
                                                "two minutes thirty."),
    ([dict(holds=both(120), feedback="worse")], "Last time you felt worse afterwards, so we'll "
                                                "keep to the shortest hold, two minutes. Ease off "
                                                "the pressure whenever you need to."),
    ([dict(holds=both(150, pain=1))], "Last time was painful, so today we'll hold for two "
                                      "minutes fifteen, down from two minutes thirty."),
    ([dict(holds=both(120, pain=1), pace=(6.0, 7.5))],
     "Last time was painful, so we'll keep to the shortest hold, two minutes. Ease off the "
     "pressure whenever you need to. We'll breathe in for six and out for 7.5 seconds, the pace "
     "you chose."),
])
def test_describe_plan(tmp_path: Path, sessions: list[dict], expected: str) -> None:
    plan = _plan(tmp_path, *(entries(f"s{i}", T0 + timedelta(days=i), **s)
                             for i, s in enumerate(sessions)))
    assert describe_plan(plan, EN) == expected  # type: ignore[arg-type]


def test_every_reason_has_a_default_sentence(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    for reason in PlanReason:
        text = describe_plan(replace(plan, reason=reason, previous_hold=120.0), EN)  # type: ignore
        assert "two minutes" in text and "{" not in text


def test_plan_longer_may_say_the_feedback(tmp_path: Path) -> None:
    plan = _plan(tmp_path, entries("a", holds=both(120), feedback="same"))
    t = {**EN, "plan_longer": "Last time felt {feedback}, so we'll hold for {hold}."}
    assert describe_plan(plan, t) == "Last time felt the same, so we'll hold for two minutes fifteen."  # type: ignore


def test_spoken_summary_over_the_week(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    days = [0, 2, 3, 5, 10]  # day 10 starts a new week window
    for i, d in enumerate(days):
        plan = plan_next(store, now=T0 + timedelta(days=d))
        record_all(store, entries(f"s{i}", T0 + timedelta(days=d),
                                  holds=both(plan.hold_seconds, pain=2 if i == 3 else 0)))
    record_all(store, entries("screened", T0 + timedelta(days=4), answers=[("screen_hernia", "yes")],
                              passed=None, feedback=None, outcome="screened_out"))
    assert spoken_summary(store, "s0", EN) == (
        "That was your first session this week, with holds of two minutes.")
    assert spoken_summary(store, "s2", EN) == (
        "That's your third session this week; your holds went from two minutes to two minutes "
        "thirty.")
    assert spoken_summary(store, "s3", EN) == (
        "That's your fourth session this week; your holds went from two minutes to two minutes "
        "forty-five. You said too painful two times, so next time we'll go a little easier.")
    assert spoken_summary(store, "s4", EN) == (  # only s3 (day 5) is in its 7 days
        "That's your second session this week; your holds went from two minutes forty-five to "
        "two minutes thirty.")
    assert spoken_summary(store, "screened", EN) == (
        "We didn't get to a hold this time, and that's fine.")
    with pytest.raises(CoachError) as e:
        spoken_summary(store, "nope", EN)
    assert e.value.code == "history.no_session"


def test_plan_and_record_feeds_the_engine_and_records_its_log(tmp_path: Path) -> None:
    """The real session engine, run in virtual time, twice: the second plan is longer."""
    from coach.session.driver import SessionDriver
    from coach.session.engine import Engine
    from coach.run.simulate import Simulation
    from coach.run.user_script import default_replies

    content = load_content()
    store = HistoryStore(tmp_path / "h.db")
    plans = []
    for i in range(2):
        log = EventLog()
        plan = plan_and_record(content, log, store, now=T0 + timedelta(days=i))
        plans.append(plan)
        Simulation(SessionDriver(Engine(content, plan), log), default_replies(content)).run()
    assert [p.hold_seconds for p in plans] == [120, 135]
    assert [p.screening.value for p in plans] == ["full", "reconfirm"]
    assert plans[1].plan_text and "two minutes fifteen" in plans[1].plan_text
    sessions = store.sessions()
    assert [s.status for s in sessions] == ["completed", "completed"]
    assert [h.planned for h in sessions[1].holds] == [135, 135]
