"""The history plot's content (``plot_data``, no drawing) and the PNG from 1 to 200 sessions."""

from __future__ import annotations

import math
import struct
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from coach.history import HistoryStore
from coach.history.plot import ENDINGS, MAX_TICKS, plot, plot_data
from test_history_fixtures import T0, H, both, entries, record_all

NEW_YORK_WINTER = timezone(timedelta(hours=-5))


def _sessions(tmp_path: Path, *logs: list[dict]) -> list:
    store = HistoryStore(tmp_path / "h.db")
    record_all(store, *logs)
    return store.sessions()


def test_several_sessions_on_one_day_each_get_a_place_and_their_time(tmp_path: Path) -> None:
    day = [T0 + timedelta(hours=h) for h in (0, 4, 11)]  # 08:00, 12:00, 19:00 UTC
    sessions = _sessions(tmp_path, *(entries(f"s{i}", t, holds=both(120 + 15 * i))
                                     for i, t in enumerate(day)))
    data = plot_data(sessions, timezone.utc)
    assert [sd.held for sd in data.sides] == [(120, 135, 150), (120, 135, 150)]
    assert data.ticks == ((0, "Mar 3 2025\n08:00"), (1, "12:00"), (2, "19:00"))


def test_dates_are_in_local_time(tmp_path: Path) -> None:
    """02:00 UTC on 3 March is 21:00 on 2 March in New York: the label says 2 March."""
    sessions = _sessions(tmp_path, entries("late", T0.replace(hour=2), holds=both(120)))
    assert plot_data(sessions, NEW_YORK_WINTER).ticks == ((0, "Mar 2 2025"),)
    assert plot_data(sessions, timezone.utc).ticks == ((0, "Mar 3 2025"),)


def test_a_side_is_drawn_only_where_it_was_held(tmp_path: Path) -> None:
    sessions = _sessions(
        tmp_path,
        entries("a", T0, holds=both(120)),
        entries("b", T0 + timedelta(days=1), holds=[H("right", 135, 60, "stopped")],
                feedback=None, outcome="stopped"),
        entries("c", T0 + timedelta(days=2), holds=both(135, pain=1)))
    right, left = plot_data(sessions, timezone.utc).sides
    assert (right.side, right.held) == ("right", (120, 60, 135))
    assert left.side == "left" and left.held[0] == 120 and math.isnan(left.held[1])
    assert right.early == (False, True, False) and right.pain == (False, False, True)
    assert left.early == (False, False, False)


def test_every_session_shows_how_it_ended_even_without_a_hold(tmp_path: Path) -> None:
    sessions = _sessions(
        tmp_path,
        entries("a", T0, holds=both(120)),
        entries("b", T0 + timedelta(days=1), answers=[("screen_hernia", "yes")], passed=None,
                feedback=None, outcome="screened_out"),
        entries("c", T0 + timedelta(days=2), holds=[H("right", 120, None, None)], feedback=None,
                outcome=None),
        entries("d", T0 + timedelta(days=3), holds=both(120), feedback=None,
                outcome="no_response"))
    data = plot_data(sessions, timezone.utc)
    assert data.ending == ("completed", "screened_out", "unfinished", "no_response")
    assert set(data.ending) <= set(ENDINGS)
    assert data.feedback == ("better", None, None, None)
    assert math.isnan(data.planned[1]) and data.planned[0] == 120


def test_two_hundred_sessions_keep_a_dozen_readable_dates(tmp_path: Path) -> None:
    logs = [entries(f"s{i}", T0 + timedelta(hours=9 * i), holds=both(120 + 15 * (i % 5)))
            for i in range(200)]  # 75 days, two or three sessions on most of them
    sessions = _sessions(tmp_path, *logs)
    data = plot_data(sessions, timezone.utc)
    positions = [p for p, _ in data.ticks]
    labels = [t for _, t in data.ticks]
    assert 6 <= len(data.ticks) <= MAX_TICKS and positions == sorted(set(positions))
    assert len(set(labels)) == len(labels) and all("\n" not in t for t in labels)
    assert labels[0] == "Mar 3 2025" and data.count == 200
    out = tmp_path / "many.png"
    plot(sessions, out, timezone.utc)
    png = out.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24])[0] > 800


@pytest.mark.parametrize("n", [1, 3])
def test_a_few_sessions_plot(tmp_path: Path, n: int) -> None:
    sessions = _sessions(tmp_path, *(entries(f"s{i}", T0 + timedelta(hours=2 * i),
                                             holds=both(120)) for i in range(n)))
    plot(sessions, tmp_path / "few.png", timezone.utc)
    assert (tmp_path / "few.png").stat().st_size > 20_000
