"""Real people through the listening stack, per state vocabulary, with the old stack beside it.

Speech: ``../shared/speech/tune/`` (Speech Commands v0.02: "stop", "yes", "no" from ~70 speakers
each, ~550 clips of 32 other words; ~10 minutes of read English) and the old 10-speaker sample
(``speech-commands-sample``). Speakers of the tune set are split in two halves by a hash of their
id: settings are chosen on half A and checked on half B; the sample is a third check.

Method (the same for both stacks): the clips, in a shuffled order, are one stream with 1.5-2.5 s
of silence between them, fed in 50 ms blocks through one recognizer, as a microphone would feed it.
What is reported is attributed to the clip whose span (+-0.5 s) it overlaps. A command word
("stop", "yes", "no") counts as caught in a vocabulary that has it when its intent is reported
("stop" also as ``unsure`` with stop among the alternatives: the voice pauses); any report on
any other clip is a false command. Read speech: the 77 utterances in one stream, false commands
per hour. Noise: clips brought to the same speech level, then white noise or babble (four
talkers of the read speech summed) at 20, 10 and 5 dB SNR under the whole stream.

The new stack is run once per condition with its early threshold out of reach, keeping every
first-word probability and every transcript (``WhisperRecognizer.trace``); each vocabulary and
threshold is then the recognizer's own decision applied to that trace (``decide``), which
``--check`` verifies against a direct run. The old stack (pocketsphinx, its rules and its Whisper
answer check, as shipped) is run per vocabulary.

Usage: .venv/bin/python bench/listen_people.py [--quick] [--noise [babble:10,…]] [--peer] [--threshold P]
       [--noise-seed N] [--sweep P,P,…] [--check] [--out bench/results/listen.json]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TUNE = ROOT.parent / "shared" / "speech" / "tune"
SAMPLE = ROOT.parent / "shared" / "speech" / "speech-commands-sample"
RATE = 16000
BLOCK = 800
TARGETS = ("stop", "yes", "no")
SNRS = (20, 10, 5)


@dataclass(frozen=True)
class Clip:
    word: str
    kind: str
    """command / other / continuous"""
    speaker: str
    half: str
    """A or B (tune set, by speaker), S (the old sample)"""
    path: str


def half_of(speaker: str) -> str:
    return "A" if int(hashlib.sha1(speaker.encode()).hexdigest(), 16) % 2 == 0 else "B"


def tune_clips() -> list[Clip]:
    """The tune set's clips in manifest order, each recording once: 13 of its files are
    byte-identical copies of another (the same clip taken from two source sets), and a copy
    would count its speaker's word twice."""
    rows = list(csv.DictReader(open(TUNE / "manifest.csv")))
    seen: set[str] = set()
    out = []
    for r in rows:
        digest = hashlib.sha256((TUNE / r["file"]).read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            out.append(Clip(r["word"], r["kind"], r["speaker"], half_of(r["speaker"]),
                            str(TUNE / r["file"])))
    return out


def sample_clips() -> list[Clip]:
    out = []
    for folder in sorted(p for p in SAMPLE.iterdir() if p.is_dir()):
        kind = "command" if folder.name in TARGETS else "other"
        for f in sorted(folder.glob("*.wav")):
            out.append(Clip(folder.name, kind, f.name.split("_")[0], "S", str(f)))
    return out


NOISY_LEVEL = 10 ** (-26 / 20) * 32768
"""Speech level of the clips under noise: -26 dBFS (int16 RMS)."""


def shuffled_clips() -> list[Clip]:
    """Every command and other-word clip (tune set, then sample) in the benches' one order."""
    clips = [c for c in tune_clips() if c.kind != "continuous"] + sample_clips()
    order = np.random.default_rng(7).permutation(len(clips))
    return [clips[i] for i in order]


def read(path: str) -> np.ndarray:
    from coach.pcm import read_wav, to_16k_int16
    x, r = read_wav(path)
    return to_16k_int16(x, r)


def active_level(x: np.ndarray) -> float:
    from coach.devices.room import active_rms
    return active_rms(x.astype(np.float64))


def speech_end(x: np.ndarray) -> float:
    """Seconds into ``x`` where its last 10 ms frame within 35 dB of the loudest ends."""
    f = 160
    n = len(x) // f
    e = np.sqrt(np.mean(x[:n * f].astype(np.float64).reshape(n, f) ** 2, axis=1) + 1e-9)
    loud = np.nonzero(e > e.max() * 10 ** (-35 / 20))[0]
    return float((loud[-1] + 1) * f / RATE) if len(loud) else len(x) / RATE


@dataclass
class Stream:
    audio: np.ndarray
    spans: list[tuple[float, float, float]]
    """(start s, end s, end of speech s) of each clip in the stream"""


def build_stream(clips: list[Clip], seed: int, gap=(1.5, 2.5), level: float | None = None) -> Stream:
    """The clips one after another with random gaps; ``level``: each clip's active speech level
    brought to this RMS (int16 scale) first."""
    rng = np.random.default_rng(seed)
    parts, spans, t = [np.zeros(int(RATE * 1.0), np.int16)], [], 1.0
    for c in clips:
        x = read(c.path)
        if level is not None:
            x = np.clip(x * (level / max(active_level(x), 1.0)), -32768, 32767).astype(np.int16)
        spans.append((t, t + len(x) / RATE, t + speech_end(x)))
        g = np.zeros(int(rng.uniform(*gap) * RATE), np.int16)
        parts += [x, g]
        t += (len(x) + len(g)) / RATE
    return Stream(np.concatenate(parts), spans)


def babble(n: int, seed: int, talkers: int = 4) -> np.ndarray:
    """``talkers`` streams of the read speech summed, each from a random file and offset."""
    rng = np.random.default_rng(seed)
    files = [c.path for c in tune_clips() if c.kind == "continuous"]
    out = np.zeros(n)
    for _ in range(talkers):
        parts, total = [], 0
        while total < n + RATE:
            x = read(str(rng.choice(files))).astype(np.float64)
            x /= max(active_level(x), 1.0)
            parts.append(x)
            total += len(x)
        s = np.concatenate(parts)
        off = int(rng.integers(0, RATE))
        out += s[off:off + n]
    return out


def with_noise(stream: Stream, kind: str, snr: float, seed: int, level: float) -> Stream:
    rng = np.random.default_rng(seed)
    n = len(stream.audio)
    noise = rng.standard_normal(n) if kind == "white" else babble(n, seed)
    noise *= level / 10 ** (snr / 20) / np.sqrt(np.mean(noise ** 2))
    mixed = np.clip(stream.audio + noise, -32768, 32767).astype(np.int16)
    return Stream(mixed, stream.spans)


# --- running the stacks --------------------------------------------------------------------------
def all_phrases() -> dict[str, list[str]]:
    from coach.content import load_content
    c = load_content("psoas-ball")
    return c.phrases(set(c.intents))


def vocabularies() -> dict[str, frozenset[str]]:
    """Every vocabulary a simulated whole session listens with, named by what it has."""
    from coach.content import load_content
    from coach.run.simulate import simulate
    from coach.run.user_script import default_replies
    from coach.session.driver import SessionDriver
    from coach.session.engine import Engine
    from coach.session.eventlog import EventLog
    from coach.run.user_script import Reply
    c = load_content("psoas-ball")
    log = EventLog()  # an ordinary session, with a pause and a too painful in the first hold
    simulate(SessionDriver(Engine(c), log), default_replies(c) + [
        Reply("hold_start", "pause", delay=10, times=1), Reply("paused", "resume", times=1),
        Reply("hold_start", "too painful", delay=30, times=1)])
    seen: dict[frozenset[str], None] = {}
    for e in log.entries:
        if e["kind"] == "listen":
            seen.setdefault(frozenset(e["intents"]))
    names = {}
    for v in seen:
        name = ("screening" if {"yes", "no", "health_changed"} <= v else
                "hold" if "released" in v else "paused" if "resume" in v else
                "confirm" if {"yes", "no"} <= v else "+".join(sorted(v - {"stop", "help",
                                                                          "repeat", "pause"})))
        names[name or "narrate"] = v
    return names


MAIN_VOCABS = ("screening", "hold", "paused")


def feed(rec, audio: np.ndarray) -> list[tuple[object, int]]:
    """(hypothesis, samples fed when it was returned) for the whole ``audio``."""
    out = []
    for i in range(0, len(audio), BLOCK):
        for h in rec.accept(audio[i:i + BLOCK]):
            out.append((h, i + BLOCK))
    for h in rec.flush():
        out.append((h, len(audio)))
    return out


def run_whisper_trace(audio: np.ndarray) -> dict:
    from coach.listen.asr.whisper.recognizer import Trace, WhisperRecognizer, WhisperSettings
    rec = WhisperRecognizer(WhisperSettings(early_threshold=2.0, worker=False))
    rec.ready()
    rec.set_vocabulary(all_phrases())
    rec.trace = Trace([], [])
    c0 = time.process_time()
    feed(rec, audio)
    cpu = time.process_time() - c0
    return {"early": rec.trace.early, "transcripts": rec.trace.transcripts, "cpu": cpu,
            "audio": len(audio) / RATE, "stats": dict(rec.stats)}


def run_whisper_direct(audio: np.ndarray, vocab: frozenset[str], threshold: float) -> list:
    from coach.listen.asr.whisper.recognizer import WhisperRecognizer, WhisperSettings
    rec = WhisperRecognizer(WhisperSettings(early_threshold=threshold, worker=False))
    rec.ready()
    phrases = all_phrases()
    rec.set_vocabulary({k: phrases[k] for k in vocab})
    return [(h.intent, h.alternatives, h.start, h.end, pos) for h, pos in feed(rec, audio)]


def run_peer(audio: np.ndarray, vocab: frozenset[str], changes: dict | None = None) -> dict:
    """The old stack over ``audio``; ``changes``: ``PsSettings`` fields to change (ps_ablate)."""
    from dataclasses import replace

    from coach.listen.asr.sphinx.recognizer import PocketsphinxRecognizer
    from coach.listen.asr.sphinx.settings import PsSettings
    rec = PocketsphinxRecognizer(settings=replace(PsSettings(), **(changes or {})))
    phrases = all_phrases()
    rec.set_vocabulary({k: phrases[k] for k in vocab})
    c0 = time.process_time()
    hyps = [(h.intent, h.alternatives, h.start, h.end, pos) for h, pos in feed(rec, audio)]
    return {"hyps": hyps, "cpu": time.process_time() - c0, "audio": len(audio) / RATE}


def decide(trace: dict, vocab: frozenset[str], threshold: float) -> list:
    """What ``WhisperRecognizer`` with ``early_threshold=threshold`` and this vocabulary reports,
    from a trace: (intent, alternatives, start s, end s, samples fed when reported, decode s)."""
    from coach.listen.asr.whisper.recognizer import ANSWER_MAX_WORDS, WhisperSettings, best_answer
    from coach.listen.text_intents import IntentMatcher
    phrases = all_phrases()
    matcher = IntentMatcher({k: phrases[k] for k in vocab})
    out, early_utts = [], set()
    if "stop" in vocab:
        for fed, utt, p in trace["early"]:
            if p >= threshold and utt not in early_utts:
                early_utts.add(utt)
                out.append(("stop", (), utt / RATE, fed / RATE, fed, 0.0))
    thresholds = WhisperSettings().answer_thresholds
    for start, end, text, _conf, secs, fed, answers in trace["transcripts"]:
        m = matcher.match(text)
        intent, alternatives = m.intent, m.alternatives
        if not intent and m.why == "none" and m.words <= ANSWER_MAX_WORDS and answers:
            best = best_answer({k: p for k, p in answers.items() if k in vocab}, thresholds)
            if best is not None:
                intent = best
        utt = int(round(start * RATE))
        if not intent or (intent == "stop" and utt in early_utts):
            continue
        out.append((intent, alternatives, start, end, fed, secs))
    return out


# --- scoring --------------------------------------------------------------------------------------
def attribute(spans, start: float, end: float) -> int | None:
    best, overlap = None, 0.0
    for i, (a, b, _) in enumerate(spans):
        o = min(b + 0.5, end) - max(a - 0.5, start)
        if o > overlap:
            best, overlap = i, o
    return best


def stops(intent: str, alternatives) -> bool:
    return intent == "stop" or (intent == "unsure" and "stop" in alternatives)


def score(clips: list[Clip], stream: Stream, hyps: list, vocab: frozenset[str]) -> dict:
    """Counts per half: caught/total per command word in ``vocab``, false commands on the
    others (clips), stop latency (s after the end of the word) of the caught stops."""
    per_clip: dict[int, list] = {}
    stray = 0
    for h in hyps:
        i = attribute(stream.spans, h[2], h[3])
        if i is None:
            stray += 1
        else:
            per_clip.setdefault(i, []).append(h)
    res: dict = {}
    for i, c in enumerate(clips):
        got = per_clip.get(i, [])
        r = res.setdefault(c.half, {"stray": 0})
        if c.kind == "command" and c.word in vocab:
            k = r.setdefault(c.word, [0, 0])
            k[1] += 1
            hit = [h for h in got if (stops(h[0], h[1]) if c.word == "stop" else h[0] == c.word)]
            if hit:
                k[0] += 1
                if c.word == "stop":
                    first = min(hit, key=lambda h: h[4])
                    lat = first[4] / RATE + (first[5] if len(first) > 5 else 0.0) - stream.spans[i][2]
                    r.setdefault("latency", []).append(lat)
        else:
            k = r.setdefault("others", [0, 0])
            k[1] += 1
            k[0] += 1 if got else 0
            if got:
                r.setdefault("false", []).append(f"{c.word}->{got[0][0]}")
    for r in res.values():
        r["stray"] = stray
    return res


def continuous_rate(hyps: list, seconds: float) -> dict:
    n = len(hyps)
    n_stop = sum(1 for h in hyps if stops(h[0], h[1]))
    return {"false": n, "false_stop": n_stop, "per_hour": n * 3600 / seconds, "seconds": seconds,
            "intents": sorted(h[0] for h in hyps)}


# --- main ----------------------------------------------------------------------------------------
def pct(k) -> str:
    return f"{k[0]}/{k[1]} ({100 * k[0] / max(k[1], 1):.1f}%)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a fifth of the clips")
    ap.add_argument("--noise", nargs="?", const="all", default=None, metavar="KIND:DB,…",
                    help="also these noise conditions (e.g. babble:10,white:10); alone: white "
                         "noise and babble at 20, 10 and 5 dB")
    ap.add_argument("--peer", action="store_true", help="also the old stack (pocketsphinx)")
    ap.add_argument("--threshold", type=float, default=None,
                    help="early stop threshold (default: the recognizer's setting)")
    ap.add_argument("--check", action="store_true", help="verify decide() against a direct run")
    ap.add_argument("--noise-seed", type=int, default=2,
                    help="seed of the noise under the clips (another babble draw; default 2)")
    ap.add_argument("--sweep", default=None, metavar="P,P,…",
                    help="also print stop and other words taken at these early thresholds")
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = ap.parse_args()
    from coach.listen.asr.whisper.recognizer import WhisperSettings
    threshold = args.threshold if args.threshold is not None else WhisperSettings().early_threshold

    clips = shuffled_clips()
    if args.quick:
        clips = clips[::5]
    cont = [c for c in tune_clips() if c.kind == "continuous"]
    vocabs = vocabularies()
    conditions = [("clean", None, 0)]
    if args.noise == "all":
        conditions += [(k, None, s) for k in ("white", "babble") for s in SNRS]
    elif args.noise:
        for item in args.noise.split(","):
            kind, _, snr = item.partition(":")
            if kind not in ("white", "babble") or not snr.lstrip("-").isdigit():
                ap.error(f"--noise {item}: expected white:DB or babble:DB")
            conditions.append((kind, None, int(snr)))
    level = NOISY_LEVEL

    streams = {}
    for kind, _, snr in conditions:
        if kind == "clean":
            streams[(kind, snr)] = build_stream(clips, 1)
        else:
            streams[(kind, snr)] = with_noise(build_stream(clips, 1, level=level), kind, snr,
                                              args.noise_seed, level)
    cstream = build_stream(cont, 3, gap=(1.0, 2.0))
    print(f"{len(clips)} clips ({sum(c.kind == 'command' for c in clips)} commands), "
          f"{len(cstream.audio) / RATE / 60:.1f} min of read speech; vocabularies: "
          f"{', '.join(sorted(vocabs))}", flush=True)

    results: dict = {"threshold": threshold, "clips": len(clips), "conditions": {}}
    with ProcessPoolExecutor(2) as pool:
        futs = {("whisper", key): pool.submit(run_whisper_trace, s.audio) for key, s in streams.items()}
        futs[("whisper", "continuous")] = pool.submit(run_whisper_trace, cstream.audio)
        if args.peer:
            for key, s in streams.items():
                for v in MAIN_VOCABS:
                    futs[("peer", key, v)] = pool.submit(run_peer, s.audio, vocabs[v])
            for v in MAIN_VOCABS:
                futs[("peer", "continuous", v)] = pool.submit(run_peer, cstream.audio, vocabs[v])
        if args.check:
            futs[("check",)] = pool.submit(run_whisper_direct, streams[("clean", 0)].audio,
                                           vocabs["hold"], threshold)
        done = {k: f.result() for k, f in futs.items()}

    for key, s in streams.items():
        name = key[0] if key[0] == "clean" else f"{key[0]} {key[1]} dB"
        tr = done[("whisper", key)]
        cond = results["conditions"].setdefault(name, {})
        cond["whisper_cpu_per_s"] = tr["cpu"] / tr["audio"]
        for v, vocab in vocabs.items():
            cond.setdefault("whisper", {})[v] = score(clips, s, decide(tr, vocab, threshold), vocab)
        if args.peer:
            for v in MAIN_VOCABS:
                pr = done[("peer", key, v)]
                cond.setdefault("peer", {})[v] = score(clips, s, pr["hyps"], vocabs[v])
                cond["peer_cpu_per_s"] = pr["cpu"] / pr["audio"]
    ct = done[("whisper", "continuous")]
    results["continuous"] = {"whisper": {v: continuous_rate(decide(ct, vocab, threshold),
                                                            ct["audio"]) for v, vocab in vocabs.items()}}
    if args.peer:
        results["continuous"]["peer"] = {v: continuous_rate(done[("peer", "continuous", v)]["hyps"],
                                                            ct["audio"]) for v in MAIN_VOCABS}
    if args.check:
        direct = sorted((h[0], round(h[2], 2)) for h in done[("check",)])
        derived = sorted((h[0], round(h[2], 2)) for h in decide(done[("whisper", ("clean", 0))],
                                                                vocabs["hold"], threshold))
        results["check"] = {"direct": len(direct), "derived": len(derived),
                            "same": direct == derived}
    report(results)
    if args.sweep:
        sweep([float(t) for t in args.sweep.split(",")], clips, streams, done, vocabs)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, default=list))
    return 0


