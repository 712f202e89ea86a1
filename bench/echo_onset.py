"""The echo stage before its canceller converges: the coach's own short lines against real
people's "stop", for the coupling percentile that bounds the unconverged filter's echo.

An unconverged filter predicts too little echo, most at a line's onset, so the user-to-echo
ratio (``EchoSuppressor.user_ratio_between``, what the self-speech filter judges by) overstates
the user there. Until the filter first converges the echo stage divides by the larger of the
filter's prediction and the loudest reference hop in the filter's span times the coupling
measured so far (``COUPLING_PERCENTILE`` of microphone over reference power,
``coach.listen.echo.unconverged``). For each percentile, and with no bound at all (the stage
before), this prints:

- **the echo alone**: espeak-ng's "No.", "Yes.", "Nope." three times, 2 s apart (short lines
  leave the canceller no time to converge), echo at -20 dB (noise RMS 10) and -10 dB (noise RMS
  10 and 100), three reflections each: the largest ratio over any word's span (the bar for a
  line's own words is 2.0);
- **real people's "stop"** (the tune set, half A and half B apart, each recording once) as loud
  as the echo and 6 dB under it, 0.5 s into the session's first line ("Lie face down ..."), room
  -10 dB / 50 ms with noise RMS 10 and 100: how many reach 1.0 (kept), 1.5 (obeyed without
  asking), 2.0, and the smallest.

    .venv/bin/python bench/echo_onset.py                    # about 10 minutes on 2 cores
    .venv/bin/python bench/echo_onset.py --percentiles 50   # one setting
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import coach.listen.echo.suppressor as suppressor
import coach.listen.echo.unconverged as unconverged
from coach.devices import room as S
from coach.pcm import SAMPLE_RATE, round_to_int16

sys.path.insert(0, str(Path(__file__).resolve().parent))
import listen_people as lp  # noqa: E402  (the tune set's clips and halves)

FIRST_LINE = "Lie face down and place the ball just inside your hip bone."
BARS = (1.0, 1.5, 2.0)


def ratios_over(mic: np.ndarray, play: np.ndarray, spans) -> list[float]:
    sup = suppressor.EchoSuppressor()
    for m, r in S.blocks(mic, play):
        sup.process(m, r)
    return [sup.user_ratio_between(a, b) for a, b in spans]


def short_lines() -> tuple[np.ndarray, list[tuple[float, float]]]:
    parts, spans, t = [np.zeros(SAMPLE_RATE, np.int16)], [], 1.0
    for text in ["No.", "Yes.", "Nope."] * 3:
        audio = S.speak(text)
        spans.append((t, t + len(audio) / SAMPLE_RATE + 0.3))
        parts += [audio, np.zeros(2 * SAMPLE_RATE, np.int16)]
        t += len(audio) / SAMPLE_RATE + 2.0
    return np.concatenate(parts), spans


ECHO_ROOMS = ((-20.0, 10.0), (-10.0, 10.0), (-10.0, 100.0))
"""(echo gain dB, microphone noise RMS) of the echo-alone rooms, each with three reflections."""


def echo_alone(play: np.ndarray, spans) -> float:
    rng = np.random.default_rng(2).standard_normal(len(play))
    return max(max(ratios_over(round_to_int16(S.room_echo(play, gain, 0.05, reverb=0.08,
                                                          seed=seed) + rng * noise), play, spans))
               for gain, noise in ECHO_ROOMS for seed in (3, 4, 5))


def user_ratios(stops: list[lp.Clip], rel_db: float, noise_rms: float) -> np.ndarray:
    line = S.speak(FIRST_LINE)
    play = np.concatenate([line, np.zeros(SAMPLE_RATE, np.int16)])
    echo = S.room_echo(play, -10.0, 0.05, reverb=0.08, seed=3)
    noise = np.random.default_rng(1).standard_normal(len(play)) * noise_rms
    at = int(0.5 * SAMPLE_RATE)
    out = []
    for clip in stops:
        x = lp.read(clip.path).astype(np.float64)[: len(play) - at]
        x *= S.active_rms(line) * 10 ** ((-10.0 + rel_db) / 20) / max(S.active_rms(x), 1.0)
        user = np.zeros(len(play))
        user[at:at + len(x)] = x
        end = (at + len(x)) / SAMPLE_RATE
        out += ratios_over(round_to_int16(echo + noise + user), play, [(0.5, end)])
    return np.array(out)


_BOUND = unconverged.UnconvergedEchoBound.power


def use_coupling(name: str) -> None:
    """Set the echo stage's bound for the rest of the process: 'off' (none: the stage before
    it), or a coupling percentile."""
    if name == "off":
        unconverged.UnconvergedEchoBound.power = lambda self, *a: 0.0
    else:
        unconverged.UnconvergedEchoBound.power = _BOUND
        unconverged.COUPLING_PERCENTILE = float(name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--percentiles", default="off,25,50,75,90",
                    help="coupling percentiles to compare; 'off': no bound (default off,25,50,75,90)")
    args = ap.parse_args()
    stops = {h: [c for c in lp.tune_clips() if c.word == "stop" and c.half == h] for h in "AB"}
    play, spans = short_lines()
    print(f"real stops: half A {len(stops['A'])}, half B {len(stops['B'])}; echo alone: "
          f"{len(spans)} words in {3 * len(ECHO_ROOMS)} rooms; shipped percentile "
          f"{unconverged.COUPLING_PERCENTILE}\n")
    print("| percentile | echo alone: largest ratio | user, room noise RMS | half A: >= 1.0 / 1.5 "
          "/ 2.0, smallest | half B |")
    print("|---|---|---|---|---|")
    t0 = time.time()
    for name in args.percentiles.split(","):
        use_coupling(name)
        alone = f"{echo_alone(play, spans):.2f}"
        for rel, noise in ((0.0, 10.0), (-6.0, 10.0), (0.0, 100.0), (-6.0, 100.0)):
            cells = []
            for h in "AB":
                r = user_ratios(stops[h], rel, noise)
                cells.append(" / ".join(f"{int((r >= b).sum())}" for b in BARS)
                             + f" of {len(r)}, {r.min():.2f}")
            print(f"| {name} | {alone} | {rel:+.0f} dB vs echo, {noise:.0f} | " + " | ".join(cells)
                  + " |", flush=True)
    print(f"\ntotal {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
