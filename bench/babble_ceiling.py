"""How far Whisper tiny.en's early "stop" check can go in babble, apart from the listening
stack: each clip alone, in one window placed the way the stack would at best place it.

For every "stop" and every other word of the tune set's half B (the half never used to choose
settings), the clip is brought to -26 dBFS, put in a window with 0.3 s of the background before
it and 0.2 s after, and the early check's number is computed once: P(the first word is "stop"),
one encoder pass and one decoder step, as ``WhisperModel.first_word`` does in the recognizer.
Backgrounds: none (clean), and babble (four talkers of the read speech, as in
``listen_people.py``) at each SNR asked, drawn anew for each clip and draw.

Printed per condition: stops at or over the stack's threshold (0.02) and other words over it;
then the stops caught at the best threshold that takes no other word, and at one that takes at
most two (thresholds read off these very clips: an upper bound, not a setting). With
``--subtract``: also the same windows after power subtraction of the background's mean mel
spectrum (estimated on the 2 s of the same background before the window; over-subtraction
factor 1.5, floor 10 % of the power), to see whether a noise-reduction front end moves it.

Usage: .venv/bin/python bench/babble_ceiling.py [--snr 10,20] [--draws 2] [--subtract]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from coach.listen.asr.whisper.mel import log_of_mel_power, mel_power

sys.path.insert(0, str(Path(__file__).resolve().parent))
import listen_people as lp  # noqa: E402  (the bench's clips, levels and babble)

RATE = 16000
PRE, POST, ESTIMATE = 0.3, 0.2, 2.0
"""Seconds of background before and after the clip in its window, and before the window for
the background's estimate."""
THRESHOLD = 0.02
SUBTRACT, FLOOR = 1.5, 0.1


class StopProbability:
    """P(first word is "stop") of a log-mel window, through the shipped model."""

    def __init__(self) -> None:
        from coach.listen.asr.whisper.model import load_whisper
        self.m = load_whisper()
        self.words = {"stop": self.m.word_tokens("stop")}

    def __call__(self, mel: np.ndarray) -> float:
        return self.m.first_word_of_mel(mel, self.words)["stop"]


def windows(clip: lp.Clip, snr: float | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(window, the background's 2 s before it), int16."""
    x = lp.read(clip.path).astype(np.float64)
    x *= lp.NOISY_LEVEL / max(lp.active_level(x.astype(np.int16)), 1.0)
    n = len(x) + int((PRE + POST + ESTIMATE) * RATE)
    if snr is None:
        noise = np.zeros(n)
    else:
        noise = lp.babble(n, seed)
        noise *= lp.NOISY_LEVEL / 10 ** (snr / 20) / np.sqrt(np.mean(noise ** 2))
    i = int((ESTIMATE + PRE) * RATE)
    noise[i:i + len(x)] += x
    y = np.clip(noise, -32768, 32767).astype(np.int16)
    cut = int(ESTIMATE * RATE)
    return y[cut:], y[:cut]


def caught_at(stops: np.ndarray, others: np.ndarray, allowed: int) -> int:
    """Stops strictly over the (allowed+1)-th most probable other word."""
    bar = np.sort(others)[::-1][allowed] if allowed < len(others) else -1.0
    return int((stops > bar).sum())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--snr", default="10", help="babble SNRs in dB, comma-separated (default 10)")
    ap.add_argument("--draws", type=int, default=2, help="babble draws per stop clip (default 2)")
    ap.add_argument("--subtract", action="store_true", help="also with the background subtracted")
    args = ap.parse_args()
    p_stop = StopProbability()
    clips = [c for c in lp.tune_clips() if c.half == "B" and c.kind != "continuous"]
    stops = [c for c in clips if c.word == "stop"]
    others = [c for c in clips if c.kind == "other"]
    variants = ["as heard"] + (["subtracted"] if args.subtract else [])
    print(f"half B: {len(stops)} stops, {len(others)} other words; threshold {THRESHOLD}")
    print(f"{'background':14} {'front end':11} {'stops >= thr':>14} {'others >= thr':>14} "
          f"{'stops, 0 others':>16} {'stops, <= 2 others':>19}")
    t0 = time.time()
    for snr in [None] + [float(s) for s in args.snr.split(",")]:
        draws = 1 if snr is None else args.draws
        probs: dict[str, dict[str, list[float]]] = {v: {"stop": [], "other": []} for v in variants}
        for group, items, n_draws in (("stop", stops, draws), ("other", others, 1)):
            for k, clip in enumerate(items):
                for d in range(n_draws):
                    win, before = windows(clip, snr, 7000 * d + k)
                    power = mel_power(win)
                    probs["as heard"][group].append(p_stop(log_of_mel_power(power)))
                    if args.subtract:
                        noise = mel_power(before).mean(axis=1, keepdims=True)
                        clean = np.maximum(power - SUBTRACT * noise, FLOOR * power)
                        probs["subtracted"][group].append(p_stop(log_of_mel_power(clean)))
        for v in variants:
            s, o = np.array(probs[v]["stop"]), np.array(probs[v]["other"])
            name = "clean" if snr is None else f"babble {snr:g} dB"
            print(f"{name:14} {v:11} {f'{(s >= THRESHOLD).sum()}/{len(s)}':>14} "
                  f"{f'{(o >= THRESHOLD).sum()}/{len(o)}':>14} "
                  f"{f'{caught_at(s, o, 0)}/{len(s)}':>16} {f'{caught_at(s, o, 2)}/{len(s)}':>19}",
                  flush=True)
    print(f"{time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
