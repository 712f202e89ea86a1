"""Run a WAV file through a recognizer exactly as a live session feeds it.

``hear_file`` reads any WAV (any rate, mono or stereo, 8/16/32-bit PCM or 32-bit float),
converts it to 16 kHz mono, feeds it in fixed blocks through ``accept`` and flushes at the end.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from coach.listen.asr.base import Hypothesis, Recognizer
from coach.pcm import SAMPLE_RATE, read_wav, to_16k_int16


def hear_samples(audio: np.ndarray, recognizer: Recognizer, block_ms: int = 50) -> list[Hypothesis]:
    """Feed 16 kHz int16 audio in ``block_ms`` millisecond blocks, then flush."""
    block = max(1, SAMPLE_RATE * block_ms // 1000)
    out: list[Hypothesis] = []
    for i in range(0, len(audio), block):
        out.extend(recognizer.accept(audio[i:i + block]))
    out.extend(recognizer.flush())
    return out


def hear_file(path: str | Path, recognizer: Recognizer, block_ms: int = 50) -> list[Hypothesis]:
    """What ``recognizer`` hears in a WAV file, fed as a live session would feed it."""
    samples, rate = read_wav(path)
    return hear_samples(to_16k_int16(samples, rate), recognizer, block_ms)
