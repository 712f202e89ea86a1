"""Helpers for engine tests: run a scripted session in virtual time and read its event log."""

from __future__ import annotations

from typing import Any, Callable

from coach.content import Content, load_content
from coach.session.driver import SessionDriver
from coach.session.engine import Engine, Phase
from coach.session.eventlog import EventLog
from coach.session.plan import SessionPlan
from coach.run.simulate import Injected, Simulation
from coach.run.user_script import Reply, default_replies

_CONTENT: Content | None = None


def content() -> Content:
    global _CONTENT
    if _CONTENT is None:
        _CONTENT = load_content()
    return _CONTENT


def session(replies: list[Reply] | None = None, *, defaults: bool = True,
            plan: SessionPlan = SessionPlan(), injected: tuple[Injected, ...] = ()) -> Simulation:
    c = content()
    rs = (replies or []) + (default_replies(c) if defaults else [])
    driver = SessionDriver(Engine(c, plan), EventLog())
    return Simulation(driver, rs, injected=injected)


def run(replies: list[Reply] | None = None, **kw: Any) -> list[dict[str, Any]]:
    sim = session(replies, **kw)
    sim.run()
    assert sim.driver.ended, "session did not end"
    return sim.driver.log.entries


def in_phase(phase: Phase, pos_kind: str | None = None) -> Callable[[SessionDriver], bool]:
    def pred(d: SessionDriver) -> bool:
        s = d.state
        if s is None or s.phase is not phase:
            return False
        step = d.engine.current_step(s)
        return pos_kind is None or (step is not None and step.id == pos_kind)
    return pred


def kinds(log: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in log if e["kind"] == kind]


def said(log: list[dict[str, Any]]) -> list[str]:
    return [e["line"] for e in log if e["kind"] == "said"]


def outcome(log: list[dict[str, Any]]) -> str:
    ends = kinds(log, "session_end")
    assert len(ends) == 1, f"expected one session_end, got {ends}"
    return ends[0]["outcome"]
