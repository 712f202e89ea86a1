"""``coach demo``: the whole session with no sound card, in an in-process audio world.

Time comes from the audio itself: the world advances in 50 ms blocks. Each block, the virtual
speaker plays the next 50 ms of the coach's synthesized voice; a simulated user (a different
espeak-ng voice) speaks what the user script says; the "microphone" hears the user plus an echo of
the coach (attenuated, delayed) plus a little noise; the same listening stage as a live session
(echo suppressor, recognizer, self-speech filter) turns that into intents for the engine.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from coach.pcm import SAMPLE_RATE
from coach.session.driver import SessionDriver
from coach.listen.ear import Ear, log_filtered
from coach.session.messages import End, Fault, FaultKind, LineDone, Listen, Say, Silence, Tick
from coach.run.user_script import Reply, ReplyBook

BLOCK = 800
"""Samples per world step: 50 ms at 16 kHz."""


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


class VirtualSpeaker:
    """Plays queued utterances block by block; ``stop`` silences from the next block on."""

    def __init__(self) -> None:
        self.queue: list[tuple[int, np.ndarray, str]] = []
        self.pos = 0

    def play(self, utterance: int, samples: np.ndarray, text: str) -> None:
        self.queue.append((utterance, samples, text))

    def stop(self) -> None:
        self.queue.clear()
        self.pos = 0

    @property
    def now_playing(self) -> str | None:
        return self.queue[0][2] if self.queue else None

    def next_block(self) -> tuple[np.ndarray, list[int]]:
        out = np.zeros(BLOCK, dtype=np.float32)
        done, filled = [], 0
        while self.queue and filled < BLOCK:
            utt, samples, _ = self.queue[0]
            take = min(BLOCK - filled, len(samples) - self.pos)
            out[filled:filled + take] = samples[self.pos:self.pos + take]
            filled += take
            self.pos += take
            if self.pos >= len(samples):
                done.append(utt)
                self.queue.pop(0)
                self.pos = 0
        return out, done


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
    """One run: the speaker, the user, the microphone mix and the engine, stepped block by block."""

    def __init__(self, run: DemoRun, coach_voice: Callable[[str], np.ndarray],
                 user_voice: Callable[[str], np.ndarray], replies: list[Reply], world: World,
                 keep_audio: bool, echo_to: Callable[[str], None] | None) -> None:
        self.run, self.world, self.keep_audio = run, world, keep_audio
        self.coach_voice, self.user_voice = coach_voice, user_voice
        self.say_out = echo_to or (lambda _s: None)
        self.speaker, self.user, self.book = VirtualSpeaker(), UserVoice(), ReplyBook(replies)
        self.rng = np.random.default_rng(world.seed)
        self.delay = int(world.echo_delay_ms * SAMPLE_RATE / 1000)
        self.echo_line = np.zeros(self.delay + BLOCK, dtype=np.float32)
        self.gain = 10 ** (world.echo_db / 20)
        self.noise = 10 ** (world.noise_db / 20)
        self.n = 0  # samples since the start
        self.pending: list[tuple[int, str, int, bool]] = []
        self.cut: set[int] = set()
        self.ending_at: float | None = None
        self.interrupted: list[str] = []

    def perform(self, actions: list) -> None:
        t, driver = self.n / SAMPLE_RATE, self.run.driver
        for a in actions:
            if isinstance(a, Say):
                samples = self.coach_voice(a.text)
                self.speaker.play(a.utterance, samples, a.text)
                self.say_out(f"{t:8.1f}s  coach  {a.text}")
                for r in self.book.triggered(a.line):
                    at = self.n + int(r.delay * SAMPLE_RATE) + (0 if r.during else len(samples))
                    self.pending.append((at, r.say, a.utterance, r.during))
            elif isinstance(a, Silence):
                if self.speaker.queue:
                    self.cut.add(self.speaker.queue[0][0])
                self.speaker.stop()
                driver.log.write(t, "speaker_stopped")
            elif isinstance(a, Listen):
                self.run.ear.listen_for(a.intents)
            elif isinstance(a, End):
                self.ending_at = t

    def user_speaks(self) -> None:
        t0 = self.n / SAMPLE_RATE
        for item in [p for p in self.pending if p[0] <= self.n]:
            self.pending.remove(item)
            _, words, utt, during = item
            if not during and utt in self.cut:
                continue  # the prompt was cut off before the user heard it out
            samples = self.user_voice(words)
            self.user.speak(self.n, samples)
            self.run.driver.log.write(t0, "user_spoke", text=words, start=round(t0, 3),
                                      end=round(t0 + len(samples) / SAMPLE_RATE, 3))
            self.say_out(f"{t0:8.1f}s  user   {words}")

    def step(self) -> bool:
        """Advance one block; False when the session is over and its last line has played."""
        driver, ear = self.run.driver, self.run.ear
        t0 = self.n / SAMPLE_RATE
        self.user_speaks()
        coach, finished = self.speaker.next_block()
        voice = self.user.block(self.n)
        self.echo_line = np.concatenate([self.echo_line[BLOCK:], coach]) if self.delay else coach
        noise = self.noise * self.rng.standard_normal(BLOCK).astype(np.float32)
        mic = voice + self.gain * self.echo_line[:BLOCK] + noise
        mic16 = np.clip(mic * 32767, -32768, 32767).astype(np.int16)
        ref16 = np.clip(coach * 32767, -32768, 32767).astype(np.int16)
        heard = ear.hear(mic16, t0, reference=ref16, now_playing=self.speaker.now_playing)
        if self.keep_audio:
            self.run.coach_audio.append(ref16)
            self.run.mic_audio.append(mic16)
        self.n += BLOCK
        t = self.n / SAMPLE_RATE
        if self.ending_at is not None:
            return bool(self.speaker.queue) and t - self.ending_at <= 15
        if self.interrupted:
            self.speaker.stop()
            self.perform(driver.feed(Fault(FaultKind.INTERRUPTED, t, self.interrupted[0])))
            return False
        for utt in finished:
            self.perform(driver.feed(LineDone(utt, t)))
        for h in heard:
            if not driver.ended:
                self.say_out(f"{t:8.1f}s  heard  {h.intent} ({h.text!r}, {h.confidence:.2f})")
                self.perform(driver.feed(h))
        log_filtered(ear, driver.log)
        if not driver.ended:
            self.perform(driver.feed(Tick(t)))
        return True


def run_demo(driver: SessionDriver, ear: Ear, coach_voice: Callable[[str], np.ndarray],
             user_voice: Callable[[str], np.ndarray], replies: list[Reply], world: World = World(),
             *, keep_audio: bool = False, echo_to: Callable[[str], None] | None = None) -> DemoRun:
    """Run a session in the audio world. ``*_voice(text)`` return float32 samples at 16 kHz.
    Ctrl-C and SIGTERM end it as stopped, at once."""
    run = DemoRun(driver, ear)
    w = _DemoWorld(run, coach_voice, user_voice, replies, world, keep_audio, echo_to)
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            handlers[sig] = signal.signal(
                sig, lambda num, _f: w.interrupted.append(signal.Signals(num).name))
    wall0 = time.monotonic()
    try:
        w.perform(driver.start(0.0))
        while w.n / SAMPLE_RATE < world.limit and w.step():
            if world.speed > 0:
                lag = wall0 + w.n / SAMPLE_RATE / world.speed - time.monotonic()
                if lag > 0:
                    time.sleep(lag)
    finally:
        for sig, h in handlers.items():
            signal.signal(sig, h)
    run.wall_seconds = time.monotonic() - wall0
    return run


def write_wav(path: Path, run: DemoRun) -> None:
    """Stereo 16 kHz WAV: left the coach as played, right what the microphone heard."""
    coach = np.concatenate(run.coach_audio) if run.coach_audio else np.zeros(0, np.int16)
    mic = np.concatenate(run.mic_audio) if run.mic_audio else np.zeros(0, np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(np.stack([coach, mic], axis=1).astype("<i2").tobytes())


def write_mono_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def print_line(text: str) -> None:
    print(text, flush=True)
    sys.stdout.flush()
