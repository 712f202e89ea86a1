"""False alarms: commands taken from speech that holds none.

1. Non-command speech: ordinary sentences (bench_sentences, with sound-alike words) spoken by
   random espeak-ng accents/variants/rates/pitches at random levels, 0.3-1.5 s pauses between,
   concatenated into a continuous stream and fed in 50 ms blocks as fast as the CPU allows.
   Vocabularies: all intents at once, and the hold-on-the-ball state (the most words of any
   state). False alarms per hour = intents reported / hours of audio.
2. The coach's own narration: every line of content/lines.toml rendered by coach.voice.synth.Synthesizer
   (gmw/en-us, 150 wpm), played back to back with 0.3-0.8 s gaps; the microphone hears it through
   ``coach.devices.room.room_echo`` (-20 or -10 dB, 20-80 ms delay, 60 ms reverberation) plus
   -65 dBFS noise. Ours goes through the Ear (echo suppressor + self-speech filter) with the
   reference of what is playing and the text of the line; peers hear the raw microphone.
"""

from __future__ import annotations

import time

import numpy as np

import bench_common as bc
from bench_commands import recognizer
from bench_sentences import SENTENCES

BLOCK = 800
HOLD_STATE = "hold"


def _vocab(which: str, c) -> frozenset[str]:
    if which == "all":
        return frozenset(c.intents)
    return max(bc.state_vocabularies(c), key=len)


def speech_stream(seed: int, seconds: float) -> np.ndarray:
    rng = np.random.default_rng([seed, 7])
    parts, total = [], 0
    while total < seconds * bc.RATE:
        s = bc.level(bc.say(str(rng.choice(SENTENCES)), bc.random_voice(rng)),
                     float(rng.uniform(-30, -16)))
        gap = np.zeros(int(rng.uniform(0.3, 1.5) * bc.RATE), np.float32)
        parts += [s, gap]
        total += len(s) + len(gap)
    x = np.concatenate(parts)
    x = x + 10 ** (-65 / 20) * rng.standard_normal(len(x)).astype(np.float32)
    return bc.to_int16(x)


CONFIGS = (("ours", "all"), ("ours", "hold"), ("kws", "all"), ("kws", "hold"), ("naive", "hold"))


def speech_task(seed: int, seconds: float, configs=CONFIGS) -> list[dict]:
    c = bc.content()
    x = speech_stream(seed, seconds)
    hours = len(x) / bc.RATE / 3600
    out = []
    for kind, vocab in configs:
        rec = recognizer(kind)
        rec.set_vocabulary(c.phrases(_vocab(vocab, c)))
        heard = []
        t0 = time.process_time()
        for i in range(0, len(x), BLOCK):
            heard += [(h.intent, h.text) for h in rec.accept(x[i:i + BLOCK])]
        cpu = time.process_time() - t0
        out.append({"kind": kind, "vocab": vocab, "seed": seed, "audio_s": len(x) / bc.RATE,
                    "cpu": cpu, "count": len(heard), "per_hour": len(heard) / hours,
                    "examples": heard[:10]})
    return out


def narration_task(seed: int, echo_db: float, kind: str, vocab: str = "all") -> dict:
    from coach.devices.room import room_echo
    from coach.listen.ear import Ear
    from coach.app import build_ear, synthesizer
    c = bc.content()
    rng = np.random.default_rng([seed, int(-echo_db)])
    synth = synthesizer(bc.COACH_VOICE, bc.COACH_RATE, 1.0, tts=bc.COACH_TTS)
    import soxr
    played, texts = [], []  # per-sample line text (or None)
    for _, text in bc.narration_lines(c):
        r = synth.render(text)
        x = r.samples.astype(np.float32) / 32768
        if r.rate != bc.RATE:
            x = soxr.resample(x, r.rate, bc.RATE).astype(np.float32)
        gap = np.zeros(int(rng.uniform(0.3, 0.8) * bc.RATE), np.float32)
        played += [x, gap]
        texts += [(len(x), text), (len(gap), None)]
    ref = bc.to_int16(np.concatenate(played))
    delay = float(rng.uniform(0.02, 0.08))
    mic = room_echo(ref, echo_db, delay, seed=seed) + 10 ** (-65 / 20) * 32767 * \
        rng.standard_normal(len(ref))
    mic16 = np.clip(np.round(mic), -32768, 32767).astype(np.int16)
    playing = np.empty(len(ref), dtype=object)
    pos = 0
    for n, t in texts:
        playing[pos:pos + n] = t
        pos += n
    rec = recognizer(kind)
    vset = _vocab(vocab, c)
    if kind == "ours":
        ear = build_ear(rec, c, synth.words_of)
    else:
        ear = Ear(rec, c)  # the peer hears the raw microphone
    ear.listen_for(vset)
    heard = []
    t0 = time.process_time()
    for i in range(0, len(ref) - BLOCK + 1, BLOCK):
        for h in ear.hear(mic16[i:i + BLOCK], i / bc.RATE, reference=ref[i:i + BLOCK],
                          now_playing=playing[i + BLOCK - 1]):
            heard.append((h.intent, h.text))
    cpu = time.process_time() - t0
    return {"kind": kind, "echo_db": echo_db, "delay_ms": delay * 1000, "vocab": vocab,
            "audio_s": len(ref) / bc.RATE, "cpu": cpu, "count": len(heard),
            "examples": heard[:10], "dropped_self": ear.stats().dropped_self}