def sweep(thresholds: list[float], clips: list[Clip], streams: dict, done: dict,
          vocabs: dict) -> None:
    """The new stack's stops caught and other words taken (and unattributed reports) per half,
    in the hold and screening vocabularies, at each early threshold, from the same traces."""
    print("\n== early threshold sweep (new stack; stray: reports on no clip)")
    for key, s in streams.items():
        tr = done[("whisper", key)]
        name = key[0] if key[0] == "clean" else f"{key[0]} {key[1]} dB"
        for v in ("hold", "screening"):
            for t in thresholds:
                r = score(clips, s, decide(tr, vocabs[v], t), vocabs[v])
                cells = [f"{h}: stop {pct(merged(r, (h,), 'stop'))}, others "
                         f"{pct(merged(r, (h,), 'others'))}" for h in ("A", "B", "S")]
                print(f"{name:14} {v:10} {t:<7g} {'; '.join(cells)}; stray {r['A']['stray']}")
    ct = done[("whisper", "continuous")]
    for v in ("hold", "screening"):
        for t in thresholds:
            c = continuous_rate(decide(ct, vocabs[v], t), ct["audio"])
            print(f"{'read speech':14} {v:10} {t:<7g} {c['false']} false commands, "
                  f"{c['false_stop']} false stops in {c['seconds'] / 60:.1f} min")


