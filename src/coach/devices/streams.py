"""Real audio devices through sounddevice/PortAudio: the speaker and the microphone.

Audio flows one way. ``open_microphone`` captures at the device's own rate, mixes to mono and
hands out fixed 16 kHz int16 ``MicBlock``s; ``open_speaker`` plays float32/int16 PCM utterances
and reports each one as ``Played`` when its last sample has sounded. Callbacks only copy and
enqueue. Times are *stream times* in seconds: PortAudio's clock (on Linux the same as
``time.time()``), shared by the speaker and the microphone, so ``Speaker.reference`` can be
lined up with ``MicBlock.t_start`` for echo cancellation.

Without a sound card use ``open_virtual_speaker`` (same API, plays into memory).
"""

from __future__ import annotations

import queue
import time
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import numpy as np
import soxr

from coach.devices.player import REFERENCE_RATE, Played, Player, VirtualSpeaker, to_float32
from coach.errors import CoachError

__all__ = [
    "DeviceInfo", "MicBlock", "Played", "Speaker", "Microphone", "VirtualSpeaker",
    "list_devices", "resolve_device", "open_speaker", "open_microphone", "open_virtual_speaker",
    "MIC_RATE", "REFERENCE_RATE",
]

MIC_RATE = 16000
"""Hertz: the rate of every ``MicBlock``."""

Kind = Literal["input", "output"]


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device. ``default_rate`` in Hertz."""

    index: int
    name: str
    max_input_channels: int
    max_output_channels: int
    default_rate: float


@dataclass(frozen=True)
class MicBlock:
    """A fixed-size block of microphone audio.

    samples: mono int16 at 16 kHz (``block_ms`` long).
    t_start: stream time (seconds) at which its first sample was captured.
    """

    samples: np.ndarray
    t_start: float


def _sd() -> ModuleType:
    """sounddevice, or a CoachError naming the fix when PortAudio is missing."""
    try:
        import sounddevice
    except OSError as err:
        raise CoachError(
            "audio.no_portaudio",
            f"The PortAudio library could not be loaded ({err}).",
            hint="run scripts/setup (Debian package libportaudio2)",
        ) from err
    return sounddevice


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio sees (empty on a machine without sound)."""
    sd = _sd()
    return [
        DeviceInfo(
            index=i,
            name=str(d["name"]),
            max_input_channels=int(d["max_input_channels"]),
            max_output_channels=int(d["max_output_channels"]),
            default_rate=float(d["default_samplerate"]),
        )
        for i, d in enumerate(sd.query_devices())
    ]


def _channels(d: DeviceInfo, kind: Kind) -> int:
    return d.max_input_channels if kind == "input" else d.max_output_channels


def _describe(devices: list[DeviceInfo]) -> str:
    return "; ".join(
        f"{d.index} '{d.name}' ({d.max_input_channels} in, {d.max_output_channels} out)" for d in devices
    )


def resolve_device(spec: str | int | None, kind: Kind) -> int | None:
    """The PortAudio index for ``spec``: an index, a name substring (case-insensitive; an exact
    name wins, else the first match), or None for the system default. Raises CoachError
    ``audio.no_devices`` when PortAudio sees no device of this kind at all, and
    ``audio.no_device`` naming ``spec`` and listing the devices when nothing matches."""
    devices = list_devices()
    usable = [d for d in devices if _channels(d, kind) > 0]
    if not usable:
        raise CoachError(
            "audio.no_devices",
            f"No audio {kind} device found: PortAudio sees no sound card on this machine.",
            hint="connect a headset or speaker and microphone, or try `coach demo`, which runs without one",
        )
    if spec is None or spec == "":
        return None
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        index = int(spec)
        match = [d for d in usable if d.index == index]
    else:
        needle = str(spec).strip().lower()
        match = [d for d in usable if d.name.lower() == needle] or [
            d for d in usable if needle in d.name.lower()
        ]
    if not match:
        raise CoachError(
            "audio.no_device",
            f"No audio {kind} device matches '{spec}'. {kind.capitalize()} devices: {_describe(usable)}.",
            hint=f"choose an {kind} device from that list, by index or by part of its name",
        )
    return match[0].index


def _info(sd: ModuleType, index: int | None, kind: Kind) -> dict[str, Any]:
    try:
        return dict(sd.query_devices(index, kind))
    except Exception as err:  # PortAudioError / ValueError when there is no default
        raise CoachError(
            "audio.no_devices",
            f"No default audio {kind} device: {err}.",
            hint="connect a sound device, pick one by name, or try `coach demo`",
        ) from err


