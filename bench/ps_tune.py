"""Measure the pocketsphinx backend on real people and on espeak-ng voices.

Runs every clip of shared/speech/speech-commands-sample (padded with 0.5 s of silence each
side) through PocketsphinxRecognizer via hear_samples, for three vocabularies, and prints
caught/rejected counts, split by speaker halves (files sorted by name: first 5 = half A,
last 5 = half B) so a setting chosen on one half can be checked on the other.
Usage: .venv/bin/python bench/ps_tune.py [--weight W] [--competitors N] [--no-synth]
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from coach.asr.hear import hear_samples, read_wav, to_16k_int16  # noqa: E402
from coach.asr.pocketsphinx_backend import PocketsphinxRecognizer, PsSettings  # noqa: E402

SPEECH = ROOT.parent / "shared" / "speech" / "speech-commands-sample"
FULL = {"stop": ["stop", "stop now"], "too_painful": ["too painful", "that hurts", "ouch"],
        "ready": ["ready", "i'm ready", "okay ready"], "yes": ["yes"], "no": ["no"],
        "pause": ["pause"], "resume": ["resume", "continue"], "repeat": ["repeat"],
        "skip": ["skip"], "how_long": ["how long"], "slower": ["slower"], "faster": ["faster"],
        "help": ["help"], "released": ["released", "it released"], "better": ["better"],
        "same": ["same"], "worse": ["worse"]}
SMALL = {"stop": ["stop"], "ready": ["ready"], "too_painful": ["too painful"], "pause": ["pause"]}
SCREEN = {"yes": ["yes"], "no": ["no"], "stop": ["stop"], "too_painful": ["too painful"],
          "repeat": ["repeat"], "help": ["help"]}
VOCABS = {"full": FULL, "small": SMALL, "screen": SCREEN}
VOICES = ["en-us", "en", "en+f3", "en+m3"]
RATES = [140, 160, 180]
NEGATIVE = ["the weather is nice today", "steady", "already", "top", "stopwatch", "painting",
            "i'm reading"]
PAD = np.zeros(8000, dtype=np.int16)


def real_clips() -> list[tuple[str, str, np.ndarray]]:
    out = []
    for folder in sorted(p for p in SPEECH.iterdir() if p.is_dir()):
        for i, f in enumerate(sorted(folder.glob("*.wav"))):
            s, r = read_wav(f)
            out.append((folder.name, "A" if i < 5 else "B", to_16k_int16(s, r)))
    return out


def synth(text: str, voice: str, rate: int) -> np.ndarray:
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", tmp.name, text],
                       check=True)
        s, r = read_wav(tmp.name)
    return to_16k_int16(s, r)


def run(args: tuple[str, PsSettings, list, list]) -> tuple[str, list, list]:
    vname, settings, clips, synths = args
    rec = PocketsphinxRecognizer(settings=settings)
    rec.set_vocabulary(VOCABS[vname])
    def heard(audio: np.ndarray) -> list[str]:
        rec.reset()
        return [h.intent for h in hear_samples(np.concatenate([PAD, audio, PAD]), rec)]
    real = [(w, half, heard(a)) for w, half, a in clips]
    syn = [(key, heard(a)) for key, a in synths]
    return vname, real, syn


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weight", type=float, default=PsSettings().command_weight)
    ap.add_argument("--competitors", type=int, default=PsSettings().competitor_count)
    ap.add_argument("--no-synth", action="store_true")
    a = ap.parse_args()
    settings = PsSettings(command_weight=a.weight, competitor_count=a.competitors)
    t0 = time.monotonic()
    clips = real_clips()
    synths: list = []
    if not a.no_synth:
        for intent, phrases in FULL.items():
            for p, v, r in itertools.product(phrases, VOICES, RATES):
                synths.append((("cmd", intent, p, v, r), synth(p, v, r)))
        for p, v, r in itertools.product(NEGATIVE, VOICES, RATES):
            synths.append((("neg", "", p, v, r), synth(p, v, r)))
    print(f"settings: {settings}")
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(run, [(v, settings, clips, synths) for v in VOCABS]))
    for vname, real, syn in results:
        print(f"\n== vocabulary {vname}: {sorted(VOCABS[vname])}")
        for target in [t for t in ("stop", "yes", "no") if t in VOCABS[vname]]:
            for half in ("A", "B"):
                got = sum(1 for w, h, ints in real if w == target and h == half
                          and target in ints)
                print(f"  real {target!r} caught, half {half}: {got}/5")
        others = [(w, h, ints) for w, h, ints in real if w not in ("stop", "yes", "no")]
        for half in ("A", "B"):
            sub = [x for x in others if x[1] == half]
            rej = sum(1 for _, _, ints in sub if not ints)
            print(f"  real other words rejected, half {half}: {rej}/{len(sub)}")
        fa = Counter(f"{w}->{'+'.join(ints)}" for w, _, ints in others if ints)
        print(f"  other words rejected overall: {sum(1 for x in others if not x[2])}/{len(others)};"
              f" false accepts: {dict(fa.most_common(12))}")
        conf = Counter(f"{w}->{'+'.join(ints) or '-'}" for w, _, ints in real
                       if w in ("stop", "yes", "no"))
        print(f"  command clips heard as: {dict(conf)}")
        if syn:
            cmd = [(k, ints) for k, ints in syn if k[0] == "cmd" and k[1] in VOCABS[vname]]
            ok = sum(1 for k, ints in cmd if ints == [k[1]] or (ints == ["unsure"] and k[1] in
                                                                ("stop", "too_painful")))
            print(f"  espeak commands caught (exactly once, right intent): {ok}/{len(cmd)}")
            miss = Counter(f"{k[2]}->{'+'.join(ints) or '-'}" for k, ints in cmd
                           if ints != [k[1]])
            print(f"    misses: {dict(miss)}")
            neg = [(k, ints) for k, ints in syn if k[0] == "neg"]
            print(f"  espeak non-commands rejected: {sum(1 for _, i in neg if not i)}/{len(neg)};"
                  f" accepted: {dict(Counter(k[2] + '->' + '+'.join(i) for k, i in neg if i))}")
            other = [(k, ints) for k, ints in syn if k[0] == "cmd" and k[1] not in VOCABS[vname]]
            if other:
                print(f"  espeak out-of-vocabulary commands rejected: "
                      f"{sum(1 for _, i in other if not i)}/{len(other)}")
    print(f"\n({time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
