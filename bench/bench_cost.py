"""Cost: peak memory of a whole ``coach demo --speed 0`` session, and start-up time.

* Peak RSS: the demo runs as a child of a small Python wrapper, which prints
  ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (the child's peak resident set) after it ends;
  ``--runs`` times with the cache warm, once with an empty cache (every line rendered during the
  demo, Whisper's int8 copy written).
* Start-up to first speech: ``coach demo --speed 1`` is launched; the demo prints
  ``   0.0s  coach  <text>`` right after the first line's samples are rendered and queued on the
  virtual speaker, whose next 50 ms block is the first audio out. The wall time from ``Popen`` to
  reading that line from the child's stdout is the figure (then the child is stopped). Measured
  with the text-to-speech cache warm (lines rendered by earlier runs) and cold (an empty
  XDG_CACHE_HOME: model load + synthesis of the first line included), ``--runs`` times each.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import bench_common as bc

PY = sys.executable


def peak_rss_demo(backend: str = "whisper", cold: bool = False) -> dict:
    """``cold``: an empty cache (every line rendered during the demo, the Whisper copy made)."""
    data = tempfile.mkdtemp(prefix="coach-bench-data-")
    wrapper = ("import resource, subprocess, sys; "
               "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True); "
               "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
               "print(p.stdout[-400:])")
    env = dict(os.environ, XDG_DATA_HOME=data, PYTHONPATH=str(bc.ROOT / "src"))
    if cold:
        env["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="coach-bench-cache-")
    t0 = time.perf_counter()
    out = subprocess.run([PY, "-c", wrapper, PY, "-m", "coach", "demo", "--speed", "0", "--quiet",
                          "--backend", backend], capture_output=True, text=True, env=env,
                         timeout=600).stdout
    wall = time.perf_counter() - t0
    first, _, rest = out.partition("\n")
    code, kb = first.split()
    return {"peak_rss_mb": int(kb) / 1024, "exit": int(code), "wall_s": wall,
            "tail": rest.strip().splitlines()[-2:]}


def startup(cold: bool, backend: str = "whisper") -> dict:
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(bc.ROOT / "src"),
               XDG_DATA_HOME=tempfile.mkdtemp(prefix="coach-bench-data-"))
    if cold:
        env["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="coach-bench-cache-")
    t0 = time.perf_counter()
    p = subprocess.Popen([PY, "-m", "coach", "demo", "--speed", "1", "--backend", backend],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    first = None
    try:
        assert p.stdout is not None
        for line in p.stdout:
            if "  coach  " in line:
                first = time.perf_counter() - t0
                break
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    return {"cold_cache": cold, "seconds": first}


def cost_task(backend: str = "whisper", runs: int = 3) -> dict:
    peak_rss_demo(backend)  # (fills the cache: the warm runs find every line rendered)
    return {"backend": backend, "rss": [peak_rss_demo(backend) for _ in range(runs)],
            "rss_cold": peak_rss_demo(backend, cold=True),
            "startup_warm": [startup(False, backend) for _ in range(runs)],
            "startup_cold": [startup(True, backend) for _ in range(runs)]}


def main() -> int:
    """Peak memory of a whole demo and start-up to first speech, per recognizer, in one run."""
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backends", default="whisper,pocketsphinx")
    ap.add_argument("--runs", type=int, default=3, help="runs of each measure (default 3)")
    args = ap.parse_args()

    def seconds(xs):
        got = sorted(x["seconds"] for x in xs if x["seconds"] is not None)
        return ", ".join(f"{w:.2f}" for w in got) + f" s ({len(got)} of {len(xs)} spoke)"
    for backend in args.backends.split(","):
        r = cost_task(backend, args.runs)
        rss = sorted(x["peak_rss_mb"] for x in r["rss"])
        exits = {x["exit"] for x in r["rss"]} | {r["rss_cold"]["exit"]}
        print(f"{backend:13} peak RSS of coach demo {', '.join(f'{m:.0f}' for m in rss)} MB "
              f"(cache warm), {r['rss_cold']['peak_rss_mb']:.0f} MB (empty cache); exit "
              f"{'/'.join(map(str, sorted(exits)))}; start-up to first speech: warm "
              f"{seconds(r['startup_warm'])}, empty cache {seconds(r['startup_cold'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
