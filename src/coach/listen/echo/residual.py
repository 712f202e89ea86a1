"""Residual-echo suppression: what the echo canceller's linear filter left, taken out per bin.

``ResidualSuppressor.process`` works on 10 ms hops with 50 % overlap-add (sqrt-Hann windows):
a per-frequency gain from the canceller's error and its predicted echo, then comfort noise (the
room's own noise spectrum) where the gain took something out, so the recognizer hears steady
noise instead of faint, speech-shaped echo left-overs. The output is one hop late.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-10


class ResidualSuppressor:
    """hop: samples per call (the canceller's partition)."""

    def __init__(self, hop: int) -> None:
        n = hop
        bins = n + 1
        self.hop = hop
        self._win = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(2 * n) / (2 * n)))
        self._e_prev = np.zeros(n)
        self._y_prev = np.zeros(n)
        self._ola = np.zeros(n)
        self._gain = np.ones(bins)
        self._res_e = np.full(bins, _EPS)
        self._res_y = np.full(bins, _EPS)
        self._noise_psd: np.ndarray | None = None  # per-bin noise power (slow minimum)
        self._rng = np.random.default_rng(0)

    def process_no_echo(self, e: np.ndarray, leak: float, floor: float) -> np.ndarray:
        """``process`` on each hop of ``e`` (whole hops) with a zero echo estimate, the same
        output and state, the FFTs done for all hops at once: what the canceller calls while
        the coach's sound is too far back to reach the microphone."""
        n = self.hop
        hops = e.reshape(-1, n)
        frames = np.concatenate([np.vstack([self._e_prev, hops[:-1]]), hops], axis=1)
        spec_e = np.fft.rfft(frames * self._win, axis=1)
        power = np.abs(spec_e) ** 2
        mixed = np.empty_like(spec_e)
        a = 0.5
        for i in range(len(hops)):  # the same recursions as ``process``, with y = 0
            self._res_e = a * self._res_e + (1 - a) * power[i]
            self._res_y = a * self._res_y + (1 - a) * 0.0
            residual = 3.0 * leak * self._res_y
            target = np.clip(1.0 - residual / (self._res_e + _EPS), floor, 1.0)
            self._gain = np.where(target > self._gain, target, 0.5 * self._gain + 0.5 * target)
            if self._noise_psd is None:
                self._noise_psd = self._res_e.copy()
            low = self._res_e < self._noise_psd
            self._noise_psd = np.where(low, 0.8 * self._noise_psd + 0.2 * self._res_e,
                                       self._noise_psd * 1.002)
            fill = np.sqrt(self._noise_psd * (1.0 - self._gain**2))
            phase = np.exp(2j * np.pi * self._rng.random(len(fill)))
            mixed[i] = spec_e[i] * self._gain + fill * phase
        frames = np.fft.irfft(mixed, axis=1) * self._win
        out = np.empty(len(e))
        for i in range(len(hops)):
            out[i * n:(i + 1) * n] = self._ola + frames[i, :n]
            self._ola = frames[i, n:]
        self._e_prev, self._y_prev = hops[-1], np.zeros(n)
        return out

    def process(self, e: np.ndarray, y: np.ndarray, leak: float, floor: float) -> np.ndarray:
        """One hop: ``e`` the canceller's error, ``y`` its echo estimate; ``leak`` the fraction
        of the echo's power the filter lets through; ``floor`` the smallest gain."""
        n = self.hop
        spec_e = np.fft.rfft(np.concatenate([self._e_prev, e]) * self._win)
        spec_y = np.fft.rfft(np.concatenate([self._y_prev, y]) * self._win)
        self._e_prev, self._y_prev = e, y
        a = 0.5
        self._res_e = a * self._res_e + (1 - a) * np.abs(spec_e) ** 2
        self._res_y = a * self._res_y + (1 - a) * np.abs(spec_y) ** 2
        residual = 3.0 * leak * self._res_y  # over-estimate by ~5 dB: better keep echo out
        target = np.clip(1.0 - residual / (self._res_e + _EPS), floor, 1.0)
        self._gain = np.where(target > self._gain, target, 0.5 * self._gain + 0.5 * target)
        if self._noise_psd is None:
            self._noise_psd = self._res_e.copy()
        low = self._res_e < self._noise_psd
        self._noise_psd = np.where(low, 0.8 * self._noise_psd + 0.2 * self._res_e,
                                   self._noise_psd * 1.002)  # rises ~0.9 dB a second
        fill = np.sqrt(self._noise_psd * (1.0 - self._gain**2))
        phase = np.exp(2j * np.pi * self._rng.random(len(fill)))
        frame = np.fft.irfft(spec_e * self._gain + fill * phase) * self._win
        out = self._ola + frame[:n]
        self._ola = frame[n:]
        return out
