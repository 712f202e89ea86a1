"""Measure the pocketsphinx backend on real people and on espeak-ng voices.

Real: every clip of shared/speech/speech-commands-sample, fed as ``bench_common.real_speech_clips``
says (0.5 s of silence each side, name order, one recognizer per vocabulary: the same method as
the CI test and the benchmark's real-recording row), split by speaker halves (files sorted by name: first 5 = half A, last 5 = half B): choose
settings on A, report B as held out. Synthetic: every intent phrase of content/intents.toml and
a list of sound-alike / non-command phrases, spoken by 5 espeak-ng voices at several rates,
padded and mixed with white noise at 20 dB SNR. Vocabularies: ``screen`` (the screening
state's intents), ``hold`` (the largest state vocabulary: a hold on the ball), ``paused``, and
``full`` (all intents at once, which no state listens for: a stress case). ``--drop-test-words`` removes the 27 sample words
from the competitor list, so rejection is not flattered by the test words being competitors.
Prints counts and the real-time factor (CPU seconds per audio second).
Usage: .venv/bin/python bench/ps_tune.py [--weight W] [--vad-ratio R] [--drop-test-words]
       [--rates 130,155,180] [--no-synth] [--no-verify] [--preroll 0.15] [--noise 300] [--delayed]
       [--no-answer-check]
``--no-answer-check``: the answers of the screening and full vocabularies decided by pocketsphinx
alone, as before Whisper (``coach.listen.asr.whisper_check``) decided them: the peer of the figures.
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import tempfile
import time
import tomllib
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

import bench_common as bc  # noqa: E402
from coach.pcm import read_wav, to_16k_int16  # noqa: E402
from coach.listen.asr.sphinx.recognizer import PocketsphinxRecognizer, PsSettings  # noqa: E402

INTENTS = tomllib.loads((ROOT / "content" / "intents.toml").read_text())["intents"]
FULL = {name: list(d["phrases"]) for name, d in INTENTS.items()}
SCREEN_INTENTS = ("yes", "no", "stop", "repeat", "help", "pause", "skip", "health_changed")
SCREEN = {name: FULL[name] for name in SCREEN_INTENTS}
HOLD_INTENTS = ("stop", "help", "repeat", "pause", "skip", "slower", "faster", "released", "better",
                "how_long", "too_painful")
PAUSED_INTENTS = ("stop", "help", "repeat", "resume", "ready", "how_long")
VOCABS = {"screen": SCREEN, "hold": {n: FULL[n] for n in HOLD_INTENTS},
          "paused": {n: FULL[n] for n in PAUSED_INTENTS}, "full": FULL}
VOICES = ["gmw/en-us", "gmw/en", "gmw/en-gb-x-rp", "gmw/en-us-nyc", "gmw/en-029"]
NEGATIVE = ["steady", "already", "top", "stopwatch", "painting", "i'm reading",
            "the weather is nice today", "noble", "nodding", "yesterday"]
TARGETS = ("stop", "yes", "no")
PAD = np.zeros(8000, dtype=np.int16)


def real_clips() -> list[tuple[str, str, np.ndarray]]:
    """(word, half, audio): ``bench_common.real_speech_clips`` (the one method), halves by file."""
    return [(w, "A" if i < 5 else "B", x) for w, i, x in bc.real_speech_clips()]


def synth(text: str, voice: str, rate: int, rng: np.random.Generator) -> np.ndarray:
    """espeak-ng speech, padded, with white noise 20 dB below the speech power."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", tmp.name, text],
                       check=True)
        s, r = read_wav(tmp.name)
    a = to_16k_int16(s, r).astype(np.float64)
    x = np.concatenate([PAD, a, PAD])
    x += rng.normal(0.0, np.sqrt(np.mean(a ** 2) / 100.0), x.size)
    return np.clip(x, -32768, 32767).astype(np.int16)


def run(args: tuple[str, PsSettings, list]) -> tuple[list[list[str]], float, float]:
    vname, settings, audios = args
    if not audios:  # (no synthetic clips with --no-synth)
        return [], 0.0, 0.0
    rec = PocketsphinxRecognizer(settings=settings)
    rec.set_vocabulary(VOCABS[vname])
    cpu0 = time.process_time()
    out = bc.hear_real(rec, audios)
    return out, time.process_time() - cpu0, sum(a.size for a in audios) / 16000


def correct(intent: str, heard: list[str]) -> bool:
    return heard == [intent] or (heard == ["unsure"] and intent in ("stop", "too_painful"))


