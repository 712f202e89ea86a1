"""Echo suppression: remove the coach's own voice from the microphone before recognition.

The coach knows what it plays: the speaker stage keeps the samples it handed to the device
(the *reference*). ``EchoSuppressor`` sits between the microphone and the recognizer:

    mic block + reference block (same time span) -> cleaned mic block

Stages, in order, all in numpy:

1. **Bulk delay** between reference and microphone, found by GCC-PHAT cross-correlation on the
   last second of audio (re-checked every half second while the coach speaks; ``delay.py``).
2. **Adaptive echo canceller**: a partitioned-block frequency-domain NLMS filter (overlap-save,
   10 ms partitions) that learns the room's echo path (loudspeaker level, reflections).
3. **Double-talk detector**: adaptation freezes while the user speaks, so "stop" said over the
   narration does not teach the filter to cancel the user. Before the filter has converged a
   Geigel test is used (the microphone louder than half the recent reference peak); after, the
   microphone power against the filter's predicted echo, and the error against the residue the
   filter usually leaves (the quiet start and end of a word under loud echo: learned from, they
   cost ~20 dB of echo removal for the next half second). A backup of the filter is restored if
   the filter ever makes the signal louder (divergence guard); a shadow filter that adapts on
   every hop takes over when it does clearly better (the echo path changed).
4. **Residual-echo suppression**: a per-frequency gain that removes what the linear filter left,
   estimated from the predicted echo and the measured echo return loss enhancement (ERLE)
   (``residual.py``).

Per block, ``last`` (an ``EchoBlockInfo``) tells how much of the cleaned signal is likely the
user rather than the coach: ``user_ratio`` = power of the cleaned signal / (predicted echo power
+ background noise power). Until the filter first converges (or reaches the room's noise) its
prediction falls short, most at a line's onset, so the predicted echo is then at least the
loudest reference hop in the filter's span times the median coupling measured so far
(``unconverged.py``). ``user_ratio_between(start, end)`` gives the largest ratio over a span
of output time, for judging a ``Hypothesis`` (see ``coach.listen.echo.self_speech``).

Times are in seconds of audio fed in (never a clock), rates in Hertz, sample values int16.
The output lags the input by ``latency`` seconds (one 10 ms partition, from the overlap-add of
the suppressor); ``user_ratio_between`` already accounts for it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from coach.listen.echo.delay import BulkDelay
from coach.listen.echo.residual import ResidualSuppressor
from coach.listen.echo.unconverged import UnconvergedEchoBound
from coach.errors import CoachError

_EPS = 1e-10


@dataclass(frozen=True)
class EchoBlockInfo:
    """What the suppressor measured on one block.

    start, end: seconds of output time the block covers.
    user_ratio: cleaned power / (predicted echo power + noise power); linear, not dB.
    user_speech_likely: ``user_ratio`` at or above the suppressor's ``user_threshold``.
    double_talk: the detector froze adaptation in part of this block.
    delay: seconds of bulk delay between reference and microphone in use.
    erle_db: decibels of echo return loss enhancement measured on echo-only audio so far (smoothed).
    """

    start: float
    end: float
    user_ratio: float
    user_speech_likely: bool
    double_talk: bool
    delay: float
    erle_db: float


ERROR_TALK = 10.0
"""Error power over the converged filter's usual residue (10 dB) from which a hop counts as
double talk (``EchoSuppressor._error_talk``)."""

NO_ECHO_COUPLING = 1e-4
"""Mic/reference power ratio (-40 dB) under which the speaker is taken not to reach the mic."""


class EchoSuppressor:
    """Acoustic echo canceller plus residual-echo suppressor for one microphone.

    rate: Hertz of both signals. block: samples per ``process`` call (a multiple of ``hop``).
    hop: samples per filter partition (10 ms at 16 kHz). filter_seconds: echo-path length the
    filter models after the bulk delay (reverberation tail). max_delay: largest bulk delay
    searched, seconds. step: NLMS step size (0 < step <= 1). suppress_floor: smallest gain of the
    residual-echo suppressor while the canceller converges (0.03 = -30 dB); converged_floor: once
    it has settled (``_settled``; 0.3 = -10 dB: deeper cuts took the quiet parts of a user's word
    along with the little echo left, and cost real people's "stop" over the coach:
    bench/barge_in.py); talk_floor: the same while the double-talk tests hear the user (0.6 =
    -4.4 dB: the quiet "s" of a "stop" sits under the predicted echo in its bins).
    user_threshold: ``user_ratio`` from which a block counts as user speech
    (1.0: cleaned power at least predicted echo + 4 x noise power).
    history: seconds of block measurements kept for ``user_ratio_between``. error_talk: error
    power over the filter's usual residue taken for double talk (0: power test only);
    error_freeze: longest adaptation freeze, seconds, that test may cause at a time.
    idle_path: blocks no played sound can reach skip the filter (the same output, about half
    the CPU in silence); False runs every hop through it.
    """

    def __init__(
        self,
        rate: int = 16000,
        block: int = 800,
        *,
        hop: int = 160,
        filter_seconds: float = 0.16,
        max_delay: float = 0.4,
        step: float = 0.5,
        suppress_floor: float = 0.03,
        converged_floor: float = 0.3,
        talk_floor: float = 0.6,
        user_threshold: float = 1.0,
        history: float = 30.0,
        error_talk: float = ERROR_TALK,
        error_freeze: float = 0.5,
        idle_path: bool = True,
    ) -> None:
        if rate <= 0 or hop <= 0 or block <= 0 or block % hop:
            raise CoachError(
                "echo.config",
                f"echo suppressor block of {block} samples is not a positive multiple of the "
                f"{hop}-sample filter partition",
                "use a block size that is a multiple of 160 at 16 kHz (e.g. 800 = 50 ms)",
            )
        self.rate = rate
        self.block = block
        self.hop = hop
        self.partitions = max(1, int(round(filter_seconds * rate / hop)))
        self.max_lag = int(max_delay * rate)
        self.step = step
        self.suppress_floor = suppress_floor
        self.converged_floor = converged_floor
        self.talk_floor = talk_floor
        self.user_threshold = user_threshold
        self.latency = hop / rate
        self.error_talk = error_talk
        self.idle_path = idle_path
        self._err_budget_max = self._err_budget = error_freeze * rate / hop
        n, k = hop, self.partitions
        bins = n + 1
        self._weights = np.zeros((k, bins), complex)
        self._backup = self._weights.copy()
        self._shadow = self._weights.copy()  # adapts always: follows echo path changes
        self._err_main = self._err_shadow = _EPS
        self._shadow_wins = 0
        self._xspec = np.zeros((k, bins), complex)  # spectra of the last k reference frames
        self._xpow = np.full(bins, _EPS)
        self._bulk = BulkDelay(rate, block, hop, self.max_lag)
        self._residual = ResidualSuppressor(hop)
        self._pd = self._pe = self._py = _EPS  # smoothed echo-only powers (mic, error, estimate)
        self._converged = False
        # the filter has converged, or reached the room's noise, since it last had to start over
        # (a bulk delay change, an echo path change): its echo estimate is then usable
        self._trusted = False
        self._hang = 0
        self._talk_run = 0  # hops in a row judged as double talk
        self._good = 0
        self._noise = None  # noise power floor of the output, tracked by slow minimum
        self._samples_out = 0
        self._history: deque[EchoBlockInfo] = deque(maxlen=max(1, int(history * rate / block)))
        self.last: EchoBlockInfo | None = None
        self._coupling_obs: deque[float] = deque(maxlen=300)  # mic/ref power, ref-on hops
        self._no_echo = False
        self._bound = UnconvergedEchoBound(hop, self.partitions)

    # ----------------------------------------------------------------------------- public API
    @property
    def user_speech_likely(self) -> bool:
        """The last block's cleaned signal holds more than echo and noise (user speech)."""
        return bool(self.last and self.last.user_speech_likely)

    @property
    def user_energy_ratio(self) -> float:
        """The last block's ``user_ratio`` (linear power ratio)."""
        return self.last.user_ratio if self.last else 0.0

    @property
    def erle_db(self) -> float:
        """Decibels of echo reduction on echo-only audio so far (linear filter + suppressor)."""
        return 10 * np.log10(self._pd / self._pe)

    def user_ratio_between(self, start: float, end: float) -> float:
        """Largest ``user_ratio`` over output seconds [start, end] (0.0 if no block covers it)."""
        ratios = [b.user_ratio for b in self._history if b.end > start and b.start < end]
        return max(ratios, default=0.0)

    def process(self, mic_block: np.ndarray, ref_block: np.ndarray) -> np.ndarray:
        """Clean one block: ``mic_block`` and ``ref_block`` are int16 arrays of ``block`` samples
        for the same time span (the reference is what the coach played then, zeros if silent).
        Returns int16 of the same length, ``latency`` seconds behind the input."""
        mic = np.asarray(mic_block)
        ref = np.asarray(ref_block)
        if mic.shape != (self.block,) or ref.shape != (self.block,):
            raise CoachError(
                "echo.block",
                f"echo suppressor needs mono blocks of {self.block} samples; got microphone "
                f"{mic.shape} and reference {ref.shape}",
                "pass the same-length int16 mono blocks the microphone stage produces",
            )
        d_all = mic.astype(np.float64)
        x_all = ref.astype(np.float64)
        moved = self._bulk.push(d_all, x_all)
        if moved:
            self._shift_filter(moved)
        ref_hist, delay = self._bulk.ref_hist, self._bulk.delay
        n = self.hop
        reach = ref_hist[len(ref_hist) - self.block - delay - n:len(ref_hist) - delay]
        if self.idle_path and not reach.any() and not self._xspec.any():
            # Nothing the coach played can reach this block (the filter's frames and the new
            # ones are all zero): the echo estimate is zero, so this is ``_hop`` without its
            # filter, exactly, with the suppressor's FFTs done for the block at once (in
            # silence this was most of the listening stage's CPU).
            self._hang = 0
            out = self._suppress_no_echo(d_all)
            self._record(out, float(np.dot(out, out)) / self.block, 0.0, False)
            return np.clip(np.round(out), -32768, 32767).astype(np.int16)
        out = np.empty(self.block)
        p_out = p_echo = 0.0
        dt_any = False
        for i in range(0, self.block, n):
            # Reference frame aligned with this microphone hop: ends `delay` samples back.
            end = len(ref_hist) - (self.block - i - n) - delay
            x_frame = ref_hist[end - 2 * n : end]
            o, y, dt = self._hop(d_all[i : i + n], x_frame)
            out[i : i + n] = o
            p_out += float(np.dot(o, o))
            py = float(np.dot(y, y))
            p_echo += py if self._no_echo or self._trusted else \
                max(py, n * self._bound.power(d_all[i : i + n], ref_hist, end))
            dt_any |= dt
        self._record(out, p_out / self.block, p_echo / self.block, dt_any)
        return np.clip(np.round(out), -32768, 32767).astype(np.int16)

    # ---------------------------------------------------------------------------- internals
    def _hop(self, d: np.ndarray, x_frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """One 10 ms partition: filter, error, adaptation, suppression. Returns output hop
        (one hop late), echo estimate, and whether double talk froze adaptation."""
        n = self.hop
        self._xspec = np.roll(self._xspec, 1, axis=0)
        self._xspec[0] = np.fft.rfft(x_frame)
        y = np.fft.irfft((self._weights * self._xspec).sum(axis=0))[n:]
        e = d - y
        pd, py, pe = float(np.dot(d, d)) / n, float(np.dot(y, y)) / n, float(np.dot(e, e)) / n
        x_now = x_frame[n:]
        px = float(np.dot(x_now, x_now)) / n
        ref_on = px > 1e4  # reference above -50 dBFS
        if ref_on:
            self._coupling_obs.append(pd / px)
            if len(self._coupling_obs) >= 100:  # 1 s of the coach speaking observed
                # the echo path's strength: a low percentile of mic/reference power (the user's
                # speech only ever raises the ratio)
                self._no_echo = float(np.percentile(self._coupling_obs, 20)) < NO_ECHO_COUPLING
        if self._no_echo:
            # No acoustic path from the speaker to this microphone (headphones, a null sink):
            # nothing to cancel, and nothing the coach says can be mistaken for the user.
            return self._suppress(d, np.zeros(n)), np.zeros(n), False
        dt = self._double_talk(d, pd, py, pe, ref_on)
        if ref_on:
            self._xpow = 0.9 * self._xpow + 0.1 * (np.abs(self._xspec) ** 2).sum(axis=0)
            self._track_path(d, pe)
        if ref_on and not dt:
            self._weights = self._adapted(self._weights, e)
            a = 0.9
            self._pd = a * self._pd + (1 - a) * pd
            self._pe = a * self._pe + (1 - a) * pe
            self._py = a * self._py + (1 - a) * py
            self._guard_divergence()
        return self._suppress(e, y, dt), y, dt

    def _double_talk(self, d: np.ndarray, pd: float, py: float, pe: float, ref_on: bool) -> bool:
        if not ref_on:
            self._hang = 0
            return False
        if self._converged:
            noise = self._noise_margin
            talk = pd > 2.0 * py + noise
            if not talk and self._error_talk(pe, pd, noise):
                talk = True
        else:
            span = self._bulk.ref_hist[-(self._bulk.delay + self.partitions * self.hop
                                         + self.block) :]
            talk = float(np.max(np.abs(d))) > 0.7 * float(np.max(np.abs(span)))
        if talk:
            self._hang = 10  # hold 100 ms after the last detection
            self._talk_run += 1
            if self._talk_run > 200:  # 2 s of "user speech": rather the echo path changed
                self._converged = self._trusted = False
                self._talk_run = 0
        else:
            self._talk_run = 0
            if self._hang:
                self._hang -= 1
        return talk or self._hang > 0

    @property
    def _noise_margin(self) -> float:
        """4 x the output's noise power (6 dB over the room's noise): what the double-talk
        tests, ``_settled``, the shadow filter and ``user_ratio`` allow for noise."""
        return 4.0 * (self._noise or 0.0)

    @property
    def _settled(self) -> bool:
        """The filter removes 20 dB of echo, or leaves no more than the room's noise (in a noisy
        room 20 dB is out of reach: microphone noise RMS 100 under a -10 dB echo, it held 46 % of
        the time): its error (echo-only hops, smoothed) is then a steady measure of what it
        leaves, and the suppressor may cut lightly."""
        return self._converged and (self._pe < 0.01 * self._pd or self._pe < self._noise_margin)

    @property
    def _at_noise_floor(self) -> bool:
        """What the filter leaves of the echo (echo-only hops, smoothed) is under the noise
        margin while the echo itself is above it: in a noisy room, where 12 dB of ERLE is out of
        reach (``_converged`` comes and goes there), the filter's echo estimate is then as good
        as it gets."""
        return self._pe < self._noise_margin < self._pd

    def _error_talk(self, pe: float, pd: float, noise: float) -> bool:
        """Double talk the power test misses: the error far above the residue the converged
        filter leaves (the quiet start and end of a word under loud echo). An echo path change
        looks the same, so this freezes adaptation for at most ``error_freeze`` seconds of every
        few: a budget of hops, refilled a quarter hop per hop without such error. Only once the
        filter has settled: while it converges its error is not yet a steady measure."""
        if self.error_talk > 0 and self._err_budget >= 1.0 and self._settled and \
                pe > self.error_talk * (self._pe / self._pd) * pd + noise:
            self._err_budget -= 1.0
            return True
        self._err_budget = min(self._err_budget_max, self._err_budget + 0.25)
        return False

    def _adapted(self, weights: np.ndarray, e: np.ndarray) -> np.ndarray:
        """``weights`` after one NLMS step on the error ``e`` of this hop."""
        n = self.hop
        err = np.fft.rfft(np.concatenate([np.zeros(n), e]))
        reg = 1e-3 * float(self._xpow.mean()) + 1.0
        weights = weights + self.step * np.conj(self._xspec) * (err / (self._xpow + reg))
        taps = np.fft.irfft(weights, axis=1)
        taps[:, n:] = 0.0  # gradient constraint: keep each partition a causal n-tap filter
        return np.fft.rfft(taps, axis=1)

    def _track_path(self, d: np.ndarray, pe: float) -> None:
        """The shadow filter adapts on every hop the coach speaks, double talk or not. When
        its error stays 3 dB under the main filter's for 0.15 s, the echo path has changed (the
        main filter, frozen by the double-talk tests, cannot follow): it takes the shadow's
        weights. When the shadow does clearly worse (it learned from the user's voice), it is
        reset to the main filter."""
        n = self.hop
        ys = np.fft.irfft((self._shadow * self._xspec).sum(axis=0))[n:]
        es = d - ys
        self._shadow = self._adapted(self._shadow, es)
        a = 0.95
        self._err_main = a * self._err_main + (1 - a) * pe
        self._err_shadow = a * self._err_shadow + (1 - a) * float(np.dot(es, es)) / n
        if self._err_shadow < 0.5 * self._err_main and self._err_main > self._noise_margin:
            self._shadow_wins += 1
            if self._shadow_wins >= 15:
                self._weights = self._shadow.copy()
                self._err_main = self._err_shadow
                self._shadow_wins = 0
        else:
            self._shadow_wins = 0
            if self._err_shadow > 4.0 * self._err_main:
                self._shadow = self._weights.copy()
                self._err_shadow = self._err_main

    def _guard_divergence(self) -> None:
        erle = self._pd / self._pe
        self._converged = erle > 16.0  # 12 dB: before that the echo estimate is too rough
        self._trusted = self._trusted or self._converged or self._at_noise_floor
        if erle < 0.5:  # the filter doubles the signal: it diverged, restore the backup
            self._weights = self._backup.copy()
            self._shadow = self._weights.copy()
            self._pe = self._pd
            self._good = 0
            return
        self._good += 1
        if self._good >= 20 and erle > 1.0:
            self._backup = self._weights.copy()
            self._good = 0

    def _suppress(self, e: np.ndarray, y: np.ndarray, talk: bool = False) -> np.ndarray:
        """Residual-echo suppression (``residual.py``): how much of the echo the filter lets
        through, and how deep the suppressor may cut (lightly once settled, lighter still
        while the user talks)."""
        leak = min(1.0, max(1e-3, self._pe / self._pd)) if self._converged else 0.3
        floor = (self.talk_floor if talk else self.converged_floor) if self._settled \
            else self.suppress_floor
        return self._residual.process(e, y, leak, floor)

    def _suppress_no_echo(self, d: np.ndarray) -> np.ndarray:
        """``_suppress(d, 0)`` on each hop of the block ``d``."""
        leak = min(1.0, max(1e-3, self._pe / self._pd)) if self._converged else 0.3
        floor = self.converged_floor if self._settled else self.suppress_floor
        return self._residual.process_no_echo(d, leak, floor)

    def _shift_filter(self, samples: int) -> None:
        """The reference moved ``samples`` later: move the learned taps that much earlier."""
        n, k = self.hop, self.partitions
        taps = np.fft.irfft(self._weights, axis=1)[:, :n].reshape(-1)
        shifted = np.zeros_like(taps)
        keep = k * n - abs(samples)
        if keep > 0 and samples >= 0:
            shifted[:keep] = taps[samples:]
        elif keep > 0:
            shifted[-samples:] = taps[:keep]
        padded = np.concatenate([shifted.reshape(k, n), np.zeros((k, n))], axis=1)
        self._weights = np.fft.rfft(padded, axis=1)
        self._backup = self._weights.copy()
        self._shadow = self._weights.copy()
        self._xspec[:] = 0.0
        self._converged = self._trusted = False
        self._pd = self._pe = _EPS

    def _record(self, out: np.ndarray, p_out: float, p_echo: float, dt: bool) -> None:
        if self._noise is None:
            self._noise = max(p_out, 1.0)
        elif p_out < self._noise:
            self._noise = 0.5 * self._noise + 0.5 * max(p_out, 1.0)
        else:
            self._noise *= 1.01  # rise slowly (about 2 dB a second) to follow the room
        ratio = p_out / (p_echo + self._noise_margin)
        start = self._samples_out / self.rate - self.latency
        self._samples_out += self.block
        info = EchoBlockInfo(
            start=max(0.0, start),
            end=self._samples_out / self.rate - self.latency,
            user_ratio=ratio,
            user_speech_likely=ratio >= self.user_threshold,
            double_talk=dt,
            delay=self._bulk.delay / self.rate,
            erle_db=self.erle_db,
        )
        self._history.append(info)
        self.last = info
