"""Which of the pocketsphinx backend's rules earn their place: each switched off in turn, on real
people, beside the backend as shipped in the same run.

Speech and method: ``listen_people.py``'s (the tune set and the old sample, every second clip of
its shuffled order, one stream with 1.5-2.5 s of silence between clips, 50 ms blocks; the read
speech for false commands per hour; white noise at 10 dB SNR for the pre-roll, which is meant for
a noise floor). Halves A, B and S are added up: nothing is chosen here. Each rule is run in the
vocabularies where it can act (the answer check and the "yes" rescue in the screening questions;
the early reports in the hold).

Rules (``PsSettings``): ``fit floor`` (a decoded intent other than stop / too painful dropped
below ``verify_min``), ``rescue`` (a rejected short segment re-aligned to stop, yes),
``verifier`` (both, and the stop / too painful comparison), ``decode ahead`` (early reports
from a second decoder), ``pre-roll`` (0.15 s before a segment near the noise floor), ``answer check`` (Whisper decides
short answers).

Usage: .venv/bin/python bench/ps_ablate.py [--every 2] [--out bench/results/ps_ablate.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import listen_people as lp  # noqa: E402

VARIANTS = {
    "as shipped": {},
    "no fit floor": {"verify_min": -1e9},
    "no rescue": {"rescue": ()},
    "no verifier": {"verify": False},
    "no decode ahead": {"decode_ahead": False},
    "no pre-roll": {"preroll": 0.0},
    "no answer check": {"answer_check": False},
}
RUNS = {  # variant: (stream, vocabulary) pairs where the rule can act
    "as shipped": [("clean", "screening"), ("clean", "hold"), ("white 10 dB", "hold"),
                   ("read", "screening"), ("read", "hold")],
    "no fit floor": [("clean", "screening"), ("clean", "hold"), ("read", "screening"),
                     ("read", "hold")],
    "no rescue": [("clean", "screening"), ("clean", "hold"), ("read", "hold")],
    "no verifier": [("clean", "screening"), ("clean", "hold"), ("read", "hold")],
    "no decode ahead": [("clean", "hold"), ("read", "hold")],
    "no pre-roll": [("clean", "hold"), ("white 10 dB", "hold")],
    "no answer check": [("clean", "screening"), ("read", "screening")],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--every", type=int, default=2, help="every Nth clip (default 2; above 2 also every Nth read utterance: a quick look)")
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = ap.parse_args()
    clips = lp.shuffled_clips()[::args.every]
    level = lp.NOISY_LEVEL
    read = [c for c in lp.tune_clips() if c.kind == "continuous"]
    streams = {"clean": lp.build_stream(clips, 1),
               "white 10 dB": lp.with_noise(lp.build_stream(clips, 1, level=level), "white", 10,
                                            2, level),
               "read": lp.build_stream(read[::1 if args.every <= 2 else args.every], 3,
                                       gap=(1.0, 2.0))}
    vocabs = lp.vocabularies()
    print(f"{len(clips)} clips ({sum(c.kind == 'command' for c in clips)} commands), "
          f"{len(streams['read'].audio) / lp.RATE / 60:.1f} min of read speech", flush=True)
    with ProcessPoolExecutor(2) as pool:
        futs = {(name, s, v): pool.submit(lp.run_peer, streams[s].audio, vocabs[v], VARIANTS[name])
                for name, pairs in RUNS.items() for s, v in pairs}
        done = {k: f.result() for k, f in futs.items()}
    rows = {}
    print(f"\n{'variant':16} {'stream':12} {'vocabulary':10} {'stop':>8} {'yes':>8} {'no':>8} "
          f"{'others':>9}  stop latency p50/p95 s   read speech: false commands (stops)")
    for (name, s, v), r in done.items():
        if s == "read":
            continue
        sc = lp.score(clips, streams[s], r["hyps"], vocabs[v])
        cells = {w: lp.merged(sc, "ABS", w) for w in lp.TARGETS + ("others",)}
        lat = [x for h in "ABS" for x in sc.get(h, {}).get("latency", [])]
        read = done.get((name, "read", v))
        rate = lp.continuous_rate(read["hyps"], len(streams["read"].audio) / lp.RATE) \
            if read else None
        rows[f"{name} | {s} | {v}"] = {"counts": cells, "latency": lat, "read": rate}
        fmt = lambda k: f"{k[0]}/{k[1]}" if k[1] else "-"  # noqa: E731
        ls = f"{np.percentile(lat, 50):.3f}/{np.percentile(lat, 95):.3f}" if lat else "-"
        rs = f"{rate['false']} ({rate['false_stop']}) in {rate['seconds'] / 60:.1f} min" \
            if rate and s == "clean" else ""
        print(f"{name:16} {s:12} {v:10} {fmt(cells['stop']):>8} {fmt(cells['yes']):>8} "
              f"{fmt(cells['no']):>8} {fmt(cells['others']):>9}  {ls:24} {rs}")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1, default=list))
    return 0


if __name__ == "__main__":
    sys.exit(main())
