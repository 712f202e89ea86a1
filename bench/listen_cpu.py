"""CPU of the whole listening stage per second of audio, in silence and in speech.

What is measured: the process CPU time (``time.process_time``: every thread, native ones
included) of ``Ear.hear`` (echo stage, self-speech filter, recognizer) fed 50 ms blocks, divided
by the seconds of audio fed. The recognizer runs in line (``realtime=False``), so its
transcripts are counted in the same thread. Each backend is measured in the same run on the same
audio, ``--repeats`` times; the median and the spread are printed.

* silence: 60 s of a quiet room (white noise at RMS 30, about -61 dBFS), the coach silent (a
  zero reference), vocabulary of the hold.
* speech: the tune set's read English (``../shared/speech/tune/continuous``, the first 120 s), the
  coach silent, vocabulary of the hold: someone talking nearby the whole time.

Usage: .venv/bin/python bench/listen_cpu.py [--backends whisper,pocketsphinx] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from coach.app import build_ear, load_recognizer
from coach.content import load_content
from coach.pcm import SAMPLE_RATE, read_wav, to_16k_int16

ROOT = Path(__file__).resolve().parents[1]
CONTINUOUS = ROOT.parent / "shared" / "speech" / "tune" / "continuous"
BLOCK = 800


def hold_vocabulary() -> frozenset[str]:
    """What a session listens for during a hold, as ``listen_people`` finds it (a simulated
    session's own listen events)."""
    from listen_people import vocabularies
    return vocabularies()["hold"]


def silence(seconds: float = 60.0) -> np.ndarray:
    noise = np.random.default_rng(0).standard_normal(int(seconds * SAMPLE_RATE)) * 30.0
    return np.round(noise).astype(np.int16)


def speech(seconds: float = 120.0) -> np.ndarray:
    parts, total = [], 0
    for f in sorted(CONTINUOUS.glob("*.wav")):
        x, rate = read_wav(f)
        parts.append(to_16k_int16(x, rate))
        total += len(parts[-1])
        if total >= seconds * SAMPLE_RATE:
            break
    return np.concatenate(parts)[: int(seconds * SAMPLE_RATE)]


def cpu_per_second(backend: str, audio: np.ndarray, content, vocabulary: frozenset[str]) -> float:
    """CPU seconds per audio second of one pass (the model loaded before the clock starts)."""
    recognizer = load_recognizer(backend, realtime=False)
    if hasattr(recognizer, "ready"):
        recognizer.ready(60)
    ear = build_ear(recognizer, content)
    ear.listen_for(vocabulary)
    zero = np.zeros(BLOCK, np.int16)
    c0 = time.process_time()
    for i in range(0, len(audio) - BLOCK + 1, BLOCK):
        ear.hear(audio[i:i + BLOCK], i / SAMPLE_RATE, reference=zero)
    ear.flush(len(audio) / SAMPLE_RATE)
    return (time.process_time() - c0) / (len(audio) / SAMPLE_RATE)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backends", default="whisper,pocketsphinx")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    content = load_content()
    audio = {"silence": silence(), "speech": speech()}
    hold = hold_vocabulary()
    print(f"{'backend':14} {'audio':8} {'seconds':>7}  CPU s per audio s: median (min-max) of "
          f"{args.repeats}")
    for kind, x in audio.items():
        for backend in args.backends.split(","):
            runs = [cpu_per_second(backend, x, content, hold) for _ in range(args.repeats)]
            print(f"{backend:14} {kind:8} {len(x) / SAMPLE_RATE:7.0f}  {statistics.median(runs):.4f} "
                  f"({min(runs):.4f}-{max(runs):.4f})", flush=True)


if __name__ == "__main__":
    main()
