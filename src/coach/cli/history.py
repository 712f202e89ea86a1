"""``coach history``: the sessions as a table, JSON or CSV on stdout, or a PNG plot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from coach.history.plot import plot
from coach.history.report import table, to_csv, to_json
from coach.history.store import HistoryStore, default_db_path


def add_history_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``history`` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser(
        "history", help="show past sessions: holds, pain, feedback, outcome",
        description="Past sessions from the history database: a table by default, or an export.")
    p.add_argument("--db", type=Path, default=None,
                   help=f"history database (default: {default_db_path()})")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print every session as JSON")
    out.add_argument("--csv", action="store_true", help="print one CSV row per hold")
    p.add_argument("--plot", type=Path, metavar="FILE.png",
                   help="draw hold seconds per side, pain and feedback over time to a PNG")
    p.set_defaults(func=run_history)
    return p


def run_history(args: argparse.Namespace) -> int:
    """Show the history read-only: nothing is written, and a mistyped --db is an error."""
    path = args.db if args.db is not None else default_db_path()
    if args.db is None and not path.exists():
        sessions = []  # nobody has had a session here yet
    else:
        with HistoryStore(path, read_only=True) as store:
            sessions = store.sessions()
    if args.plot:
        plot(sessions, args.plot)
        print(f"wrote {args.plot} ({len(sessions)} sessions, "
              f"{sum(1 for s in sessions if s.holds)} with holds)", file=sys.stderr)
    if args.json:
        print(to_json(sessions))
    elif args.csv:
        sys.stdout.write(to_csv(sessions))
    elif not args.plot:
        if not sessions:
            print(f"no sessions recorded yet in {path}")
        else:
            print(table(sessions))
            unfinished = sum(1 for s in sessions if s.status == "unfinished")
            if unfinished:
                print(f"\n{unfinished} unfinished: the program stopped before the session ended")
    return 0
