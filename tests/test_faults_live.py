"""Faults on real devices: the real ``coach session`` on the private PulseAudio server loses its
microphone, gets a signal, or is given a device that does not exist. Whatever fails, it ends
safely, says so, records what happened, and exits with a clear status."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from fakes import Stalling
from test_live_e2e import CoachProcess, kinds, short_content  # noqa: F401 (fixture)

pytestmark = [pytest.mark.audio]


def _pactl(*args: str) -> None:
    subprocess.run(["pactl", *args], check=True, capture_output=True, timeout=10)


def test_microphone_lost_mid_session_ends_safely_and_exits_non_zero(pulse_server, short_content, tmp_path):
    coach = CoachProcess(short_content, tmp_path)
    coach.wait_for(lambda e: e["kind"] == "said" and e["line"] == "screening_intro", timeout=60)
    _pactl("suspend-source", "coach_mic", "1")  # the microphone stops delivering audio
    try:
        code = coach.finish(timeout=60)
    finally:
        _pactl("suspend-source", "coach_mic", "0")
    entries = coach.entries
    out = coach.output()
    assert code == 1, out
    faults = kinds(entries, "fault")
    assert faults and faults[0]["what"] in ("mic_lost", "recognizer_stalled"), faults
    lines = [e["line"] for e in kinds(entries, "said")]
    assert lines[-2:] == ["cannot_hear", "fault_end"]  # says so, and says to roll off
    assert kinds(entries, "session_end")[0]["outcome"] == "fault"


@pytest.mark.parametrize("sig,status", [(signal.SIGTERM, 143), (signal.SIGINT, 130),
                                        (signal.SIGHUP, 129)])
def test_signal_stops_the_audio_and_records_the_session_as_stopped(pulse_server, short_content, tmp_path, sig, status):
    from audio_fixtures import monitor_microphone
    with monitor_microphone() as rec:
        coach = CoachProcess(short_content, tmp_path)
        coach.wait_for(lambda e: e["kind"] == "said" and e["line"] == "screening_intro", timeout=60)
        time.sleep(0.8)
        sent = time.time()
        coach.proc.send_signal(sig)
        code = coach.finish(timeout=20)
        blocks = []
        while True:
            b = rec.read(timeout=0.3)
            if b is None or b.t_start > sent + 1.5:
                break
            blocks.append(b)
    assert code == status, coach.output()
    end = kinds(coach.entries, "session_end")[0]
    assert end["outcome"] == "stopped" and end["reason"] == sig.name
    import numpy as np
    loud_after = [b.t_start - sent for b in blocks if b.t_start > sent
                  and np.sqrt(np.mean((b.samples / 32768.0) ** 2)) > 10 ** (-45 / 20)]
    assert not [x for x in loud_after if x > 0.3], f"still sounding after the signal: {loud_after}"


def test_kill_9_leaves_a_readable_log_and_the_next_start_reports_it(pulse_server, short_content, tmp_path):
    coach = CoachProcess(short_content, tmp_path)
    coach.wait_for(lambda e: e["kind"] == "said" and e["line"] == "screen_hernia", timeout=60)
    coach.proc.kill()
    coach.finish(timeout=20)
    entries = [json.loads(x) for x in coach.events_path.read_text().splitlines()]
    assert entries[0]["kind"] == "session_start" and not kinds(entries, "session_end")
    again = subprocess.run(
        [sys.executable, "-m", "coach", "history"], capture_output=True, text=True, timeout=60)
    assert "unfinished" in again.stdout, again.stdout
    nxt = CoachProcess(short_content, tmp_path / "next")
    start = nxt.wait_for(lambda e: e["kind"] == "session_start", timeout=60)
    assert start["previous_unfinished"] == entries[0]["session"]
    nxt.proc.send_signal(signal.SIGTERM)
    nxt.finish(timeout=20)


def test_a_microphone_that_does_not_exist_is_a_clear_error(pulse_server, tmp_path):
    r = subprocess.run([sys.executable, "-m", "coach", "session", "--mic", "no-such-mic"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "no-such-mic" in r.stderr and "coach devices" in r.stderr + r.stdout or \
        "fix:" in r.stderr, r.stderr


def test_speaker_that_stops_playing_does_not_hang_the_session(pulse_server, short_content, tmp_path):
    coach = CoachProcess(short_content, tmp_path)
    coach.wait_for(lambda e: e["kind"] == "said" and e["line"] == "screening_intro", timeout=60)
    _pactl("suspend-sink", "coach_speaker", "1")  # the output stops consuming audio
    try:
        code = coach.finish(timeout=90)
    finally:
        _pactl("suspend-sink", "coach_speaker", "0")
    entries = coach.entries
    assert code == 1, coach.output()
    assert [f["what"] for f in kinds(entries, "fault")][0] == "speaker_lost"
    assert kinds(entries, "session_end")[0]["outcome"] == "fault"


def test_synthesis_failure_falls_back_to_the_espeak_program(monkeypatch):
    import pyttsx3

    from coach.voice.synth import Synthesizer

    def broken(*a, **k):
        raise RuntimeError("driver failed")
    monkeypatch.setattr(pyttsx3, "init", broken)
    r = Synthesizer(voice="gmw/en-us", rate_wpm=150, engine="pyttsx3").render(
        "Roll gently off the ball onto your side.")
    assert r.duration > 1.0 and abs(int(r.samples.astype("int32").max())) > 1000


@pytest.mark.parametrize("die", [False, True], ids=["stalls", "dies"])
def test_recognizer_that_stalls_or_dies_ends_the_session_safely(pulse_server, short_content, die):
    from coach.devices import streams as audio
    from coach.app import load_recognizer
    from coach.content import load_content
    from coach.session.driver import SessionDriver
    from coach.listen.ear import Ear
    from coach.session.engine import Engine
    from coach.session.eventlog import EventLog
    from coach.run.live import LiveDevices, LiveSession
    from coach.voice.synth import Synthesizer

    content = load_content("short", short_content)
    rec = Stalling(load_recognizer("pocketsphinx"), after=40, die=die)
    synth = Synthesizer(voice="gmw/en-us", engine="pyttsx3")

    def render(text):
        r = synth.render(text)
        return r.samples, r.rate
    driver = SessionDriver(Engine(content), EventLog())
    with audio.open_speaker() as spk, audio.open_microphone() as mic:
        session = LiveSession(driver, Ear(rec, content), LiveDevices(spk, mic, render))
        t0 = time.monotonic()
        end = session.run(max_seconds=60)
        took = time.monotonic() - t0
    rec.release.set()
    faults = [e for e in driver.log.entries if e["kind"] == "fault"]
    assert faults and faults[0]["what"] == "recognizer_stalled", faults
    detected = faults[0]["t"]
    assert detected < 2 + 3 + 2, f"stall detected only after {detected:.1f} s"  # 40 blocks = 2 s
    assert end is not None and end.outcome.value == "fault" and took < 40
