"""Real people saying "stop" over the coach's voice, through the shipped listening stage.

Every content line, rendered by the coach's own synthesizer (pyttsx3/espeak-ng, with its word
times), is played through simulated rooms (``echo_sim.room_echo``: echo gain, bulk delay,
reverberation, microphone noise). The shipped ``Ear`` (echo suppressor, the recognizer
(``--backend``, whisper unless told) with the hold's vocabulary, self-speech filter judging the coach's words by when they sound) hears:

- **the echo alone**: commands it takes from the coach's own voice, and the user-to-echo ratio
  (``EchoSuppressor.user_ratio_between``) of every word-sized span (0.5 s, sliding by 0.1 s) of
  the lines and their 0.9 s tails: what a misrecognition of the coach's voice is judged by;
- **each of the 10 real "stop"s** (shared/speech sample) said inside a line (0.5 s after it
  starts), at 6, 0, -6 and -12 dB against the echo's level at the microphone: caught (the voice
  was silenced for it: ``stop``, or ``unsure`` and asked), of which asked, and the ratio over the
  word's loud frames, set against the self-speech filter's bars (1.0 kept, 1.5 obeyed unasked).
  Each person first says two of their other words in silence (as they answer the coach in a
  session), then four lines play, then their "stop" comes 0.5 s into the fifth line;
- **the peer**: the same people at the same moments with the echo left out of the microphone
  (the coach still plays, so the Ear treats the audio as during its voice): what the echo costs.

    .venv/bin/python bench/barge_in.py            # five rooms, about 8 minutes on 2 cores
    .venv/bin/python bench/barge_in.py --quick    # one room
    .venv/bin/python bench/barge_in.py --backend pocketsphinx   # the earlier recognizer
    .venv/bin/python bench/barge_in.py --read-speech --pacer    # others talking over the coach

``--read-speech``: instead of the people, the tune set's read English (other people in the room,
1-2 s apart, at the echo's level) over the whole narration in the first room; every command
reported is false. ``--pacer`` puts the breathing pacer under the narration; ``--tts piper`` plays
the default voice.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from coach.devices import room as S  # noqa: E402

from coach.pcm import SAMPLE_RATE, read_wav_16k, round_to_int16
from coach.listen.echo.suppressor import EchoSuppressor  # noqa: E402
from coach.listen.echo.self_speech import SelfSpeechFilter  # noqa: E402
from coach.app import load_recognizer  # noqa: E402

BACKEND = ["whisper"]
"""The recognizer under test (``--backend``)."""
from coach.listen.ear import ECHO_TAIL, Ear  # noqa: E402
from coach.app import synthesizer, voice_16k  # noqa: E402
import bench_common as bc  # noqa: E402

TAIL = ECHO_TAIL + EchoSuppressor().max_lag / SAMPLE_RATE  # the Ear's echo tail, as the Ear has it
SPAN = 0.5  # seconds of a short word, as the recognizer reports it
SERS = (6.0, 0.0, -6.0, -12.0)  # user level - echo level at the microphone, dB
ROOMS = ((-10.0, 0.05, 10.0), (-10.0, 0.02, 10.0), (-10.0, 0.08, 10.0), (-20.0, 0.05, 10.0),
         (-10.0, 0.05, 100.0))  # echo gain dB, bulk delay s, noise RMS (int16)
FLT = SelfSpeechFilter()


@dataclass(frozen=True)
class Narration:
    """What the coach plays (16 kHz int16), its lines as (start s, end s, text), and the
    synthesizer that rendered them (for its word times)."""

    synth: object
    audio: np.ndarray
    spans: tuple[tuple[float, float, str], ...]

    @classmethod
    def of_content(cls, gap: float = 0.6, tts: str = bc.COACH_TTS,
                   pacer: bool = False) -> "Narration":
        """Every content line (placeholders filled) by the coach's synthesizer (``tts``),
        ``gap`` s apart; ``pacer``: the breathing pacer (the routine's pace) under all of it, as
        during the breathing and the hold."""
        if tts == "piper":
            synth = synthesizer(None, None, 1.0, tts="piper")
        else:
            synth = synthesizer(bc.COACH_VOICE, bc.COACH_RATE, 1.0, tts=tts)
        voice = voice_16k(synth)
        parts, spans, t = [np.zeros(SAMPLE_RATE, np.int16)], [], 1.0
        for text in sorted({text for _, text in bc.narration_lines()}):
            audio = round_to_int16(voice(text) * 32767)
            spans.append((t, t + len(audio) / SAMPLE_RATE, text))
            parts += [audio, np.zeros(int(gap * SAMPLE_RATE), np.int16)]
            t += len(audio) / SAMPLE_RATE + gap
        audio = np.concatenate(parts)
        if pacer:
            from coach.voice.pacer import breath_cycle
            timing = bc.content().routine.timing
            loop = breath_cycle(timing.breath_in, timing.breath_out, SAMPLE_RATE)
            bed = np.tile(loop, len(audio) // len(loop) + 1)[: len(audio)]
            audio = round_to_int16(audio + bed * 32768.0)
        return cls(synth, audio, tuple(spans))

    def playing(self, t: float) -> str | None:
        return next((text for a, b, text in self.spans if a <= t < b), None)

    def part(self, start: float, lead: float) -> "Narration":
        """The narration from ``start`` seconds on, after ``lead`` seconds of silence."""
        return Narration(self.synth, np.concatenate([np.zeros(int(lead * SAMPLE_RATE), np.int16),
                                                     self.audio[int(start * SAMPLE_RATE):]]),
                         tuple((a - start + lead, b - start + lead, text)
                               for a, b, text in self.spans if a >= start))


def listen(nar: Narration, mic: np.ndarray) -> tuple[Ear, list]:
    """The shipped Ear over the whole run, fed as the live loop feeds it."""
    c = bc.content()
    ear = Ear(load_recognizer(BACKEND[0], realtime=False), c, EchoSuppressor(history=3600.0), FLT,
              nar.synth.words_of)
    ear.listen_for(bc.state_vocabularies(c)[-1])  # the largest: the hold's
    heard = []
    for i, (m, r) in enumerate(S.blocks(mic, nar.audio)):
        t = i * 800 / SAMPLE_RATE
        heard += ear.hear(m, t, reference=r, now_playing=nar.playing(t))
    return ear, heard + ear.flush(len(mic) / SAMPLE_RATE)


def loud_span(clip: np.ndarray, frame: int = 320) -> tuple[float, float]:
    """Seconds of the first and last frame within 20 dB of the clip's loudest."""
    n = len(clip) // frame
    p = np.mean(clip[: n * frame].astype(float).reshape(n, frame) ** 2, axis=1)
    loud = np.flatnonzero(p >= p.max() / 100)
    return loud[0] * frame / SAMPLE_RATE, (loud[-1] + 1) * frame / SAMPLE_RATE


def echo_alone(nar: Narration, echo: np.ndarray, noise: np.ndarray) -> dict:
    ear, heard = listen(nar, round_to_int16(echo + noise))
    ratios = []
    for a, b, _ in nar.spans:
        if a <= 5.0:  # (the canceller converges in the first lines)
            continue
        for t in np.arange(a, b + TAIL - SPAN + 1e-9, 0.1):
            ratios.append(ear.echo.user_ratio_between(t, t + SPAN))
    return {"ratios": np.array(ratios), "commands": [h.intent for h in heard]}


def people_over_the_coach(nar: Narration, echo, noise, ser_db: float, echo_gain: float = 1.0
                          ) -> dict:
    """Per person, a short session: two of their other words said in silence first (answers to
    the coach: the recognizer's cepstral mean learns their voice and microphone, as in a
    session), then four lines, then their "stop" 0.5 s into the fifth line, at ``ser_db``
    against the echo's level. One Ear per person; the lines differ from person to person.
    ``echo_gain`` 0: the echo left out of the microphone (the coach still plays), to see what
    the echo costs."""
    level = S.active_rms(echo) * 10 ** (ser_db / 20)
    lines = [s for s in nar.spans if s[1] - s[0] > 1.5]
    out = {"n": 0, "caught": 0, "asked": 0, "ratios": [], "others": []}
    for k, (person, stop, warm) in enumerate(people()):
        a, b = lines[5 * k][0], lines[5 * k + 4][1]  # five lines of the narration, with gaps
        lead = np.zeros(int(4.5 * SAMPLE_RATE))
        room = np.concatenate([lead, echo[int(a * SAMPLE_RATE) - SAMPLE_RATE // 2: int(b * SAMPLE_RATE) + SAMPLE_RATE]
                               * echo_gain])
        user = np.zeros(len(room))
        at = 0.5
        for w in warm:
            user[int(at * SAMPLE_RATE): int(at * SAMPLE_RATE) + len(w)] += _scaled(w, level)
            at += len(w) / SAMPLE_RATE + 0.7
        start = len(lead) + int((lines[5 * k + 4][0] - a + 1.0) * SAMPLE_RATE)
        user[start: start + len(stop)] += _scaled(stop, level)
        w0, w1 = (start / SAMPLE_RATE + x for x in loud_span(stop))
        sub = nar.part(a - 0.5, len(lead) / SAMPLE_RATE)
        ear, heard = listen(sub, round_to_int16(room + noise[: len(room)] + user))
        silencing = [h for h in heard if bc.silences_for_stop(h.intent, h.alternatives)]
        hits = [h for h in silencing if h.start <= w1 + 0.3 and h.end >= w0 - 0.3]
        out["n"] += 1
        out["caught"] += bool(hits)
        out["asked"] += bool(hits) and hits[0].intent == "unsure"
        out["others"] += [f"{h.intent}@{person}" for h in silencing if h not in hits]
        lag = ear.echo.latency
        out["ratios"].append(ear.echo.user_ratio_between(w0 + lag, w1 + lag))
    return out


def read_speech_over_the_coach(nar: Narration, echo, noise, ser_db: float = 0.0) -> dict:
    """The tune set's read English (other people talking in the room, 1-2 s apart) over the whole
    narration at ``ser_db`` against the echo's level: every command the Ear reports is false."""
    import csv
    tune = ROOT.parent / "shared" / "speech" / "tune"
    rows = [r for r in csv.DictReader(open(tune / "manifest.csv")) if r["kind"] == "continuous"]
    level = S.active_rms(echo) * 10 ** (ser_db / 20)
    talk = np.zeros(len(echo))
    at, rng = SAMPLE_RATE, np.random.default_rng(4)
    for r in rows:
        clip = read_wav_16k(tune / r["file"])
        if at + len(clip) > len(talk):
            break
        talk[at: at + len(clip)] += _scaled(clip, level)
        at += len(clip) + int(rng.uniform(1.0, 2.0) * SAMPLE_RATE)
    ear, heard = listen(nar, round_to_int16(echo + noise + talk))
    return {"minutes": at / SAMPLE_RATE / 60, "commands": [h.intent for h in heard],
            "transcripts": getattr(ear.recognizer, "stats", {}).get("transcripts")}


@functools.cache
def people() -> list[tuple[str, np.ndarray, list[np.ndarray]]]:
    """(speaker id, their "stop", two of their other words) for each speaker of the sample."""
    out = []
    for path in sorted((bc.SPEECH_DIR / "stop").glob("*.wav")):
        who = path.stem.split("_")[0]
        others = sorted(p for p in bc.SPEECH_DIR.glob(f"*/{who}_*.wav") if p.parent.name != "stop")
        out.append((who, read_wav_16k(path), [read_wav_16k(p) for p in others[:2]]))
    return out


def _scaled(clip: np.ndarray, level: float) -> np.ndarray:
    return clip.astype(float) * (level / S.active_rms(clip))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one room only")
    ap.add_argument("--backend", default="whisper", help="whisper (default) or pocketsphinx")
    ap.add_argument("--tts", default=bc.COACH_TTS, choices=("pyttsx3", "piper"),
                    help=f"the coach's voice (default {bc.COACH_TTS})")
    ap.add_argument("--pacer", action="store_true",
                    help="the breathing pacer under the whole narration")
    ap.add_argument("--read-speech", action="store_true",
                    help="instead: read English over the coach (first room), false commands")
    args = ap.parse_args()
    BACKEND[0] = args.backend
    t0 = time.time()
    nar = Narration.of_content(tts=args.tts, pacer=args.pacer)
    print(f"{args.backend}; voice {args.tts}; pacer {'on' if args.pacer else 'off'}")
    if args.read_speech:
        gain, delay, noise_rms = ROOMS[0]
        echo = S.room_echo(nar.audio, gain, delay, reverb=0.08, seed=int(delay * 1000))
        noise = np.random.default_rng(3).standard_normal(len(nar.audio)) * noise_rms
        r = read_speech_over_the_coach(nar, echo, noise)
        print(f"read speech at the echo's level over {len(nar.audio) / SAMPLE_RATE:.0f} s of "
              f"narration ({r['minutes']:.1f} min of it spoken): {len(r['commands'])} commands "
              f"{r['commands']}; the recognizer wrote {r['transcripts']} transcripts; "
              f"{time.time() - t0:.0f} s")
        return
    print(f"narration {len(nar.audio) / SAMPLE_RATE:.0f} s, {len(nar.spans)} lines; "
          f"{len(people())} people; filter bars: kept {FLT.min_user_ratio}, "
          f"obeyed unasked {FLT.sure_user_ratio}\n")
    print("| room (echo, delay, noise) | echo alone: commands; span ratio p99 / max, >= 1.0 | "
          + " | ".join(f"people at {s:+.0f} dB: caught (asked), ratio min" for s in SERS)
          + " | peer: same people and moments, echo left out |")
    print("|---" * (3 + len(SERS)) + "|")
    rng = np.random.default_rng(3)
    for gain, delay, noise_rms in ROOMS[:1] if args.quick else ROOMS:
        echo = S.room_echo(nar.audio, gain, delay, reverb=0.08, seed=int(delay * 1000))
        noise = rng.standard_normal(len(nar.audio)) * noise_rms
        alone = echo_alone(nar, echo, noise)
        r = alone["ratios"]
        cells = [f"{gain:+.0f} dB, {delay * 1000:.0f} ms, {noise_rms:.0f}",
                 f"{len(alone['commands'])} {','.join(alone['commands'])}; "
                 f"{np.percentile(r, 99):.2f} / {r.max():.2f}, {np.mean(r >= 1.0) * 100:.2f} %"]
        for ser in SERS:
            p = people_over_the_coach(nar, echo, noise, ser)
            extra = f"; +{len(p['others'])} {','.join(p['others'])}" if p["others"] else ""
            cells.append(f"{p['caught']}/{p['n']} ({p['asked']}), {min(p['ratios']):.2f}{extra}")
        p = people_over_the_coach(nar, echo, noise, 0.0, echo_gain=0.0)
        cells.append(f"{p['caught']}/{p['n']}")
        print("| " + " | ".join(cells) + " |", flush=True)
    print(f"\ntotal {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
