"""The breathing pacer's sound: a soft rush of air under the voice that rises through each
in-breath (louder, brighter) and falls through each out-breath (quieter, darker), so the pace can
be followed with the eyes closed.

One breath is rendered as a loop (``breath_cycle``): two bands of pink-tilted noise, a dark one
(150-700 Hz) and a bright one (400-2400 Hz), cross-faded by a raised-cosine swell that rises over
the in-breath and falls over the out-breath, the loudness going from a quarter (``FLOOR``) to
``LEVEL_DBFS`` at the top of the breath, 12 dB under the voice's speech level. The noise is
filtered over the loop's own length (circularly), so it loops without a seam.

Noise, not a tone: the echo stage cancels what it is told the speaker played, and a broadband
sound is what an adaptive canceller learns best. A gliding harmonic tone (G3 to D4, tried first)
came out of the canceller about as loud as it went in (-54 dBFS echo, -51 to -60 dBFS after), and
pocketsphinx then decoded its residue as speech: 3.7 s of recognizer CPU per minute of hold, the
demo's listening CPU 0.048 -> 0.13 s per audio second. This noise leaves the canceller at the
room's noise floor (-54 -> -61 dBFS) and opens no segment (0.04 s per minute).

``PacerSound`` turns the session's ``BreathPace`` into that loop and the sample to start it from;
the speaker plays it under the voice (``Player.set_bed``), so it is in the echo reference like
every other sound the coach plays.
"""

from __future__ import annotations

import numpy as np

from coach.session.messages import BreathPace

DARK_HZ, BRIGHT_HZ = (150.0, 700.0), (400.0, 2400.0)
"""The bands of the breath's bottom and of its top, Hertz."""
FLOOR = 0.25
"""Loudness at the bottom of a breath, as a fraction of the top."""
LEVEL_DBFS = -32.0
"""RMS level at the top of a breath (the voice's speech is at -20 dBFS)."""
SEED = 7
"""The noise is the same every time (a loop per pace, rendered again only for a new pace)."""


def _band(n: int, rate: int, band: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of noise with power falling as 1/f inside ``band`` (Hertz), none outside,
    periodic over ``n``; unit RMS."""
    f = np.fft.rfftfreq(n, 1 / rate)
    gain = np.where((f >= band[0]) & (f <= band[1]), 1 / np.sqrt(np.maximum(f, band[0])), 0.0)
    x = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * gain, n)
    return x / np.sqrt(np.mean(x ** 2))


def breath_cycle(inhale: float, exhale: float, rate: int, volume: float = 1.0) -> np.ndarray:
    """One breath of the pacer: ``inhale`` seconds rising then ``exhale`` seconds falling, as
    float32 samples at ``rate`` Hertz that loop seamlessly. ``volume`` 0..1 scales it."""
    n_in, n_out = max(1, int(round(inhale * rate))), max(1, int(round(exhale * rate)))
    swell = np.concatenate([0.5 - 0.5 * np.cos(np.pi * np.arange(n_in) / n_in),
                            0.5 + 0.5 * np.cos(np.pi * np.arange(n_out) / n_out)])
    rng = np.random.default_rng(SEED)
    n = n_in + n_out
    air = (1 - swell) * _band(n, rate, DARK_HZ, rng) + swell * _band(n, rate, BRIGHT_HZ, rng)
    air /= np.sqrt(np.mean(air ** 2))
    level = 10 ** (LEVEL_DBFS / 20) * volume
    return (air * level * (FLOOR + (1 - FLOOR) * swell)).astype(np.float32)


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
