"""Stop latency on the in-process audio path: ``coach.run.demo.run_demo`` with a scripted user.

One trial = one demo session (the shipped lines and intents, a short routine: welcome, two
screening questions, set-up, position, a 30 s hold) in which the simulated user says "stop" once,
``during`` a chosen line at a random delay (so it lands inside narration), or after
``hold_start`` has finished (inside the silent hold). The user's other answers ("no", "ready")
use the demo's default user voice; the "stop" uses a random espeak-ng accent, variant, rate and
pitch. The echo of the coach reaches the microphone at -20 dB with a random 20-80 ms delay.

Latency = (time the speaker went silent) - (end of the user's "stop" audio). The user's audio is
trimmed of silence, so ``user_spoke.end`` in the event log is the end of the word. The demo world
advances in 50 ms blocks and its speaker is silent from the block after the ``Silence`` action,
which the log records as ``speaker_stopped``; when the coach was not speaking at that moment (the
hold, a gap between lines) the engine emits no Silence, and the time the stop was acted on (the
``heard`` entry) is used. The clock is the audio itself (samples fed), not the wall clock.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import bench_common as bc

ROUTINE = """
[routine]
id = "bench"
title = "Benchmark routine"
sides = ["right"]
intro = ["welcome", "screening", "setup"]
per_side = ["position", "hold", "roll_off"]
outro = ["wrapup"]

[timing]
reprompt_after = 8.0
max_reprompts = 3
pause_timeout = 30.0
breath_in = 5.0
breath_out = 5.0
breath_min = 3.0
breath_max = 8.0
breath_step = 1.0

[steps.welcome]
kind = "say"
lines = ["welcome", "disclaimer", "how_to_talk"]

[steps.screening]
kind = "screening"
intro = "screening_intro"
questions = ["screen_hernia", "screen_surgery"]
reconfirm = "screening_reconfirm"
passed = "screening_passed"
screened_out = ["screened_out"]

[steps.setup]
kind = "say"
lines = ["setup_mat", "setup_ball", "setup_pain_rule"]
prompt = "setup_prompt"

[steps.position]
kind = "say"
on_ball = true
lines = ["side_intro", "position_lie", "position_ball", "position_forearms"]
prompt = "position_prompt"

[steps.hold]
kind = "hold"
on_ball = true
seconds = 30
max_seconds = 40
start = "hold_start"
count_last = 3
done = "hold_done"
released = "hold_released"
max_reached = "hold_max"

[steps.roll_off]
kind = "say"
lines = ["roll_off"]

