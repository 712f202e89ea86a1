"""``coach history --plot``: the sessions as a PNG, readable from 1 to a few hundred sessions.

Sessions are placed one after another (several on one day get a place each), labelled with their
date in local time. Each side is drawn only where it was held; below, the feedback and how each
session ended. ``plot_data`` decides all of that without drawing (tested on its own); ``plot``
draws it with matplotlib.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Sequence

from coach.errors import CoachError
from coach.history.store import SessionRecord

GUIDE_BAND = (120.0, 180.0)
"""Seconds: the guide's range for one hold."""
MAX_TICKS = 12
"""Most date labels under the plot."""
SIDE_OFFSET = 0.12
"""Sessions: how far apart the sides' marks are drawn, so equal holds do not hide each other."""
EARLY = frozenset({"stopped", "no_response", "error"})
"""How a hold ended when it was cut short by the user, silence or a fault (not by pain)."""
ENDINGS = ("completed", "stopped", "no_response", "screened_out", "fault", "unfinished")
"""How a session can end, as the rows of the "ended" strip (bottom to top)."""
ENDING_LABELS = {"completed": "completed", "stopped": "stopped", "no_response": "no answer",
                 "screened_out": "screened out", "fault": "fault", "unfinished": "cut off"}
FEEDBACK = ("worse", "same", "better")
"""The feedback strip's rows, bottom to top."""


@dataclass(frozen=True)
class SideSeries:
    """One side across all sessions; NaN (and False) where that side was not held."""

    side: str
    held: tuple[float, ...]
    """Seconds held, per session."""
    pain: tuple[bool, ...]
    """"too painful" said during that side's hold."""
    early: tuple[bool, ...]
    """The hold was cut short (stop, no answer, fault) without pain."""


@dataclass(frozen=True)
class PlotData:
    """What the plot shows, one position per session (0, 1, … in the order they started)."""

    planned: tuple[float, ...]
    """Seconds planned per side; NaN for a session without a hold."""
    sides: tuple[SideSeries, ...]
    feedback: tuple[str | None, ...]
    ending: tuple[str, ...]
    """One of ``ENDINGS`` per session (an unknown outcome counts as a fault)."""
    ticks: tuple[tuple[int, str], ...]
    """(position, label): the local date, and the time when the day has several sessions."""

    @property
    def count(self) -> int:
        return len(self.ending)


def _ticks(starts: Sequence[datetime], max_ticks: int) -> tuple[tuple[int, str], ...]:
    per_day = Counter(d.date() for d in starts)
    firsts = [i for i, d in enumerate(starts) if i == 0 or d.date() != starts[i - 1].date()]
    every = max(1, math.ceil(len(firsts) / max_ticks))
    shown = firsts[::every]
    few = len(starts) <= max_ticks
    out = []
    for n, i in enumerate(shown):
        d = starts[i]
        label = f"{d:%b} {d.day}"
        if n == 0 or d.year != starts[shown[n - 1]].year:
            label += f" {d.year}"
        out.append((i, label))
        if few and per_day[d.date()] > 1:  # room for every session: each with its time
            out[-1] = (i, f"{label}\n{d:%H:%M}")
            out += [(j, f"{starts[j]:%H:%M}") for j in range(i + 1, len(starts))
                    if starts[j].date() == d.date()]
    return tuple(out)


def plot_data(sessions: Sequence[SessionRecord], tz: tzinfo | None = None,
              max_ticks: int = MAX_TICKS) -> PlotData:
    """The plot's content for ``sessions`` (oldest first); dates in ``tz`` (default: this
    machine's local time zone)."""
    starts = [s.started.astimezone(tz) for s in sessions]
    sides = list(dict.fromkeys(h.side for s in sessions for h in s.holds))
    series = []
    for side in sides:
        held, pain, early = [], [], []
        for s in sessions:
            hs = [h for h in s.holds if h.side == side and h.actual is not None]
            held.append(hs[-1].actual if hs else math.nan)
            hurt = any(h.pain or h.how == "too_painful" for h in hs)
            pain.append(hurt)
            early.append(not hurt and any(h.how in EARLY for h in hs))
        series.append(SideSeries(side, tuple(held), tuple(pain), tuple(early)))
    planned = tuple(float(s.planned_hold) if s.holds and s.planned_hold else math.nan
                    for s in sessions)
    ending = tuple(s.status if s.status in ENDINGS else "fault" for s in sessions)
    return PlotData(planned, tuple(series), tuple(s.feedback for s in sessions), ending,
                    _ticks(starts, max_ticks))


