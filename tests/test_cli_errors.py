"""What a user gets wrong, or what goes away under the coach, is a clear error (what, which file
or device, the fix; exit status 2) or is handled; never a traceback, and nothing the user did is
lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coach.cli import main
from coach.pcm import write_wav
from test_live_e2e import short_content  # noqa: F401 (fixture)


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


# --- user scripts -------------------------------------------------------------------------------
SCRIPT_MISTAKES = [
    ("folder", None, "is a folder"),
    ("defaults", 'defaults = "yes"\n', "'defaults' is 'yes'"),
    ("during", '[[reply]]\nafter = "hold_start"\nsay = "stop"\nduring = "yes"\n', "'during' is"),
    ("times", '[[reply]]\nafter = "hold_start"\nsay = "stop"\ntimes = true\n', "'times' is True"),
    ("key", '[[reply]]\nafter = "hold_start"\nsay = "stop"\nwhen = 3\n', "keys must be"),
]


@pytest.mark.parametrize("name,text,expected", SCRIPT_MISTAKES, ids=[m[0] for m in SCRIPT_MISTAKES])
def test_a_user_script_mistake_is_a_clear_error(tmp_path, capsys, name, text, expected):
    path = tmp_path / "script.toml"
    if text is None:
        path.mkdir()
    else:
        path.write_text(text)
    assert main(["demo", "--user-script", str(path), "--speed", "0"]) == 2
    err = _error(capsys)
    assert "[script." in err and str(path) in err and expected in err, err
    assert "fix:" in err and "coach demo --help" not in err  # (that help has no example)


def test_the_user_script_help_points_at_an_example_that_exists(tmp_path, capsys):
    path = tmp_path / "script.toml"
    path.write_text('[[reply]]\nafter = "hold_start"\nsay = "stop"\nwhen = 3\n')
    assert main(["simulate", "--user-script", str(path)]) == 2
    err = _error(capsys)
    from coach.paths import PROJECT_ROOT
    named = [w.strip("`,.") for w in err.split() if "/" in w and not w.startswith(str(tmp_path))]
    assert named and all((PROJECT_ROOT / w).exists() for w in named), named


# --- arguments ---------------------------------------------------------------------------------
@pytest.mark.parametrize("speed", ["-1", "nan", "inf"])
def test_a_demo_speed_below_zero_is_refused(capsys, speed):
    assert main(["demo", f"--speed={speed}"]) == 2
    assert "[demo.bad_speed]" in _error(capsys)


def test_content_is_accepted_after_the_command_too(short_content, capsys):
    assert main(["routines", "--content", str(short_content)]) == 0
    assert capsys.readouterr().out.startswith("short ")
    assert main(["simulate", "--content", str(short_content), "--routine", "short"]) == 0
    assert main(["check-content", "--content", str(short_content)]) == 0
    assert "short.toml" in capsys.readouterr().out


def test_routines_and_check_content_count_steps_alike(capsys):
    assert main(["routines"]) == 0
    routines = capsys.readouterr().out
    assert main(["check-content"]) == 0
    checked = capsys.readouterr().out
    n = checked.split("(")[1].split()[0]
    assert f"; {n} steps," in routines, (routines, checked)


# --- coach hear --------------------------------------------------------------------------------
@pytest.mark.parametrize("data,why", [(b"", "empty"), (b"abc", "too short: 3 bytes")])
def test_hear_on_an_empty_or_short_file_is_a_clear_error(tmp_path, capsys, data, why):
    path = tmp_path / "x.wav"
    path.write_bytes(data)
    assert main(["hear", str(path)]) == 2
    err = _error(capsys)
    assert f"{path} is not a WAV file ({why})" in err and "fix:" in err


def test_hear_says_so_when_it_hears_nothing(tmp_path, capsys):
    path = write_wav(tmp_path / "silence.wav", np.zeros(16000, np.int16))
    assert main(["hear", str(path), "--intents", "stop,ready"]) == 0
    out = capsys.readouterr()
    assert out.out == ""  # stdout stays JSON lines only
    assert f"no intent heard in {path}" in out.err and "stop, ready" in out.err


# --- refused starts ----------------------------------------------------------------------------
def test_a_refused_start_leaves_no_empty_session_log(short_content, capsys):
    assert main(["--content", str(short_content), "demo", "--routine", "short", "--speed", "0",
                 "--voice", "no-such-voice"]) == 2
    assert "[tts.no_voice]" in _error(capsys)
    sessions = Path(os.environ["XDG_DATA_HOME"]) / "coach" / "sessions"
    assert list(sessions.glob("*.jsonl")) == []


def _no_sound_card_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE"):
        env.pop(name, None)
    return env


@pytest.mark.parametrize("option", ["--speaker", "--mic"])
def test_a_named_device_without_a_sound_card_is_an_error_not_a_demo(option):
    probe = subprocess.run([sys.executable, "-m", "coach", "devices"], env=_no_sound_card_env(),
                           capture_output=True, text=True, timeout=60)
    if "no audio devices" not in probe.stdout:
        pytest.skip("this machine has a sound card")
    r = subprocess.run([sys.executable, "-m", "coach", "session", option, "nosuch"],
                       env=_no_sound_card_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{option} nosuch" in r.stderr and "fix:" in r.stderr and "demo:" not in r.stdout


# --- standard output closed ----------------------------------------------------------------------
def test_a_closed_stdout_does_not_stop_the_session_or_lose_its_record(short_content, tmp_path):
    """``coach demo | head -3``: the reader goes away after three lines; the session runs to its
    end and is recorded, with no traceback."""
    events = tmp_path / "events.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "coach", "--content", str(short_content), "demo", "--routine",
         "short", "--speed", "0", "--events", str(events)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(3):
        proc.stdout.readline()
    proc.stdout.close()
    code = proc.wait(timeout=300)
    err = proc.stderr.read()
    assert code == 0 and "Traceback" not in err and "Exception ignored" not in err, err
    entries = [json.loads(x) for x in events.read_text().splitlines()]
    ends = [e for e in entries if e["kind"] == "session_end"]
    assert ends and ends[0]["outcome"] == "completed"
    logs = list((Path(os.environ["XDG_DATA_HOME"]) / "coach" / "sessions").glob("*.jsonl"))
    assert len(logs) == 1 and '"session_end"' in logs[0].read_text()
