"""Audio samples as the coach handles them: the one sample rate, conversions, WAV read and write.

Everything that listens works on 16 kHz mono int16 blocks (``SAMPLE_RATE``); synthesis and devices
may use other rates and are converted here. Floats are in -1..1 unless a name says otherwise.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import soxr

from coach.errors import CoachError

SAMPLE_RATE = 16000
"""Hertz: the rate of every block the listening stage, the echo reference and the demo world use."""


def float_to_int16(x: np.ndarray) -> np.ndarray:
    """Float samples in -1..1 as int16 (scaled by 32767, clipped, truncated)."""
    return np.clip(np.asarray(x) * 32767, -32768, 32767).astype(np.int16)


def round_to_int16(x: np.ndarray) -> np.ndarray:
    """Float samples already on the int16 scale (-32768..32767), rounded and clipped."""
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


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


def to_16k_int16(samples: np.ndarray, rate: int) -> np.ndarray:
    """Float mono samples (-1..1) at ``rate`` Hertz as 16 kHz int16."""
    if rate != SAMPLE_RATE:
        samples = soxr.resample(samples, rate, SAMPLE_RATE)
    return float_to_int16(np.clip(samples, -1.0, 1.0))


def active_rms(x: np.ndarray, frame: int = 320) -> float:
    """RMS over the loudest 30 % of ``frame``-sample frames (320: 20 ms at 16 kHz): the level of
    speech, ignoring its pauses. In the samples' own scale."""
    n = len(x) // frame
    if n == 0:
        return float(np.sqrt(np.mean(np.asarray(x, float) ** 2) + 1e-12))
    p = np.sort(np.mean(np.asarray(x[: n * frame], float).reshape(n, frame) ** 2, axis=1))
    return float(np.sqrt(np.mean(p[-max(1, int(0.3 * n)) :]) + 1e-12))


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """(float32 mono samples in -1..1, sample rate in Hertz) of a WAV file: any rate, mono or
    several channels (averaged), 8/16/24/32-bit PCM or 32/64-bit float. A file that cannot be
    read or is not a WAV is a ``CoachError`` naming it and the fix."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError as err:
        raise CoachError("audio.no_file", f"{path} is a folder, not a WAV file",
                         "give the path of a WAV file") from err
    except OSError as err:
        raise CoachError("audio.no_file", f"cannot read {path}: {err.strerror}",
                         "check the path of the WAV file") from err
    try:
        with wave.open(str(path)) as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            data = w.readframes(w.getnframes())
        samples = _pcm_to_float(data, width)
    except (wave.Error, EOFError) as err:
        if b"WAVE" in raw[:12] and len(raw) > 44:
            samples, rate, channels = _read_float_wav(raw, path)
        else:
            why = "empty" if not raw else str(err) or f"too short: {len(raw)} bytes"
            raise CoachError("audio.bad_wav", f"{path} is not a WAV file ({why})",
                             "give a RIFF/WAVE file (e.g. convert with sox)") from err
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples.astype(np.float32), rate


def read_wav_16k(path: str | Path) -> np.ndarray:
    """A WAV file as 16 kHz mono int16 (resampled with soxr if needed)."""
    samples, rate = read_wav(path)
    if rate == SAMPLE_RATE:
        return round_to_int16(samples * 32768.0)
    return round_to_int16(soxr.resample(samples * 32768.0, rate, SAMPLE_RATE))


def write_wav(path: str | Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """Write 16-bit PCM at ``rate`` Hertz: ``samples`` int16 or float in -1..1, shape (n,) for
    mono or (n, channels). Creates the parent folder."""
    path = Path(path)
    x = np.asarray(samples)
    if x.dtype != np.int16:
        x = round_to_int16(x * 32767.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if x.ndim == 1 else x.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.astype("<i2").tobytes())
    return path


def _pcm_to_float(data: bytes, width: int) -> np.ndarray:
    if width == 1:
        return (np.frombuffer(data, np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
    if width == 3:
        b = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        v = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8
        return v.astype(np.float32) / 8388608.0
    if width == 4:
        return np.frombuffer(data, "<i4").astype(np.float32) / 2147483648.0
    raise wave.Error(f"unsupported sample width {width}")


def _read_float_wav(raw: bytes, path: Path) -> tuple[np.ndarray, int, int]:
    """Parse a WAVE_FORMAT_IEEE_FLOAT (or extensible float) file, which ``wave`` refuses."""
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], int.from_bytes(raw[pos + 4:pos + 8], "little")
        body = raw[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            data = body
        pos += 8 + size + (size & 1)
    if fmt is None or data is None or len(fmt) < 16:
        raise CoachError("audio.bad_wav", f"{path} has no fmt or data chunk", "re-export the WAV")
    tag = int.from_bytes(fmt[0:2], "little")
    channels = int.from_bytes(fmt[2:4], "little")
    rate = int.from_bytes(fmt[4:8], "little")
    bits = int.from_bytes(fmt[14:16], "little")
    if tag == 0xFFFE and len(fmt) >= 26:
        tag = int.from_bytes(fmt[24:26], "little")
    if tag != 3 or bits not in (32, 64) or channels < 1:
        raise CoachError("audio.bad_wav", f"{path}: unsupported WAV format tag {tag}/{bits} bit",
                         "convert to 16-bit PCM: sox in.wav -b 16 out.wav")
    samples = np.frombuffer(data[: len(data) // (bits // 8) * (bits // 8)],
                            "<f4" if bits == 32 else "<f8").astype(np.float32)
    return samples, rate, channels
