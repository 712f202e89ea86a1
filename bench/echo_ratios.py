"""The self-speech filter's margin: user/echo ratios of the coach's own echo vs a person's "stop".

``SelfSpeechFilter`` keeps "stop"/"too painful" heard while the coach plays when the echo stage's
``user_ratio`` over the words is at least ``min_user_ratio`` (1.0), and needs
``min_ratio_own_words`` (2.0) for anything else. This measures both sides of that bar in a
simulated room (``echo_sim.room_echo``: echo gain, bulk delay, reverberation, microphone noise):

- **echo alone**: every content line (espeak-ng) played in turn; the ratio the Ear would see for
  a word-sized span (0.5 s, sliding by 0.1 s) anywhere in a line or its 0.9 s tail, i.e. what a
  misrecognition of the coach's own voice would be judged by;
- **a person over the coach**: each real "stop" (shared/speech sample, 10 people) starting
  inside a line, at several user-to-echo levels at the microphone (SER); the ratio over the
  word's own span (its loud frames).

    .venv/bin/python bench/echo_ratios.py          # about 2 minutes; prints a table
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from coach.asr import echo_sim as S  # noqa: E402
from coach.asr.echo import EchoSuppressor  # noqa: E402
import bench_common as bc  # noqa: E402

TAIL = 0.9  # the Ear's echo tail (ECHO_TAIL + the suppressor's largest bulk delay)
SPAN = 0.5  # seconds of a short word, as the recognizer reports it
BARS = (1.0, 1.2, 1.5, 2.0, 3.0)
SERS = (6.0, 0.0, -6.0, -12.0)  # user level - echo level at the microphone, dB


def narration(gap: float = 0.6) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Every content line (placeholders filled), spoken by espeak-ng, with ``gap`` seconds between lines."""
    texts = sorted({text for _, text in bc.narration_lines()})
    parts, spans, t = [], [], 1.0
    parts.append(np.zeros(int(t * S.RATE), np.int16))
    for text in texts:
        audio = S.speak(text)
        spans.append((t, t + len(audio) / S.RATE))
        parts += [audio, np.zeros(int(gap * S.RATE), np.int16)]
        t += len(audio) / S.RATE + gap
    return np.concatenate(parts), spans


def clean(mic: np.ndarray, play: np.ndarray) -> EchoSuppressor:
    sup = EchoSuppressor(history=3600.0)
    for m, r in S.blocks(mic, play):
        sup.process(m, r)
    return sup


def word_span(clip: np.ndarray, frame: int = 320) -> tuple[float, float]:
    """Seconds of the first and last frame within 20 dB of the clip's loudest."""
    n = len(clip) // frame
    p = np.mean(clip[: n * frame].astype(float).reshape(n, frame) ** 2, axis=1)
    loud = np.flatnonzero(p >= p.max() / 100)
    return loud[0] * frame / S.RATE, (loud[-1] + 1) * frame / S.RATE


def echo_only_ratios(sup: EchoSuppressor, spans, settle: float = 5.0) -> np.ndarray:
    out = []
    for a, b in spans:
        if a < settle:
            continue
        t = a
        while t + SPAN <= b + TAIL:
            out.append(sup.user_ratio_between(t, t + SPAN))
            t += 0.1
    return np.array(out)


def user_ratios(play, echo, noise, spans, stops, ser_db: float) -> list[float]:
    """Each stop placed inside a line (one per line from the third), scaled to ``ser_db``."""
    level = S.active_rms(echo) * 10 ** (ser_db / 20)
    user = np.zeros(len(play))
    where = []
    lines = [s for s in spans if s[0] > 5.0 and s[1] - s[0] > 1.5]
    for (a, b), clip in zip(lines, stops):
        start = int((a + 0.5) * S.RATE)
        piece = clip.astype(float) * (level / S.active_rms(clip))
        user[start: start + len(piece)] += piece[: len(user) - start]
        w0, w1 = word_span(clip)
        where.append((start / S.RATE + w0, start / S.RATE + w1))
    sup = clean(S.to_int16(echo + noise + user), play)
    lag = sup.latency
    return [sup.user_ratio_between(a + lag, b + lag) for a, b in where]


def fmt(x: np.ndarray | list[float]) -> str:
    x = np.sort(np.asarray(x))
    return (f"n {len(x):4d}  min {x[0]:8.2f}  p50 {np.median(x):8.2f}  "
            f"p99 {np.percentile(x, 99):8.2f}  max {x[-1]:8.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one room only")
    args = ap.parse_args()
    t0 = time.time()
    play, spans = narration()
    stops = _stops()
    print(f"narration {len(play) / S.RATE:.0f} s, {len(spans)} lines; {len(stops)} real 'stop's; "
          f"word span {SPAN} s, echo tail {TAIL} s\n")
    rooms = [(-10.0, 0.05, 10.0)] if args.quick else [
        (-10.0, 0.02, 10.0), (-10.0, 0.08, 10.0), (-20.0, 0.05, 10.0), (-10.0, 0.05, 100.0)]
    rng = np.random.default_rng(3)
    for gain, delay, noise_rms in rooms:
        echo = S.room_echo(play, gain, delay, reverb=0.08, seed=int(delay * 1000))
        noise = rng.standard_normal(len(play)) * noise_rms
        sup = clean(S.to_int16(echo + noise), play)
        own = echo_only_ratios(sup, spans)
        print(f"room: echo {gain:+.0f} dB, delay {delay * 1000:.0f} ms, noise RMS {noise_rms:.0f}")
        print(f"  echo alone, word spans      {fmt(own)}")
        print("  above bar " + "  ".join(f"{b:.1f}: {np.mean(own >= b) * 100:5.2f}%" for b in BARS))
        for ser in SERS:
            r = user_ratios(play, echo, noise, spans, stops, ser)
            kept = "  ".join(f"{b:.1f}: {sum(x >= b for x in r)}/{len(r)}" for b in BARS)
            print(f"  person 'stop' SER {ser:+4.0f} dB {fmt(r)}  kept at {kept}")
        print()
    print(f"total {time.time() - t0:.0f} s")


def _stops() -> list[np.ndarray]:
    return [S.read_wav(p) for p in sorted((bc.SPEECH_DIR / "stop").glob("*.wav"))]


if __name__ == "__main__":
    main()
