"""End to end on real devices: the real ``coach session`` process plays through a real sounddevice
stream into the private PulseAudio's ``coach_speaker`` and hears ``coach_mic``; the test is the
user, speaking synthesized commands into ``user_voice`` and recording the speaker's monitor.

A short routine (one screening question, one side, a 30 s hold) keeps each test well under a
minute; everything else is the shipped content and code, the default listening stack (Whisper)
included; the stop over narration is also run with ``--backend pocketsphinx``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from audio_fixtures import best_lag, monitor_microphone, play_into_mic, pulse_script, write_wav
from coach.paths import PROJECT_ROOT

pytestmark = [pytest.mark.audio, pytest.mark.slow]

SHORT_ROUTINE = """
[routine]
id = "short"
title = "Short routine for end-to-end tests"
sides = ["right"]
intro = ["screening", "setup"]
per_side = ["position", "hold", "roll_off"]
outro = ["wrapup"]

[timing]
reprompt_after = 6.0
max_reprompts = 2
pause_timeout = 30.0
breath_in = 5.0
breath_out = 5.0
breath_min = 3.0
breath_max = 8.0
breath_step = 1.0

[steps.screening]
kind = "screening"
intro = "screening_intro"
questions = ["screen_hernia"]
reconfirm = "screening_reconfirm"
passed = "screening_passed"
screened_out = ["screened_out"]

[steps.setup]
kind = "say"
lines = ["setup_ball", "setup_pain_rule"]
prompt = "setup_prompt"

[steps.position]
kind = "say"
on_ball = true
lines = ["position_lie"]
prompt = "position_prompt"

[steps.hold]
kind = "hold"
on_ball = true
seconds = 30
max_seconds = 40
start = "hold_start"
count_last = 3
done = "hold_done"
released = "hold_released"
max_reached = "hold_max"

[steps.roll_off]
kind = "say"
lines = ["roll_off"]

[steps.wrapup]
kind = "feedback"
prompt = "feedback_prompt"
answers = { better = "feedback_better", same = "feedback_same", worse = "feedback_worse" }
after = ["goodbye"]
"""


@pytest.fixture
def short_content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    (root / "routines").mkdir(parents=True)
    for name in ("lines.toml", "intents.toml"):
        shutil.copy(PROJECT_ROOT / "content" / name, root / name)
    (root / "routines" / "short.toml").write_text(SHORT_ROUTINE)
    return root


@pytest.fixture(scope="module")
def user_voice():
    """The test user's voice: the neural voice made higher and quicker, unlike the coach's."""
    from coach.voice.user_voice import SimulatedUserVoice
    voice = SimulatedUserVoice()

    def say(words: str) -> tuple[np.ndarray, int]:  # a new rendition each time, as a person
        return voice.int16(words, fresh=True), 16000
    return say


class CoachProcess:
    """``coach session`` in a subprocess, with its event log followed as it is written."""

    def __init__(self, content: Path, tmp: Path, backend: str = "whisper") -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.events_path = tmp / "events.jsonl"
        env = dict(os.environ, PULSE_SINK="coach_speaker", PULSE_SOURCE="coach_mic",
                   PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "coach", "--content", str(content), "session", "--routine",
             "short", "--no-mic-check", "--backend", backend, "--events", str(self.events_path),
             "--record", str(tmp / "mic.wav")],  # kept with the test's files, to diagnose
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.entries: list[dict] = []
        self._read = 0

    def poll(self) -> list[dict]:
        if self.events_path.exists():
            lines = self.events_path.read_text().splitlines()
            for line in lines[len(self.entries):]:
                if line.endswith("}"):
                    self.entries.append(json.loads(line))
        return self.entries

    def wait_for(self, pred, timeout: float = 60.0, after: int = 0) -> dict:
        """The first entry from index ``after`` on that matches ``pred``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.poll()[after:]:
                if pred(e):
                    return e
            if self.proc.poll() is not None:
                self.poll()
                for e in self.entries:
                    if pred(e):
                        return e
                raise AssertionError(f"coach exited ({self.proc.returncode}) before the event: "
                                     f"{self.output()}")
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting; last events: {self.entries[-5:]}")

    def said_done(self, line: str, timeout: float = 60.0, after: int = 0) -> None:
        said = self.wait_for(lambda e: e["kind"] == "said" and e["line"] == line, timeout, after)
        self.wait_for(lambda e: e["kind"] == "line_done" and e["utterance"] == said["utterance"],
                      timeout)

    def wait_quiet(self, timeout: float = 15.0) -> None:
        """Until every line the coach started has finished playing (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            started = {e["utterance"] for e in self.poll() if e["kind"] == "said"}
            done = {e["utterance"] for e in self.entries if e["kind"] == "line_done"}
            if started <= done:
                return
            time.sleep(0.05)

    def finish(self, timeout: float = 60.0) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.poll()

    def output(self) -> str:
        if self.proc.poll() is None:
            return "(running)"
        return self.proc.stdout.read() if self.proc.stdout else ""


def kinds(entries: list[dict], kind: str) -> list[dict]:
    return [e for e in entries if e["kind"] == kind]


ATTEMPTS = 3


def say_until_heard(coach: CoachProcess, user_voice, words: str, intent: str,
                    over_the_coach: bool = False) -> tuple[int, float]:
    """Like a person, say it again when the coach did not react (at most ``ATTEMPTS`` times).
    Returns (attempts, wall time the last attempt ended). The count is printed: the embedded
    recognizer's recall on people is the open problem of issue #3, and this keeps it visible."""
    first = len(coach.poll())
    for attempt in range(1, ATTEMPTS + 1):
        samples, rate = user_voice(words)  # said anew: one rendition is not repeated
        if attempt > 1 and not over_the_coach:  # a person says it again once the coach is quiet
            coach.wait_quiet()
        mark = len(coach.poll())
        play_into_mic(samples, rate)
        ended = time.time()
        try:
            coach.wait_for(lambda e: e["kind"] == "heard" and e["intent"] == intent, 3.0, mark)
            print(f"\n{words!r} heard after {attempt} attempt(s)")
            return attempt, ended
        except AssertionError:
            continue
    seen = [e for e in coach.poll()[first:] if e["kind"] in ("heard", "heard_dropped")]
    raise AssertionError(f"{words!r} not heard in {ATTEMPTS} attempts; heard or dropped: {seen}")


