"""Measure the echo stage: ERLE, commands heard in the coach's own echo, user "stop" over narration.

Real espeak-ng narration, a simulated room (attenuation, delay, reverberation, mic noise), real
people saying "stop" (shared/speech sample) and an espeak en+f3 "stop", and pocketsphinx 5.1.1
keyword spotting ("stop", "ready", "too painful"), with and without ``EchoSuppressor`` (and with
``SelfSpeechFilter`` on top).

    .venv/bin/python bench/echo_probe.py            # prints a table (about a minute)
    .venv/bin/python bench/echo_probe.py --speex    # also libspeexdsp's canceller, if present
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from coach.listen.asr.base import Hypothesis  # noqa: E402
from coach.listen.echo.suppressor import EchoSuppressor  # noqa: E402
from coach.listen.echo.self_speech import SelfSpeechFilter  # noqa: E402
from coach.devices import room as S  # noqa: E402
from coach.pcm import SAMPLE_RATE, read_wav_16k, round_to_int16

SPEECH = ROOT.parent / "shared" / "speech" / "speech-commands-sample"
LINES = (
    "Lie face down and place the ball just inside your hip bone.",
    "Say ready when you are in position.",
    "Let your weight sink slowly into the ball. Breathe out.",
    "If it's too painful, say too painful; to end, say stop.",
    "Keep breathing. Stay with the pressure for a few breaths.",
    "Say ready when you want to move to the next point.",
)
KEYWORDS = {"stop": 1e-20, "ready": 1e-20, "too painful": 1e-30}
NOISE = 10.0  # int16 RMS of the microphone's own noise (about -70 dBFS)


@dataclass(frozen=True)
class Narration:
    audio: np.ndarray  # int16, what the coach plays
    spans: tuple[tuple[float, float, str], ...]  # (start s, end s, text)

    def playing(self, t: float, slack: float = 0.3) -> str | None:
        for start, end, text in self.spans:
            if start <= t <= end + slack:
                return text
        return None


def narration(repeats: int = 2, gap: float = 0.6) -> Narration:
    parts, spans, t = [], [], 0.0
    for _ in range(repeats):
        for line in LINES:
            audio = S.speak(line)
            spans.append((t, t + len(audio) / SAMPLE_RATE, line))
            parts += [audio, np.zeros(int(gap * SAMPLE_RATE), np.int16)]
            t += len(audio) / SAMPLE_RATE + gap
    return Narration(np.concatenate(parts), tuple(spans))


def user_stops() -> list[tuple[str, np.ndarray]]:
    people = [(f"person {p.stem[:8]}", read_wav_16k(p)) for p in sorted((SPEECH / "stop").glob("*.wav"))]
    return people + [("espeak en+f3", S.speak("stop", voice="en-us+f3"))]


def run_stage(mic: np.ndarray, ref: np.ndarray, stage: str) -> tuple[np.ndarray, EchoSuppressor | None]:
    if stage == "raw":
        return mic, None
    if stage == "speex":
        from echo_speex import SpeexCanceller  # type: ignore[import-not-found]

        sp = SpeexCanceller()
        return np.concatenate([sp.process(m, r) for m, r in S.blocks(mic, ref)]), None
    sup = EchoSuppressor(history=600.0)
    return np.concatenate([sup.process(m, r) for m, r in S.blocks(mic, ref)]), sup


def erle_db(mic: np.ndarray, out: np.ndarray, lag: int, after: float = 5.0) -> float:
    a = mic[int(after * SAMPLE_RATE) : len(out) - lag].astype(float)
    b = out[int(after * SAMPLE_RATE) + lag :].astype(float)
    return float(10 * np.log10(a @ a / (b @ b + 1e-9)))


def self_filtered(hits: list[S.Spotted], nar: Narration, sup: EchoSuppressor | None) -> list[S.Spotted]:
    if sup is None:
        return hits
    flt = SelfSpeechFilter()
    keep = []
    for h in hits:
        hyp = Hypothesis(intent=h.word, text=h.word, confidence=1.0, start=h.time - 1.0, end=h.time)
        if flt.allow(hyp, nar.playing(h.time), sup.user_ratio_between(h.time - 1.0, h.time)):
            keep.append(h)
    return keep


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speex", action="store_true", help="also measure libspeexdsp (ctypes)")
    args = ap.parse_args()
    stages = ["raw", "numpy"] + (["speex"] if args.speex else [])
    t0 = time.time()
    nar = narration()
    stops = user_stops()
    play = nar.audio
    level = S.active_rms(play)
    print(f"narration {len(play) / SAMPLE_RATE:.1f} s, {len(nar.spans)} lines; user stops: {len(stops)}; "
          f"keywords {KEYWORDS}")
    # Baseline: each user stop alone (quiet room) through the spotter.
    alone = sum(any(h.word == "stop" for h in S.spot(_pad(a), KEYWORDS)) for _, a in stops)
    print(f"user 'stop' alone, no echo: {alone}/{len(stops)} detected\n")
    print("echo dB | delay ms | stage | ERLE dB | cmds in echo-only | after self filter (@ s) | "
          "user stop over narration (SER dB) | false cmds in that run | s")
    rng = np.random.default_rng(7)
    for gain in (-10.0, -20.0):
        for delay in (0.02, 0.05, 0.08):
            echo = S.room_echo(play, gain, delay, reverb=0.08, seed=int(delay * 1000))
            noise = rng.standard_normal(len(play)) * NOISE
            mic = round_to_int16(echo + noise)
            user, windows = _place_stops(nar, stops, level * 10 ** (-10 / 20))
            ser = 20 * np.log10(level * 10 ** (-10 / 20) / S.active_rms(echo))
            mic_dt = round_to_int16(echo + noise + user)
            for stage in stages:
                t1 = time.time()
                out, sup = run_stage(mic, play, stage)
                lag = sup.hop if sup else 0
                erle = erle_db(mic, out, lag) if stage != "raw" else 0.0
                hits = S.spot(out, KEYWORDS)
                kept = self_filtered(hits, nar, sup)
                out_dt, sup_dt = run_stage(mic_dt, play, stage)
                hits_dt = S.spot(out_dt, KEYWORDS)
                kept_dt = self_filtered(hits_dt, nar, sup_dt)
                caught = sum(any(h.word == "stop" and a <= h.time <= b for h in hits_dt) for a, b in windows)
                caught_f = sum(any(h.word == "stop" and a <= h.time <= b for h in kept_dt) for a, b in windows)
                false_dt = sum(not any(a <= h.time <= b for a, b in windows) for h in kept_dt)
                print(f"{gain:+5.0f} | {delay * 1000:4.0f} | {stage:5} | {erle:5.1f} | "
                      f"{len(hits):2d} {_words(hits):24} | {len(kept):2d} {_times(kept):10} | "
                      f"{caught:2d}/{len(windows)} (filtered {caught_f:2d}) at {ser:+.0f} | {false_dt:2d} | "
                      f"{time.time() - t1:4.1f}")
    print(f"\ntotal {time.time() - t0:.0f} s")


def _times(hits: list[S.Spotted]) -> str:
    return "@" + ",".join(f"{h.time:.1f}" for h in hits) if hits else ""


def _pad(a: np.ndarray) -> np.ndarray:
    z = np.zeros(SAMPLE_RATE // 2, np.int16)
    return np.concatenate([z, a, z, z])


def _words(hits: list[S.Spotted]) -> str:
    names: dict[str, int] = {}
    for h in hits:
        names[h.word] = names.get(h.word, 0) + 1
    return ",".join(f"{k}x{v}" for k, v in sorted(names.items())) or "-"


def _place_stops(nar: Narration, stops: list[tuple[str, np.ndarray]], target_rms: float
                 ) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """User stops scaled to ``target_rms``, one every ~3 s from 4 s on, each starting while a
    line is playing. Returns the user signal and the windows (s) in which a "stop" counts."""
    user = np.zeros(len(nar.audio))
    windows = []
    t = 4.0
    for _, clip in stops:
        while nar.playing(t, slack=0.0) is None:
            t += 0.1
        start = int(t * SAMPLE_RATE)
        piece = clip.astype(float) * (target_rms / S.active_rms(clip))
        piece = piece[: len(user) - start]
        user[start : start + len(piece)] += piece
        windows.append((t, t + len(piece) / SAMPLE_RATE + 0.7))
        t += 3.1
    return user, windows


if __name__ == "__main__":
    main()
