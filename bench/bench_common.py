"""Shared pieces of the benchmark suite: speech generation, noise, vocabularies, statistics.

Everything is 16 kHz. Speech comes from the real espeak-ng program (``coach.devices.room.speak``)
and is cached on disk under ``paths.cache_dir()/bench-speech`` (a cache, never a fixture: it is
keyed by text, voice, rate and pitch, and rebuilt when missing). Times are seconds.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from coach import paths  # noqa: E402
from coach.devices.room import active_rms, speak  # noqa: E402
from coach.content import Content, StepKind, load_content  # noqa: E402

RATE = 16000
SPEECH_DIR = ROOT.parent / "shared" / "speech" / "speech-commands-sample"

REAL_PAD = np.zeros(8000, np.int16)
"""0.5 s of silence before and after each real clip."""


def real_speech_clips() -> list[tuple[str, int, np.ndarray]]:
    """Every clip of the shared real-people sample as (word, index of the file in its word's
    folder by name, 16 kHz int16 padded with ``REAL_PAD`` each side), folders and files in name
    order. The one method behind every real-people figure: the CI test
    (tests/test_pocketsphinx.py), ``bench/ps_tune.py`` and the benchmark's real-recording row
    feed these clips in this order to one recognizer per vocabulary (pocketsphinx's live
    cepstral mean carries from clip to clip), reset and flushed per clip (``hear_real``)."""
    from coach.pcm import read_wav, to_16k_int16

    out = []
    for folder in sorted(p for p in SPEECH_DIR.iterdir() if p.is_dir()):
        for i, f in enumerate(sorted(folder.glob("*.wav"))):
            samples, rate = read_wav(f)
            out.append((folder.name, i, np.concatenate([REAL_PAD, to_16k_int16(samples, rate),
                                                        REAL_PAD])))
    return out


def hear_real(recognizer, audios: Iterable[np.ndarray]) -> list[list[str]]:
    """The intents ``recognizer`` (vocabulary already set) reports for each clip, in order."""
    from coach.listen.hear_file import hear_samples

    out = []
    for audio in audios:
        recognizer.reset()
        out.append([h.intent for h in hear_samples(audio, recognizer)])
    return out


VOICES = ("gmw/en-us", "gmw/en", "gmw/en-gb-x-rp", "gmw/en-us-nyc", "gmw/en-gb-scotland",
          "gmw/en-029", "gmw/en-gb-x-gbclan", "gmw/en-gb-x-gbcwmd")
"""espeak-ng English accents the simulated users speak with."""
VARIANTS = ("", "+f1", "+f2", "+f3", "+f4", "+m1", "+m3", "+m7", "+Alicia", "+Andrea", "+klatt2")
"""espeak-ng voice variants (pitch, formants, sex)."""
RATES = (120, 140, 160, 180, 200)
"""Words per minute."""
COACH_TTS, COACH_VOICE, COACH_RATE = "pyttsx3", "gmw/en-us", 150
"""The coach's voice in the suite: espeak-ng through pyttsx3, the voice every recorded figure of
bench/README.md was measured with (the coach's default is now the neural voice, ``--tts piper``,
not yet measured by the suite: set COACH_TTS, COACH_VOICE, COACH_RATE = "piper", None, None)."""

FILL = {"side": "right", "sides": "one side, then the other", "time": "one minute", "n": "3", "inhale": "5", "exhale": "5",
        "seconds": "30", "minutes": "2", "options": "stop, pause, repeat, or help",
        "plan": "Today we hold for two minutes each side.",
        "summary": "Last time you held for two minutes and it felt better."}
"""Values for the placeholders of content/lines.toml when a line is rendered on its own."""


@dataclass(frozen=True)
class VoiceSpec:
    voice: str
    rate: int
    pitch: int = 50

    @property
    def label(self) -> str:
        return f"{self.voice}@{self.rate}/p{self.pitch}"


def random_voice(rng: np.random.Generator, voices: Sequence[str] = VOICES) -> VoiceSpec:
    v = str(rng.choice(voices)) + str(rng.choice(VARIANTS))
    return VoiceSpec(v, int(rng.choice(RATES)), int(rng.integers(30, 71)))


def _cache_dir() -> Path:
    d = paths.cache_dir() / "bench-speech"
    d.mkdir(parents=True, exist_ok=True)
    return d


def say(text: str, spec: VoiceSpec, trim: bool = True) -> np.ndarray:
    """``text`` spoken by espeak-ng as float32 16 kHz; leading/trailing silence trimmed, so the
    last sample is the end of the speech. Disk-cached."""
    key = hashlib.sha1(repr((text, spec.voice, spec.rate, spec.pitch, trim)).encode()).hexdigest()
    path = _cache_dir() / f"{key}.npy"
    if path.is_file():
        try:
            return np.load(path)
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
    voice = spec.voice
    x = _speak_pitch(text, voice, spec.rate, spec.pitch)
    y = x.astype(np.float32) / 32768.0
    if trim:
        y = trim_silence(y)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy")
    os.close(fd)
    np.save(tmp, y)
    os.replace(tmp, path)
    return y


def _speak_pitch(text: str, voice: str, rate: int, pitch: int) -> np.ndarray:
    if pitch == 50:
        return speak(text, voice, rate)
    import shutil
    import subprocess
    from coach.pcm import read_wav_16k as read_wav
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "s.wav"
        subprocess.run([shutil.which("espeak-ng") or "espeak-ng", "-v", voice, "-s", str(rate),
                        "-p", str(pitch), "-w", str(p), text], check=True, capture_output=True,
                       timeout=30)
        return read_wav(p)


def trim_silence(x: np.ndarray, floor_db: float = -45.0, frame: int = 160) -> np.ndarray:
    """Cut leading and trailing 10 ms frames quieter than ``floor_db`` below the peak frame."""
    n = len(x) // frame
    if n == 0:
        return x
    e = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    loud = np.nonzero(e > e.max() * 10 ** (floor_db / 20))[0]
    if len(loud) == 0:
        return x
    return x[loud[0] * frame:(loud[-1] + 1) * frame].copy()


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(x, np.float64) * 32767.0), -32768, 32767).astype(np.int16)


def level(x: np.ndarray, dbfs: float) -> np.ndarray:
    """``x`` scaled so its active speech level (loudest 30 % of frames) is ``dbfs``."""
    r = active_rms(x)
    return (x * (10 ** (dbfs / 20) / max(r, 1e-9))).astype(np.float32)


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n).astype(np.float32)


BABBLE_TALKERS = 4


def babble_noise(n: int, rng: np.random.Generator, sentences: Sequence[str]) -> np.ndarray:
    """``BABBLE_TALKERS`` espeak-ng voices saying other sentences at once (each at the same level),
    each a continuous run of sentences from a random starting offset."""
    out = np.zeros(n, np.float32)
    for _ in range(BABBLE_TALKERS):
        parts, total = [], 0
        while total < n + RATE:
            s = level(say(str(rng.choice(sentences)), random_voice(rng)), -26)
            parts += [s, np.zeros(int(rng.uniform(0.05, 0.3) * RATE), np.float32)]
            total += len(parts[-1]) + len(parts[-2])
        talk = np.concatenate(parts)
        off = int(rng.integers(0, RATE))
        out += talk[off:off + n]
    return out


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """speech + noise scaled so active speech level / noise RMS is ``snr_db`` decibels."""
    s = active_rms(speech)
    nrm = float(np.sqrt(np.mean(noise.astype(np.float64) ** 2)) + 1e-12)
    return (speech + noise * (s / nrm / 10 ** (snr_db / 20))).astype(np.float32)


def stats(values: Iterable[float]) -> dict[str, float | int | None]:
    v = np.asarray(list(values), float)
    if len(v) == 0:
        return {"n": 0, "p50": None, "p95": None, "max": None, "mean": None}
    return {"n": int(len(v)), "p50": float(np.percentile(v, 50)), "p95": float(np.percentile(v, 95)),
            "max": float(v.max()), "mean": float(v.mean())}


def silences_for_stop(intent: str, alternatives: Sequence[str] = ()) -> bool:
    """A heard intent for which the coach silences its voice for a "stop": the stop itself, or
    ``unsure`` with "stop" among the alternatives (the voice pauses and asks)."""
    return intent == "stop" or (intent == "unsure" and "stop" in alternatives)


def silenced_for_stop(entry: dict) -> bool:
    """The same for an event-log entry (``heard``)."""
    return entry.get("kind") == "heard" and silences_for_stop(entry.get("intent", ""),
                                                             entry.get("alternatives", ()))


def content() -> Content:
    return load_content("psoas-ball")


def state_vocabularies(c: Content | None = None) -> list[frozenset[str]]:
    """Every vocabulary the engine's ``listen_set`` gives for the states of the shipped routine:
    each phase, for each step (on the ball or not, screening or later, with its awaited answers)."""
    from coach.session.changes import listen_set
    from coach.session.state import Phase, State

    c = c or content()
    steps = list(c.routine.steps.values())
    out: set[frozenset[str]] = set()
    for i, step in enumerate(steps):
        if step.kind is StepKind.SCREENING:
            awaiting = frozenset({"yes", "no"})
        elif step.kind is StepKind.FEEDBACK:
            awaiting = frozenset({"better", "same", "worse"})
        elif step.prompt:
            awaiting = frozenset({"ready"})
        else:
            awaiting = frozenset()
        for phase in Phase:
            if phase is Phase.ENDED:
                continue
            for pos in (0, 99):
                s = State(phase, pos=pos, awaiting=awaiting)
                v = listen_set(s, step, 1)
                if v:
                    out.add(v)
    return sorted(out, key=lambda v: (len(v), sorted(v)))


def all_phrases(c: Content) -> dict[str, list[str]]:
    return c.phrases(set(c.intents))


def fill(text: str) -> str:
    return text.format(**FILL)


def narration_lines(c: Content | None = None) -> list[tuple[str, str]]:
    """(key, text) of every line of content/lines.toml, placeholders filled."""
    c = c or content()
    return [(k, fill(t)) for k, t in c.lines.items() if fill(t).strip()]
