"""The speaker's core, shared by the real speaker and the virtual one (no sound card).

``Player`` keeps the queue of utterances, fills output blocks from it, answers ``stop`` within
one block, reports finished utterances as ``Played`` messages, and remembers what it handed to
the device (a ring buffer with stream times) so that echo cancellation can ask what was sounding
at any moment (``reference``). ``fill`` is what runs in the audio callback: it only copies into
preallocated arrays and enqueues messages, it never blocks.

``VirtualSpeaker`` drives a ``Player`` from a thread at real or accelerated time and keeps every
block it "played", so a demo without a sound card can be written to a WAV file.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path
import numpy as np
import soxr

REFERENCE_RATE = 16000
"""Hertz: the rate of the echo reference signal (the recognizer's rate)."""
BED_FADE = 0.03
"""Seconds over which a new loop under the voice fades in (and the one before fades out)."""


@dataclass(frozen=True)
class Played:
    """An utterance left the speaker.

    utterance_id: the id given to ``play``.
    interrupted: True if ``stop`` cut it off (or dropped it before it started).
    t_end: stream time (seconds) at which its last sample sounded (or the silence began).
    """

    utterance_id: int
    interrupted: bool
    t_end: float


def to_float32(samples: np.ndarray, rate: int, device_rate: int) -> np.ndarray:
    """Mono float32 in [-1, 1] at ``device_rate`` (Hertz) from int16 or float PCM at ``rate``."""
    x = np.asarray(samples)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if x.dtype == np.int16:
        y = x.astype(np.float32) / 32768.0
    else:
        y = x.astype(np.float32, copy=False)
    if rate != device_rate and len(y):
        y = soxr.resample(y, rate, device_rate).astype(np.float32, copy=False)
    return np.ascontiguousarray(y)


class Player:
    """Utterance queue + reference ring. ``rate`` in Hertz; ``ring_seconds`` of history kept."""

    def __init__(self, rate: int, max_block: int, ring_seconds: float = 10.0) -> None:
        self.rate = rate
        self.events: queue.Queue[Played] = queue.Queue()
        self._queue: collections.deque[tuple[int, int, np.ndarray]] = collections.deque()
        self._current: tuple[int, np.ndarray] | None = None
        self._current_gen = 0
        self._pos = 0
        self._generation = 0
        self._pending: list[tuple[int, float]] = []
        self._scratch = np.zeros(max_block, dtype=np.float32)
        self._ring = np.zeros(int(ring_seconds * rate), dtype=np.float32)
        self._voice_ring = np.zeros_like(self._ring)  # the same, without the loop under the voice
        self._written = 0
        n_blocks = int(ring_seconds * rate) // max(1, max_block // 4) + 16
        self._block_t = np.zeros(n_blocks, dtype=np.float64)
        self._block_i = np.zeros(n_blocks, dtype=np.int64)
        self._blocks = 0
        # the loop under the voice (the breathing pacer): set by set_bed, mixed in by fill
        self._bed_request: tuple[int, np.ndarray | None, int] = (0, None, 0)
        self._bed_seen = 0
        self._bed: np.ndarray | None = None
        self._bed_pos = 0
        self._old_bed: np.ndarray | None = None
        self._old_pos = 0
        self._fade_len = max(1, int(BED_FADE * rate))
        self._fade = 0
        self._ramp_up = np.linspace(0.0, 1.0, self._fade_len, dtype=np.float32)
        self._ramp_down = np.ascontiguousarray(self._ramp_up[::-1])
        self._bed_scratch = np.zeros(max_block, dtype=np.float32)
        self._voice_scratch = np.zeros(max_block, dtype=np.float32)
        self.voice_block = self._voice_scratch[:0]
        """The voice alone (without the loop under it) in the block ``fill`` returned last."""

    # --- caller side -------------------------------------------------------------------------
    def enqueue(self, samples: np.ndarray, utterance_id: int) -> None:
        self._queue.append((self._generation, utterance_id, samples))

    def request_stop(self) -> None:
        """Drop the current and queued utterances at the next ``fill``."""
        self._generation += 1

    def set_bed(self, loop: np.ndarray | None, position: int = 0) -> None:
        """From the next block, play ``loop`` (float32 at this player's rate) over and over under
        the utterances, from its sample ``position``, cross-faded from the loop before over
        ``BED_FADE``; None fades the loop out. ``request_stop`` (the voice's silence) leaves it
        playing; what it plays is in ``reference`` like the voice."""
        self._bed_request = (self._bed_request[0] + 1, loop,
                             position % len(loop) if loop is not None and len(loop) else 0)

    @property
    def has_bed(self) -> bool:
        """True while a loop plays (or fades) under the voice."""
        return self._bed is not None or self._old_bed is not None

    @property
    def is_playing(self) -> bool:
        """True while an utterance is queued, playing, or still sounding in the device buffer."""
        return self._current is not None or bool(self._queue) or bool(self._pending)

    @property
    def sounding(self) -> int | None:
        """The utterance being played (or next in the queue); None when nothing is."""
        if self._current is not None and self._current_gen == self._generation:
            return self._current[0]
        for gen, uid, _ in self._queue:
            if gen == self._generation:
                return uid
        return None

    # --- audio side (callback: copy and enqueue only) ----------------------------------------
    def fill(self, frames: int, t_dac: float, t_now: float) -> np.ndarray:
        """Fill and return the next ``frames`` mono float32 samples (a view of a scratch buffer).

        t_dac: stream time (seconds) at which the first of these samples will sound.
        t_now: stream time now; utterances whose last sample has sounded by then are reported.
        """
        out = self._scratch[:frames]
        gen = self._generation
        if self._current is not None and self._current_gen != gen:
            self._post(Played(self._current[0], True, t_dac))
            self._current = None
        while self._queue and self._queue[0][0] != gen:
            _, uid, _ = self._queue.popleft()
            self._post(Played(uid, True, t_dac))
        k = 0
        while k < frames:
            if self._current is None:
                if not self._queue:
                    break
                self._current_gen, uid, samples = self._queue.popleft()
                self._current = (uid, samples)
                self._pos = 0
            uid, samples = self._current
            n = min(frames - k, len(samples) - self._pos)
            out[k : k + n] = samples[self._pos : self._pos + n]
            k += n
            self._pos += n
            if self._pos >= len(samples):
                self._pending.append((uid, t_dac + k / self.rate))
                self._current = None
        out[k:] = 0.0
        self.voice_block = self._voice_scratch[:frames]
        self.voice_block[:] = out
        self._mix_bed(out)
        self._remember(out, t_dac)
        if self._pending:
            due = [p for p in self._pending if p[1] <= t_now]
            if due:
                self._pending = [p for p in self._pending if p[1] > t_now]
                for uid, t_end in due:
                    self._post(Played(uid, False, t_end))
        return out

    def _mix_bed(self, out: np.ndarray) -> None:
        """Add the loop under the voice to ``out`` (in place), with any cross-fade under way."""
        serial, loop, position = self._bed_request
        if serial != self._bed_seen:
            self._bed_seen = serial
            self._old_bed, self._old_pos = self._bed, self._bed_pos
            self._bed, self._bed_pos = (loop if loop is not None and len(loop) else None), position
            self._fade = self._fade_len
        done, f = self._fade_len - self._fade, min(self._fade, len(out))
        if self._bed is not None:
            self._bed_pos = self._add_loop(out, self._bed, self._bed_pos, self._ramp_up[done:done + f])
        if self._old_bed is not None and f:
            self._old_pos = self._add_loop(out[:f], self._old_bed, self._old_pos,
                                           self._ramp_down[done:done + f])
        self._fade -= f
        if self._fade == 0:
            self._old_bed = None

    def _add_loop(self, out: np.ndarray, loop: np.ndarray, pos: int, ramp: np.ndarray) -> int:
        """Add ``loop`` from ``pos`` (wrapping) to ``out``, its first samples times ``ramp``;
        returns the position after."""
        buf = self._bed_scratch[:len(out)]
        k = 0
        while k < len(out):
            m = min(len(out) - k, len(loop) - pos)
            buf[k:k + m] = loop[pos:pos + m]
            k, pos = k + m, (pos + m) % len(loop)
        if len(ramp):
            np.multiply(buf[:len(ramp)], ramp, out=buf[:len(ramp)])
        np.add(out, buf, out=out)
        return pos

    def flush_pending(self, t_now: float) -> None:
        """Report utterances already sounded by ``t_now`` (when no callback runs, e.g. at close)."""
        for uid, t_end in self._pending:
            self._post(Played(uid, t_end > t_now, min(t_end, t_now)))
        self._pending = []

    def _post(self, msg: Played) -> None:
        self.events.put_nowait(msg)

    def _remember(self, out: np.ndarray, t_dac: float) -> None:
        n = len(out)
        size = len(self._ring)
        start = self._written % size
        first = min(n, size - start)
        self._ring[start : start + first] = out[:first]
        self._ring[: n - first] = out[first:]
        self._voice_ring[start : start + first] = self.voice_block[:first]
        self._voice_ring[: n - first] = self.voice_block[first:]
        b = self._blocks % len(self._block_t)
        self._block_t[b] = t_dac
        self._block_i[b] = self._written
        self._written += n
        self._blocks += 1

    # --- echo reference ----------------------------------------------------------------------
    def reference(self, t_start: float, n_samples: int, rate: int = REFERENCE_RATE,
                  voice_only: bool = False) -> np.ndarray:
        """What the speaker sounded from stream time ``t_start`` (seconds) for ``n_samples`` at
        ``rate`` Hertz, as float32 in [-1, 1]; zeros where nothing was (or is yet) known.
        ``voice_only``: the utterances alone, without the loop under them."""
        ring = self._voice_ring if voice_only else self._ring
        blocks = self._blocks
        written = self._written
        out = np.zeros(n_samples, dtype=np.float32)
        if blocks == 0 or n_samples <= 0:
            return out
        nb = len(self._block_t)
        lo = max(0, blocks - nb + 1)
        idx = None
        for b in range(blocks - 1, lo - 1, -1):
            t_b = self._block_t[b % nb]
            if t_b <= t_start:
                idx = int(self._block_i[b % nb] + round((t_start - t_b) * self.rate))
                break
        if idx is None:  # before the oldest block we know: start from it, shifted
            b = lo % nb
            idx = int(self._block_i[b] + round((t_start - self._block_t[b]) * self.rate))
        margin = int(0.01 * self.rate)
        n_dev = int(np.ceil(n_samples * self.rate / rate))
        a, z = idx - margin, idx + n_dev + margin
        seg = np.zeros(z - a, dtype=np.float32)
        oldest = max(0, written - len(self._ring) + 1)
        ra, rz = max(a, oldest), min(z, written)
        if rz > ra:
            size = len(ring)
            pos = np.arange(ra, rz) % size
            seg[ra - a : rz - a] = ring[pos]
        y = seg if rate == self.rate else soxr.resample(seg, self.rate, rate)
        off = int(round(margin * rate / self.rate))
        got = y[off : off + n_samples]
        out[: len(got)] = got
        return out


class VirtualSpeaker:
    """A speaker without a sound card: plays into memory at ``speed`` × real time.

    Same API as ``audio.Speaker``. Its stream time starts at 0 and advances with the audio it
    plays (seconds of audio), so at speed 10 a minute of session takes six seconds.
    """

    def __init__(self, speed: float = 1.0, rate: int = 16000, block_ms: int = 20) -> None:
        if not speed > 0 or speed == float("inf"):
            raise ValueError(f"speed must be a positive finite number, got {speed}")
        self.speed = speed
        self.rate = rate
        self.block = int(rate * block_ms / 1000)
        self.latency = 0.0
        self._player = Player(rate, self.block)
        self.events = self._player.events
        self._chunks: list[np.ndarray] = []
        self._frames = 0
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="virtual-speaker", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        period = self.block / self.rate / self.speed
        deadline = time.monotonic()
        while not self._closed.is_set():
            t = self._frames / self.rate
            out = self._player.fill(self.block, t, t)
            self._chunks.append(np.clip(out * 32768.0, -32768, 32767).astype(np.int16))
            self._frames += self.block
            deadline += period
            delay = deadline - time.monotonic()
            if delay > 0:
                self._closed.wait(delay)
            else:
                deadline = time.monotonic()

    def time(self) -> float:
        """Stream time now (seconds of audio played since open)."""
        return self._frames / self.rate

    def play(self, samples: np.ndarray, rate: int, utterance_id: int) -> None:
        self._player.enqueue(to_float32(samples, rate, self.rate), utterance_id)

    def stop(self) -> float:
        """Silence at the next block and drop the queue; returns the stream time of the call."""
        t = self.time()
        self._player.request_stop()
        return t

    def set_bed(self, loop: np.ndarray | None, position: int = 0) -> None:
        """A loop under the voice (``Player.set_bed``), at this speaker's rate."""
        self._player.set_bed(loop, position)

    @property
    def is_playing(self) -> bool:
        return self._player.is_playing

    def reference(self, t_start: float, n_samples: int, rate: int = REFERENCE_RATE,
                  voice_only: bool = False) -> np.ndarray:
        return self._player.reference(t_start, n_samples, rate, voice_only)

    def recording(self) -> np.ndarray:
        """Everything played so far (int16 at ``rate`` Hertz), silences included."""
        chunks = list(self._chunks)
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)

    def write_wav(self, path: str | Path) -> Path:
        path = Path(path)
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            w.writeframes(self.recording().tobytes())
        return path

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=2.0)
        self._player.flush_pending(self.time())

    def __enter__(self) -> VirtualSpeaker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