def report(vname: str, real: list, rh: list, syn: list, sh: list) -> None:
    print(f"\n== vocabulary {vname}: {sorted(VOCABS[vname])}")
    for half in ("A", "B", "all"):
        line = f"  half {half:3s}:"
        for t in TARGETS:
            sel = [h for (w, hf, _), h in zip(real, rh) if w == t and half in (hf, "all")]
            line += f" {t} {sum(t in h or (t == 'stop' and 'unsure' in h) for h in sel)}/{len(sel)}"
        oth = [h for (w, hf, _), h in zip(real, rh) if w not in TARGETS and half in (hf, "all")]
        print(line + f", others rejected {sum(1 for h in oth if not h)}/{len(oth)}")
    fa = Counter(f"{w}->{'+'.join(h)}" for (w, _, _), h in zip(real, rh) if h and w not in TARGETS)
    print(f"  real false accepts: {dict(fa.most_common(12))}")
    miss = Counter(f"{w}->{'+'.join(h) or '-'}" for (w, _, _), h in zip(real, rh)
                   if w in TARGETS and w not in h)  # stop->unsure: caught (paused and asked)
    print(f"  real misses: {dict(miss)}")
    if not syn:
        return
    per: dict[str, list[bool]] = {}
    for k, h in zip(syn, sh):
        if k[0] == "cmd" and k[1] in VOCABS[vname]:
            per.setdefault(k[1], []).append(correct(k[1], h))
    tot = sum(sum(v) for v in per.values()), sum(len(v) for v in per.values())
    print(f"  espeak commands caught (once, right intent): {tot[0]}/{tot[1]}; per intent: "
          + ", ".join(f"{i} {sum(v)}/{len(v)}" for i, v in sorted(per.items())))
    neg = [(k, h) for k, h in zip(syn, sh) if k[0] == "neg"]
    print(f"  espeak non-commands rejected: {sum(1 for _, h in neg if not h)}/{len(neg)}; "
          f"accepted: {dict(Counter(k[2] + '->' + '+'.join(h) for k, h in neg if h))}")
    oov = [h for k, h in zip(syn, sh) if k[0] == "cmd" and k[1] not in VOCABS[vname]]
    if oov:
        print(f"  espeak out-of-vocabulary commands rejected: {sum(1 for h in oov if not h)}"
              f"/{len(oov)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    base = PsSettings()
    ap.add_argument("--weight", type=float, default=base.command_weight)
    ap.add_argument("--vad-ratio", type=float, default=base.vad_ratio)
    ap.add_argument("--drop-test-words", action="store_true")
    ap.add_argument("--rates", default="130,155,180")
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--no-verify", action="store_true", help="grammar decisions only")
    ap.add_argument("--preroll", type=float, default=base.preroll, help="PsSettings.preroll, s")
    ap.add_argument("--delayed", action="store_true",
                    help="decode the endpointer's delayed frames (PsSettings.decode_ahead off)")
    ap.add_argument("--no-answer-check", action="store_true",
                    help="no Whisper on the answers (PsSettings.answer_check off)")
    ap.add_argument("--noise", type=float, default=0.0,
                    help="white noise of this RMS (int16) over the real clips: a noise floor")
    a = ap.parse_args()
    drop = tuple(sorted(p.name for p in bc.SPEECH_DIR.iterdir() if p.is_dir())) if a.drop_test_words \
        else ()
    settings = replace(base, command_weight=a.weight, vad_ratio=a.vad_ratio,
                       exclude_competitors=drop,
                       verify=not a.no_verify, preroll=a.preroll, decode_ahead=not a.delayed,
                       answer_check=not a.no_answer_check)
    t0 = time.monotonic()
    real = real_clips()
    if a.noise:
        noise = np.random.default_rng(5)
        real = [(w, h, np.clip(x + noise.standard_normal(len(x)) * a.noise, -32768, 32767)
                 .astype(np.int16)) for w, h, x in real]
    syn: list[tuple] = []
    audios = [x[2] for x in real]
    if not a.no_synth:
        rng = np.random.default_rng(0)
        rates = [int(r) for r in a.rates.split(",")]
        for intent, phrases in FULL.items():
            for p, v, r in itertools.product(phrases, VOICES, rates):
                syn.append(("cmd", intent, p, v, r))
        for p, v, r in itertools.product(NEGATIVE, VOICES, rates):
            syn.append(("neg", "", p, v, r))
        audios += [synth(k[2], k[3], k[4], rng) for k in syn]
    print(f"settings: {settings}")
    # real clips in order through one recognizer per vocabulary (the one method); the
    # synthetic ones split in two for speed
    n = len(real)
    jobs = [job for v in VOCABS for job in ((v, settings, audios[:n]),
                                              (v, settings, audios[n::2]),
                                              (v, settings, audios[n + 1::2]))]
    with ProcessPoolExecutor(2) as pool:
        parts = list(pool.map(run, jobs))
    cpu = sum(p[1] for p in parts)
    audio_s = sum(p[2] for p in parts)
    for j, vname in enumerate(VOCABS):
        rh, s0, s1 = (parts[3 * j + k][0] for k in range(3))
        sh: list[list[str]] = [[] for _ in syn]
        sh[0::2], sh[1::2] = s0, s1
        report(vname, real, rh, syn, sh)
    print(f"\nreal-time factor: {cpu / audio_s:.3f} CPU s per audio s "
          f"({cpu:.0f} s CPU for {audio_s:.0f} s audio); wall {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
