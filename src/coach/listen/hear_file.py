"""Run a WAV file through a recognizer exactly as a live session feeds it.

``hear_file`` reads any WAV (any rate, mono or stereo, 8/16/32-bit PCM or 32-bit float),
converts it to 16 kHz mono, feeds it in fixed blocks through ``accept`` and flushes at the end.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import soxr

from coach.listen.asr.base import Hypothesis, Recognizer

from coach.pcm import SAMPLE_RATE
from coach.errors import CoachError


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """(float32 mono samples in -1..1, sample rate in Hertz) of a WAV file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise CoachError("audio.no_file", f"cannot read {path}: {err.strerror}",
                         "check the path of the WAV file") from err
    try:
        with wave.open(str(path)) as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            data = w.readframes(w.getnframes())
        samples = _pcm_to_float(data, width)
    except wave.Error as err:
        if b"WAVE" in raw[:12] and len(raw) > 44:
            samples, rate, channels = _read_float_wav(raw, path)
        else:
            raise CoachError("audio.bad_wav", f"{path} is not a WAV file ({err})",
                             "give a RIFF/WAVE file (e.g. convert with sox)") from err
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples.astype(np.float32), rate


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
    if fmt is None or data is None:
        raise CoachError("audio.bad_wav", f"{path} has no fmt or data chunk", "re-export the WAV")
    tag = int.from_bytes(fmt[0:2], "little")
    channels = int.from_bytes(fmt[2:4], "little")
    rate = int.from_bytes(fmt[4:8], "little")
    bits = int.from_bytes(fmt[14:16], "little")
    if tag == 0xFFFE and len(fmt) >= 26:
        tag = int.from_bytes(fmt[24:26], "little")
    if tag != 3 or bits not in (32, 64):
        raise CoachError("audio.bad_wav", f"{path}: unsupported WAV format tag {tag}/{bits} bit",
                         "convert to 16-bit PCM: sox in.wav -b 16 out.wav")
    samples = np.frombuffer(data[: len(data) // (bits // 8) * (bits // 8)],
                            "<f4" if bits == 32 else "<f8").astype(np.float32)
    return samples, rate, channels


def to_16k_int16(samples: np.ndarray, rate: int) -> np.ndarray:
    """Resample float mono samples (-1..1) at ``rate`` Hertz to 16 kHz int16."""
    if rate != SAMPLE_RATE:
        samples = soxr.resample(samples, rate, SAMPLE_RATE)
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


def hear_samples(audio: np.ndarray, recognizer: Recognizer, block_ms: int = 50) -> list[Hypothesis]:
    """Feed 16 kHz int16 audio in ``block_ms`` millisecond blocks, then flush."""
    block = max(1, SAMPLE_RATE * block_ms // 1000)
    out: list[Hypothesis] = []
    for i in range(0, len(audio), block):
        out.extend(recognizer.accept(audio[i:i + block]))
    flush = getattr(recognizer, "flush", None)
    if flush is not None:
        out.extend(flush())
    return out


def hear_file(path: str | Path, recognizer: Recognizer, block_ms: int = 50) -> list[Hypothesis]:
    """What ``recognizer`` hears in a WAV file, fed as a live session would feed it."""
    samples, rate = read_wav(path)
    return hear_samples(to_16k_int16(samples, rate), recognizer, block_ms)


def load_recognizer(backend: str | None = None, model: str | None = None) -> Recognizer:
    """The recognizer to use: ``vosk`` when a vosk model is found (``--model``, COACH_VOSK_MODEL,
    or models/), else the embedded ``pocketsphinx``; ``backend`` forces one."""
    from coach.listen.asr.vosk_models import find_vosk_model

    if backend in (None, "", "vosk"):
        found = find_vosk_model(model)
        if found is not None:
            from coach.listen.asr.vosk_backend import VoskRecognizer

            return VoskRecognizer(found)
        if backend == "vosk":
            raise CoachError("asr.no_model", "the vosk backend needs a model, and none is installed",
                             "run scripts/get-model, or pass --model PATH / set COACH_VOSK_MODEL")
    if backend in (None, "", "pocketsphinx"):
        from coach.listen.asr.sphinx.recognizer import PocketsphinxRecognizer

        return PocketsphinxRecognizer()
    raise CoachError("asr.backend", f"unknown recognizer backend {backend!r}",
                     "use pocketsphinx or vosk")
