"""The settings file: validated like content, overridden by flags, shown by `coach config`; and
``--content`` after the subcommand. In process, no audio."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from coach.cli import build_parser, main
from coach.errors import CoachError
from coach.paths import PROJECT_ROOT, config_file
from coach.settings import Origin, defer_to_settings, load_settings, resolve


def write_settings(text: str) -> Path:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_settings_file_is_under_xdg_config_home(tmp_path):
    assert config_file() == Path(os.environ["XDG_CONFIG_HOME"]) / "coach" / "config.toml"
    assert not load_settings().found  # no file: no settings, no error


SETTINGS_MISTAKES = [
    # (text, words the error must hold)
    ('rate = "fast"', ["'rate' is 'fast'", "words per minute"]),
    ("rate = 1000", ["'rate' is 1000", "80 to 300"]),
    ("volume = 1.5", ["'volume' is 1.5", "0 to 1"]),
    ('tts = "festival"', ["'tts' is 'festival'", "'piper' or 'pyttsx3'"]),
    ('sides = "middle"', ["'sides'", "'both' or 'left' or 'right'"]),
    ("pace = [4, 5, 6]", ["'pace' is a list", "one number, or two"]),
    ("pace = 40", ["'pace' is 40", "each from 1 to 20"]),
    ('short_intro = "yes"', ["'short_intro' is 'yes'", "true or false"]),
    ("pacer = 1", ["'pacer' is 1", "true or false"]),
    ("microphone = -1", ["'microphone' is -1", "coach devices"]),
    ('voice = ""', ["'voice' is an empty string", "non-empty"]),
    ("short-intro = true", ["'short-intro' is not a known key", "short_intro"]),
    ("[session]\nrate = 100", ["'session' is not a known key"]),
]


@pytest.mark.parametrize("text,words", SETTINGS_MISTAKES, ids=[w[0] for _, w in SETTINGS_MISTAKES])
def test_a_mistake_names_file_line_key_and_what_is_expected(text, words):
    path = write_settings("# my settings\nspeaker = \"USB\"\n\n" + text + "\n")
    with pytest.raises(CoachError) as err:
        load_settings()
    msg = str(err.value)
    assert err.value.code == "settings.invalid" and err.value.exit_status == 2
    assert f"{path}:4:" in msg, msg
    for w in words:
        assert w in msg, f"{w!r} not in: {msg}"
    assert "expected" in msg and "coach config" in msg


def test_broken_toml_and_non_utf8_exit_2_with_the_file(capsys):
    path = write_settings("rate = = 3\n")
    assert main(["config"]) == 2
    assert str(path) in capsys.readouterr().err
    path.write_bytes(b"voice = \"\xff\"\n")
    assert main(["simulate"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:1:" in err and "UTF-8" in err and "Traceback" not in err


def test_every_key_is_read_in_its_one_form():
    write_settings('voice = "gmw/en-gb-x-rp"\ntts = "piper"\nrate = 130\nvolume = 1\npace = 5\n'
                   'pacer = true\nmicrophone = 3\nspeaker = "USB"\nsides = "left"\n'
                   'short_intro = true\n')
    f = load_settings()
    assert dict(f.values) == {"voice": "gmw/en-gb-x-rp", "tts": "piper", "rate": 130,
                              "volume": 1.0, "pace": (5.0, 5.0), "pacer": True,
                              "microphone": "3", "speaker": "USB", "sides": "left",
                              "short_intro": True}
    assert f.lines["rate"] == 3 and f.lines["short_intro"] == 10


def parse(*argv: str) -> argparse.Namespace:
    args = build_parser().parse_args(list(argv))
    from coach.cli.config import apply_settings
    apply_settings(args)
    return args


def test_a_flag_beats_the_file_which_beats_the_default():
    path = write_settings("rate = 120\nvolume = 0.5\nsides = \"left\"\npace = [4, 6]\n")
    args = parse("session", "--volume", "0.8", "--side", "right")
    assert (args.rate, args.volume, args.side, args.pace, args.voice) == (
        120, 0.8, "right", (4.0, 6.0), None)
    where = {k: (s.origin, s.where) for k, s in args.settings.items()}
    assert where["rate"] == (Origin.FILE, f"{path}:1")
    assert where["volume"] == (Origin.FLAG, "flag --volume")
    assert where["sides"] == (Origin.FLAG, "flag --side")
    assert where["voice"] == (Origin.DEFAULT, "default")
    # bare `coach` is `coach session`: the file feeds it too
    bare = parse()
    assert (bare.rate, bare.mic, bare.side) == (120, None, "left")


def test_a_flag_is_checked_like_the_file(capsys):
    assert main(["simulate", "--pace", "30/4"]) == 2
    err = capsys.readouterr().err
    assert "--pace" in err and "from 1 to 20" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exit_:
        main(["simulate", "--pace", "slow"])
    assert exit_.value.code == 2 and "'slow' is not IN/OUT" in capsys.readouterr().err


def test_an_option_another_module_adds_picks_its_setting_up_by_name():
    """An option added by another module (here its own parser): the file feeds whatever option
    has the key's destination, and a flag still wins."""
    write_settings('tts = "piper"\npacer = true\n')
    p = argparse.ArgumentParser()
    p.add_argument("--tts", choices=("piper", "pyttsx3"), default="pyttsx3")
    p.add_argument("--pacer", action=argparse.BooleanOptionalAction, default=False)
    defer_to_settings(p)
    args = p.parse_args([])
    settings = resolve(args, load_settings())
    assert (args.tts, args.pacer) == ("piper", True)
    assert settings["tts"].used and settings["tts"].origin is Origin.FILE
    args = p.parse_args(["--tts", "pyttsx3", "--no-pacer"])
    resolve(args, load_settings())
    assert (args.tts, args.pacer) == ("pyttsx3", False)


