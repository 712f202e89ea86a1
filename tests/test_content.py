"""Content validation: every mistake names the file, the key (and line) and what is expected."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coach.content import ENGINE_LINES, INTENTS, load_content
from coach.errors import CoachError
from coach.paths import PROJECT_ROOT

ROUTINE = "routines/psoas-ball.toml"


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", dst)
    return dst


def edit(root: Path, rel: str, old: str, new: str) -> None:
    p = root / rel
    text = p.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {rel}"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_content_is_valid_and_complete():
    c = load_content()
    assert set(ENGINE_LINES) <= set(c.lines)
    assert set(INTENTS) == set(c.intents)
    hold = c.routine.steps["hold"]
    assert (hold.seconds, hold.max_seconds) == (120, 180)
    screening = c.routine.steps["screening"]
    for topic in ("pregnan", "osteoporosis", "hernia", "surgery", "aneurysm", "blood thinners"):
        assert any(topic in c.lines[q] for q in screening.questions), topic


CASES = [
    # (file, old, new, words the error must contain)
    (ROUTINE, 'kind = "breathe"', 'kind = "breathe"\ncolour = "blue"', ["colour", "not a known key"]),
    ("lines.toml", 'roll_off = "Roll gently', 'roll_offf = "Roll gently', ["roll_off", "lines.toml"]),
    ("lines.toml", 'stopping = "Stopping.', 'stoping = "Stopping.', ["stopping", "engine says it"]),
    (ROUTINE, "seconds = 120", "seconds = -5", ["steps.hold.seconds", "-5"]),
    (ROUTINE, "max_seconds = 180", "max_seconds = 600", ["max_seconds", "180"]),
    (ROUTINE, "seconds = 120", 'seconds = "two minutes"', ["seconds", "a number"]),
    (ROUTINE, "seconds = 120", "seconds = 1e12", ["seconds", "a number from"]),
    (ROUTINE, '"breathe", "hold"', '"breathe", "hodl"', ["hodl", "not defined"]),
    (ROUTINE, 'lines = ["roll_off"', 'lines = ["roll_of"', ["roll_of", "lines.toml does not have"]),
    (ROUTINE, 'kind = "rest"', 'kind = "nap"', ["steps.rest.kind", "'nap'"]),
    (ROUTINE, 'intro = ["welcome", "screening", "setup"]', 'intro = ["welcome", "setup"]',
     ["screening"]),
    ("lines.toml", 'side_intro = "Now the {side} side."', 'side_intro = "Now the {sid} side."',
     ["side_intro", "{sid}"]),
    ("lines.toml", 'help = "You can say: {options}."', 'help = "You can say: {options."',
     ["help", "placeholder"]),
    ("intents.toml", 'phrases = ["stop", "stop now"', 'phrases = ["Stop!", "stop now"',
     ["intents.stop.phrases", "lower-case"]),
    ("intents.toml", "[intents.skip]", "[intents.skipp]", ["skipp", "not an intent"]),
    ("intents.toml", '"next"]', '"ready"]', ["repeats 'ready'"]),
    (ROUTINE, "reprompt_after = 20.0", "reprompt_after = 0", ["timing.reprompt_after"]),
    (ROUTINE, "[steps.rest]", "[steps.rest", ["psoas-ball.toml", "TOML"]),
]


@pytest.mark.parametrize("rel,old,new,words", CASES, ids=[c[3][0] for c in CASES])
def test_content_mistakes_name_file_key_and_expectation(content_copy, rel, old, new, words):
    edit(content_copy, rel, old, new)
    with pytest.raises(CoachError) as err:
        load_content(root=content_copy)
    msg = str(err.value)
    assert err.value.code == "content.invalid"
    assert Path(rel).name in msg, msg
    for w in words:
        assert w in msg, f"{w!r} not in: {msg}"
    assert "expected" in msg or "fix" in msg


@pytest.mark.parametrize("before", ["", "\n\n"], ids=["", "after a blank line"])
def test_error_names_the_line_number(content_copy, before):
    edit(content_copy, ROUTINE, "count_last = 10", before + "count_last = 500")
    with pytest.raises(CoachError) as err:
        load_content(root=content_copy)
    text = (content_copy / ROUTINE).read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if t.startswith("count_last"))
    assert f"psoas-ball.toml:{line}:" in str(err.value)


def test_non_utf8_is_reported_with_its_line(content_copy):
    p = content_copy / "lines.toml"
    p.write_bytes(p.read_bytes().replace(b"Welcome.", b"Welc\xff\xfeome.", 1))
    with pytest.raises(CoachError) as err:
        load_content(root=content_copy)
    assert "UTF-8" in str(err.value) and "lines.toml:" in str(err.value)


def test_missing_file_and_unknown_routine(content_copy):
    (content_copy / "intents.toml").unlink()
    with pytest.raises(CoachError, match="intents.toml: file not found"):
        load_content(root=content_copy)
    with pytest.raises(CoachError, match="choose one of: psoas-ball"):
        load_content("yoga", root=PROJECT_ROOT / "content")


def _coach(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coach", *args], capture_output=True, text=True,
                          timeout=60)


def test_cli_check_content_exit_status(content_copy):
    ok = _coach("check-content")
    assert ok.returncode == 0 and ok.stdout.startswith("ok")
    edit(content_copy, ROUTINE, "seconds = 30", "seconds = 0")
    bad = _coach("check-content", str(content_copy))
    assert bad.returncode == 2
    assert "steps.rest.seconds" in bad.stderr and "psoas-ball.toml" in bad.stderr


@pytest.mark.parametrize("backend", [None, "pocketsphinx"])
def test_check_content_names_a_phrase_the_recognizer_cannot_hear(content_copy, backend):
    """A typo in a phrase ("redy") can never be heard: check-content names file, line, word."""
    edit(content_copy, "intents.toml", '"i\'m ready"', '"i\'m redy"')
    bad = _coach("check-content", str(content_copy), *(["--backend", backend] if backend else []))
    assert bad.returncode == 2, bad.stderr
    line = next(i for i, t in enumerate((content_copy / "intents.toml").read_text().splitlines(), 1)
                if "redy" in t)
    assert f"intents.toml:{line}:" in bad.stderr and "'redy'" in bad.stderr, bad.stderr


def test_cli_help_and_routines():
    h = _coach("--help")
    assert h.returncode == 0
    for sub in ("routines", "check-content", "simulate"):
        assert sub in h.stdout
    r = _coach("routines")
    assert r.returncode == 0 and "psoas-ball" in r.stdout


def test_cli_simulate_writes_the_event_log(tmp_path):
    out = tmp_path / "events.jsonl"
    r = _coach("simulate", "--events", str(out))
    assert r.returncode == 0, r.stderr
    assert "session ended: completed" in r.stdout
    import json
    entries = [json.loads(x) for x in out.read_text().splitlines()]
    assert entries[0]["kind"] == "session_start" and entries[-1]["kind"] in ("state", "session_end")
    assert any(e["kind"] == "hold_end" for e in entries)
