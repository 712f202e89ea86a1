"""Cost: peak memory of a whole ``coach demo --speed 0`` session, and start-up time.

* Peak RSS: the demo runs as a child of a small Python wrapper, which prints
  ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (the child's peak resident set) after it ends.
* Start-up to first speech: ``coach demo --speed 1`` is launched; the demo prints
  ``   0.0s  coach  <text>`` right after the first line's samples are rendered and queued on the
  virtual speaker, whose next 50 ms block is the first audio out. The wall time from ``Popen`` to
  reading that line from the child's stdout is the figure (then the child is stopped). Measured
  with the text-to-speech cache warm (lines rendered by earlier runs) and cold (an empty
  XDG_CACHE_HOME: model load + synthesis of the first line included).
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


def peak_rss_demo() -> dict:
    data = tempfile.mkdtemp(prefix="coach-bench-data-")
    wrapper = ("import resource, subprocess, sys; "
               "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True); "
               "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
               "print(p.stdout[-400:])")
    env = dict(os.environ, XDG_DATA_HOME=data, PYTHONPATH=str(bc.ROOT / "src"))
    t0 = time.perf_counter()
    out = subprocess.run([PY, "-c", wrapper, PY, "-m", "coach", "demo", "--speed", "0", "--quiet",
                          "--backend", "pocketsphinx"], capture_output=True, text=True, env=env,
                         timeout=600).stdout
    wall = time.perf_counter() - t0
    first, _, rest = out.partition("\n")
    code, kb = first.split()
    return {"peak_rss_mb": int(kb) / 1024, "exit": int(code), "wall_s": wall,
            "tail": rest.strip().splitlines()[-2:]}


def startup(cold: bool) -> dict:
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(bc.ROOT / "src"),
               XDG_DATA_HOME=tempfile.mkdtemp(prefix="coach-bench-data-"))
    if cold:
        env["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="coach-bench-cache-")
    t0 = time.perf_counter()
    p = subprocess.Popen([PY, "-m", "coach", "demo", "--speed", "1", "--backend", "pocketsphinx"],
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


def cost_task() -> dict:
    return {"rss": peak_rss_demo(), "startup_warm": [startup(False) for _ in range(3)],
            "startup_cold": startup(True)}
