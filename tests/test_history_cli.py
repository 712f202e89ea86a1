"""`coach history`: the table, JSON and CSV exports (parsed back) and the PNG plot."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from coach.cli import main
from coach.errors import CoachError
from coach.history import HistoryStore, plan_next
from test_history_fixtures import SECRET, T0, H, both, entries, record_all
from test_live_e2e import short_content  # noqa: F401 (fixture)


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    """Five sessions as the adaptive plan would run them: a climb, pain, a stop and a crash."""
    p = tmp_path / "h.db"
    store = HistoryStore(p)
    script = [(0, {}, "better"), (2, {"pain": 1}, "worse"), (4, {}, "same"),
              (6, {"how": "stopped", "actual": 50.0}, None)]
    for i, (d, kw, fb) in enumerate(script):
        hold = plan_next(store, now=T0 + timedelta(days=d)).hold_seconds
        record_all(store, entries(f"s{i}", T0 + timedelta(days=d), holds=both(hold, **kw),
                                  feedback=fb, outcome="completed" if fb else "stopped",
                                  pace=(6.0, 8.0) if i == 2 else None))
    record_all(store, entries("s4", T0 + timedelta(days=7), holds=[H("right", 135, None, None)],
                              feedback=None, outcome=None))
    store.close()
    return p


def test_table(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["date", "(UTC)"] and "feedback" in lines[0]
    assert "2025-03-03 08:00" in lines[2] and "right 120/120 s completed" in lines[2]
    assert "too_painful" not in lines[3] and lines[3].split()[-3:] == ["1", "worse", "completed"]
    assert "right 50/135 s stopped" in lines[5] and lines[5].endswith("stopped")
    assert "right -/135 s unfinished" in lines[6] and lines[6].endswith("unfinished")
    assert "1 unfinished" in out and SECRET not in out


def test_empty_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history"]) == 0  # the default database, in the test's data dir
    assert "no sessions recorded yet" in capsys.readouterr().out
    assert main(["history", "--plot", str(tmp_path / "p.png")]) == 2
    assert "history.empty" in capsys.readouterr().err


def test_json_export_parses_back(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--db", str(db), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in data] == ["s0", "s1", "s2", "s3", "s4"]
    assert [s["status"] for s in data] == ["completed"] * 3 + ["stopped", "unfinished"]
    assert [s["planned_hold"] for s in data] == [120, 135, 120, 135, 135]
    assert data[1]["pain_count"] == 1 and data[1]["feedback"] == "worse"
    assert data[1]["holds"][0] == {"side": "right", "planned": 135, "actual": 135,
                                   "how": "completed", "pain": 1}
    assert (data[2]["pace_in"], data[2]["pace_out"]) == (6.0, 8.0)
    assert data[0]["started"].startswith("2025-03-03T08:00:01")


def test_csv_export_parses_back(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--db", str(db), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 2 + 2 + 2 + 2 + 1  # one per hold
    assert [(r["session"], r["side"], r["how"]) for r in rows[:2]] == [
        ("s0", "right", "completed"), ("s0", "left", "completed")]
    assert float(rows[6]["actual"]) == 50.0 and rows[6]["how"] == "stopped"
    assert rows[-1]["status"] == "unfinished" and rows[-1]["actual"] == ""
    assert rows[2]["hold_pain"] == "1" and rows[2]["feedback"] == "worse"


def test_json_and_csv_together_are_refused(db: Path) -> None:
    with pytest.raises(SystemExit):
        main(["history", "--db", str(db), "--json", "--csv"])


def test_plot_writes_a_png(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plots" / "history.png"
    assert main(["history", "--db", str(db), "--plot", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 800 and height > 500 and len(data) > 30_000
    assert "wrote" in capsys.readouterr().err


def test_plot_of_a_single_session(tmp_path: Path) -> None:
    from coach.history.plot import plot
    store = HistoryStore(tmp_path / "h.db")
    record_all(store, entries("only", holds=both(120, pain=1)))
    plot(store.sessions(), tmp_path / "one.png")
    assert (tmp_path / "one.png").stat().st_size > 20_000


def test_a_corrupt_database_exits_2_with_the_fix(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "bad.db"
    p.write_bytes(b"\x00garbage" * 512)
    assert main(["history", "--db", str(p)]) == 2
    err = capsys.readouterr().err
    assert "history.corrupt" in err and str(p) in err and "move it aside" in err


# --- reading only ----------------------------------------------------------------------------
def _coach_without_write_rights(*args: str, env: dict[str, str] | None = None):
    """``coach ARGS`` in a process that cannot write where permissions say no: as root, with
    the capabilities that override file permissions dropped (setpriv, util-linux)."""
    cmd = [sys.executable, "-m", "coach", *args]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv (util-linux) is needed to drop root's file-permission override")
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_history_in_a_read_only_data_folder_can_be_viewed(db: Path, tmp_path: Path) -> None:
    """``coach history`` (no --db) and --db, on a data folder nobody may write: shown, and
    nothing is written there (it was history.unwritable, "free disk space")."""
    data = tmp_path / "readonly-data"
    folder = data / "coach"
    folder.mkdir(parents=True)
    shutil.copy(db, folder / "history.db")
    (folder / "history.db").chmod(0o444)
    folder.chmod(0o555)
    try:
        mine = _coach_without_write_rights("history", "--json", env={"XDG_DATA_HOME": str(data)})
        named = _coach_without_write_rights("history", "--db", str(folder / "history.db"))
    finally:
        folder.chmod(0o755)
    assert mine.returncode == 0, mine.stderr
    assert [s["id"] for s in json.loads(mine.stdout)] == ["s0", "s1", "s2", "s3", "s4"]
    assert named.returncode == 0 and "right 50/135 s stopped" in named.stdout, named.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["history.db"]


def test_viewing_an_older_history_leaves_its_file_as_it_was(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from coach.history.migrations import MIGRATIONS, applied, migrate
    (tmp_path / "old").mkdir()
    p = tmp_path / "old" / "old.db"
    conn = sqlite3.connect(p, isolation_level=None)
    migrate(conn, MIGRATIONS, upto=1)
    conn.execute("INSERT INTO sessions (id, started, outcome) "
                 "VALUES ('old', '2025-01-02T08:00:00+00:00', 'completed')")
    conn.close()
    before = p.read_bytes()
    assert main(["history", "--db", str(p), "--json"]) == 0
    assert [s["id"] for s in json.loads(capsys.readouterr().out)] == ["old"]
    assert p.read_bytes() == before and [x.name for x in p.parent.iterdir()] == ["old.db"]
    with sqlite3.connect(p) as again:
        assert applied(again) == ["001_initial"]


def test_a_mistyped_db_is_an_error_and_creates_nothing(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "histroy.db"
    assert main(["history", "--db", str(p)]) == 2
    err = capsys.readouterr().err
    assert "[history.missing]" in err and str(p) in err and "fix:" in err
    assert not p.exists()


def test_a_db_that_is_a_folder_is_named_as_one(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "history.db"
    p.mkdir()
    assert main(["history", "--db", str(p)]) == 2
    err = capsys.readouterr().err
    assert f"{p} is a folder" in err and "disk space" not in err
    with pytest.raises(CoachError) as e:  # a session's own store says the same
        HistoryStore(p)
    assert e.value.code == "history.not_a_file"


def test_a_demo_is_kept_in_the_history_only_with_history(short_content: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """What the README says a demo records: its event log always; the history only with
    --history."""
    data = Path(os.environ["XDG_DATA_HOME"]) / "coach"
    demo = ["--content", str(short_content), "demo", "--routine", "short", "--speed", "0",
            "--quiet"]
    assert main(demo) == 0
    assert len(list((data / "sessions").glob("*.jsonl"))) == 1
    assert not (data / "history.db").exists()
    assert main([*demo, "--history"]) == 0
    assert len(list((data / "sessions").glob("*.jsonl"))) == 2
    capsys.readouterr()
    assert main(["history", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
