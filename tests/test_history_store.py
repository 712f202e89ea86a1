"""The history store: migrations, recording as it happens, crash safety, errors, privacy."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from coach.errors import CoachError
from coach.history import HistoryStore, default_db_path
from coach.history.migrations import MIGRATIONS, applied, migrate
from test_history_fixtures import SECRET, T0, H, both, entries, record_all

SRC = Path(__file__).resolve().parents[1] / "src"


def schema(path: Path) -> dict[str, list[tuple]]:
    """Every table's columns (name, type, notnull, default, pk) and the index names."""
    c = sqlite3.connect(path)
    try:
        tables = [r[0] for r in c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        out = {t: [tuple(r[1:]) for r in c.execute(f"PRAGMA table_info({t})")] for t in tables}
        out["(indexes)"] = [r for r in c.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' ORDER BY name")]
        return out
    finally:
        c.close()


def blank_schema(tmp_path: Path) -> dict[str, list[tuple]]:
    p = tmp_path / "blank.db"
    HistoryStore(p).close()
    return schema(p)


def test_default_path_is_in_the_data_dir(tmp_path: Path) -> None:
    assert default_db_path() == tmp_path / "data" / "coach" / "history.db"
    with HistoryStore() as store:
        assert store.path == default_db_path()
    assert default_db_path().exists()


def test_blank_database_gets_every_migration_in_order(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.db") as store:
        assert applied(store.conn) == [name for name, _ in MIGRATIONS]
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.sessions() == []
    assert len(MIGRATIONS) >= 2
    assert [n for n, _ in MIGRATIONS] == sorted(n for n, _ in MIGRATIONS)


def _old_session_rows(conn: sqlite3.Connection) -> None:
    """What the 001 schema held for a session: feedback and pace only as raw events."""
    conn.execute("INSERT INTO sessions (id, started, routine, planned_hold, outcome) "
                 "VALUES ('old', '2025-01-02T08:00:00+00:00', 'psoas-ball', 135, 'completed')")
    conn.execute("INSERT INTO holds (session, side, planned, actual, how, pain) "
                 "VALUES ('old', 'right', 135, 90, 'too_painful', 1)")
    for kind, data in [("too_painful", {"side": "right"}), ("pace", {"breath_in": 6, "breath_out": 8}),
                       ("feedback", {"answer": "same"}), ("feedback", {"answer": "worse"})]:
        conn.execute("INSERT INTO events (session, seq, t, wall, kind, data) "
                     "VALUES ('old', 0, 0, '2025-01-02T08:00:00+00:00', ?, ?)",
                     (kind, json.dumps(data)))


@pytest.mark.parametrize("upto", range(len(MIGRATIONS)))
def test_every_earlier_schema_upgrades_to_the_current_one(tmp_path: Path, upto: int) -> None:
    p = tmp_path / f"old{upto}.db"
    conn = sqlite3.connect(p, isolation_level=None)
    assert migrate(conn, MIGRATIONS, upto=upto) == [n for n, _ in MIGRATIONS[:upto]]
    if upto >= 1:
        _old_session_rows(conn)
    conn.close()

    with HistoryStore(p) as store:
        assert applied(store.conn) == [name for name, _ in MIGRATIONS]
        sessions = store.sessions()
    assert schema(p) == blank_schema(tmp_path)
    if upto >= 1:  # 002 filled its new columns from the events 001 kept
        (old,) = sessions
        assert (old.feedback, old.pace_in, old.pace_out, old.pain_count) == ("worse", 6, 8, 1)
        assert old.holds[0].how == "too_painful" and old.status == "completed"


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    p = tmp_path / "h.db"
    record_all(HistoryStore(p), entries("s1", holds=both(120)))
    with HistoryStore(p) as store:
        assert migrate(store.conn) == []
        assert len(store.sessions()) == 1


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "h.db"
    HistoryStore(p).close()
    c = sqlite3.connect(p)
    c.execute("INSERT INTO migrations VALUES ('099_from_the_future', 'x')")
    c.commit()
    c.close()
    with pytest.raises(CoachError) as e:
        HistoryStore(p)
    assert e.value.code == "history.too_new" and str(p) in e.value.message


def test_a_whole_session_is_recorded(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.db") as store:
        record_all(store, entries("s1", holds=[H("right", 135, 100, "too_painful", 2),
                                               H("left", 135, 135, "released")],
                                  feedback="same", pace=(6.0, 8.0),
                                  answers=[("screen_hernia", "no")]))
        (s,) = store.sessions()
    assert s.id == "s1" and s.started == T0 + timedelta(seconds=1)  # the first entry's wall
    assert s.status == "completed" and s.routine == "psoas-ball" and s.planned_hold == 135
    assert [(h.side, h.actual, h.how, h.pain) for h in s.holds] == [
        ("right", 100, "too_painful", 2), ("left", 135, "released", 0)]
    assert (s.pain_count, s.feedback, s.pace_in, s.pace_out) == (2, "same", 6.0, 8.0)
    assert [(a.question, a.answer) for a in s.answers] == [("screen_hernia", "no")]
    assert s.screening_passed == "full" and not s.health_changed


def test_no_session_end_reads_unfinished(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.db") as store:
        record_all(store, entries("done", holds=both(120)),
                   entries("cut", T0.replace(day=4), holds=[H("right", 120, 120, "completed"),
                                                            H("left", 120, None, None)],
                           feedback=None, outcome=None))
        assert [s.id for s in store.unfinished_sessions()] == ["cut"]
        cut = store.session("cut")
    assert cut.status == "unfinished"
    assert [(h.side, h.how) for h in cut.holds] == [("right", "completed"), ("left", None)]


def test_duplicates_are_skipped_and_logs_import_once(tmp_path: Path) -> None:
    log = tmp_path / "s1.jsonl"
    es = entries("s1", holds=both(120, pain=1))
    text = "".join(json.dumps(e) + "\n" for e in es)
    log.write_text(text + '{"seq": 99, "kind": "sa', encoding="utf-8")  # cut short by a crash
    with HistoryStore(tmp_path / "h.db") as store:
        assert store.record_file(log) == len(es)
        assert store.record_file(log) == len(es)
        record_all(store, es)
        (s,) = store.sessions()
        n_events = store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert len(s.holds) == 2 and s.pain_count == 1
    stored = [e for e in es if e["kind"] not in ("said", "heard")]
    assert n_events == len(stored)


def test_bad_entries_are_refused(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.db") as store:
        for bad in ({"kind": "pause"}, {"session": "", "kind": "pause"}, {"session": "s"}):
            with pytest.raises(CoachError) as e:
                store.record(bad)
            assert e.value.code == "history.bad_entry"


def test_no_words_or_audio_are_stored(tmp_path: Path) -> None:
    p = tmp_path / "h.db"
    with HistoryStore(p) as store:
        record_all(store, entries("s1", holds=both(120)))
        store.record({"seq": 100, "t": 1, "wall": T0.isoformat(), "session": "s1",
                      "kind": "user_spoke", "text": SECRET, "audio": [0.1] * 10})
    for f in tmp_path.glob("h.db*"):
        assert SECRET.encode() not in f.read_bytes(), f
    c = sqlite3.connect(p)
    kinds = {r[0] for r in c.execute("SELECT DISTINCT kind FROM events")}
    c.close()
    assert not kinds & {"heard", "said", "user_spoke"}


def test_a_corrupt_database_is_named_and_left_in_place(tmp_path: Path) -> None:
    p = tmp_path / "history.db"
    junk = b"this is not sqlite\n" * 300
    p.write_bytes(junk)
    with pytest.raises(CoachError) as e:
        HistoryStore(p)
    err = e.value
    assert err.code == "history.corrupt" and str(p) in err.message
    assert "move it aside" in err.hint and str(p) in err.hint
    assert p.read_bytes() == junk


def test_a_damaged_page_is_reported_as_corrupt(tmp_path: Path) -> None:
    p = tmp_path / "history.db"
    with HistoryStore(p) as store:
        for i in range(40):
            record_all(store, entries(f"s{i}", holds=both(120)))
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(p.read_bytes())
    page = 4096
    for i in range(page, len(data), 7):  # scribble over every page but the header
        data[i] = 0xA5
    p.write_bytes(bytes(data))
    with pytest.raises(CoachError) as e:
        with HistoryStore(p) as store:
            store.sessions()
    assert e.value.code == "history.corrupt"


def test_a_locked_database_says_so(tmp_path: Path) -> None:
    p = tmp_path / "history.db"
    store = HistoryStore(p, timeout=0.1)
    other = sqlite3.connect(p, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(CoachError) as e:
            record_all(store, entries("s1", holds=both(120)))
        assert e.value.code == "history.locked" and str(p) in e.value.message
    finally:
        other.execute("ROLLBACK")
        other.close()
    record_all(store, entries("s1", holds=both(120)))  # works once the lock is gone
    assert store.sessions()[0].status == "completed"
    store.close()


def test_entries_may_come_from_other_threads(tmp_path: Path) -> None:
    import threading
    with HistoryStore(tmp_path / "h.db") as store:
        threads = [threading.Thread(target=record_all, args=(store, entries(f"s{i}",
                   T0 + timedelta(days=i), holds=both(120)))) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(s.id for s in store.sessions()) == ["s0", "s1", "s2", "s3"]
        assert all(len(s.holds) == 2 and s.status == "completed" for s in store.sessions())


CHILD = r"""
import json, sys, itertools
from coach.history import HistoryStore
store = HistoryStore(sys.argv[1])
for line in sys.stdin:
    store.record(json.loads(line))
print("mid", flush=True)
entry = json.loads(line)
for n in itertools.count(entry["seq"] + 1):   # keep writing until killed
    store.record({**entry, "seq": n, "t": entry["t"] + n, "kind": "state", "phase": "hold"})
"""


def test_killed_mid_session_leaves_an_unfinished_readable_session(tmp_path: Path) -> None:
    p = tmp_path / "history.db"
    es = entries("crash", holds=[H("right", 135, 135, "completed"), H("left", 135, None, None)],
                 feedback=None, outcome=None, pace=None)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(p)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdin and child.stdout
    child.stdin.write("".join(json.dumps(e) + "\n" for e in es))
    child.stdin.close()
    assert child.stdout.readline().strip() == "mid"
    time.sleep(0.3)  # it is committing entries as fast as it can
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=10) == -signal.SIGKILL

    with HistoryStore(p) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (s,) = store.unfinished_sessions()
        last_seq = store.conn.execute("SELECT last_seq FROM sessions").fetchone()[0]
    assert s.id == "crash" and s.status == "unfinished" and s.planned_hold == 135
    assert [(h.side, h.how) for h in s.holds] == [("right", "completed"), ("left", None)]
    assert last_seq > es[-1]["seq"]  # entries written after "mid" survived too