[steps.wrapup]
kind = "feedback"
prompt = "feedback_prompt"
answers = { better = "feedback_better", same = "feedback_same", worse = "feedback_worse" }
after = ["goodbye"]
"""

TARGETS = ("welcome", "disclaimer", "how_to_talk", "screening_intro", "screen_hernia",
           "screen_surgery", "setup_mat", "setup_ball", "setup_pain_rule", "setup_prompt",
           "position_lie", "position_ball", "position_forearms", "position_prompt", "hold_start",
           "HOLD", "HOLD")
"""Where the stop lands: inside these lines, or (HOLD) in the silent hold after hold_start."""

KINDS = ("whisper", "ours", "ours_delayed", "ours_finals", "naive")
"""whisper: the shipped default (Silero VAD, early stop check, Whisper transcripts), decoding in
line so results fall at the same point of the audio on any machine; ours: the pocketsphinx
backend (the default until 2026-12-07); ours_delayed: the same with the
decoder fed the endpointer's frames, a window late (``PsSettings.decode_ahead`` off, as before
2026-12-02); ours_finals: the
same recognizer acting only on final results (early report off; its endpointer settings are
pocketsphinx's defaults); naive: bench_peers."""


def bench_content_dir() -> Path:
    root = Path(tempfile.mkdtemp(prefix="coach-bench-content-"))
    (root / "routines").mkdir()
    for name in ("lines.toml", "intents.toml"):
        shutil.copy(bc.ROOT / "content" / name, root / name)
    (root / "routines" / "bench.toml").write_text(ROUTINE)
    return root


def make_recognizer(kind: str):
    from coach.listen.asr.sphinx.recognizer import PocketsphinxRecognizer, PsSettings
    import bench_peers
    if kind == "whisper":
        from coach.app import load_recognizer
        return load_recognizer("whisper", realtime=False)
    if kind == "ours":
        return PocketsphinxRecognizer()
    if kind == "ours_delayed":
        return PocketsphinxRecognizer(settings=PsSettings(decode_ahead=False))
    if kind == "ours_finals":
        return PocketsphinxRecognizer(settings=PsSettings(early_frames=10 ** 9))
    return bench_peers.NaivePocketsphinx()


class _Helper:
    """The user's other answers ("no", "ready", "better"): each attempt (the first answer, then
    each answer to a re-prompt) cycles through phrases of the same intent and a few voices, as a
    person repeats themselves more clearly, so trials get past the prompts to where the stop
    lands. Only the "stop" is measured."""

    VOICES = (bc.VoiceSpec("gmw/en-us", 165), bc.VoiceSpec("gmw/en-us-nyc", 165),
              bc.VoiceSpec("gmw/en-gb-x-rp", 165), bc.VoiceSpec("gmw/en-us", 140))

    def __init__(self, c) -> None:
        from coach.run.user_script import intent_of
        self.c, self.intent_of, self.tries = c, intent_of, {}

    def __call__(self, text: str) -> np.ndarray:
        intent = self.intent_of(text, self.c)
        phrases = [text] + [p for p in (self.c.intents[intent].phrases if intent else ())
                            if p != text]
        k = self.tries.get(text, 0)
        self.tries[text] = k + 1
        return bc.say(phrases[k % len(phrases)], self.VOICES[k % len(self.VOICES)])


def trial_plan(seed: int, n: int) -> list[dict]:
    rng = np.random.default_rng([seed, 101])
    plans = []
    for i in range(n):
        target = TARGETS[i % len(TARGETS)] if i < len(TARGETS) else str(rng.choice(TARGETS))
        voice = bc.random_voice(rng, bc.VOICES[:4] if i % 2 == 0 else bc.VOICES)
        plans.append({"trial": i, "target": target, "frac": float(rng.uniform(0.05, 0.95)),
                      "hold_delay": float(rng.uniform(1.5, 20.0)), "voice": voice.voice,
                      "rate": voice.rate, "pitch": voice.pitch,
                      "echo_delay_ms": float(rng.uniform(20, 80)), "seed": int(rng.integers(1 << 30))})
    return plans


def run_trial(plan: dict, kind: str, content_root: str) -> dict:
    from coach.content import load_content
    from coach.run.demo import World, run_demo
    from coach.session.driver import SessionDriver
    from coach.session.engine import Engine
    from coach.session.eventlog import EventLog
    from coach.session.plan import SessionPlan
    from coach.run.user_script import Reply, default_replies
    from coach.app import build_ear, synthesizer, voice_16k

    c = load_content("bench", Path(content_root))
    coach_synth = synthesizer(bc.COACH_VOICE, bc.COACH_RATE, 1.0, tts=bc.COACH_TTS)
    coach_voice = voice_16k(coach_synth)
    stop_spec = bc.VoiceSpec(plan["voice"], plan["rate"], plan["pitch"])
    stop_audio = bc.say("stop", stop_spec)
    helper = _Helper(c)

    def user_voice(text: str) -> np.ndarray:
        return stop_audio if text == "stop" else helper(text)

    target = plan["target"]
    if target == "HOLD":
        line = coach_voice(c.lines["hold_start"].format(time="30 seconds"))
        delay = len(line) / bc.RATE + plan["hold_delay"]
        reply = Reply("hold_start", "stop", delay, 1, True)
    else:
        text = bc.fill(c.lines[target])
        dur = len(coach_voice(text)) / bc.RATE
        room = max(0.05, dur - len(stop_audio) / bc.RATE - 0.15)
        reply = Reply(target, "stop", plan["frac"] * room, 1, True)
    log = EventLog()
    driver = SessionDriver(Engine(c, SessionPlan()), log)
    rec = make_recognizer(kind)
    ear = build_ear(rec, c, coach_synth.words_of)
    world = World(echo_db=-20.0, echo_delay_ms=plan["echo_delay_ms"], speed=0.0, limit=300.0,
                  seed=plan["seed"])
    w0 = time.perf_counter()
    run = run_demo(driver, ear, coach_voice, user_voice, [reply] + default_replies(c), world)
    wall = time.perf_counter() - w0
    entries = log.entries
    spoke = [e for e in entries if e["kind"] == "user_spoke" and e["text"] == "stop"]
    stops = [e for e in entries if bc.silenced_for_stop(e)]
    silences = [e for e in entries if e["kind"] == "speaker_stopped"]
    st = ear.stats()
    out = {**plan, "kind": kind, "wall": wall, "audio": st.audio_seconds, "cpu": st.cpu_seconds,
           "outcome": driver.end.outcome.value if driver.end else None}
    if not spoke:
        out["result"] = "false_stop" if stops else "not_reached"
        return out
    s0, s1 = spoke[0]["start"], spoke[0]["end"]
    early = [e for e in stops if e["t"] < s0]
    if early:
        out["result"] = "false_stop"
        return out
    after = [e for e in stops if e["t"] >= s0]
    if not after:
        out["result"] = "missed"
        return out
    heard_t = after[0]["t"]
    out["asked"] = after[0]["intent"] == "unsure"  # silenced, asked "Did you say stop?"
    sil = [e["t"] for e in silences if heard_t - 1e-6 <= e["t"] <= heard_t + 0.2]
    out["playing"] = bool(sil)
    out["result"] = "caught"
    out["latency"] = (sil[0] if sil else heard_t) - s1
    return out


def main() -> int:
    """Run the trials for some kinds, in a pool of two processes, and print the figures."""
    import argparse
    from concurrent.futures import ProcessPoolExecutor
    ap = argparse.ArgumentParser(description="stop latency in process, by recognizer")
    ap.add_argument("--kinds", default="whisper,ours")
    ap.add_argument("--trials", type=int, default=36)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    kinds = args.kinds.split(",")
    root = str(bench_content_dir())
    plans = trial_plan(args.seed, args.trials)
    with ProcessPoolExecutor(2) as pool:
        trials = list(pool.map(run_trial, [p for k in kinds for p in plans],
                               [k for k in kinds for _ in plans], [root] * len(kinds) * len(plans)))
    for kind in kinds:
        ts = [t for t in trials if t["kind"] == kind]
        lat = sorted(t["latency"] for t in ts if t["result"] == "caught")
        counts = {r: sum(1 for t in ts if t["result"] == r)
                  for r in ("caught", "missed", "false_stop", "not_reached")}
        st = bc.stats(lat)
        cpu = sum(t["cpu"] for t in ts) / max(sum(t["audio"] for t in ts), 1e-9)
        print(f"{kind:14} {counts}  latency (s after the word's end) p50 "
              f"{st['p50'] if st['p50'] is None else round(st['p50'], 3)} p95 "
              f"{st['p95'] if st['p95'] is None else round(st['p95'], 3)} max "
              f"{st['max'] if st['max'] is None else round(st['max'], 3)}; asked "
              f"{sum(1 for t in ts if t.get('asked'))}; listening CPU {cpu:.3f} s/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
