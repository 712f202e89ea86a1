"""History for people and programs: a text table, JSON and CSV exports (the plot: ``plot.py``)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Sequence

from coach.history.store import HoldRecord, SessionRecord

CSV_FIELDS = ("session", "started", "status", "routine", "planned_hold", "side", "planned",
              "actual", "how", "hold_pain", "pain_count", "feedback", "pace_in", "pace_out")


def _secs(x: float | None) -> str:
    return "-" if x is None else f"{x:.0f}"


def _hold_cell(h: HoldRecord) -> str:
    how = h.how or "unfinished"
    return f"{h.side} {_secs(h.actual)}/{_secs(h.planned)} s {how}"


def table(sessions: Sequence[SessionRecord]) -> str:
    """One line per session: date (UTC), planned hold, each side's actual/planned and how it
    ended, "too painful" count, feedback and outcome."""
    head = ("date (UTC)", "plan s", "holds: side held/planned", "pain", "feedback", "outcome")
    rows = [(s.started.strftime("%Y-%m-%d %H:%M"), _secs(s.planned_hold),
             "; ".join(_hold_cell(h) for h in s.holds) or "-", str(s.pain_count),
             s.feedback or "-", s.status) for s in sessions]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(head), fmt(tuple("-" * w for w in widths)), *map(fmt, rows)])


def to_dicts(sessions: Sequence[SessionRecord]) -> list[dict[str, Any]]:
    return [{
        "id": s.id, "started": s.started.isoformat(), "routine": s.routine,
        "status": s.status, "reason": s.reason, "planned_hold": s.planned_hold,
        "holds": [{"side": h.side, "planned": h.planned, "actual": h.actual, "how": h.how,
                   "pain": h.pain} for h in s.holds],
        "pain_count": s.pain_count, "feedback": s.feedback, "pace_in": s.pace_in,
        "pace_out": s.pace_out, "health_changed": s.health_changed,
        "screening_mode": s.screening_mode, "screening_passed": s.screening_passed,
        "answers": [{"question": a.question, "answer": a.answer} for a in s.answers],
    } for s in sessions]


def to_json(sessions: Sequence[SessionRecord]) -> str:
    """A JSON array, one object per session (times in seconds, dates ISO-8601 UTC)."""
    return json.dumps(to_dicts(sessions), indent=2, ensure_ascii=False)


def to_csv(sessions: Sequence[SessionRecord]) -> str:
    """CSV, one row per hold (session columns repeated); a session without a hold has one row
    with empty hold columns."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for s in sessions:
        base = {"session": s.id, "started": s.started.isoformat(), "status": s.status,
                "routine": s.routine, "planned_hold": s.planned_hold,
                "pain_count": s.pain_count, "feedback": s.feedback, "pace_in": s.pace_in,
                "pace_out": s.pace_out}
        for h in s.holds or (None,):
            row = dict(base)
            if h is not None:
                row.update(side=h.side, planned=h.planned, actual=h.actual, how=h.how,
                           hold_pain=h.pain)
            w.writerow(row)
    return buf.getvalue()
