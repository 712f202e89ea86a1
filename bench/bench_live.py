"""Stop latency on real sounddevice streams over a private PulseAudio server (a child of run.py).

Per trial: start the real ``coach session --no-mic-check`` (bench routine, ``--backend``: whisper unless told) playing
into ``coach_speaker`` and listening on ``coach_mic``; wait until the target line is said, wait a
random part of it, speak "stop" (random espeak-ng voice) with paplay into ``user_voice``. This
process records ``coach_speaker.monitor`` and ``coach_mic`` with ``coach.devices.streams.Microphone`` (one
stream clock). Stop end = last loud 10 ms frame of the microphone recording after the paplay;
cut = end of the last loud frame of the speaker recording before the first frame where the
rendered line (aligned by cross-correlation) is loud but the speaker is silent.
The peak resident memory of the largest child process (a ``coach session``; the others are
paplay and the server script) is printed too.
Usage: bench_live.py --trials N --seed S --content DIR --out FILE.json [--backend B]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_common as bc  # noqa: E402

SCRIPT = bc.ROOT / "scripts" / "pulse-test-server"
TARGETS = ("welcome", "disclaimer", "how_to_talk", "screening_intro")
FRAME = 160  # 10 ms
TTS = bc.COACH_TTS
"""The coach's speech engine in the session (``--tts``); the bench renders the target lines with
the same engine to find them in the speaker's recording."""
BACKEND = os.environ.get("COACH_BENCH_BACKEND", "whisper")
"""The recognizer of the session under test (``--backend``; the environment variable lets
run.py's child take it)."""


def start_server() -> dict[str, str]:
    d = tempfile.mkdtemp(prefix="coach-bpulse-")
    env = dict(os.environ, COACH_PULSE_DIR=d)
    subprocess.run([str(SCRIPT), "start"], env=env, check=True, capture_output=True, timeout=30)
    out = subprocess.run([str(SCRIPT), "env"], env=env, check=True, capture_output=True, text=True).stdout
    new = {}
    for line in out.splitlines():
        k, _, v = line.removeprefix("export ").partition("=")
        new[k] = v
    return new


class Recorder:
    def __init__(self, source: str) -> None:
        from coach.devices import streams as audio
        os.environ["PULSE_SOURCE"] = source
        self.mic = audio.open_microphone(block_ms=20)
        os.environ.pop("PULSE_SOURCE", None)
        self.blocks: list = []
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._run, daemon=True)
        self._th.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            b = self.mic.read(timeout=0.5)
            if b is not None:
                self.blocks.append(b)

    def take(self) -> tuple[np.ndarray, float]:
        bl = list(self.blocks)
        self.blocks.clear()
        return np.concatenate([b.samples for b in bl]).astype(np.float32) / 32768, bl[0].t_start

    def close(self) -> None:
        self._stop.set()
        self._th.join(timeout=2)
        self.mic.close()


def frames_rms(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME
    return np.sqrt(np.mean(x[: n * FRAME].reshape(n, FRAME) ** 2, axis=1) + 1e-12)


def best_lag(signal: np.ndarray, template: np.ndarray) -> tuple[int, float]:
    """(lag in samples, normalised correlation) of ``template`` inside ``signal``."""
    x, t = signal.astype(np.float64), template.astype(np.float64)
    if len(x) < len(t):
        return 0, 0.0
    n = len(x) + len(t)
    cc = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(t, n)), n)[: len(x) - len(t) + 1]
    lag = int(np.argmax(cc))
    den = np.linalg.norm(x[lag:lag + len(t)]) * np.linalg.norm(t)
    return lag, float(cc[lag] / den) if den > 0 else 0.0


