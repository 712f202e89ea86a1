"""Before a live session: "say ready so I know I can hear you", with a level meter on a terminal."""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, TextIO

import numpy as np

from coach.content import Content
from coach.listen.ear import Ear
from coach.errors import CoachError
from coach.run.status import is_terminal

TRIES = 3
LISTEN_SECONDS = 8.0


def level_db(block: np.ndarray) -> float:
    """The block's level, dBFS (int16 samples)."""
    rms = float(np.sqrt(np.mean((block.astype(np.float32) / 32768.0) ** 2))) + 1e-9
    return float(20 * np.log10(rms))


def level_bar(block: np.ndarray, width: int = 30) -> str:
    """A dBFS meter: -60 dB empty, 0 dB full."""
    db = level_db(block)
    n = int(round(width * min(1.0, max(0.0, (db + 60) / 60))))
    return f"[{'#' * n}{' ' * (width - n)}] {db:6.1f} dBFS"


class LevelMeter:
    """The microphone's level while the check listens. On a terminal a meter redrawn in place;
    elsewhere (a pipe, a log file) one line per try with the loudest block, not a line per block."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.terminal = is_terminal(out)
        self.loudest: float | None = None
        """dBFS of the loudest block of this try."""

    def show(self, block: np.ndarray) -> None:
        db = level_db(block)
        self.loudest = db if self.loudest is None else max(self.loudest, db)
        if self.terminal:
            self.out.write("\r  microphone " + level_bar(block))
            self.out.flush()

    def done(self) -> None:
        """The end of a try: a fresh line on a terminal, the loudest level elsewhere."""
        if self.terminal:
            self.out.write("\n")
        elif self.loudest is not None:
            self.out.write(f"  microphone: loudest {self.loudest:.1f} dBFS\n")
        self.out.flush()
        self.loudest = None


def _say(content: Content, key: str, speaker: Any, render: Callable, uid: int) -> None:
    samples, rate = render(content.lines[key])
    speaker.play(samples, rate, uid)
    deadline = time.monotonic() + 20
    while speaker.is_playing and time.monotonic() < deadline:
        time.sleep(0.02)


def mic_check(content: Content, ear: Ear, speaker: Any, mic: Any, render: Callable,
              out=sys.stdout) -> None:
    """Returns when "ready" was heard; raises CoachError('audio.mic_silent') after a few tries."""
    ear.listen_for(frozenset({"ready", "stop"}))
    meter = LevelMeter(out)
    for attempt in range(TRIES):
        _say(content, "mic_check" if attempt == 0 else "mic_check_retry", speaker, render, -1 - attempt)
        end = time.monotonic() + LISTEN_SECONDS
        t = 0.0
        while time.monotonic() < end:
            block = mic.read(timeout=0.5)
            if block is None:
                continue
            meter.show(block.samples)
            for h in ear.hear(block.samples, t):
                if h.intent in ("ready", "stop"):
                    meter.done()
                    if h.intent == "stop":
                        raise CoachError("session.stopped", "stopped at the microphone check", "",
                                         exit_status=0)
                    _say(content, "mic_check_ok", speaker, render, -10)
                    return
            t += len(block.samples) / 16000
        meter.done()
    _say(content, "mic_check_failed", speaker, render, -11)
    raise CoachError("audio.mic_silent", f"the microphone '{getattr(mic, 'device_name', '?')}' "
                     "did not hear 'ready'", "check it is not muted, or choose another with --mic "
                     "(`coach devices` lists them)")
