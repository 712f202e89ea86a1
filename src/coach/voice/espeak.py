"""The espeak-ng engines: pyttsx3 (its espeak-ng driver, through libespeak-ng) and the espeak-ng
program. Today's robotic but light voice: ``--tts pyttsx3``, and the fallback when the neural
voice cannot load.

pyttsx3 pitfalls handled here (see research.md): a fresh engine per line (property changes stop
applying on a reused engine), one utterance per ``runAndWait``, waiting on ``finished-utterance``
and on the file with a timeout, its "Audio saved to ..." print silenced, and espeak-ng's word
events captured so each word's time in the audio is known. The program engine reports no word
times.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from coach.errors import CoachError
from coach.voice.espeak_init import new_engine, program_environment
from coach.voice.phonemes import program_version

DEFAULT_VOICE = "gmw/en-us"
"""espeak-ng's American English voice."""
DEFAULT_RATE = 150
"""Words per minute."""
RENDER_TIMEOUT = 10.0
"""Seconds to wait for one line to be rendered before giving up on pyttsx3."""

_ENGINE_LOCK = threading.Lock()  # espeak-ng is process-global: one synthesis at a time

Synthesized = tuple[np.ndarray, int, tuple[tuple[str, float], ...]]
"""int16 samples, rate (Hertz), each word (lower case) with the second it starts."""


@dataclass(frozen=True)
class VoiceInfo:
    """An installed voice: ``id`` is what ``--voice`` takes (e.g. ``gmw/en-us``)."""

    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None = None
    engine: str = "pyttsx3"


def no_espeak(detail: str) -> CoachError:
    return CoachError(
        "tts.no_espeak",
        f"The speech synthesizer espeak-ng is not available ({detail}).",
        hint="run scripts/setup (Debian packages espeak-ng and libespeak-ng1)",
    )


def _pyttsx3_espeak() -> tuple[type, object]:
    """pyttsx3's Engine class and its espeak driver module, with the driver's print silenced."""
    try:
        from pyttsx3.drivers import espeak as driver
        from pyttsx3.engine import Engine
    except (OSError, RuntimeError, ImportError) as err:
        raise no_espeak(f"pyttsx3 could not load libespeak-ng: {err}") from err
    # The driver prints "Audio saved to ..." with the builtin print; shadow it in that module
    # only (redirecting sys.stdout would swallow other threads' output too).
    driver.print = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    return Engine, driver


def read_wav_int16(data: bytes | Path) -> tuple[np.ndarray, int]:
    """(mono int16 samples, rate in Hertz) of a 16-bit WAV (bytes or a path)."""
    src = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with wave.open(src, "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit PCM, got {8 * w.getsampwidth()}-bit")
        rate, channels = w.getframerate(), w.getnchannels()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return pcm.copy(), rate


def _no_cancel(engine) -> None:
    """pyttsx3 ends ``runAndWait``'s queue with ``stop()``, before the synthesis starts; when
    espeak-ng (asynchronous: its own thread) is still busy then, ``stop`` makes the next loop
    call ``espeak_Cancel``, which drops espeak-ng's queued commands and puts back the parameters
    of the last utterance. Suspected cause of a line rendered at the wrong rate in two full test
    runs on a loaded machine (not reproduced alone). A render to a file never needs to cancel."""
    driver = getattr(getattr(engine, "proxy", None), "_driver", None)
    if driver is not None:
        driver.stop = lambda: None


def _capture_word_times(engine, text: str, sink: list[tuple[str, float]]) -> None:
    """Collect espeak-ng's word events (text position, audio position in ms) while ``engine``
    synthesizes ``text``: pyttsx3 forwards only the text position, so its driver's synthesis
    callback is wrapped (pyttsx3 2.99 internals; without them the line simply has no word
    times)."""
    try:
        from pyttsx3.drivers import _espeak

        driver = engine.proxy._driver
        forward = driver._onSynth
    except (ImportError, AttributeError):
        return

    def on_synth(wav, numsamples, events):  # espeak-ng's thread: only note and forward
        i = 0
        while events[i].type != _espeak.EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == _espeak.EVENT_WORD and ev.text_position > 0:
                word = text[ev.text_position - 1:ev.text_position - 1 + ev.length].lower()
                if word.strip():  # (an event past the text's end: left from another line)
                    sink.append((word, ev.audio_position / 1000.0))
            i += 1
        return forward(wav, numsamples, events)

    _espeak.SetSynthCallback(on_synth)


