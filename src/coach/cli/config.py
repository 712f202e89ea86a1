"""The settings on the command line: the routine options (``--side``, ``--pace``,
``--short-intro``), reading the settings file into the parsed arguments, and ``coach config``."""

from __future__ import annotations

import argparse
from pathlib import Path

from coach.settings import (SIDES, FileSettings, defer_to_settings, load_settings, parse_pace,
                            resolve, shown)

SETTINGS_COMMANDS = ("session", "demo", "simulate", "config")
"""Subcommands whose options take their defaults from the settings file (and bare ``coach``)."""


def add_routine_options(s: argparse.ArgumentParser) -> None:
    """The options that shape the routine itself (settings ``sides``, ``pace``, ``short_intro``)."""
    s.add_argument("--side", choices=SIDES, default=None,
                   help="work both sides (default) or one side only")
    s.add_argument("--pace", type=parse_pace, default=None, metavar="IN/OUT",
                   help="seconds to breathe in and out, e.g. 4/6, or one number for both "
                        "(default: the pace you last chose, else the routine's)")
    s.add_argument("--short-intro", action=argparse.BooleanOptionalAction, default=None,
                   help="the short introduction once you have done a session (the safety "
                        "questions are never shortened)")


def add_content_after_command(subparsers: argparse._SubParsersAction) -> None:
    """``--content`` after the subcommand too; given before it, it is kept (SUPPRESS)."""
    for s in subparsers.choices.values():
        s.add_argument("--content", type=Path, default=argparse.SUPPRESS,
                       help="content folder (default: content/)")


def defer_commands(parser: argparse.ArgumentParser,
                   subparsers: argparse._SubParsersAction) -> None:
    """Bare ``coach`` takes every option default of ``coach session``; then the settings file
    gives the defaults of ``parser`` and of each of ``SETTINGS_COMMANDS``."""
    session = subparsers.choices["session"]
    parser.set_defaults(**{k: v for k, v in vars(session.parse_args([])).items() if k != "func"})
    defer_to_settings(parser)
    for name in SETTINGS_COMMANDS:
        defer_to_settings(subparsers.choices[name])


def apply_settings(args: argparse.Namespace, path: Path | None = None) -> None:
    """For a command that uses them, read the settings file and fill in ``args``: each value,
    ``args.settings`` (key → Setting) and ``args.settings_file``."""
    if args.command is not None and args.command not in SETTINGS_COMMANDS:
        return
    args.settings_file = load_settings(path)
    args.settings = resolve(args, args.settings_file)


def cmd_config(args: argparse.Namespace) -> int:
    """Each setting's value for a session with these options, and where it came from; then a
    check of the routine-dependent ones against the routine."""
    from coach.content import load_content
    from coach.settings import choices_for
    file: FileSettings = args.settings_file
    print(f"settings file: {file.path}" + ("" if file.found else " (none yet: every value is a "
                                                                  "default or a flag)"))
    rows = [(s.key, shown(s), s.where + ("" if s.used else " (no option of this version uses it)"))
            for s in args.settings.values()]
    width = max(len(r[1]) for r in rows)
    for key, value, where in rows:
        print(f"  {key:12} {value:{width}}  {where}")
    choices_for(args.settings, load_content(args.routine, getattr(args, "content", None)))
    return 0
