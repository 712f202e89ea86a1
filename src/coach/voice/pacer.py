"""The breathing pacer's sound: a soft tone under the voice that rises in pitch and loudness
through each in-breath and falls through each out-breath, so the pace can be followed with the
eyes closed.

One breath is rendered as a loop (``breath_cycle``): the tone glides up a fifth (G3 to D4) with
a raised-cosine swell over the in-breath and back down over the out-breath, fading to a quarter
of its loudness at the bottom; three harmonics give it a warm, flute-like timbre. Its frequency
is nudged so the loop holds a whole number of periods (no click where it wraps). At its top it
is ``LEVEL_DBFS`` (RMS), 12 dB under the voice's speech level. ``PacerSound`` turns the
session's ``BreathPace`` into that loop and the sample to start it from; the speaker plays it
under the voice (``Player.set_bed``), so it is in the echo reference like every other sound.
"""

from __future__ import annotations

import numpy as np

from coach.session.messages import BreathPace

LOW_HZ, HIGH_HZ = 196.0, 293.7
"""The tone's pitch at the bottom of a breath and at its top (G3, D4)."""
HARMONICS = (1.0, 0.35, 0.12)
"""Amplitude of the fundamental, the 2nd and the 3rd harmonic."""
FLOOR = 0.25
"""Loudness at the bottom of a breath, as a fraction of the top."""
LEVEL_DBFS = -32.0
"""RMS level at the top of a breath (the voice's speech is at -20 dBFS)."""


def breath_cycle(inhale: float, exhale: float, rate: int, volume: float = 1.0) -> np.ndarray:
    """One breath of the pacer: ``inhale`` seconds rising then ``exhale`` seconds falling, as
    float32 samples at ``rate`` Hertz that loop seamlessly. ``volume`` 0..1 scales it."""
    n_in, n_out = max(1, int(round(inhale * rate))), max(1, int(round(exhale * rate)))
    swell = np.concatenate([0.5 - 0.5 * np.cos(np.pi * np.arange(n_in) / n_in),
                            0.5 + 0.5 * np.cos(np.pi * np.arange(n_out) / n_out)])
    freq = LOW_HZ * (HIGH_HZ / LOW_HZ) ** swell
    turns = np.sum(freq) / rate
    freq *= max(1.0, np.round(turns)) / turns  # a whole number of periods per loop
    phase = 2 * np.pi * (np.cumsum(freq) - freq[0]) / rate
    tone = sum(a * np.sin(k * phase) for k, a in enumerate(HARMONICS, 1))
    tone /= np.sqrt(np.mean(tone ** 2))
    level = 10 ** (LEVEL_DBFS / 20) * volume
    return (tone * level * (FLOOR + (1 - FLOOR) * swell)).astype(np.float32)


class PacerSound:
    """The pacer's loop for a ``BreathPace`` at ``rate`` Hertz (``enabled`` False: always
    silent). Loops are kept per pace, so "slower" and back does not render twice."""

    def __init__(self, rate: int, volume: float = 1.0, enabled: bool = True) -> None:
        self.rate, self.volume, self.enabled = rate, volume, enabled
        self._loops: dict[tuple[float, float], np.ndarray] = {}

    def loop_for(self, pace: BreathPace | None, t: float) -> tuple[np.ndarray | None, int]:
        """(the loop to play, the sample of it that sounds at session second ``t``); (None, 0)
        for silence."""
        if pace is None or not self.enabled:
            return None, 0
        key = (pace.inhale, pace.exhale)
        if key not in self._loops:
            self._loops[key] = breath_cycle(pace.inhale, pace.exhale, self.rate, self.volume)
        loop = self._loops[key]
        return loop, int(pace.position(t) / pace.cycle * len(loop)) % len(loop)