def answer(coach: CoachProcess, user_voice, prompt: str, words: str, intent: str) -> None:
    coach.said_done(prompt)
    time.sleep(0.3)
    say_until_heard(coach, user_voice, words, intent)


@pytest.mark.parametrize("backend", ["whisper", "pocketsphinx"])
def test_stop_over_narration_silences_the_speaker_within_500_ms(pulse_server, short_content, tmp_path,
                                                               user_voice, backend):
    """The default listening stack, and pocketsphinx (``--backend pocketsphinx``)."""
    with monitor_microphone() as rec:
        coach = CoachProcess(short_content, tmp_path, backend)
        blocks: list = []
        answer(coach, user_voice, "screen_hernia", "no", "no")
        said = coach.wait_for(lambda e: e["kind"] == "said" and e["line"] == "setup_pain_rule")
        time.sleep(1.5)  # well inside the line: the coach is talking
        _, stop_end = say_until_heard(coach, user_voice, "stop", "stop", over_the_coach=True)
        code = coach.finish()
        t_end = time.time() + 0.5
        while True:
            b = rec.read(timeout=0.5)
            if b is None or b.t_start > t_end:
                break
            blocks.append(b)
    entries = coach.entries
    assert code == 0, coach.output()
    assert kinds(entries, "session_end")[0]["outcome"] == "stopped"
    heard = [e["intent"] for e in kinds(entries, "heard")]
    assert "stop" in heard and "ready" not in heard
    assert said["line"] == "setup_pain_rule"
    # The speaker's own audio: find where the narration stops after the user's "stop".
    audio = np.concatenate([b.samples for b in blocks]).astype(np.float32) / 32768
    write_wav(tmp_path / "speaker.wav", audio, 16000)  # kept for a failure's post-mortem
    t0 = blocks[0].t_start
    win = 320  # 20 ms
    rms = np.sqrt(np.mean(audio[: len(audio) // win * win].reshape(-1, win) ** 2, axis=1))
    loud = rms > 10 ** (-45 / 20)
    i_stop = int((stop_end - t0) / 0.02)
    assert loud[max(0, i_stop - 50):i_stop].any(), "the coach was not talking when stop was said"
    # The cut: the first run of >= 100 ms of silence after the stop ended, or the start of the
    # safe "stopping" line if that follows the narration with less of a gap (it once came
    # within 100 ms, and the first silence found was a pause inside the stopping line).
    quiet_run, cut_at = 0, None
    for i in range(max(0, i_stop - 25), len(loud)):
        quiet_run = 0 if loud[i] else quiet_run + 1
        if quiet_run >= 5:
            cut_at = (i - 4) * 0.02 + t0
            break
    from coach.voice.synth import Synthesizer
    stopping = Synthesizer().render(  # the coach's voice, from the cache it rendered it into
        "Stopping. Roll gently off the ball onto your side.")
    import soxr
    tmpl = soxr.resample(stopping.samples.astype(np.float32) / 32768, stopping.rate, 16000)
    lead = int(np.argmax(np.abs(tmpl) > 10 ** (-45 / 20)))  # the template's leading silence
    s0 = max(0, (i_stop - 25) * win)
    lag, corr = best_lag(audio[s0:], tmpl[: 16000])
    assert corr > 0.6, f"after the stop the speaker did not play the stopping line (corr {corr:.2f})"
    onset = t0 + (s0 + lag + lead) / 16000
    cut_at = onset if cut_at is None else min(cut_at, onset)
    latency = cut_at - stop_end
    print(f"\nstop end -> speaker silent: {latency * 1000:.0f} ms")
    assert latency <= 0.5


def test_too_painful_in_the_hold_leads_to_ease_off(pulse_server, short_content, tmp_path, user_voice):
    coach = CoachProcess(short_content, tmp_path)
    answer(coach, user_voice, "screen_hernia", "no", "no")
    answer(coach, user_voice, "setup_prompt", "ready", "ready")
    answer(coach, user_voice, "position_prompt", "ready", "ready")
    coach.said_done("hold_start")
    say_until_heard(coach, user_voice, "too painful", "too_painful")
    coach.said_done("ease_off_prompt", timeout=30)
    say_until_heard(coach, user_voice, "stop", "stop")
    code = coach.finish()
    entries = coach.entries
    assert code == 0, coach.output()
    lines = [e["line"] for e in kinds(entries, "said")]
    i = lines.index("ease_off_weight")
    assert lines[i:i + 3] == ["ease_off_weight", "ease_off_shift", "ease_off_prompt"]
    assert kinds(entries, "too_painful")[0]["step"] == "hold"
    assert kinds(entries, "session_end")[0]["outcome"] == "stopped"


def test_its_own_voice_through_the_room_never_advances_it(pulse_server, short_content, tmp_path, user_voice):
    """Echo on: the coach's speaker reaches the microphone (-20 dB, 30 ms; the issue's bar). Its own
    prompts say "ready" and "stop" (twice each here); it must neither advance nor stop on them, and
    it hears the user's "stop" after that.

    The first part is the point of the test and is strict. (It once failed by obeying the echo of
    "... or stop" 0.16 s after the line ended; the Ear now keeps the self-speech filter on for the
    echo tail, ``coach.listen.ear.ECHO_TAIL``.) The user's "stop" right after the
    coach's echo is a recall figure (these figures are pocketsphinx's, the backend of these tests
    until 2026-12-07): heard within 3 attempts in 24 of 28 runs while the echo
    residue still moved pocketsphinx's cepstral mean (heard as "pause" or not at all), in 20 of
    20 since it no longer does (``note_far_end``; 18 at the first attempt). What is left: some of
    Piper's renditions of "stop" decode as "to got" even on their own (4 in 40); one such
    rendition, said at every attempt of every test of this module, failed the barge-in test once
    in CI, so each attempt is now a new rendition. When it is not heard, the test says so with a
    warning and ends the coach with SIGTERM instead of failing."""
    pulse_script("echo", "on", "30", "-20")
    try:
        coach = CoachProcess(short_content, tmp_path)
        answer(coach, user_voice, "screen_hernia", "no", "no")
        coach.said_done("setup_prompt")
        # the user says nothing: the coach re-prompts ("...say ready") over its own echo
        again = coach.wait_for(lambda e: e["kind"] == "said" and e["line"] == "not_heard", 30)
        coach.said_done("setup_prompt", timeout=30, after=again["seq"])
        own = [e["intent"] for e in kinds(coach.poll(), "heard")]
        assert own == ["no"], f"the coach obeyed its own voice: {own}"
        time.sleep(0.3)
        try:
            say_until_heard(coach, user_voice, "stop", "stop")
            user_heard = True
        except AssertionError as miss:
            user_heard = False
            warnings.warn(f"echo e2e: the user's stop was not recognized ({miss})")
            coach.proc.terminate()
        code = coach.finish()
    finally:
        pulse_script("echo", "off")
    entries = coach.entries
    heard = [e["intent"] for e in kinds(entries, "heard")]
    assert "ready" not in heard, f"the coach obeyed its own voice: {heard}"
    assert not kinds(entries, "side_start")
    if user_heard:  # (a repeat misheard on the way, e.g. as "help", is recall, not echo)
        assert code == 0, coach.output()
        assert heard[0] == "no" and heard[-1] == "stop" and heard.count("stop") == 1, heard
        assert kinds(entries, "session_end")[0]["outcome"] == "stopped"
    else:  # the user's words were missed or misheard (e.g. "stop" as "pause"): recall, not echo
        assert code == 143 and heard[0] == "no" and "stop" not in heard, coach.output()
