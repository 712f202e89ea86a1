"""The adaptive plan and screening memory, table-driven, with an injected clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from coach.history import HistoryStore, PlanReason, ScreeningNeed, ScreeningWhy, plan_next
from test_history_fixtures import T0, H, both, entries, record_all

DAY = timedelta(days=1)


def store_with(tmp_path: Path, *sessions: list[dict[str, Any]]) -> HistoryStore:
    store = HistoryStore(tmp_path / "h.db")
    record_all(store, *sessions)
    return store


def day(n: float) -> Any:
    return T0 + n * DAY


# (case, sessions (as kwargs for entries, a day apart), plan_next kwargs, hold, reason, previous)
HOLD_CASES = [
    ("new user", [], {}, 120, PlanReason.NEW_USER, None),
    ("held to the end, better", [dict(holds=both(120))], {}, 135, PlanReason.LONGER, 120),
    ("held to the end, then interrupted before the feedback",
     [dict(holds=both(135), feedback=None, outcome="stopped")], {}, 135, PlanReason.SAME, 135),
    ("held to the end, no answer to the feedback",
     [dict(holds=both(135), feedback=None, outcome="no_response")], {}, 135, PlanReason.SAME, 135),
    ("released early by the user, same", [dict(holds=both(120, "released", actual=100),
                                               feedback="same")], {}, 135, PlanReason.LONGER, 120),
    ("ran to the max", [dict(holds=both(150, "max", actual=180))], {}, 165, PlanReason.LONGER, 150),
    ("already at 180", [dict(holds=both(180))], {}, 180, PlanReason.AT_MAX, 180),
    ("an odd 170 is capped", [dict(holds=both(170))], {}, 180, PlanReason.LONGER, 170),
    ("too painful once", [dict(holds=both(150, pain=1))], {}, 135, PlanReason.EASIER, 150),
    ("ended too painful at 120", [dict(holds=[H("right", 120, 40, "too_painful")],
                                       feedback=None, outcome="stopped")],
     {}, 120, PlanReason.AT_MIN, 120),
    ("feedback worse", [dict(holds=both(150), feedback="worse")], {}, 135,
     PlanReason.EASIER_AFTER_WORSE, 150),
    ("feedback worse at 120", [dict(holds=both(120), feedback="worse")], {}, 120,
     PlanReason.AT_MIN_AFTER_WORSE, 120),
    ("painful and worse: the pain is said", [dict(holds=both(150, pain=1), feedback="worse")], {},
     135, PlanReason.EASIER, 150),
    ("stopped mid-hold", [dict(holds=[H("right", 150, 60, "stopped")], feedback=None,
                               outcome="stopped")], {}, 150, PlanReason.SAME, 150),
    ("no response", [dict(holds=[H("right", 135, 135, "no_response")], feedback=None,
                          outcome="no_response")], {}, 135, PlanReason.SAME, 135),
    ("crashed mid-hold", [dict(holds=[H("right", 135, None, None)], feedback=None, outcome=None)],
     {}, 135, PlanReason.SAME, 135),
    ("screened out last: the session before counts",
     [dict(holds=both(135)), dict(answers=[("screen_hernia", "yes")], passed=None, feedback=None,
                                  outcome="screened_out")], {}, 150, PlanReason.LONGER, 135),
    ("only the last session with holds counts",
     [dict(holds=both(150, pain=2)), dict(holds=both(135))], {}, 150, PlanReason.LONGER, 135),
    ("a lower floor if asked", [dict(holds=both(120, pain=1))], {"min_hold": 90}, 105,
     PlanReason.EASIER, 120),
    ("custom step and ceiling", [dict(holds=both(120))], {"step": 30, "max_hold": 140}, 140,
     PlanReason.LONGER, 120),
]


@pytest.mark.parametrize("case,sessions,kw,hold,reason,previous", HOLD_CASES,
                         ids=[c[0] for c in HOLD_CASES])
def test_hold_rules(tmp_path: Path, case: str, sessions: list[dict[str, Any]], kw: dict[str, Any],
                    hold: float, reason: PlanReason, previous: float | None) -> None:
    store = store_with(tmp_path, *(entries(f"s{i}", day(i), **s) for i, s in enumerate(sessions)))
    plan = plan_next(store, now=day(len(sessions)), **kw)
    assert (plan.hold_seconds, plan.reason, plan.previous_hold) == (hold, reason, previous)


def test_interrupted_sessions_do_not_lengthen_the_hold(tmp_path: Path) -> None:
    """Ctrl-C or SIGTERM after the holds, before the feedback, again and again: 120 each time
    (it was 120 -> 135 -> 150)."""
    store = HistoryStore(tmp_path / "h.db")
    holds = []
    for i in range(3):
        plan = plan_next(store, now=day(i))
        holds.append(plan.hold_seconds)
        record_all(store, entries(f"s{i}", day(i), holds=both(plan.hold_seconds), feedback=None,
                                  outcome="stopped"))
    assert holds == [120, 120, 120]


def test_a_run_of_good_sessions_climbs_to_180_and_pain_steps_back(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    holds = []
    for i in range(7):
        plan = plan_next(store, now=day(i))
        holds.append(plan.hold_seconds)
        record_all(store, entries(f"s{i}", day(i), holds=both(plan.hold_seconds, pain=int(i == 5))))
    assert holds == [120, 135, 150, 165, 180, 180, 165]
    assert plan_next(store, now=day(7)).hold_seconds == 180  # 165 held well: back up


def test_the_chosen_breathing_pace_is_remembered(tmp_path: Path) -> None:
    store = store_with(tmp_path, entries("a", day(0), holds=both(120), pace=(6.0, 8.0)),
                       entries("b", day(1), holds=both(135)))
    plan = plan_next(store, now=day(2))
    assert (plan.breath_in, plan.breath_out) == (6.0, 8.0)
    record_all(store, entries("c", day(2), holds=both(150), pace=(4.0, 4.5)))
    plan = plan_next(store, now=day(3))
    assert (plan.breath_in, plan.breath_out) == (4.0, 4.5)
    assert plan_next(store_with(tmp_path / "x"), now=day(0)).breath_in is None


# (case, sessions as (day, kwargs), now as day, screening, why, open yes)
NO = [("screen_hernia", "no"), ("screen_pregnancy", "no")]
SCREENING_CASES = [
    ("new user", [], 0, ScreeningNeed.FULL, ScreeningWhy.NEW_USER, ()),
    ("full passed yesterday", [(0, dict(answers=NO))], 1, ScreeningNeed.RECONFIRM,
     ScreeningWhy.RECENT, ()),
    ("29.9 days", [(0, dict(answers=NO))], 29.9, ScreeningNeed.RECONFIRM, ScreeningWhy.RECENT, ()),
    ("30 days after the full screening", [(0, dict(answers=NO))], 30.001, ScreeningNeed.FULL,
     ScreeningWhy.DUE, ()),
    ("reconfirms do not reset the 30 days",
     [(0, dict(answers=NO)), (20, dict(mode="reconfirm", passed="reconfirm",
                                        answers=[("screening_reconfirm", "no")]))],
     31, ScreeningNeed.FULL, ScreeningWhy.DUE, ()),
    ("a new full screening does", [(0, dict(answers=NO)), (25, dict(answers=NO))], 31,
     ScreeningNeed.RECONFIRM, ScreeningWhy.RECENT, ()),
    ("health changed", [(0, dict(answers=NO)), (1, dict(passed="reconfirm", mode="reconfirm",
                                                         health_after_pass=True))],
     2, ScreeningNeed.FULL, ScreeningWhy.HEALTH_CHANGED, ()),
    ("health changed, then a full screening passed",
     [(0, dict(answers=NO)), (1, dict(health_after_pass=True)), (2, dict(answers=NO))], 3,
     ScreeningNeed.RECONFIRM, ScreeningWhy.RECENT, ()),
    ("health changed before that session's full screening",
     [(0, dict(answers=NO, health_before_pass=True))], 1, ScreeningNeed.RECONFIRM,
     ScreeningWhy.RECENT, ()),
    ("screened out by a yes",
     [(0, dict(answers=NO)), (1, dict(answers=[("screen_hernia", "yes")], passed=None,
                                      feedback=None, outcome="screened_out"))],
     2, ScreeningNeed.FULL, ScreeningWhy.ANSWERED_YES, ("screen_hernia",)),
    ("a yes is not forgotten with time or stopped sessions",
     [(0, dict(answers=[("screen_hernia", "yes")], passed=None, feedback=None,
               outcome="screened_out")),
      (2, dict(passed=None, feedback=None, outcome="stopped")),
      (3, dict(answers=[("screen_hernia", "no")], passed=None, feedback=None,
               outcome="stopped"))],
     40, ScreeningNeed.FULL, ScreeningWhy.ANSWERED_YES, ("screen_hernia",)),
    ("a yes is cleared by a later full screening of noes",
     [(0, dict(answers=[("screen_hernia", "yes")], passed=None, feedback=None,
               outcome="screened_out")), (5, dict(answers=NO))],
     6, ScreeningNeed.RECONFIRM, ScreeningWhy.RECENT, ()),
    ("reconfirm yes then the full questions passed in that session",
     [(0, dict(answers=NO)),
      (3, dict(mode="reconfirm", answers=[("screening_reconfirm", "yes"), *NO]))],
     4, ScreeningNeed.RECONFIRM, ScreeningWhy.RECENT, ()),
    ("reconfirm yes then stopped before the full questions",
     [(0, dict(answers=NO)),
      (3, dict(mode="reconfirm", answers=[("screening_reconfirm", "yes")], passed=None,
               feedback=None, outcome="stopped"))],
     4, ScreeningNeed.FULL, ScreeningWhy.ANSWERED_YES, ("screening_reconfirm",)),
    ("stopped before ever passing", [(0, dict(passed=None, feedback=None, outcome="stopped"))],
     1, ScreeningNeed.FULL, ScreeningWhy.NEVER_PASSED, ()),
]


@pytest.mark.parametrize("case,sessions,now,need,why,open_yes", SCREENING_CASES,
                         ids=[c[0] for c in SCREENING_CASES])
def test_screening_memory(tmp_path: Path, case: str, sessions: list[tuple[float, dict[str, Any]]],
                          now: float, need: ScreeningNeed, why: ScreeningWhy,
                          open_yes: tuple[str, ...]) -> None:
    store = store_with(tmp_path, *(entries(f"s{i}", day(d), **kw)
                                   for i, (d, kw) in enumerate(sessions)))
    plan = plan_next(store, now=day(now))
    assert (plan.screening, plan.screening_why, plan.open_yes) == (need, why, open_yes)


def test_remembered_answers_are_the_latest_per_question(tmp_path: Path) -> None:
    store = store_with(
        tmp_path,
        entries("a", day(0), answers=[("screen_hernia", "yes")], passed=None, feedback=None,
                outcome="screened_out"),
        entries("b", day(1), answers=[("screen_hernia", "no"), ("screen_surgery", "no")]))
    plan = plan_next(store, now=day(2))
    assert [(a.question, a.answer) for a in plan.answers] == [
        ("screen_hernia", "no"), ("screen_surgery", "no")]
    assert plan.last_full_screening is not None and day(1) < plan.last_full_screening < day(1.01)


def test_a_naive_now_is_taken_as_utc(tmp_path: Path) -> None:
    store = store_with(tmp_path, entries("a", T0, answers=NO))
    passed = plan_next(store, now=T0 + DAY).last_full_screening
    assert passed is not None
    naive = (passed + 30 * DAY).replace(tzinfo=None)
    assert plan_next(store, now=naive).screening is ScreeningNeed.FULL
    assert plan_next(store, now=naive - timedelta(seconds=10)).screening is ScreeningNeed.RECONFIRM
