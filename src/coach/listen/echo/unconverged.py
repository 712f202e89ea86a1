"""How much echo the microphone may hold while the echo canceller has not converged yet.

An unconverged adaptive filter predicts too little echo, least of all at a line's onset, so the
echo stage's user-to-echo ratio (cleaned power / predicted echo power, what the self-speech
filter judges by) would take the coach's own first words for the user: the neural voice's "No."
reached 2.1-2.4, over the 2.0 bar for a line's own words, and was taken for an answer
(bench/own_answer_words.py). Until the filter first converges, the echo stage divides by the
larger of its prediction and this bound: the loudest reference hop the filter's span covers,
times the coupling measured so far (microphone power over that reference power).

Powers are mean squares of int16 samples per hop; hops are the filter's partitions (10 ms).
"""

from __future__ import annotations

from collections import deque

import numpy as np

GEIGEL_COUPLING = 0.5
"""Echo power over the loudest reference hop in the filter's span, assumed before the coupling
is measured: the Geigel double-talk test's 0.7 in amplitude."""

COUPLING_HOPS = 50
"""Hops of the coach sounding before the measured coupling replaces ``GEIGEL_COUPLING``."""

COUPLING_PERCENTILE = 50
"""Percentile of the measured coupling taken: the median, which the user's voice moves only if
they talk over more than half of what the coach plays. (bench/echo_onset.py and
bench/own_answer_words.py, bench/README.md "The echo's onset before the canceller converges":
the 25th left a rendering's onset of the coach's own "Nope." at 2.09; the 75th kept 86 of 99
real "stop"s 6 dB under the echo during the first line, against 97 with the median.)"""

SOUNDING = 1e4
"""Reference hop power (RMS 100, -50 dBFS) under which nothing counts as played."""


class UnconvergedEchoBound:
    """hop: samples per filter partition; partitions: the filter's span in partitions."""

    def __init__(self, hop: int, partitions: int) -> None:
        self.hop = hop
        self.partitions = partitions
        self._coupling: deque[float] = deque(maxlen=300)  # mic / loudest reference, per hop

    def power(self, mic_hop: np.ndarray, ref_hist: np.ndarray, end: int) -> float:
        """Echo power ``mic_hop`` may hold: the loudest hop of ``ref_hist[:end]`` within the
        filter's span (``end`` aligned with the microphone by the bulk delay) times the coupling
        (``COUPLING_PERCENTILE`` of what was measured; ``GEIGEL_COUPLING`` before
        ``COUPLING_HOPS`` hops); 0.0 when nothing in the span sounded. Measures the coupling
        of this hop as it goes."""
        n = self.hop
        span = ref_hist[max(0, end - (self.partitions + 1) * n):end]
        span = span[len(span) % n:].reshape(-1, n)
        loudest = float(np.max(np.einsum("ij,ij->i", span, span))) / n if len(span) else 0.0
        if loudest <= SOUNDING:
            return 0.0
        self._coupling.append(float(np.dot(mic_hop, mic_hop)) / n / loudest)
        if len(self._coupling) < COUPLING_HOPS:
            return GEIGEL_COUPLING * loudest
        return float(np.percentile(self._coupling, COUPLING_PERCENTILE)) * loudest