_SIDE_COLORS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b")
_FEEDBACK_STYLE = {"better": ("^", "#2ca02c"), "same": ("o", "#7f7f7f"), "worse": ("v", "#d62728")}
_ENDING_STYLE = {"completed": ("o", "#2ca02c"), "stopped": ("s", "#ff7f0e"),
                 "no_response": ("D", "#9467bd"), "screened_out": ("X", "#7f7f7f"),
                 "fault": ("P", "#d62728"), "unfinished": ("x", "#000000")}


def plot(sessions: Sequence[SessionRecord], out: Path, tz: tzinfo | None = None) -> None:
    """Hold seconds per side (each side only where held), the planned hold, "too painful"
    marks and the guide's 120–180 s band; below, each session's feedback and how it ended;
    written as PNG to ``out``. Dates in ``tz`` (default: local time)."""
    if not sessions:
        raise CoachError("history.empty", "no session to plot yet",
                         "run a session first (or choose another history with --db)")
    data = plot_data(sessions, tz)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = data.count
    x = list(range(n))
    ms = 6 if n <= 40 else 3.5 if n <= 120 else 2.5
    fig, (ax, fb, ended) = plt.subplots(
        3, 1, figsize=(11.5, 7.2), sharex=True, dpi=110,
        gridspec_kw={"height_ratios": [4, 1, 1.4], "hspace": 0.08})
    try:
        ax.axhspan(*GUIDE_BAND, color="#2ca02c", alpha=0.10, lw=0,
                   label=f"guide range {GUIDE_BAND[0]:.0f}–{GUIDE_BAND[1]:.0f} s")
        top = GUIDE_BAND[1]
        for i, sd in enumerate(data.sides):
            color = _SIDE_COLORS[i % len(_SIDE_COLORS)]
            dx = SIDE_OFFSET * (i - (len(data.sides) - 1) / 2)  # sides held alike stay apart
            xs = [j + dx for j in x]
            ax.plot(xs, sd.held, marker="o", ms=ms, lw=1.5, zorder=4, color=color,
                    label=f"{sd.side} side: held")  # NaN breaks the line where it was not held
            top = max([top, *(v for v in sd.held if not math.isnan(v))])
            early = [(xs[j], v) for j, (v, e) in enumerate(zip(sd.held, sd.early)) if e]
            if early:
                ax.scatter(*zip(*early), marker="o", s=ms * 10, facecolor="white",
                           edgecolor="#333333", lw=1.2, zorder=5)
            pain = [(xs[j], v) for j, (v, p) in enumerate(zip(sd.held, sd.pain)) if p]
            if pain:
                ax.scatter(*zip(*pain), marker="o", s=ms * 38, facecolor="none",
                           edgecolor="#d62728", lw=2.0, zorder=6)
        plans = [(j, p) for j, p in enumerate(data.planned) if not math.isnan(p)]
        if plans:
            ax.plot(*zip(*plans), ls="--", lw=1.1, color="#444444", drawstyle="steps-mid",
                    label="planned hold (each side)")
        ax.scatter([], [], marker="o", facecolor="white", edgecolor="#333333",
                   label="cut short (stop, no answer, fault)")
        ax.scatter([], [], marker="o", facecolor="none", edgecolor="#d62728", lw=2.0,
                   label='"too painful" during the hold')
        ax.set_ylim(0, top + 25)
        ax.set_ylabel("hold (seconds)")
        ax.set_title(f"Psoas release: how long each side was held ({n} session"
                     f"{'s' if n != 1 else ''})")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)

        fb.set_ylim(-0.6, len(FEEDBACK) - 0.4)
        fb.set_yticks(range(len(FEEDBACK)), FEEDBACK, fontsize=8)
        fb.set_ylabel("feedback", fontsize=9)
        fb.grid(axis="y", alpha=0.3)
        for j, f in enumerate(data.feedback):
            if f in _FEEDBACK_STYLE:
                m, c = _FEEDBACK_STYLE[f]
                fb.scatter([j], [FEEDBACK.index(f)], marker=m, s=ms * 10, color=c)

        ended.set_ylim(-0.6, len(ENDINGS) - 0.4)
        ended.set_yticks(range(len(ENDINGS)), [ENDING_LABELS[e] for e in ENDINGS], fontsize=8)
        ended.set_ylabel("ended", fontsize=9)
        ended.grid(axis="y", alpha=0.3)
        for j, e in enumerate(data.ending):
            m, c = _ENDING_STYLE[e]
            ended.scatter([j], [ENDINGS.index(e)], marker=m, s=ms * 10, color=c)
        ended.set_xticks([p for p, _ in data.ticks], [t for _, t in data.ticks], fontsize=8)
        ended.set_xlabel("session (date in local time)")
        ended.set_xlim(-0.6, n - 0.4)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png", bbox_inches="tight")
    except OSError as err:
        raise CoachError("history.unwritable", f"{out}: cannot write the plot ({err.strerror})",
                         "choose a writable path for --plot") from err
    finally:
        plt.close(fig)
