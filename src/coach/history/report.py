"""History for people and programs: a text table, JSON and CSV exports, and a PNG plot."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Sequence

from coach.errors import CoachError
from coach.history.store import HoldRecord, SessionRecord

GUIDE_BAND = (120.0, 180.0)
"""Seconds: the guide's range for one hold."""

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


_FEEDBACK_Y = {"worse": 0, "same": 1, "better": 2}
_FEEDBACK_STYLE = {"better": ("^", "#2ca02c"), "same": ("o", "#7f7f7f"), "worse": ("v", "#d62728")}
_EARLY = frozenset({"stopped", "no_response", "error"})
_SIDE_COLORS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b")


def plot(sessions: Sequence[SessionRecord], out: Path) -> None:
    """Hold seconds per side over time, the planned hold, "too painful" marks, the guide's
    120–180 s band, and each session's feedback in a strip below; written as PNG to ``out``."""
    with_holds = [s for s in sessions if s.holds]
    if not with_holds:
        raise CoachError("history.empty", "no session with a hold to plot yet",
                         "run a session first (or choose another history with --db)")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, (ax, fb) = plt.subplots(2, 1, figsize=(11.5, 6.2), sharex=True, dpi=110,
                                 gridspec_kw={"height_ratios": [4, 1], "hspace": 0.08})
    try:
        ax.axhspan(*GUIDE_BAND, color="#2ca02c", alpha=0.10, lw=0,
                   label=f"guide range {GUIDE_BAND[0]:.0f}–{GUIDE_BAND[1]:.0f} s")
        sides = list(dict.fromkeys(h.side for s in with_holds for h in s.holds))
        top = GUIDE_BAND[1]
        for i, side in enumerate(sides):
            pts = [(s.started, h) for s in with_holds for h in s.holds
                   if h.side == side and h.actual is not None]
            if not pts:
                continue
            top = max(top, *(h.actual for _, h in pts))  # type: ignore[type-var]
            ax.plot([t for t, _ in pts], [h.actual for _, h in pts], marker="o", ms=6, lw=1.8,
                    zorder=4,
                    color=_SIDE_COLORS[i % len(_SIDE_COLORS)], label=f"{side} side: held")
        plan_pts = [(s.started, s.planned_hold) for s in with_holds if s.planned_hold]
        if plan_pts:
            ax.plot(*zip(*plan_pts), ls="--", lw=1.2, color="#444444", drawstyle="steps-post",
                    label="planned hold (each side)")
            ax.plot(*zip(*plan_pts), ls="none", marker="_", ms=16, mew=1.5, color="#444444")
        early = [(s.started, h.actual) for s in with_holds for h in s.holds
                 if h.how in _EARLY and h.actual is not None and not h.pain]
        if early:
            ax.scatter(*zip(*early), marker="o", s=60, facecolor="white", edgecolor="#333333",
                       lw=1.5, zorder=5, label="stopped early (stop, no answer, fault)")
        pain = [(s.started, h.actual) for s in with_holds for h in s.holds
                if (h.pain or h.how == "too_painful") and h.actual is not None]
        if pain:
            ax.scatter(*zip(*pain), marker="o", s=230, facecolor="none", edgecolor="#d62728",
                       lw=2.2, zorder=6,
                       label='"too painful" during the hold')
        ax.set_ylim(0, top + 25)
        ax.set_ylabel("hold (seconds)")
        ax.set_title("Psoas release: how long each side was held")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)

        fb.set_ylim(-0.6, 2.6)
        fb.set_yticks([0, 1, 2], ["worse", "same", "better"])
        fb.set_ylabel("feedback", fontsize=9)
        fb.grid(axis="y", alpha=0.3)
        for s in sessions:
            if s.feedback in _FEEDBACK_STYLE:
                m, c = _FEEDBACK_STYLE[s.feedback]
                fb.scatter([s.started], [_FEEDBACK_Y[s.feedback]], marker=m, s=70, color=c)
        fb.set_xlabel("session date (UTC)")
        loc = mdates.AutoDateLocator()
        fb.xaxis.set_major_locator(loc)
        fb.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        first, last = with_holds[0].started, with_holds[-1].started
        pad = max((last - first) * 0.05, (last - first).__class__(hours=12))
        ax.set_xlim(first - pad, last + pad)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png", bbox_inches="tight")
    except OSError as err:
        raise CoachError("history.unwritable", f"{out}: cannot write the plot ({err.strerror})",
                         "choose a writable path for --plot") from err
    finally:
        plt.close(fig)
