"""Real audio devices for tests: a private PulseAudio server and helpers to talk to it.

Import the fixture into a test module (``from audio_fixtures import pulse_server``) or list this
module in ``pytest_plugins``. The server (scripts/pulse-test-server) has null sinks
``coach_speaker`` (the coach plays there) and ``user_voice`` (a simulated user speaks there), and
the virtual microphone ``coach_mic`` hears ``user_voice``. Each test session gets its own server
in a fresh directory, so sessions running side by side do not disturb each other.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "pulse-test-server"
BINARIES = ("pulseaudio", "pactl", "pacat", "paplay", "parecord")
SPEAKER_SINK = "coach_speaker"
USER_SINK = "user_voice"


def reinit_portaudio() -> None:
    """Make PortAudio enumerate devices again (it does so only at initialisation, and the ALSA
    ``pulse`` device is only listed if the server named by PULSE_SERVER answers then)."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


@pytest.fixture(scope="session")
def pulse_server() -> Iterator[dict[str, str]]:
    """Start a private PulseAudio server for the session; yields the environment it set."""
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        reason = f"PulseAudio programs missing: {', '.join(missing)} (run scripts/setup --test)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    pulse_dir = tempfile.mkdtemp(prefix="coach-pulse-")  # short path: unix sockets max 107 bytes
    env = dict(os.environ, COACH_PULSE_DIR=pulse_dir)
    proc = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        pytest.fail(f"scripts/pulse-test-server start failed: {proc.stderr.strip()}")
    out = subprocess.run([str(SCRIPT), "env"], env=env, capture_output=True, text=True, check=True).stdout
    new = {}
    for line in out.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        new[name] = value
    saved = {k: os.environ.get(k) for k in [*new, "PULSE_SINK", "PULSE_SOURCE"]}
    os.environ.update(new)
    os.environ.pop("PULSE_SINK", None)
    os.environ.pop("PULSE_SOURCE", None)
    reinit_portaudio()
    try:
        yield new
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=30)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reinit_portaudio()
        shutil.rmtree(pulse_dir, ignore_errors=True)


def pulse_script(*args: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/pulse-test-server with the test server's environment (e.g. ``echo on``)."""
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=30, check=True)


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Write mono int16 (or float in [-1, 1]) samples at ``rate`` Hertz."""
    x = np.asarray(samples)
    if x.dtype != np.int16:
        x = np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).copy(), w.getframerate()


def play_into_mic(sound: Path | str | np.ndarray, rate: int = 16000, wait: bool = True) -> subprocess.Popen[bytes]:
    """The simulated user says ``sound`` (a WAV path, or samples at ``rate`` Hertz) into
    ``user_voice`` with paplay; the virtual microphone ``coach_mic`` hears it."""
    temp = isinstance(sound, np.ndarray)
    if isinstance(sound, np.ndarray):
        fd, name = tempfile.mkstemp(suffix=".wav", prefix="coach-say-")
        os.close(fd)
        path = write_wav(Path(name), sound, rate)
    else:
        path = Path(sound)
    proc = subprocess.Popen(["paplay", f"--device={USER_SINK}", "--latency-msec=20", str(path)])
    if wait:
        proc.wait(timeout=60)
        if temp:
            path.unlink(missing_ok=True)
    return proc


def _source_outputs() -> int:
    out = subprocess.run(["pactl", "list", "short", "source-outputs"], capture_output=True, text=True).stdout
    return len(out.splitlines())


class SpeakerRecording:
    """parecord of ``coach_speaker.monitor`` running in the background (mono int16 at ``rate``)."""

    def __init__(self, rate: int = 16000, sink: str = SPEAKER_SINK) -> None:
        self.rate = rate
        fd, name = tempfile.mkstemp(suffix=".raw", prefix="coach-rec-")
        os.close(fd)
        self._path = Path(name)
        before = _source_outputs()
        self._proc = subprocess.Popen([
            "parecord", f"--device={sink}.monitor", "--raw", "--format=s16le", f"--rate={rate}",
            "--channels=1", "--latency-msec=10", str(self._path),
        ])
        deadline = time.monotonic() + 5.0
        while _source_outputs() <= before and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> np.ndarray:
        self._proc.terminate()
        self._proc.wait(timeout=10)
        data = np.fromfile(self._path, dtype=np.int16)
        self._path.unlink(missing_ok=True)
        return data


def record_speaker(seconds: float, rate: int = 16000) -> np.ndarray:
    """What the coach's speaker sounds during the next ``seconds`` (blocking)."""
    rec = SpeakerRecording(rate)
    time.sleep(seconds)
    return rec.stop()


@contextlib.contextmanager
def monitor_microphone(sink: str = SPEAKER_SINK, block_ms: int = 20) -> Iterator[object]:
    """A ``coach.devices.streams.Microphone`` on ``<sink>.monitor``: records the speaker in this process,
    on the same stream clock as the speaker, so times can be compared (PULSE_SOURCE is read by
    the ALSA pulse plugin when the stream opens)."""
    from coach.devices import streams as audio

    old = os.environ.get("PULSE_SOURCE")
    os.environ["PULSE_SOURCE"] = f"{sink}.monitor"
    try:
        mic = audio.open_microphone(block_ms=block_ms)
    finally:
        if old is None:
            os.environ.pop("PULSE_SOURCE", None)
        else:
            os.environ["PULSE_SOURCE"] = old
    try:
        yield mic
    finally:
        mic.close()


def best_lag(signal: np.ndarray, template: np.ndarray) -> tuple[int, float]:
    """(lag in samples, normalised correlation) of ``template`` inside ``signal``."""
    x = signal.astype(np.float64)
    t = template.astype(np.float64)
    n = len(x) + len(t)
    cc = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(t, n)), n)[: len(x) - len(t) + 1]
    lag = int(np.argmax(cc))
    seg = x[lag : lag + len(t)]
    denom = np.linalg.norm(seg) * np.linalg.norm(t)
    return lag, float(cc[lag] / denom) if denom > 0 else 0.0
