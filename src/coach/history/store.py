"""The history store: every session's facts in SQLite, written as they happen.

``HistoryStore.record`` is an event-log sink: each entry is written and committed at once (WAL
mode), so a crash or ``kill -9`` mid-session leaves the session recorded up to that entry, with
no ``session_end`` — its status reads ``unfinished``. What the user said (``heard``) and what the
coach said (``said``) are not stored, and no audio ever is.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping
from urllib.parse import quote

from coach.errors import CoachError
from coach.history.migrations import MIGRATIONS, migrate
from coach.paths import data_dir

STORED_KINDS = frozenset({
    "session_start", "session_info", "screening_answer", "screening_passed", "side_start",
    "hold_start", "hold_end", "too_painful", "pause", "resume", "stop", "pace", "feedback",
    "health_changed", "fault", "session_end",
})
"""Entry kinds kept in the ``events`` table; others (said, heard, state, timers …) only advance
the session's ``last_seq``/``last_t``."""

_ENVELOPE = ("seq", "t", "wall", "session", "kind")
UNFINISHED = "unfinished"


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/coach/history.db``."""
    return data_dir() / "history.db"


def parse_wall(text: str | None) -> datetime | None:
    """An entry's ISO-8601 wall time as an aware UTC datetime (naive ones are taken as UTC)."""
    if not text:
        return None
    d = datetime.fromisoformat(text)
    return d.replace(tzinfo=timezone.utc) if d.tzinfo is None else d.astimezone(timezone.utc)


@dataclass(frozen=True)
class HoldRecord:
    side: str
    planned: float | None
    """Seconds."""
    actual: float | None
    """Seconds held; None if the hold never ended (crash)."""
    how: str | None
    """completed|released|max|stopped|too_painful|no_response|error; None if it never ended."""
    pain: int
    """Times "too painful" was said during this hold."""


@dataclass(frozen=True)
class ScreeningAnswer:
    question: str
    """The question's line key (``screen_hernia`` …)."""
    answer: str
    """'yes' or 'no'."""


@dataclass(frozen=True)
class SessionRecord:
    id: str
    started: datetime
    """UTC."""
    routine: str | None
    planned_hold: float | None
    """Seconds per side, as planned."""
    status: str
    """The outcome (completed|stopped|screened_out|no_response|error) or 'unfinished'."""
    reason: str | None
    holds: tuple[HoldRecord, ...]
    pain_count: int
    feedback: str | None
    pace_in: float | None
    """Seconds per breath in, if the user changed the pace in this session."""
    pace_out: float | None
    health_changed: bool
    screening_mode: str | None
    screening_passed: str | None
    answers: tuple[ScreeningAnswer, ...]
    last_t: float | None
    """Seconds on the session clock of the last entry recorded."""


@dataclass(frozen=True)
class StoredEvent:
    session: str
    seq: int | None
    wall: datetime | None
    kind: str
    data: Mapping[str, Any]


