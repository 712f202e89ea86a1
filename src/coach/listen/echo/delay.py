"""The bulk delay between the coach's reference and the microphone, for the echo canceller.

``BulkDelay`` keeps the last second of both signals and, every half second while the coach
speaks, finds the lag by GCC-PHAT cross-correlation; the delay moves when the same lag wins
twice in a row with a clear peak. Samples at the stage's rate; signals are float64 blocks.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-10


class BulkDelay:
    """rate: Hertz. block: samples per ``push``. hop: the canceller's partition (its frames are
    read from ``ref_hist``). max_lag: largest delay searched, samples."""

    def __init__(self, rate: int, block: int, hop: int, max_lag: int) -> None:
        self.rate = rate
        self.block = block
        self.hop = hop
        self.max_lag = max_lag
        self._corr_len = rate  # one second of audio for delay estimation
        # Reference history: enough for the largest delay, the correlation window and one frame.
        self.ref_hist = np.zeros(max_lag + self._corr_len + 2 * hop + block)
        self._mic_hist = np.zeros(self._corr_len)
        self.delay = 0
        """Samples the microphone lags the reference by (the delay in use)."""
        self._candidate = -1
        self._since_check = 0
        self._ref_active = 0  # samples of active reference in the correlation window

    def push(self, mic: np.ndarray, ref: np.ndarray) -> int:
        """Keep one block of each signal (same time span); returns how many samples the delay
        moved by (0: it did not)."""
        self.ref_hist = np.concatenate([self.ref_hist[self.block :], ref])
        self._mic_hist = np.concatenate([self._mic_hist[self.block :], mic])
        self._ref_active += int(np.count_nonzero(np.abs(ref) > 64))
        return self._maybe_update()

    def _maybe_update(self) -> int:
        self._since_check += self.block
        if self._since_check < self.rate // 2:
            return 0
        self._since_check = 0
        active, self._ref_active = self._ref_active, 0
        if active < self.rate // 4:  # under 0.25 s of the coach speaking: nothing to align on
            return 0
        length = self._corr_len
        ref = self.ref_hist[-(length + self.max_lag) :]
        size = 1 << int(np.ceil(np.log2(len(ref) + length)))
        cross = np.fft.rfft(self._mic_hist, size) * np.conj(np.fft.rfft(ref, size))
        corr = np.fft.irfft(cross / (np.abs(cross) + _EPS), size)
        # mic[i] ~ ref[i + max_lag - lag]; corr[k] = sum mic[n + k] ref[n], so k = lag - max_lag
        # (negative: read circularly from the end).
        lags = np.concatenate([corr[size - self.max_lag :], corr[:1]])  # lags[lag]
        lag = int(np.argmax(lags))
        if lags[lag] < 4.0 * float(np.median(np.abs(lags))) + _EPS:
            return 0
        target = max(0, lag - self.hop // 4)  # keep 2.5 ms of taps before the direct path
        if abs(target - self.delay) <= self.hop // 4:
            self._candidate = -1
            return 0
        if self._candidate >= 0 and abs(target - self._candidate) <= self.hop // 4:
            moved, self.delay = target - self.delay, target
            self._candidate = -1
            return moved
        self._candidate = target
        return 0
