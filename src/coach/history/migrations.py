"""The history database's schema as ordered, named migrations.

Each migration is ``(name, sql)``; they are applied in list order, each in its own transaction,
and recorded by name in the ``migrations`` table, so an old database is upgraded step by step and
a blank one is built by the same path. Never edit or reorder a migration that has shipped: add a
new one at the end.

No audio and no transcript of what the user said is ever stored: only the session's facts
(holds, pain, pace, feedback, screening answers, outcome).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("001_initial", """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            started TEXT NOT NULL,         -- ISO-8601 UTC wall time of the session's first entry
            routine TEXT,
            planned_hold REAL,             -- seconds per side, as planned at session_start
            max_hold REAL,                 -- seconds, the routine's ceiling
            screening_mode TEXT,           -- 'full' | 'reconfirm'
            screening_passed TEXT,         -- mode of the screening passed, NULL if none
            outcome TEXT,                  -- NULL until session_end: the session is unfinished
            reason TEXT,
            ended TEXT,                    -- ISO-8601 UTC wall time of session_end
            last_seq INTEGER,              -- highest entry seq recorded (duplicates are skipped)
            last_t REAL,                   -- seconds on the session clock of the last entry
            last_wall TEXT
        );
        CREATE TABLE holds (
            id INTEGER PRIMARY KEY,
            session TEXT NOT NULL REFERENCES sessions(id),
            side TEXT NOT NULL,
            planned REAL,                  -- seconds
            max REAL,                      -- seconds
            started_t REAL,                -- seconds on the session clock
            started_wall TEXT,
            actual REAL,                   -- seconds held; NULL while the hold is open
            how TEXT,                      -- completed|released|max|stopped|too_painful|...
            pain INTEGER NOT NULL DEFAULT 0  -- "too painful" said during this hold
        );
        CREATE TABLE events (
            session TEXT NOT NULL,
            seq INTEGER,
            t REAL,
            wall TEXT,
            kind TEXT NOT NULL,
            data TEXT NOT NULL             -- JSON object: the entry's own fields
        );
        CREATE INDEX events_by_session ON events(session, kind);
        CREATE TABLE screening_answers (
            session TEXT NOT NULL,
            seq INTEGER,
            wall TEXT,
            question TEXT NOT NULL,        -- the question's line key
            answer TEXT NOT NULL           -- 'yes' | 'no'
        )
    """),
    ("002_add_pace_and_feedback", """
        ALTER TABLE sessions ADD COLUMN pace_in REAL;      -- seconds per breath in, last chosen
        ALTER TABLE sessions ADD COLUMN pace_out REAL;     -- seconds per breath out
        ALTER TABLE sessions ADD COLUMN feedback TEXT;     -- 'better' | 'same' | 'worse'
        ALTER TABLE sessions ADD COLUMN health_changed INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sessions ADD COLUMN pain_count INTEGER NOT NULL DEFAULT 0;
        UPDATE sessions SET
            feedback = (SELECT json_extract(e.data, '$.answer') FROM events e
                        WHERE e.session = sessions.id AND e.kind = 'feedback'
                        ORDER BY e.rowid DESC LIMIT 1),
            pace_in = (SELECT json_extract(e.data, '$.breath_in') FROM events e
                       WHERE e.session = sessions.id AND e.kind = 'pace'
                       ORDER BY e.rowid DESC LIMIT 1),
            pace_out = (SELECT json_extract(e.data, '$.breath_out') FROM events e
                        WHERE e.session = sessions.id AND e.kind = 'pace'
                        ORDER BY e.rowid DESC LIMIT 1),
            health_changed = (SELECT COUNT(*) > 0 FROM events e
                              WHERE e.session = sessions.id AND e.kind = 'health_changed'),
            pain_count = (SELECT COUNT(*) FROM events e
                          WHERE e.session = sessions.id AND e.kind = 'too_painful')
    """),
)
"""Every migration, oldest first."""

_LEDGER = """CREATE TABLE IF NOT EXISTS migrations (
    name TEXT PRIMARY KEY,
    applied TEXT NOT NULL          -- ISO-8601 UTC wall time
)"""


def statements(sql: str) -> list[str]:
    """A migration's statements: ``--`` comments dropped, then split on ';' (migrations hold
    no '--' or ';' inside strings)."""
    code = "\n".join(ln.split("--", 1)[0].rstrip() for ln in sql.splitlines())
    return [part.strip() for part in code.split(";") if part.strip()]


def applied(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations already applied, in the order they were applied."""
    conn.execute(_LEDGER)
    return [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY rowid")]


def migrate(conn: sqlite3.Connection, migrations: tuple[tuple[str, str], ...] = MIGRATIONS,
            upto: int | None = None) -> list[str]:
    """Apply the migrations not yet applied (the first ``upto`` only, if given); return their names.

    ``conn`` must be in autocommit mode (``isolation_level=None``): each migration runs in its own
    ``BEGIN IMMEDIATE … COMMIT`` so a crash leaves the database at a whole migration.
    Unknown names in the ledger mean a newer coach wrote the file: ``ValueError`` (the store turns
    it into a ``CoachError``).
    """
    done = applied(conn)
    known = [name for name, _ in migrations]
    unknown = [n for n in done if n not in known]
    if unknown:
        raise ValueError(f"unknown migrations {unknown}")
    new = []
    for name, sql in migrations[:upto]:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in statements(sql):
                conn.execute(stmt)
            conn.execute("INSERT INTO migrations (name, applied) VALUES (?, ?)",
                         (name, datetime.now(timezone.utc).isoformat(timespec="seconds")))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        new.append(name)
    return new
