"""``coach demo``: the whole session with no sound card, in an in-process audio world.

Time comes from the audio itself: the world advances in 50 ms blocks. Each block, the speaker's
``Player`` plays the next 50 ms of the coach's synthesized voice (and the breathing pacer under
it); a simulated user (the Piper
voice, unlike the coach's) speaks what the user script says; the "microphone" hears the user plus
an echo of the coach (attenuated, delayed) plus a little noise; the same listening stage as a live
session (echo suppressor, recognizer, self-speech filter) turns that into intents, and the one
session loop (``coach.run.loop``) feeds them to the engine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from coach.devices.player import Player
from coach.listen.ear import Ear, log_filtered
from coach.pcm import SAMPLE_RATE, float_to_int16
from coach.pcm import write_wav as write_pcm_wav
from coach.run.loop import Performer, run_session, signals_end_the_session
from coach.run.played import hear_played
from coach.run.user_script import Reply, ReplyBook
from coach.session.driver import SessionDriver
from coach.session.messages import (BreathPace, End, Event, Fault, FaultKind, Heard, LineDone, Say,
                                    Tick)

BLOCK = 800
"""Samples per world step: 50 ms at 16 kHz."""
DRAIN_LIMIT = 15.0
"""Seconds of audio the session's last lines may play after its end."""


@dataclass(frozen=True)
class World:
    echo_db: float = -20.0
    """Level of the coach's voice reaching the microphone, dB relative to what is played."""
    echo_delay_ms: float = 40.0
    noise_db: float = -60.0
    """White noise at the microphone, dBFS."""
    speed: float = 1.0
    """Times real time; 0 runs as fast as the machine can."""
    limit: float = 3 * 3600.0
    seed: int = 0


class UserVoice:
    """The simulated user's speech, placed on the world's timeline."""

    def __init__(self) -> None:
        self.parts: list[tuple[int, np.ndarray]] = []

    def speak(self, at_sample: int, samples: np.ndarray) -> None:
        self.parts.append((at_sample, samples))

    def block(self, start: int) -> np.ndarray:
        out = np.zeros(BLOCK, dtype=np.float32)
        keep = []
        for at, s in self.parts:
            a, b = max(start, at), min(start + BLOCK, at + len(s))
            if a < b:
                out[a - start:b - start] += s[a - at:b - at]
            if at + len(s) > start + BLOCK:
                keep.append((at, s))
        self.parts = keep
        return out


@dataclass
class DemoRun:
    driver: SessionDriver
    ear: Ear
    coach_audio: list[np.ndarray] = field(default_factory=list)
    mic_audio: list[np.ndarray] = field(default_factory=list)
    wall_seconds: float = 0.0


