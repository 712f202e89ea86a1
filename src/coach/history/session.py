"""Wiring history into a session: plan it from the store, then record its log as it happens."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from coach.content import GUIDE_MAX_HOLD, GUIDE_MIN_HOLD, Content, StepKind
from coach.session.eventlog import EventLog
from coach.history.planner import Plan, PlanReason, plan_next
from coach.history.store import HistoryStore
from coach.history.words import default_templates, describe_plan, plan_summary
from coach.session.plan import Choices, SessionPlan


def session_plan(plan: Plan, content: Content, store: HistoryStore, now: datetime) -> SessionPlan:
    """The engine's plan: hold capped at the routine's max, with the plan and week summary
    sentences in the content's words (the defaults in ``content/progress.toml`` fill missing keys)."""
    templates = default_templates(content.formats, content.lines)
    maxes = [s.max_seconds for s in content.routine.steps.values() if s.kind is StepKind.HOLD]
    hold = min([plan.hold_seconds, *maxes])
    return SessionPlan(hold_seconds=hold, breath_in=plan.breath_in, breath_out=plan.breath_out,
                       screening=plan.screening, plan_text=describe_plan(plan, templates),
                       summary_text=plan_summary(store, plan, templates, now=now))


def plan_and_record(content: Content, log: EventLog, store: HistoryStore | None = None,
                    now: datetime | None = None, choices: Choices = Choices()) -> SessionPlan:
    """Plan the session from the user's history and ``choices``, and add the store as a sink of
    ``log``. A chosen pace replaces the one remembered (and the plan's words say so); the short
    introduction is given only to a user with a session with a hold behind them."""
    store = store or HistoryStore()
    now = now or datetime.now(timezone.utc)
    plan = plan_next(store, now=now, min_hold=GUIDE_MIN_HOLD, max_hold=GUIDE_MAX_HOLD)
    if choices.pace is not None:
        plan = replace(plan, breath_in=choices.pace[0], breath_out=choices.pace[1])
    sp = session_plan(plan, content, store, now)
    log.sinks.append(store.record)
    returning = plan.reason is not PlanReason.NEW_USER
    return replace(sp, sides=choices.sides, short_intro=choices.short_intro and returning)
