"""Scripted stand-ins for the hardware and models, in one place: each replaces one real part so a
test can examine the part next to it."""

from __future__ import annotations

import threading

import numpy as np

from coach.listen.asr.base import Hypothesis
from coach.pcm import SAMPLE_RATE


class ScriptedStops:
    """A recognizer that reports "stop" over given spans of fed audio (seconds), each in the first
    block that ends after its span: for tests of the Ear's timing rules, not of recognition."""

    name = "scripted"

    def __init__(self, spans: list[tuple[float, float]]) -> None:
        self.spans, self.fed = list(spans), 0
        self.far_end: list[bool] = []
        """What the Ear said of the far end before each block."""

    def set_vocabulary(self, phrases) -> None:
        pass

    def accept(self, block: np.ndarray) -> list[Hypothesis]:
        self.fed += len(block)
        now = self.fed / SAMPLE_RATE
        due = [s for s in self.spans if s[1] <= now]
        self.spans = [s for s in self.spans if s[1] > now]
        return [Hypothesis("stop", "stop", 0.9, a, b) for a, b in due]

    def flush(self) -> list[Hypothesis]:
        """The spans not reported yet (they end after the audio fed)."""
        due, self.spans = self.spans, []
        return [Hypothesis("stop", "stop", 0.9, a, b) for a, b in due]

    def reset(self) -> None:
        pass

    def note_far_end(self, sounding: bool) -> None:
        self.far_end.append(sounding)


class FixedRatio:
    """An echo stage that passes the microphone through and reports one user-to-echo ratio for
    any span."""

    rate, max_lag = SAMPLE_RATE, int(0.4 * SAMPLE_RATE)

    def __init__(self, ratio: float) -> None:
        self.ratio = ratio

    def process(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        return mic

    def user_ratio_between(self, start: float, end: float) -> float:
        return self.ratio


class Stalling:
    """A real recognizer that hangs (``die=False``) or raises (``die=True``) after ``after``
    blocks: fault injection around it."""

    def __init__(self, inner, after: int, die: bool) -> None:
        self.inner, self.after, self.die, self.n = inner, after, die, 0
        self.name = inner.name
        self.release = threading.Event()

    def set_vocabulary(self, phrases):
        self.inner.set_vocabulary(phrases)

    def accept(self, block):
        self.n += 1
        if self.n > self.after:
            if self.die:
                raise RuntimeError("recognizer crashed")
            self.release.wait(30)
        return self.inner.accept(block)

    def flush(self):
        return self.inner.flush()

    def reset(self):
        self.inner.reset()

    def note_far_end(self, sounding: bool) -> None:
        self.inner.note_far_end(sounding)


class ScriptedMicrophone:
    """A microphone that gives ``blocks`` blocks of quiet noise at once (no waiting), then None."""

    device_name = "scripted"

    def __init__(self, blocks: int, block: int = 800) -> None:
        self.left, self.block = blocks, block
        self.rng = np.random.default_rng(0)

    def read(self, timeout: float = 0.0):
        from coach.devices.streams import MicBlock
        if self.left <= 0:
            return None
        self.left -= 1
        return MicBlock((self.rng.standard_normal(self.block) * 300).astype(np.int16), 0.0)


class QuietSpeaker:
    """A speaker that plays nothing and is never busy."""

    is_playing = False

    def play(self, samples, rate, utterance) -> None:
        pass


class EarHearingAfter:
    """An Ear that hears ``intent`` in block ``n`` (counting from 1), nothing before or after."""

    def __init__(self, n: int, intent: str = "ready") -> None:
        self.n, self.intent, self.blocks = n, intent, 0

    def listen_for(self, intents) -> None:
        pass

    def hear(self, samples, t):
        from coach.session.messages import Heard
        self.blocks += 1
        return [Heard(self.intent, t)] if self.blocks == self.n else []