class _DemoWorld:
    """One run: the speaker, the user, the microphone mix and the listening stage, stepped block
    by block. It is the ``Output`` of the run's ``Performer`` and the source of its events."""

    def __init__(self, run: DemoRun, coach_voice: Callable[[str], np.ndarray],
                 user_voice: Callable[[str], np.ndarray], replies: list[Reply], world: World,
                 keep_audio: bool, echo_to: Callable[[str], None] | None,
                 on_tick: Callable[[float], None] | None = None, pacer=None) -> None:
        self.run, self.world, self.keep_audio = run, world, keep_audio
        self.pacer = pacer
        self.coach_voice, self.user_voice = coach_voice, user_voice
        self.say_out = echo_to or (lambda _s: None)
        self.speaker, self.user, self.book = Player(SAMPLE_RATE, BLOCK), UserVoice(), ReplyBook(replies)
        self.texts: dict[int, str] = {}
        self.rng = np.random.default_rng(world.seed)
        self.delay = int(world.echo_delay_ms * SAMPLE_RATE / 1000)
        self.echo_line = np.zeros(self.delay + BLOCK, dtype=np.float32)
        self.gain = 10 ** (world.echo_db / 20)
        self.noise = 10 ** (world.noise_db / 20)
        self.n = 0  # samples since the start
        self.pending: list[tuple[int, str, int, bool]] = []
        self.ending_at: float | None = None
        self.interrupted: list[str] = []
        self.performer = Performer(run.driver, self, clock=self.t, on_tick=on_tick)

    def t(self) -> float:
        """Session seconds: samples of audio stepped so far."""
        return self.n / SAMPLE_RATE

    # --- Output ----------------------------------------------------------------------------------
    def say(self, a: Say, t: float) -> None:
        samples = self.coach_voice(a.text)
        self.speaker.enqueue(samples, a.utterance)
        self.texts[a.utterance] = a.text
        self.say_out(f"{self.t():8.1f}s  coach  {a.text}")
        for r in self.book.triggered(a.line):
            at = self.n + int(r.delay * SAMPLE_RATE) + (0 if r.during else len(samples))
            self.pending.append((at, r.say, a.utterance, r.during))

    def silence(self, t: float) -> None:
        self.speaker.request_stop()

    def listen(self, intents: frozenset[str]) -> None:
        self.run.ear.listen_for(intents)

    def pace(self, pace: BreathPace | None, t: float) -> None:
        if self.pacer is not None:
            self.speaker.set_bed(*self.pacer.loop_for(pace, self.t()))

    def end(self, end: End, t: float) -> None:
        self.ending_at = self.t()

    # --- the world ---------------------------------------------------------------------------------
    def _user_speaks(self) -> None:
        t0 = self.t()
        for item in [p for p in self.pending if p[0] <= self.n]:
            self.pending.remove(item)
            _, words, utt, during = item
            if not during and not self.performer.heard_to_the_end(utt):
                continue
            samples = self.user_voice(words)
            self.user.speak(self.n, samples)
            self.run.driver.log.write(t0, "user_spoke", text=words, start=round(t0, 3),
                                      end=round(t0 + len(samples) / SAMPLE_RATE, 3))
            self.say_out(f"{t0:8.1f}s  user   {words}")

    def _step(self) -> tuple[list[int], list[Heard]]:
        """Advance one block of audio; the utterances that finished in it and what was heard."""
        t0 = self.t()
        self._user_speaks()
        coach = self.speaker.fill(BLOCK, t0, t0 + BLOCK / SAMPLE_RATE).copy()
        voice = self.speaker.voice_block.copy()  # (without the pacer: see coach.run.played)
        finished = []
        while not self.speaker.events.empty():
            p = self.speaker.events.get_nowait()
            self.texts.pop(p.utterance_id, None)
            if not p.interrupted:  # a line cut off never reports that it finished
                finished.append(p.utterance_id)
        sounding = self.speaker.sounding
        now_playing = self.texts.get(sounding) if sounding is not None else None
        voice = self.user.block(self.n)
        self.echo_line = np.concatenate([self.echo_line[BLOCK:], coach]) if self.delay else coach
        noise = self.noise * self.rng.standard_normal(BLOCK).astype(np.float32)
        mic16 = float_to_int16(voice + self.gain * self.echo_line[:BLOCK] + noise)
        ref16 = float_to_int16(coach)
        heard = hear_played(self.run.ear, mic16, t0, ref16, float_to_int16(voice), now_playing)
        if self.keep_audio:
            self.run.coach_audio.append(ref16)
            self.run.mic_audio.append(mic16)
        self.n += BLOCK
        return finished, heard

    def _keep_pace(self, wall0: float) -> None:
        if self.world.speed > 0:
            lag = wall0 + self.t() / self.world.speed - time.monotonic()
            if lag > 0:
                time.sleep(lag)

    def events(self, wall0: float) -> Iterator[Event]:
        """Step the world and yield what happened in each block, then a ``Tick``."""
        driver, ear = self.run.driver, self.run.ear
        while self.t() < self.world.limit:
            finished, heard = self._step()
            t = self.t()
            if self.interrupted:
                self.speaker.request_stop()
                yield Fault(FaultKind.INTERRUPTED, t, self.interrupted[0])
                return
            for utt in finished:
                yield LineDone(utt, t)
            for h in heard:
                self.say_out(f"{t:8.1f}s  heard  {h.intent} ({h.text!r}, {h.confidence:.2f})")
                yield h
            log_filtered(ear, driver.log)
            yield Tick(t)
            self._keep_pace(wall0)

    def play_out(self, wall0: float) -> None:
        """After the end: let the last lines play (at most ``DRAIN_LIMIT`` s of audio)."""
        if self.ending_at is None or self.interrupted:
            return
        while self.t() < self.world.limit:
            self._step()
            self._keep_pace(wall0)
            if not self.speaker.is_playing or self.t() - self.ending_at > DRAIN_LIMIT:
                return


def run_demo(driver: SessionDriver, ear: Ear, coach_voice: Callable[[str], np.ndarray],
             user_voice: Callable[[str], np.ndarray], replies: list[Reply], world: World = World(),
             *, keep_audio: bool = False, echo_to: Callable[[str], None] | None = None,
             on_tick: Callable[[float], None] | None = None, pacer=None) -> DemoRun:
    """Run a session in the audio world. ``*_voice(text)`` return float32 samples at 16 kHz;
    ``on_tick`` is told the session seconds of each block; ``pacer``: a
    ``coach.voice.pacer.PacerSound`` at 16 kHz (None: no pacer). Ctrl-C, SIGTERM and SIGHUP end
    it as stopped, at once."""
    run = DemoRun(driver, ear)
    w = _DemoWorld(run, coach_voice, user_voice, replies, world, keep_audio, echo_to, on_tick,
                   pacer)
    wall0 = time.monotonic()
    with signals_end_the_session(w.interrupted.append):
        run_session(w.performer, w.events(wall0), 0.0)
        w.play_out(wall0)
    run.wall_seconds = time.monotonic() - wall0
    return run


def write_wav(path: Path, run: DemoRun) -> None:
    """Stereo 16 kHz WAV: left the coach as played, right what the microphone heard."""
    coach = np.concatenate(run.coach_audio) if run.coach_audio else np.zeros(0, np.int16)
    mic = np.concatenate(run.mic_audio) if run.mic_audio else np.zeros(0, np.int16)
    write_pcm_wav(path, np.stack([coach, mic], axis=1))
