"""The status line, rendered from the event log with time from the events (no terminal, no
clock), and the microphone check's level meter only on a terminal."""

from __future__ import annotations

import io
import re

import numpy as np

from coach.run.mic_check import LevelMeter, mic_check
from coach.run.simulate import Simulation
from coach.run.status import SessionStatus, StatusLine, clock
from coach.run.user_script import Reply, default_replies
from coach.session.driver import SessionDriver
from coach.session.engine import Engine
from coach.session.eventlog import EventLog
from coach.session.plan import SessionPlan
from fakes import EarHearingAfter, QuietSpeaker, ScriptedMicrophone
from sessions import content


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def followed(replies: list[Reply] = (), plan: SessionPlan = SessionPlan(), out=None):
    """A simulated session with a status line on ``out`` and the status at every tick."""
    c = content()
    status = SessionStatus.for_content(c)
    line = StatusLine(status, out if out is not None else io.StringIO(), width=lambda: 400)
    log = EventLog()
    log.sinks.append(line)
    sim = Simulation(SessionDriver(Engine(c, plan), log), list(replies) + default_replies(c))
    ticks: list[tuple[float, str]] = []

    def on_tick(t: float) -> None:
        line.at(t)
        ticks.append((t, status.render(t)))
    sim.performer.on_tick = on_tick
    sim.run()
    line.close()
    return sim.driver.log.entries, ticks, line


def first(ticks, pattern: str, after: float = 0.0) -> tuple[float, str]:
    return next((t, s) for t, s in ticks if t >= after and re.search(pattern, s))


def test_the_hold_counts_down_from_the_events_and_freezes_while_paused():
    pause = Reply("hold_start", "pause", delay=15, times=1)
    resume = Reply("paused", "resume", delay=30, times=1)
    log, ticks, line = followed([pause, resume])
    start = next(e["t"] for e in log if e["kind"] == "hold_start")
    paused = next(e["t"] for e in log if e["kind"] == "pause")
    t, s = first(ticks, r"hold \(right\)", after=start + 10)
    assert f"{clock(120 - (t - start))} left" in s
    assert "breathe in 5 s, out 5 s" in s
    can_say = set(s.split("say: ")[1].split(", "))
    assert {"released", "how long", "too painful", "pause", "stop"} <= can_say, s
    _, s = first(ticks, r"paused", after=paused + 20)
    assert f"{clock(120 - (paused - start))} left (paused)" in s
    assert "say: ready, resume, how long" in s
    holds = [e for e in log if e["kind"] == "hold_end"]
    assert holds[0]["how"] == "completed" and holds[0]["actual"] > 120
    assert line.status.render() == "session ended: completed"


def test_paced_breathing_shows_in_and_out():
    _, ticks, _ = followed()
    shown = [s for _, s in ticks if "paced breathing" in s]
    nows = [m.group(1) for s in shown if (m := re.search(r"now (in|out)", s))]
    changes = [a for a, b in zip(nows, nows[1:] + [None]) if a != b]
    assert changes[:4] == ["in", "out", "in", "out"], changes


def test_plain_lines_off_a_terminal_one_per_change_never_the_countdown():
    out = io.StringIO()
    log, ticks, _ = followed(out=out)
    text = out.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and "\x1b" not in text
    assert len(ticks) > 2000 and 20 < len(lines) < 150, len(lines)
    assert sum("hold (right)" in x for x in lines) <= 3  # not once a second
    assert any("hold (left) | 2:00 left" in x for x in lines)
    assert lines[-1].endswith("status  session ended: completed")


def test_on_a_terminal_one_line_redrawn_in_place_only_when_it_changes():
    out = Terminal()
    _, ticks, line = followed(out=out)
    text = out.getvalue()
    redraws = text.count("\r")
    assert redraws < len(ticks) / 2, (redraws, len(ticks))
    assert "\r" + "hold (right) | 1:59 left" in text and "\r" + "hold (right) | 0:01 left" in text
    assert text.endswith("\n") and text.count("\n") == 1


def test_the_transcript_goes_above_the_status_line():
    out = Terminal()
    line = StatusLine(SessionStatus({"stop": "stop"}), out, width=lambda: 80)
    line({"t": 0.0, "kind": "listen", "intents": ["stop"]})
    line.at(0.0)
    line.print_above("   0.5s  coach  Welcome.")
    assert out.getvalue().endswith("\r\x1b[K   0.5s  coach  Welcome.\n\rstarting | say: stop\x1b[K")


def test_a_broken_stream_never_stops_the_session():
    class Broken(io.StringIO):
        def write(self, s):
            raise BrokenPipeError(32, "Broken pipe")
    log, _, line = followed(out=Broken())
    assert line.broken and log[-1]["kind"] in ("session_end", "state")


# --- the microphone check's meter ----------------------------------------------------------------
def check_output(out) -> str:
    mic_check(content(), EarHearingAfter(1000), QuietSpeaker(), ScriptedMicrophone(2000),
              lambda text: (np.zeros(160, np.int16), 16000), out=out)
    return out.getvalue()


def test_the_level_meter_off_a_terminal_is_one_line_not_one_per_block():
    text = check_output(io.StringIO())
    assert "\r" not in text
    assert len(text.splitlines()) == 1 and "microphone: loudest" in text


def test_the_level_meter_on_a_terminal_is_redrawn_in_place():
    text = check_output(Terminal())
    assert text.count("\r") == 1000 and text.count("\n") == 1


def test_the_meter_reports_the_loudest_block_of_a_try():
    out = io.StringIO()
    meter = LevelMeter(out)
    for amplitude in (100, 3000, 300):
        meter.show(np.full(800, amplitude, np.int16))
    meter.done()
    assert out.getvalue() == "  microphone: loudest -20.8 dBFS\n"