def espeak_voices() -> list[VoiceInfo]:
    """The voices espeak-ng offers, as pyttsx3 lists them."""
    Engine, driver = _pyttsx3_espeak()
    with _ENGINE_LOCK:
        engine = new_engine(Engine, driver)  # libespeak-ng must be initialised for ListVoices
        voices = engine.getProperty("voices")
        del engine
    return [VoiceInfo(str(v.id), str(v.name), tuple(v.languages or ()), v.gender)
            for v in voices]


def check_espeak_voice(voice: str | None) -> str:
    """The espeak-ng voice id for ``voice`` (an id or a name; the default for None); an unknown
    name is a ``CoachError``."""
    if voice is None:
        return DEFAULT_VOICE
    voices = espeak_voices()
    for v in voices:
        if voice.lower() in (v.id.lower(), v.name.lower()):
            return v.id
    some = ", ".join(v.id for v in voices if "en" in v.id.split("/")[-1][:2])
    raise CoachError("tts.no_voice", f"No espeak-ng voice is called '{voice}'.",
                     hint=f"pick one of `coach voices`, e.g. {some}")


class Pyttsx3Engine:
    """espeak-ng through pyttsx3: ``voice`` id, ``rate`` words per minute, ``volume`` 0..1."""

    kind = "pyttsx3"

    def __init__(self, voice: str, rate: int = DEFAULT_RATE, volume: float = 1.0) -> None:
        _pyttsx3_espeak()
        self.voice, self.rate, self.volume = voice, rate, volume

    @property
    def name(self) -> str:
        return f"pyttsx3-{metadata.version('pyttsx3')}+espeak-ng-{program_version()}"

    def synthesize(self, text: str) -> Synthesized:
        Engine, driver = _pyttsx3_espeak()
        with _ENGINE_LOCK, tempfile.TemporaryDirectory(prefix="coach-tts-") as tmp:
            path = Path(tmp) / "line.wav"
            done = threading.Event()
            engine = new_engine(Engine, driver)  # fresh: a reused one stops applying properties
            engine.connect("finished-utterance", lambda name, completed: done.set())
            _no_cancel(engine)
            words: list[tuple[str, float]] = []
            _capture_word_times(engine, text, words)
            engine.setProperty("voice", self.voice)
            engine.setProperty("rate", self.rate)
            engine.setProperty("volume", self.volume)
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            deadline = time.monotonic() + RENDER_TIMEOUT
            finished = done.wait(RENDER_TIMEOUT)
            while time.monotonic() < deadline and not (path.is_file() and path.stat().st_size > 44):
                time.sleep(0.005)
            del engine
            if not finished or not path.is_file():
                raise CoachError("tts.timeout", f"pyttsx3 did not render {text[:40]!r} within "
                                 f"{RENDER_TIMEOUT:.0f} s.", hint="run with the espeak-ng engine instead")
            try:
                return (*read_wav_int16(path), tuple(words))
            except (EOFError, wave.Error, ValueError) as err:
                raise CoachError("tts.bad_output", f"pyttsx3 wrote an unreadable WAV for "
                                 f"{text[:40]!r}: {err}.", hint="run with the espeak-ng engine instead") from err


class EspeakProgramEngine:
    """The espeak-ng program (``-w``): same voices as pyttsx3, no word times."""

    kind = "espeak-ng"

    def __init__(self, voice: str | None, rate: int = DEFAULT_RATE, volume: float = 1.0) -> None:
        if shutil.which("espeak-ng") is None:
            raise no_espeak("the espeak-ng program was not found")
        self.voice, self.rate, self.volume = voice, rate, volume

    @property
    def name(self) -> str:
        return f"espeak-ng-{program_version()}"

    def synthesize(self, text: str) -> Synthesized:
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise no_espeak("the espeak-ng program was not found")
        with tempfile.TemporaryDirectory(prefix="coach-tts-") as tmp:
            path = Path(tmp) / "line.wav"
            cmd = [exe, "-s", str(self.rate), "-a", str(int(round(self.volume * 100))), "-w",
                   str(path), "--stdin"]
            if self.voice:
                cmd[1:1] = ["-v", self.voice]
            proc = subprocess.run(cmd, input=text, capture_output=True, text=True,
                                  timeout=RENDER_TIMEOUT, env=program_environment())
            if proc.returncode != 0 or not path.is_file():
                raise CoachError("tts.failed", f"espeak-ng failed on {text[:40]!r}: {proc.stderr.strip()}",
                                 hint="check the voice name with `espeak-ng --voices`")
            return (*read_wav_int16(path), ())  # the program reports no word times