def test_coach_config_shows_each_value_and_where_it_came_from(capsys):
    path = write_settings("# mine\nrate = 120\nshort_intro = true\n")
    assert main(["config", "--side", "left"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert str(path) in out.splitlines()[0]
    assert "120" in rows["rate"] and f"{path}:2" in rows["rate"]
    assert "true" in rows["short_intro"] and f"{path}:3" in rows["short_intro"]
    assert "left" in rows["sides"] and "flag --side" in rows["sides"]
    assert "the engine's first voice" in rows["voice"] and rows["voice"].endswith("default")
    assert "piper" in rows["tts"] and "true" in rows["pacer"]
    assert set(rows) == {"voice", "tts", "rate", "volume", "pace", "pacer", "microphone",
                         "speaker", "sides", "short_intro"}


def test_coach_config_checks_the_choices_against_the_routine(capsys):
    path = write_settings("pace = [2, 6]\n")
    assert main(["config"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:1: 'pace' is 2/6" in err and "from 3 to 8" in err


def test_content_can_follow_the_subcommand(tmp_path, capsys):
    here = PROJECT_ROOT / "content"
    for argv in (["--content", str(here), "simulate"], ["simulate", "--content", str(here)]):
        assert build_parser().parse_args(argv).content == here
    assert build_parser().parse_args(["simulate"]).content is None
    assert build_parser().parse_args(["check-content", "--content", str(here)]).content == here
    events = tmp_path / "e.jsonl"
    assert main(["simulate", "--content", str(tmp_path / "nowhere"), "--events", str(events)]) == 2
    assert "content folder not found" in capsys.readouterr().err


def test_simulate_takes_the_side_from_the_settings_and_a_flag_overrides_it(tmp_path, capsys):
    write_settings('sides = "left"\n')
    events = tmp_path / "e.jsonl"
    assert main(["simulate", "--events", str(events)]) == 0
    starts = [json.loads(x) for x in events.read_text().splitlines()]
    assert [e["side"] for e in starts if e["kind"] == "side_start"] == ["left"]
    events.unlink()
    assert main(["simulate", "--side", "both", "--events", str(events)]) == 0
    entries = [json.loads(x) for x in events.read_text().splitlines()]
    assert [e["side"] for e in entries if e["kind"] == "side_start"] == ["right", "left"]
    capsys.readouterr()


def test_commands_without_settings_do_not_read_the_file(capsys):
    write_settings("rate = = broken\n")
    assert main(["routines"]) == 0
    assert "psoas-ball" in capsys.readouterr().out
