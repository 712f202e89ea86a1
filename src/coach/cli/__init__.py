"""The ``coach`` command. Voice subcommands import their audio stacks lazily, so content checks
and simulations work on any machine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coach import __version__
from coach.cli.config import (add_content_after_command, add_routine_options, apply_settings,
                              defer_commands)
from coach.cli.history import add_history_parser
from coach.listen.asr.factory import BACKENDS
from coach.cli.stdout import stdout_that_may_close
from coach.cli.voice import add_voice_commands
from coach.errors import CoachError
from coach.paths import keep_temporary_files_private


def _cmd_routines(args: argparse.Namespace) -> int:
    from coach.content import check_all
    for c in check_all(args.content):
        r = c.routine
        runs = len(r.intro) + len(r.per_side) * len(r.sides) + len(r.outro)
        print(f"{r.id:16} {r.title}  ({len(r.sides)} sides: {', '.join(r.sides)}; "
              f"{len(r.steps)} steps, {runs} run in a session)")
    return 0


def _cmd_check_content(args: argparse.Namespace) -> int:
    from coach.content import check_all
    contents = check_all(args.path or getattr(args, "content", None))
    _check_hearable(contents[0], args.backend, args.model)
    for c in contents:
        n_lines = len(c.lines)
        print(f"ok  {c.routine.source}  ({len(c.routine.steps)} steps, {n_lines} lines, "
              f"{len(c.intents)} intents)")
    return 0


def _check_hearable(content, backend: str | None, model: str | None) -> None:
    """Every intent phrase can be heard by ``backend`` (default: the one a session would use);
    else a ``CoachError`` naming the file, line and word."""
    from coach.content.toml_file import ContentFile
    from coach.listen.asr.hearable import unhearable
    from coach.listen.asr.vosk_models import find_vosk_model

    vosk_model = find_vosk_model(model) if backend in (None, "vosk") else None
    if backend is None:
        backend = "vosk" if vosk_model is not None else "whisper"
    problems = unhearable(content.phrases(set(content.intents)), backend, vosk_model)
    if not problems:
        return
    path = content.intents_path
    text = ContentFile(path).text
    lines = []
    for p in problems:
        at = text.find(f'"{p.phrase}"')
        line = text.count("\n", 0, at) + 1 if at >= 0 else None
        lines.append(f"{path}:{line or '?'}: intent '{p.intent}', phrase '{p.phrase}': "
                     f"'{p.word}': {p.why}")
    raise CoachError("content.unhearable", "\n".join(lines),
                     f"change those phrases to words {backend} can hear, then run "
                     "`coach check-content` again")


def _cmd_simulate(args: argparse.Namespace) -> int:
    from coach.content import load_content
    from coach.session.driver import SessionDriver
    from coach.session.engine import Engine
    from coach.session.eventlog import EventLog, JsonlFile
    from coach.run.simulate import simulate
    from coach.run.user_script import default_replies, load_user_script
    from coach.settings import choices_for

    content = load_content(args.routine, args.content)
    replies = load_user_script(args.user_script, content) if args.user_script else \
        default_replies(content)
    log = EventLog()
    if args.events:
        log.sinks.append(JsonlFile(args.events))
    driver = SessionDriver(Engine(content, choices_for(args.settings, content).plan()), log)
    simulate(driver, replies)
    for e in log.entries:
        if e["kind"] in ("said", "heard"):
            who = "coach" if e["kind"] == "said" else "user "
            what = e["text"] if e["kind"] == "said" else f"{e['text']}  -> {e['intent']}"
            print(f"{e['t']:8.1f}s  {who}  {what}")
    end = driver.end
    print(f"session ended: {end.outcome.value if end else 'not ended'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="coach", description="Offline, hands-free voice coach for psoas release with a "
        "massage ball. With no subcommand: run a session with the default microphone and speaker.")
    p.add_argument("--version", action="version", version=f"coach {__version__}")
    p.add_argument("--content", type=Path, default=None, help="content folder (default: content/)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("routines", help="list the routines in the content folder")
    s.set_defaults(func=_cmd_routines)

    s = sub.add_parser("check-content", help="validate content files (routines, lines, intents)")
    s.add_argument("path", nargs="?", type=Path, default=None, help="content folder to check")
    s.add_argument("--backend", choices=BACKENDS, default=None,
                   help="check that this recognizer can hear every phrase (default: the one a "
                        "session would use)")
    s.add_argument("--model", default=None, help="vosk model folder (or COACH_VOSK_MODEL)")
    s.set_defaults(func=_cmd_check_content)

    s = sub.add_parser("simulate", help="run a session in virtual time with a scripted user "
                       "(no audio) and print what was said and heard")
    s.add_argument("--routine", default="psoas-ball")
    s.add_argument("--user-script", type=Path, help="TOML: what the user says and when")
    s.add_argument("--events", type=Path, help="also write the event log (JSON Lines) here")
    add_routine_options(s)
    s.set_defaults(func=_cmd_simulate)

    add_voice_commands(sub, p)
    add_history_parser(sub)
    defer_commands(p, sub)
    add_content_after_command(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    keep_temporary_files_private()
    with stdout_that_may_close():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        default = parser.get_default("func_default")
        if default is None:
            parser.print_help()
            return 0
        args.func = default
    try:
        apply_settings(args)
        return int(args.func(args) or 0)
    except CoachError as err:
        print(f"coach: error [{err.code}]: {err}", file=sys.stderr)
        return err.exit_status
    except KeyboardInterrupt:
        print("coach: interrupted", file=sys.stderr)
        return 130

