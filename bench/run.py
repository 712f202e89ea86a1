"""The benchmark suite: one command, results in bench/results/.

    .venv/bin/python bench/run.py [--quick] [--seed N] [--no-live] [--workers 2]

Runs (CPU-bound parts in a pool of ``--workers`` processes): stop latency in process (ours and
two peers, same trials) and on real sounddevice streams over a private PulseAudio server;
command recognition per intent (synthetic set, quiet / white / babble noise) and on the real
recordings; false alarms on non-command speech and on the coach's own narration through the
echo path; cost (listening real-time factor, peak RSS, start-up). Writes latest.json, latest.md
and latest.png. Every figure is measured in this run; see bench/README.md for the methods.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_common as bc  # noqa: E402
import bench_commands as bcm  # noqa: E402
import bench_cost  # noqa: E402
import bench_false_alarms as bfa  # noqa: E402
import bench_latency as blat  # noqa: E402
import bench_report  # noqa: E402

RESULTS = HERE / "results"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer trials and samples (~3 min)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-live", action="store_true", help="skip the PulseAudio latency trials")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    q = args.quick
    t_start = time.perf_counter()
    n_lat = 12 if q else 36
    per_intent = 2 if q else 6
    fa_chunks, fa_seconds = (2, 150.0) if q else (6, 300.0)
    content_root = str(blat.bench_content_dir())
    plans = blat.trial_plan(args.seed, n_lat)
    timings: dict[str, float] = {}

    live_proc = None
    if not args.no_live:
        live_out = Path(content_root) / "live.json"
        live_proc = subprocess.Popen(
            [sys.executable, str(HERE / "bench_live.py"), "--trials", "5" if q else "10",
             "--seed", str(args.seed), "--content", content_root, "--out", str(live_out)],
            stdout=sys.stderr)
        live_proc.wait(timeout=900)  # alone: the CPU-bound work must not slow the live coach
        timings["live"] = time.perf_counter() - t_start
    print(f"bench: seed {args.seed}, {'quick' if q else 'full'}, {args.workers} workers",
          file=sys.stderr, flush=True)
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futs: dict[str, list] = {"latency": [], "synthetic": [], "speech": [], "narration": []}
        for k in range(fa_chunks):
            futs["speech"].append(pool.submit(bfa.speech_task, args.seed * 100 + k, fa_seconds))
        for p in plans:
            for kind in blat.KINDS:
                futs["latency"].append(pool.submit(blat.run_trial, p, kind, content_root))
        for cond in bcm.CONDITIONS:
            extra = (30 if q else 100) if cond == "quiet" else (0 if q else 6)
            futs["synthetic"].append(pool.submit(bcm.synthetic_task, cond, args.seed, per_intent, extra))
        for db in (-20.0, -10.0):
            for kind in ("ours", "kws"):
                futs["narration"].append(pool.submit(bfa.narration_task, args.seed, db, kind))
        real = pool.submit(bcm.real_task)
        vosk = pool.submit(bcm.vosk_korean_task, q)
        results: dict = {}
        for name, fl in futs.items():
            results[name] = [f.result() for f in fl]
            timings[name] = time.perf_counter() - t_start
            print(f"bench: {name} done at {timings[name]:.0f} s", file=sys.stderr, flush=True)
        results["real"] = real.result()
        results["vosk"] = vosk.result()
    live = None
    if live_proc is not None:
        try:
            live = json.loads((Path(content_root) / "live.json").read_text())
        except (OSError, ValueError) as err:
            live = {"error": f"live trials failed: {err}"}
    t0 = time.perf_counter()
    results["cost"] = bench_cost.cost_task()
    timings["cost"] = time.perf_counter() - t0
    results["speech"] = [r for chunk in results["speech"] for r in chunk]
    results["live"] = live
    total = time.perf_counter() - t_start
    report = bench_report.build(results, seed=args.seed, quick=q, seconds=total, timings=timings)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    md = bench_report.markdown(report)
    (args.out / "latest.md").write_text(md)
    bench_report.plot(report, results, args.out / "latest.png")
    print(md)
    print(f"bench: total {total:.0f} s; wrote {args.out}/latest.{{json,md,png}}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