def trial(i: int, rng, content: str, spk: Recorder, mic: Recorder, render) -> dict:
    target = TARGETS[i % len(TARGETS)]
    spec = bc.random_voice(rng, bc.VOICES[:4])
    stop = bc.level(bc.say("stop", spec), -20)
    tmpd = Path(tempfile.mkdtemp(prefix="coach-blive-"))
    wav = tmpd / "stop.wav"
    import wave
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(bc.to_int16(np.concatenate([stop, np.zeros(1600, np.float32)])).tobytes())
    events = tmpd / "events.jsonl"
    env = dict(os.environ, PULSE_SINK="coach_speaker", PULSE_SOURCE="coach_mic",
               PYTHONUNBUFFERED="1", XDG_DATA_HOME=str(tmpd / "data"),
               PYTHONPATH=str(bc.ROOT / "src"))
    spk.take() if spk.blocks else None
    mic.take() if mic.blocks else None
    t_launch = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "coach", "--content", content, "session",
                             "--routine", "bench", "--no-mic-check", "--backend", BACKEND,
                             "--tts", TTS,
                             "--events", str(events)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    line = render(bc.fill(bc.content().lines[target]))
    dur = len(line) / 16000
    said = None
    deadline = time.monotonic() + 60
    while said is None and time.monotonic() < deadline and proc.poll() is None:
        if events.exists():
            for ln in events.read_text().splitlines():
                if ln.endswith("}") and '"said"' in ln and f'"line": "{target}"' in ln:
                    said = json.loads(ln)
                    break
        time.sleep(0.02)
    out = {"trial": i, "target": target, "voice": spec.label}
    if said is None:
        proc.kill()
        out["result"] = "not_reached"
        return out
    room = max(0.1, dur - len(stop) / 16000 - 1.2)
    time.sleep(float(rng.uniform(0.1, room)))
    subprocess.run(["paplay", "--device=user_voice", "--latency-msec=20", str(wav)], timeout=30)
    time.sleep(2.0)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    time.sleep(0.3)
    entries = [json.loads(x) for x in events.read_text().splitlines() if x.endswith("}")]
    out["stop_heard"] = any(bc.silenced_for_stop(e) for e in entries)
    s, s0 = spk.take()
    m, m0 = mic.take()
    rs, rm = frames_rms(s), frames_rms(m)
    loud_m = np.nonzero(rm > 10 ** (-50 / 20))[0]
    if len(loud_m) == 0:
        out["result"] = "no_stop_recorded"
        return out
    stop_end = m0 + (loud_m[-1] + 1) * FRAME / 16000
    first_sound = np.nonzero(rs > 10 ** (-50 / 20))[0]
    out["startup_s"] = float(s0 + first_sound[0] * FRAME / 16000 - t_launch) if len(first_sound) else None
    i_stop = int((stop_end - s0) * 16000)
    lo = max(0, i_stop - int((dur + 1) * 16000))
    lag, corr = best_lag(s[lo:i_stop + 16000], line[: min(len(line), 16000)])
    start = lo + lag
    tl = frames_rms(np.concatenate([np.zeros(start, np.float32), line]))[: len(rs)]
    f_end = min(len(tl), len(rs))
    dev = [f for f in range(max(0, int((stop_end - s0) * 100) - 30), f_end)
           if tl[f] > 10 ** (-40 / 20) and rs[f] < 10 ** (-55 / 20)]
    out["align_corr"] = corr
    if not dev:
        out["result"] = "line_finished_first"
        return out
    loud_s = np.nonzero(rs[: dev[0]] > 10 ** (-50 / 20))[0]
    cut = s0 + (loud_s[-1] + 1) * FRAME / 16000
    out["latency"] = float(cut - stop_end)
    if not out["stop_heard"]:
        out["result"] = "missed"  # the line was cut by the bench ending the process, not by stop
        out["latency"] = None
    else:
        out["result"] = "caught" if corr > 0.5 else "unaligned"
    return out


def main() -> int:
    global BACKEND, TTS
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--content", default=None, help="content folder with the bench routine "
                    "(default: made from content/ as bench_latency does)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--backend", default=BACKEND, help="recognizer of the session under test")
    ap.add_argument("--tts", default=TTS, help="the session's speech engine (piper or pyttsx3)")
    a = ap.parse_args()
    BACKEND, TTS = a.backend, a.tts
    if a.content is None:
        import bench_latency
        a.content = str(bench_latency.bench_content_dir())
    env = start_server()
    os.environ.update(env)
    rng = np.random.default_rng([a.seed, 55])
    from coach.app import synthesizer, voice_16k
    voice, rate = (bc.COACH_VOICE, bc.COACH_RATE) if TTS == "pyttsx3" else (None, None)
    render = voice_16k(synthesizer(voice, rate, 1.0, tts=TTS))
    trials = []
    try:
        spk, mic = Recorder("coach_speaker.monitor"), Recorder("coach_mic")
        try:
            for i in range(a.trials):
                r = trial(i, rng, a.content, spk, mic, render)
                print(f"bench live: {r}", file=sys.stderr, flush=True)
                trials.append(r)
        finally:
            spk.close()
            mic.close()
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=dict(os.environ), capture_output=True, timeout=30)
    lat = [t["latency"] for t in trials if t.get("result") == "caught"]
    st = [t["startup_s"] for t in trials if t.get("startup_s") is not None]
    import resource
    summary = {**bc.stats(lat), "trials": len(trials), "caught": len(lat),
               "heard": sum(1 for t in trials if t.get("stop_heard")),
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}
    if a.out:
        a.out.write_text(json.dumps({"trials": trials, "summary": summary,
                                     "startup_p50": float(np.median(st)) if st else None}))
    print(f"live, {BACKEND}: {summary['caught']}/{summary['trials']} stops caught and timed "
          f"({summary['heard']} heard by the session); latency (end of the word to the speaker "
          f"silent) p50 {summary['p50']} p95 {summary['p95']} max {summary['max']} s; peak RSS of "
          f"the largest child (a coach session) {summary['peak_rss_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
