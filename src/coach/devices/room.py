"""Measurement tools for the echo stage: real speech, a simulated room, a plain keyword spotter.

- ``speak``: render text with the espeak-ng program, resampled to 16 kHz int16 (soxr).
- ``room_echo``: what a microphone hears of played audio: attenuated (decibels), delayed
  (seconds), with an exponentially decaying reverberation tail (seconds to -60 dB).
- ``KeywordSpotter``: pocketsphinx 5.x in keyword-spotting mode, fed 16 kHz int16 blocks; returns
  the keywords heard with their time. A plain stand-in for the real recognizer backend, used to
  count what the echo stage changes.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from coach.errors import CoachError
from coach.pcm import SAMPLE_RATE, active_rms, read_wav_16k  # noqa: F401 (active_rms: re-exported)

def speak(text: str, voice: str = "en-us", speed: int = 160) -> np.ndarray:
    """``text`` spoken by espeak-ng (``voice``, ``speed`` words per minute) as 16 kHz int16."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise CoachError("tts.no_espeak", "espeak-ng program not found", "run scripts/setup")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "line.wav"
        subprocess.run([program, "-v", voice, "-s", str(speed), "-w", str(path), text],
                       check=True, capture_output=True, timeout=30)
        return read_wav_16k(path)


def room_echo(played: np.ndarray, gain_db: float, delay: float, reverb: float = 0.06,
              seed: int = 0) -> np.ndarray:
    """What the microphone hears of ``played`` (int16): ``gain_db`` decibels (negative),
    ``delay`` seconds later, plus a reverberation tail decaying by 60 dB in ``reverb`` seconds
    (a few early reflections and diffuse noise, about 8 dB below the direct sound).
    Returns float64 samples, same length as ``played``."""
    rng = np.random.default_rng(seed)
    length = int(reverb * SAMPLE_RATE)
    t = np.arange(length) / SAMPLE_RATE
    tail = rng.standard_normal(length) * 10 ** (-3 * t / max(reverb, 1e-3))
    tail *= 0.4 / np.sqrt(np.sum(tail**2) + 1e-12)  # diffuse energy -8 dB vs direct
    rir = np.concatenate([[1.0], np.zeros(int(0.002 * SAMPLE_RATE)), tail])
    for when, amp in ((0.004, 0.35), (0.009, -0.25), (0.017, 0.15)):  # early reflections
        rir[int(when * SAMPLE_RATE)] += amp
    lag = int(round(delay * SAMPLE_RATE))
    wet = np.convolve(played.astype(np.float64), rir)[: len(played)]
    out = np.zeros(len(played))
    out[lag:] = wet[: len(played) - lag]
    return out * 10 ** (gain_db / 20)


@dataclass(frozen=True)
class Spotted:
    """A keyword heard: ``word`` and ``time`` in seconds of audio fed (when it was reported)."""

    word: str
    time: float


class KeywordSpotter:
    """pocketsphinx 5.x keyword spotting over 16 kHz int16 blocks.

    keywords: phrase -> detection threshold (pocketsphinx ``kws`` thresholds, e.g. 1e-20; smaller
    catches more).
    """

    def __init__(self, keywords: dict[str, float]) -> None:
        from pocketsphinx import Config, Decoder

        self._tmp = tempfile.NamedTemporaryFile("w", suffix=".kws", delete=False)
        for phrase, threshold in keywords.items():
            self._tmp.write(f"{phrase} /{threshold:g}/\n")
        self._tmp.close()
        config = Config(kws=self._tmp.name, loglevel="FATAL")
        self._decoder = Decoder(config)
        self._decoder.start_utt()
        self._samples = 0
        self.heard: list[Spotted] = []

    def accept(self, block: np.ndarray) -> list[Spotted]:
        self._decoder.process_raw(np.asarray(block, np.int16).tobytes(), False, False)
        self._samples += len(block)
        hyp = self._decoder.hyp()
        if hyp is None or not hyp.hypstr:
            return []
        found = [Spotted(w.strip(), self._samples / SAMPLE_RATE) for w in hyp.hypstr.split("  ") if w.strip()]
        self._decoder.end_utt()
        self._decoder.start_utt()
        self.heard.extend(found)
        return found

    def close(self) -> None:
        self._decoder.end_utt()
        Path(self._tmp.name).unlink(missing_ok=True)


def spot(audio: np.ndarray, keywords: dict[str, float], block: int = 800) -> list[Spotted]:
    """Run ``audio`` (int16) through a fresh ``KeywordSpotter`` in blocks; return what it heard."""
    spotter = KeywordSpotter(keywords)
    try:
        for i in range(0, len(audio) - block + 1, block):
            spotter.accept(audio[i : i + block])
        return spotter.heard
    finally:
        spotter.close()


def blocks(*signals: np.ndarray, block: int = 800) -> Iterable[Sequence[np.ndarray]]:
    """Cut equal-length signals into aligned blocks (a trailing partial block is dropped)."""
    for i in range(0, len(signals[0]) - block + 1, block):
        yield tuple(s[i : i + block] for s in signals)