def merged(r: dict, halves, key):
    k = [0, 0]
    for h in halves:
        v = r.get(h, {}).get(key)
        if v:
            k[0] += v[0]
            k[1] += v[1]
    return k


def report(results: dict) -> None:
    print(f"\nearly stop threshold {results['threshold']}")
    for name, cond in results["conditions"].items():
        print(f"\n== {name}  (CPU per audio second: new {cond['whisper_cpu_per_s']:.3f}"
              + (f", old {cond['peer_cpu_per_s']:.3f}" if "peer_cpu_per_s" in cond else "") + ")")
        print(f"{'vocabulary':12} {'stack':5} {'half':5} {'stop':>16} {'yes':>16} {'no':>16} "
              f"{'others taken':>18}  stop latency p50/p95 s")
        for v in MAIN_VOCABS:
            for stack in ("whisper", "peer"):
                r = cond.get(stack, {}).get(v)
                if r is None:
                    continue
                for halves in (("A",), ("B",), ("S",)):
                    cells = []
                    for w in TARGETS + ("others",):
                        k = merged(r, halves, w)
                        cells.append(pct(k) if k[1] else "-")
                    lat = [x for h in halves for x in r.get(h, {}).get("latency", [])]
                    ls = (f"{np.percentile(lat, 50):.3f}/{np.percentile(lat, 95):.3f}"
                          if lat else "-")
                    print(f"{v:12} {'new' if stack == 'whisper' else 'old':5} {halves[0]:5} "
                          f"{cells[0]:>16} {cells[1]:>16} {cells[2]:>16} {cells[3]:>18}  {ls}")
        worst = []
        for halves in (("A",), ("B",), ("S",)):
            stop = min((merged(r, halves, "stop") for r in cond["whisper"].values()),
                       key=lambda k: k[0] / max(k[1], 1))
            others = max((merged(r, halves, "others") for r in cond["whisper"].values()),
                         key=lambda k: k[0] / max(k[1], 1))
            worst.append(f"{halves[0]}: stop {pct(stop)}, others taken {pct(others)}")
        print(f"new, worst of all {len(cond['whisper'])} vocabularies: " + "; ".join(worst))
    print("\n== read speech nearby")
    for stack, per in results["continuous"].items():
        for v, c in per.items():
            if stack == "whisper" and v not in MAIN_VOCABS:
                continue
            print(f"{v:12} {'new' if stack == 'whisper' else 'old':5} {c['false']} false commands "
                  f"in {c['seconds'] / 60:.1f} min = {c['per_hour']:.1f}/h; false stops "
                  f"{c['false_stop']}  {c['intents']}")
    if "check" in results:
        print(f"\ncheck: decide() vs a direct run (hold vocabulary): {results['check']}")


if __name__ == "__main__":
    sys.exit(main())