class HistoryStore:
    """SQLite history at ``path`` (default ``default_db_path()``), schema brought up to date.

    ``timeout`` is how long (seconds) to wait for another process's lock before
    ``CoachError('history.locked')``.
    """

    def __init__(self, path: Path | None = None, *, timeout: float = 5.0,
                 read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.read_only = read_only
        """Opened only to read: a copy in memory is brought up to date; the file is not written."""
        if self.path.is_dir():
            raise CoachError("history.not_a_file", f"{self.path} is a folder, not a history "
                             "database", "move the folder aside, or choose a history file "
                             "with --db")
        if read_only and not self.path.is_file():
            raise CoachError("history.missing", f"{self.path}: no history database there",
                             "check the path given to --db (without --db, `coach history` "
                             "reads your own history)")
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise CoachError("history.unwritable", f"{self.path.parent}: cannot create the "
                                 f"history folder ({err.strerror})",
                                 "fix the folder's permissions or set XDG_DATA_HOME") from err
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        try:
            self._open(timeout)
        except BaseException:
            self.close()
            raise

    def _open(self, timeout: float) -> None:
        with self._guard():
            if self.read_only:
                conn = self._copy_in_memory(timeout)
            else:
                conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                       check_same_thread=False)  # calls are serialised by _lock
                self._conn = conn  # (closed by __init__ if what follows fails)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # safe against a killed process
            self._conn = conn
            try:
                migrate(conn, MIGRATIONS)
            except ValueError as err:
                raise CoachError("history.too_new", f"{self.path}: written by a newer coach "
                                 f"({err})", "update coach, or use --db to choose another "
                                 "history file") from err

    def _copy_in_memory(self, timeout: float) -> sqlite3.Connection:
        """The database copied into memory (brought up to date there, so an older schema is
        shown without changing the file). The file is opened read-write if it can be, never
        created: SQLite then folds in and removes its write-ahead files on close, as the coach
        does; else read-only; else, in a folder SQLite cannot write (its WAL index cannot be
        made), as immutable."""
        copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        uri = "file:" + quote(str(self.path.resolve()))
        for mode in ("?mode=rw", "?mode=ro", "?immutable=1"):
            try:
                source = sqlite3.connect(uri + mode, uri=True, timeout=timeout)
                try:
                    source.backup(copy)
                finally:
                    source.close()
                return copy
            except sqlite3.OperationalError as err:
                text = str(err).lower()
                if mode == "?immutable=1" or not ("unable to open" in text or "readonly" in text):
                    copy.close()
                    raise
        raise AssertionError("unreachable: the last mode raises")

    # --- errors ------------------------------------------------------------------------------
    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            with self._lock:
                yield
        except CoachError:
            raise
        except sqlite3.OperationalError as err:
            text = str(err).lower()
            if "locked" in text or "busy" in text:
                raise CoachError("history.locked", f"{self.path}: the history database is "
                                 "locked by another program", "close the other coach (or "
                                 "sqlite3) using it, then try again") from err
            if ("unable to open" in text or "readonly" in text or "disk i/o" in text
                    or "is full" in text):
                raise CoachError("history.unwritable", f"{self.path}: cannot write the history "
                                 f"database ({err})", "free disk space or fix the file's "
                                 "permissions") from err
            raise self._corrupt(err) from err
        except sqlite3.DatabaseError as err:
            raise self._corrupt(err) from err

    def _corrupt(self, err: Exception) -> CoachError:
        return CoachError("history.corrupt", f"{self.path}: not a readable history database "
                          f"({err})", f"move it aside (mv '{self.path}' '{self.path}.bad'); coach "
                          "starts a new history, nothing was deleted")

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise CoachError("history.closed", f"{self.path}: the history store is closed",
                             "open a new HistoryStore")
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> "HistoryStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------------
    def __call__(self, entry: dict[str, Any]) -> None:
        self.record(entry)

    def record(self, entry: Mapping[str, Any]) -> None:
        """Write one event-log entry and commit it. Entries whose ``seq`` is not above the
        session's last recorded ``seq`` are duplicates and skipped (so a log may be re-imported)."""
        session, kind = entry.get("session"), entry.get("kind")
        if not isinstance(session, str) or not session or not isinstance(kind, str):
            raise CoachError("history.bad_entry", f"history entry without a session id or kind: "
                             f"{dict(entry)!r:.200}", "pass event-log entries "
                             "({'seq', 't', 'wall', 'session', 'kind', …})")
        seq, t, wall = entry.get("seq"), entry.get("t"), entry.get("wall")
        wall = wall or datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        data = {k: v for k, v in entry.items() if k not in _ENVELOPE}
        c = self.conn
        with self._guard():
            c.execute("BEGIN IMMEDIATE")
            try:
                c.execute("INSERT OR IGNORE INTO sessions (id, started) VALUES (?, ?)",
                          (session, wall))
                (last,) = c.execute("SELECT last_seq FROM sessions WHERE id = ?",
                                    (session,)).fetchone()
                if seq is not None and last is not None and seq <= last:
                    c.execute("ROLLBACK")
                    return
                self._apply(session, kind, seq, wall, data)
                c.execute("UPDATE sessions SET last_seq = COALESCE(?, last_seq), last_t = "
                          "COALESCE(?, last_t), last_wall = ? WHERE id = ?",
                          (seq, t, wall, session))
                if kind in STORED_KINDS:
                    c.execute("INSERT INTO events (session, seq, t, wall, kind, data) "
                              "VALUES (?, ?, ?, ?, ?, ?)",
                              (session, seq, t, wall, kind, json.dumps(data, ensure_ascii=False)))
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

    def _apply(self, session: str, kind: str, seq: int | None, wall: str,
               d: dict[str, Any]) -> None:
        c = self.conn
        if kind == "session_start":
            c.execute("UPDATE sessions SET routine = ?, planned_hold = ?, max_hold = ?, "
                      "screening_mode = ? WHERE id = ?",
                      (d.get("routine"), d.get("hold_seconds"), d.get("max_hold_seconds"),
                       d.get("screening_mode"), session))
        elif kind == "hold_start":
            c.execute("INSERT INTO holds (session, side, planned, max, started_wall) "
                      "VALUES (?, ?, ?, ?, ?)",
                      (session, str(d.get("side") or ""), d.get("planned"), d.get("max"), wall))
        elif kind == "hold_end":
            row = self._open_hold(session, d.get("side"))
            if row is None:
                c.execute("INSERT INTO holds (session, side, planned, actual, how) "
                          "VALUES (?, ?, ?, ?, ?)", (session, str(d.get("side") or ""),
                                                     d.get("planned"), d.get("actual"),
                                                     d.get("how")))
            else:
                c.execute("UPDATE holds SET actual = ?, how = ? WHERE id = ?",
                          (d.get("actual"), d.get("how"), row))
        elif kind == "too_painful":
            c.execute("UPDATE sessions SET pain_count = pain_count + 1 WHERE id = ?", (session,))
            row = self._open_hold(session, d.get("side"))
            if row is not None:
                c.execute("UPDATE holds SET pain = pain + 1 WHERE id = ?", (row,))
        elif kind == "pace":
            c.execute("UPDATE sessions SET pace_in = ?, pace_out = ? WHERE id = ?",
                      (d.get("breath_in"), d.get("breath_out"), session))
        elif kind == "feedback":
            c.execute("UPDATE sessions SET feedback = ? WHERE id = ?", (d.get("answer"), session))
        elif kind == "health_changed":
            c.execute("UPDATE sessions SET health_changed = 1 WHERE id = ?", (session,))
        elif kind == "screening_answer":
            c.execute("INSERT INTO screening_answers (session, seq, wall, question, answer) "
                      "VALUES (?, ?, ?, ?, ?)",
                      (session, seq, wall, str(d.get("question")), str(d.get("answer"))))
        elif kind == "screening_passed":
            c.execute("UPDATE sessions SET screening_passed = ? WHERE id = ?",
                      (d.get("mode"), session))
        elif kind == "session_end":
            c.execute("UPDATE sessions SET outcome = ?, reason = ?, ended = ? WHERE id = ?",
                      (d.get("outcome") or "error", d.get("reason"), wall, session))

    def _open_hold(self, session: str, side: Any) -> int | None:
        row = self.conn.execute("SELECT id FROM holds WHERE session = ? AND side = ? AND how IS "
                                "NULL ORDER BY id DESC LIMIT 1",
                                (session, str(side or ""))).fetchone()
        return None if row is None else int(row[0])

    def record_file(self, path: Path) -> int:
        """Record every entry of a JSON Lines event log; returns how many lines were read.
        Already-recorded entries are skipped, so importing a log twice changes nothing."""
        n = 0
        try:
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError as err:
                        if line.endswith("\n"):
                            raise CoachError("history.bad_log", f"{path}:{lineno}: not JSON "
                                             f"({err.msg})", "fix or remove that line") from err
                        break  # a last line cut short by a crash
                    self.record(entry)
                    n += 1
        except OSError as err:
            raise CoachError("history.bad_log", f"{path}: cannot read ({err.strerror})",
                             "check the path") from err
        return n

    # --- reading -----------------------------------------------------------------------------
    def sessions(self) -> list[SessionRecord]:
        """Every session, oldest first."""
        with self._guard():
            rows = self.conn.execute(
                "SELECT id, started, routine, planned_hold, outcome, reason, pain_count, feedback, "
                "pace_in, pace_out, health_changed, screening_mode, screening_passed, last_t "
                "FROM sessions ORDER BY started, rowid").fetchall()
            holds: dict[str, list[HoldRecord]] = {}
            for s, side, planned, actual, how, pain in self.conn.execute(
                    "SELECT session, side, planned, actual, how, pain FROM holds ORDER BY id"):
                holds.setdefault(s, []).append(HoldRecord(side, planned, actual, how, pain))
            answers: dict[str, list[ScreeningAnswer]] = {}
            for s, q, a in self.conn.execute(
                    "SELECT session, question, answer FROM screening_answers ORDER BY rowid"):
                answers.setdefault(s, []).append(ScreeningAnswer(q, a))
        out = []
        for (sid, started, routine, planned, outcome, reason, pain, feedback, p_in, p_out,
             health, mode, passed, last_t) in rows:
            out.append(SessionRecord(
                id=sid, started=parse_wall(started) or datetime.fromtimestamp(0, timezone.utc),
                routine=routine, planned_hold=planned, status=outcome or UNFINISHED,
                reason=reason, holds=tuple(holds.get(sid, ())), pain_count=pain,
                feedback=feedback, pace_in=p_in, pace_out=p_out, health_changed=bool(health),
                screening_mode=mode, screening_passed=passed,
                answers=tuple(answers.get(sid, ())), last_t=last_t))
        return out

    def session(self, session_id: str) -> SessionRecord:
        for s in self.sessions():
            if s.id == session_id:
                return s
        raise CoachError("history.no_session", f"{self.path}: no session '{session_id}'",
                         "see `coach history` for the session ids")

    def unfinished_sessions(self) -> list[SessionRecord]:
        """Sessions with no ``session_end`` (the program crashed or was killed)."""
        return [s for s in self.sessions() if s.status == UNFINISHED]

    def events(self, kinds: frozenset[str] | set[str] | None = None) -> list[StoredEvent]:
        """Stored events of all sessions in the order they happened (sessions by start)."""
        with self._guard():
            rows = self.conn.execute(
                "SELECT e.session, e.seq, e.wall, e.kind, e.data FROM events e JOIN sessions s "
                "ON s.id = e.session ORDER BY s.started, s.rowid, e.rowid").fetchall()
        return [StoredEvent(s, seq, parse_wall(w), k, json.loads(d))
                for s, seq, w, k, d in rows if kinds is None or k in kinds]
