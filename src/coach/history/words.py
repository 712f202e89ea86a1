"""What the coach says about progress, filled from templates (no sentence lives in code).

Templates are a flat ``Mapping[str, str]`` filled with ``str.format`` and named fields. English
defaults are in ``content/progress.toml`` (``default_templates()``); the session's content
(``content.lines`` and ``content.formats``) may override any key. Numbers are spoken as words
from the ``num_*`` / ``ord_*`` keys when present, else as digits.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from coach.errors import CoachError
from coach.paths import content_dir
from coach.history.planner import Plan, PlanReason
from coach.history.store import HistoryStore, SessionRecord

def words_file() -> Path:
    return content_dir() / "progress.toml"


@lru_cache(maxsize=4)
def _defaults(path: Path | None = None) -> dict[str, str]:
    path = path or words_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise CoachError("content.invalid", f"{path}: cannot read the progress words "
                         f"({err})", "restore the file from the coach package") from err
    return {k: str(v) for table in data.values() for k, v in table.items()}


def default_templates(*overrides: Mapping[str, str]) -> dict[str, str]:
    """The English defaults, then each mapping in ``overrides`` on top (later wins)."""
    out = dict(_defaults(words_file()))
    for o in overrides:
        out.update(o)
    return out


def _fill(templates: Mapping[str, str], key: str, **fields: object) -> str:
    try:
        text = templates[key]
    except KeyError as err:
        raise CoachError("content.invalid", f"no text for '{key}' in the history templates",
                         f"add {key} = \"…\" to content/lines.toml (see "
                         f"content/progress.toml for the English default)") from err
    try:
        return text.format(**fields)
    except (KeyError, IndexError, ValueError) as err:
        raise CoachError("content.invalid", f"template '{key}': bad placeholder in {text!r} "
                         f"({err})", f"use only {sorted(fields)}") from err


def spoken_number(n: int, templates: Mapping[str, str]) -> str:
    """``n`` as words from ``num_<n>`` (or ``num_compound`` of tens and units), else digits."""
    if f"num_{n}" in templates:
        return templates[f"num_{n}"]
    tens, units = divmod(n, 10)
    if 0 < n < 100 and {f"num_{tens * 10}", f"num_{units}", "num_compound"} <= set(templates):
        return _fill(templates, "num_compound", tens=templates[f"num_{tens * 10}"],
                     units=templates[f"num_{units}"])
    return str(n)


def spoken_ordinal(n: int, templates: Mapping[str, str]) -> str:
    if f"ord_{n}" in templates:
        return templates[f"ord_{n}"]
    return _fill(templates, "ord_other", n=n) if "ord_other" in templates else str(n)


def _spoken_amount(x: float, templates: Mapping[str, str]) -> str:
    return spoken_number(int(x), templates) if float(x).is_integer() else f"{x:g}"


def spoken_duration(seconds: float, templates: Mapping[str, str]) -> str:
    """Seconds as words: "two minutes fifteen". Exact under 20 s, else to the nearest 5 s
    (as the session engine speaks times). Keys: seconds, one_minute, minutes, minutes_seconds,
    one_minute_seconds."""
    s = int(round(seconds)) if seconds < 20 else int(5 * round(seconds / 5))
    m, rest = divmod(max(0, s), 60)
    mw, rw = spoken_number(m, templates), spoken_number(rest, templates)
    if m == 0:
        return _fill(templates, "seconds", seconds=rw)
    if rest == 0:
        return _fill(templates, "one_minute") if m == 1 else _fill(templates, "minutes", minutes=mw)
    if m == 1:
        return _fill(templates, "one_minute_seconds", seconds=rw)
    return _fill(templates, "minutes_seconds", minutes=mw, seconds=rw)


def describe_plan(plan: Plan, templates: Mapping[str, str]) -> str:
    """The plan in a sentence or two (``plan_<reason>``, then ``plan_pace`` if a pace is kept)."""
    feedback = plan.last_feedback or ""
    fields = dict(hold=spoken_duration(plan.hold_seconds, templates),
                  previous=spoken_duration(plan.previous_hold or plan.hold_seconds, templates),
                  feedback=templates.get(f"word_{feedback}", feedback))
    text = _fill(templates, f"plan_{plan.reason.value}", **fields)
    if plan.breath_in is not None and plan.breath_out is not None:
        text += " " + _fill(templates, "plan_pace",
                            breath_in=_spoken_amount(plan.breath_in, templates),
                            breath_out=_spoken_amount(plan.breath_out, templates))
    return text


def session_hold(s: SessionRecord) -> float | None:
    """The session's planned hold per side, seconds (the last hold's plan, else session_start)."""
    planned = [h.planned for h in s.holds if h.planned is not None]
    return planned[-1] if planned else s.planned_hold


def _week_text(week: list[float], this: float, templates: Mapping[str, str]) -> str:
    """``week``: planned holds of the earlier sessions this week, oldest first."""
    last = spoken_duration(this, templates)
    if not week:
        return _fill(templates, "summary_first", last=last)
    ordinal = spoken_ordinal(len(week) + 1, templates)
    first = spoken_duration(week[0], templates)
    key = "summary_week_steady" if first == last else "summary_week"
    return _fill(templates, key, ordinal=ordinal, first=first, last=last)


def spoken_summary(store: HistoryStore, session_id: str, templates: Mapping[str, str], *,
                   week_days: float = 7) -> str:
    """What to say after a session: its place in the last ``week_days`` days (sessions with a
    hold, counted up to and including this one), how the planned hold moved, and pain if any."""
    sessions = store.sessions()
    this = next((s for s in sessions if s.id == session_id), None)
    if this is None:
        raise CoachError("history.no_session", f"{store.path}: no session '{session_id}'",
                         "see `coach history` for the session ids")
    hold = session_hold(this)
    if not this.holds or hold is None:
        return _fill(templates, "summary_no_hold")
    since = this.started - timedelta(days=week_days)
    earlier = [h for s in sessions[:sessions.index(this)]
               if s.holds and s.started > since and (h := session_hold(s)) is not None]
    text = _week_text(earlier, hold, templates)
    if this.pain_count == 1:
        text += " " + _fill(templates, "summary_pain_one", count=spoken_number(1, templates))
    elif this.pain_count > 1:
        text += " " + _fill(templates, "summary_pain",
                            count=spoken_number(this.pain_count, templates))
    return text


def plan_summary(store: HistoryStore, plan: Plan, templates: Mapping[str, str], *,
                 now: object, week_days: float = 7) -> str:
    """The week summary said at the end of the session about to start (its planned hold counts
    as ``last``); ``now`` is the session's start (datetime, UTC)."""
    since = now - timedelta(days=week_days)  # type: ignore[operator]
    earlier = [h for s in store.sessions() if s.holds and s.started > since
               and (h := session_hold(s)) is not None]
    return _week_text(earlier, plan.hold_seconds, templates)


__all__ = ["default_templates", "describe_plan", "plan_summary", "spoken_duration",
           "spoken_number", "spoken_ordinal", "spoken_summary", "PlanReason"]