def _open_stream(make: Any, code: str, what: str) -> Any:
    """``make(channels)`` mono first, then stereo (some devices only take two channels)."""
    last: Exception | None = None
    for channels in (1, 2):
        try:
            return make(channels)
        except Exception as err:
            last = err
    raise CoachError(code, f"Could not open {what}: {last}.",
                     hint="check the device is free and connected, or pick another with its name",
                     ) from last


class Speaker:
    """Plays utterances on an OutputStream (latency 'high', ``block_ms`` blocks).

    ``events`` is a queue.Queue of ``Played`` messages, posted when an utterance's last sample
    has sounded (or when ``stop`` cut it off). Use as a context manager.
    """

    def __init__(self, device: int | None, block_ms: int = 10) -> None:
        sd = _sd()
        info = _info(sd, device, "output")
        self.device_name = str(info["name"])
        self.rate = int(info["default_samplerate"])
        self.block = max(1, int(self.rate * block_ms / 1000))
        self._player = Player(self.rate, self.block * 4)
        self.events: queue.Queue[Played] = self._player.events
        self.error: CoachError | None = None
        self._closing = False
        self._restarting = False
        self._lock = threading.Lock()
        self._stream = self._open(sd, device)
        self.latency = float(self._stream.latency)
        """Seconds from handing a block to the device until it sounds (PortAudio's figure)."""
        self._stream.start()

    def _open(self, sd: ModuleType, device: int | None) -> Any:
        return _open_stream(
            lambda channels: sd.OutputStream(
                device=device, samplerate=self.rate, channels=channels, dtype="float32",
                latency="high", blocksize=self.block, callback=self._callback,
                finished_callback=self._finished),
            "audio.speaker_open", f"the speaker '{self.device_name}'")

    def _callback(self, outdata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        mono = self._player.fill(frames, t.outputBufferDacTime or t.currentTime, t.currentTime)
        outdata[:] = mono[:, None]

    def _finished(self) -> None:
        if not (self._closing or self._restarting):
            self.error = CoachError(
                "audio.speaker_lost",
                f"The speaker '{self.device_name}' stopped playing.",
                hint="check the device is still connected",
            )

    def time(self) -> float:
        """Stream time now (seconds)."""
        return float(self._stream.time)

    def play(self, samples: np.ndarray, rate: int, utterance_id: int) -> None:
        """Queue one utterance: mono int16 or float32 PCM at ``rate`` Hertz (resampled here)."""
        if self.error is not None:
            raise self.error
        self._player.enqueue(to_float32(samples, rate, self.rate), utterance_id)

    def stop(self) -> float:
        """Silence now and drop the queue; returns the stream time of the call (seconds).

        The stream is aborted (which discards what the device had buffered) and restarted, so
        sound ends within about one block; queued and current utterances are reported as
        interrupted ``Played`` messages."""
        with self._lock:
            t = self.time()
            self._player.request_stop()
            if self._stream.active:
                self._restarting = True
                self._stream.abort()
                self._player.fill(0, t, t)  # no callback runs now: drop the queue here
                self._player.flush_pending(t)
                self._stream.start()
                self._restarting = False
            return t

    def set_bed(self, loop: np.ndarray | None, position: int = 0) -> None:
        """Loop ``loop`` (float32 at ``self.rate``) under the voice from sample ``position``;
        None fades it out (``Player.set_bed``). ``stop`` silences the voice only."""
        self._player.set_bed(loop, position)

    @property
    def is_playing(self) -> bool:
        return self._player.is_playing

    def reference(self, t_start: float, n_samples: int, rate: int = REFERENCE_RATE,
                  voice_only: bool = False) -> np.ndarray:
        """What the speaker sounded from stream time ``t_start`` for ``n_samples`` at ``rate``
        Hertz (float32 in [-1, 1]), for echo cancellation against ``MicBlock``s; ``voice_only``:
        the voice alone, without the pacer under it."""
        return self._player.reference(t_start, n_samples, rate, voice_only)

    def close(self) -> None:
        self._closing = True
        try:
            self._stream.abort()
        finally:
            self._stream.close()
            self._player.flush_pending(float("inf"))

    def __enter__(self) -> Speaker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Microphone:
    """Captures at the device's default rate, mono, and hands out fixed 16 kHz int16 blocks.

    ``read`` raises CoachError ``audio.mic_lost`` when the stream fails or no audio arrived for
    ``lost_after`` seconds. Use as a context manager.
    """

    def __init__(self, device: int | None, block_ms: int = 50, lost_after: float = 2.0) -> None:
        sd = _sd()
        info = _info(sd, device, "input")
        self.device_name = str(info["name"])
        self.rate = int(info["default_samplerate"])
        self.block_ms = block_ms
        self.block = int(MIC_RATE * block_ms / 1000)
        self.lost_after = lost_after
        self.overflows = 0
        self._raw: queue.Queue[tuple[np.ndarray, float]] = queue.Queue()
        self._resampler = soxr.ResampleStream(self.rate, MIC_RATE, 1, dtype="float32")
        self._pending = np.zeros(0, dtype=np.float32)
        self._t0: float | None = None
        self._emitted = 0
        self._failed: str | None = None
        self._closing = False
        self._stream = self._open(sd, device, info)
        self._last_arrival = 0.0
        self._stream.start()
        self._last_arrival = max(self._last_arrival, self.time())

    def _open(self, sd: ModuleType, device: int | None, info: dict[str, Any]) -> Any:
        return _open_stream(
            lambda channels: sd.InputStream(
                device=device, samplerate=self.rate, channels=channels, dtype="float32",
                blocksize=int(self.rate * self.block_ms / 1000), callback=self._callback,
                finished_callback=self._finished),
            "audio.mic_open", f"the microphone '{self.device_name}'")

    def _callback(self, indata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        if status.input_overflow:
            self.overflows += 1
        self._last_arrival = t.currentTime
        self._raw.put_nowait((indata.copy(), t.inputBufferAdcTime or t.currentTime))

    def _finished(self) -> None:
        if not self._closing:
            self._failed = "the input stream ended"

    def time(self) -> float:
        """Stream time now (seconds)."""
        return float(self._stream.time)

    def _lost(self, why: str) -> CoachError:
        return CoachError(
            "audio.mic_lost",
            f"The microphone '{self.device_name}' stopped sending audio ({why}).",
            hint="check the microphone is connected and not muted, then start again",
        )

    def read(self, timeout: float = 1.0) -> MicBlock | None:
        """The next ``block_ms`` block, or None if none arrived within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while len(self._pending) < self.block:
            if self._failed:
                raise self._lost(self._failed)
            try:
                raw, t_adc = self._raw.get(timeout=max(0.0, min(0.1, deadline - time.monotonic())))
            except queue.Empty:
                gap = self.time() - self._last_arrival
                if gap >= self.lost_after:
                    raise self._lost(f"no audio for {gap:.1f} s") from None
                if time.monotonic() >= deadline:
                    return None
                continue
            mono = raw[:, 0] if raw.shape[1] == 1 else raw.mean(axis=1)
            if self._t0 is None:
                self._t0 = t_adc
            y = self._resampler.resample_chunk(np.ascontiguousarray(mono, dtype=np.float32))
            self._pending = np.concatenate([self._pending, y]) if len(self._pending) else y
        chunk, self._pending = self._pending[: self.block], self._pending[self.block :]
        t_start = (self._t0 or 0.0) + self._emitted / MIC_RATE
        self._emitted += self.block
        samples = np.clip(np.round(chunk * 32768.0), -32768, 32767).astype(np.int16)
        return MicBlock(samples, t_start)

    def close(self) -> None:
        self._closing = True
        try:
            self._stream.abort()
        finally:
            self._stream.close()

    def __enter__(self) -> Microphone:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_speaker(device: str | int | None = None, block_ms: int = 10) -> Speaker:
    """A real speaker; ``device`` as for ``resolve_device``."""
    return Speaker(resolve_device(device, "output"), block_ms)


def open_microphone(device: str | int | None = None, block_ms: int = 50, lost_after: float = 2.0) -> Microphone:
    """A real microphone giving ``block_ms`` blocks at 16 kHz; ``device`` as for ``resolve_device``."""
    return Microphone(resolve_device(device, "input"), block_ms, lost_after)


def open_virtual_speaker(speed: float = 1.0, rate: int = 16000) -> VirtualSpeaker:
    """A speaker without a sound card, playing into memory at ``speed`` × real time."""
    return VirtualSpeaker(speed, rate)
