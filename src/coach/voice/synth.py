"""Speech synthesis: text -> 16-bit mono PCM, rendered once and cached.

The primary engine is pyttsx3 (espeak-ng driver) writing a temporary WAV with ``save_to_file``;
the ``espeak-ng`` program (``-w``) is the fallback engine. pyttsx3 pitfalls handled here (see
research.md): a fresh engine per line (property changes stop applying on a reused engine), one
utterance per ``runAndWait``, waiting on ``finished-utterance`` and on the file with a timeout,
and its "Audio saved to ..." print silenced. Lines are static, so audio is cached in memory and on
disk under ``paths.cache_dir()/tts``, keyed by text, voice, rate, volume and engine version.
Playback is not done here: hand ``Rendered.samples`` to a speaker from ``coach.devices.streams``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Iterable, Literal

import numpy as np

from coach import paths
from coach.errors import CoachError
from coach.voice.espeak_init import new_engine, program_environment

EngineName = Literal["auto", "pyttsx3", "espeak-ng"]

WordTimes = tuple[tuple[str, float], ...]
"""Each word of a line (lower case) with the second its sound starts in the rendered audio."""

RENDER_TIMEOUT = 10.0
"""Seconds to wait for one line to be rendered before giving up on pyttsx3."""

_ENGINE_LOCK = threading.Lock()  # espeak-ng is process-global: one synthesis at a time


@dataclass(frozen=True)
class Rendered:
    """Synthesized speech.

    samples: mono int16 PCM. rate: Hertz.
    source: where it came from this time (``engine``, ``memory`` or ``disk`` cache).
    seconds: wall time this ``render`` call took (seconds).
    """

    samples: np.ndarray
    rate: int
    source: str = "engine"
    seconds: float = 0.0
    words: WordTimes = ()
    """Each word of the text (lower case) with the second its sound starts, as espeak-ng reported
    it (pyttsx3 engine); empty when not known (the program engine). The listening stage uses it
    to tell whether the coach was saying "stop" when a "stop" was heard."""

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return len(self.samples) / self.rate


@dataclass(frozen=True)
class VoiceInfo:
    """An installed voice: ``id`` is what ``Synthesizer(voice=...)`` takes (e.g. ``gmw/en-us``)."""

    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None = None


def _no_espeak(detail: str) -> CoachError:
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
        raise _no_espeak(f"pyttsx3 could not load libespeak-ng: {err}") from err
    # The driver prints "Audio saved to ..." with the builtin print; shadow it in that module
    # only (redirecting sys.stdout would swallow other threads' output too).
    driver.print = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    return Engine, driver


@lru_cache(maxsize=1)
def _espeak_binary_version() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        return "missing"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10,
                         env=program_environment()).stdout
    parts = out.split()
    return parts[parts.index("text-to-speech:") + 1] if "text-to-speech:" in parts else out.strip()[:40]


@lru_cache(maxsize=4)
def _engine_version(engine: str) -> str:
    if engine == "pyttsx3":
        return f"pyttsx3-{metadata.version('pyttsx3')}+espeak-ng-{_espeak_binary_version()}"
    return f"espeak-ng-{_espeak_binary_version()}"


def _read_wav(data: bytes | Path) -> tuple[np.ndarray, int]:
    src = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with wave.open(src, "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit PCM, got {8 * w.getsampwidth()}-bit")
        rate, channels = w.getframerate(), w.getnchannels()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return pcm.copy(), rate


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".wav", dir=path.parent)
    os.close(fd)
    with wave.open(tmp, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype(np.int16).tobytes())
    os.replace(tmp, path)


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
                sink.append((word, ev.audio_position / 1000.0))
            i += 1
        return forward(wav, numsamples, events)

    _espeak.SetSynthCallback(on_synth)


def _read_words(path: Path) -> WordTimes:
    try:
        return tuple((str(w), float(t)) for w, t in json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return ()


def list_voices() -> list[VoiceInfo]:
    """The voices espeak-ng offers, as pyttsx3 lists them."""
    Engine, driver = _pyttsx3_espeak()
    with _ENGINE_LOCK:
        engine = new_engine(Engine, driver)  # libespeak-ng must be initialised for ListVoices
        voices = engine.getProperty("voices")
        del engine
    return [
        VoiceInfo(str(v.id), str(v.name), tuple(v.languages or ()), v.gender) for v in voices
    ]


class Synthesizer:
    """Renders lines with one voice, rate (words per minute) and volume (0..1).

    ``engine``: ``pyttsx3`` (primary), ``espeak-ng`` (the program), or ``auto``: pyttsx3,
    falling back to the program for good if pyttsx3 fails or times out.
    """

    def __init__(
        self,
        voice: str | None = None,
        rate_wpm: int = 150,
        volume: float = 1.0,
        engine: EngineName = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        if not 50 <= rate_wpm <= 450:
            raise CoachError("tts.bad_rate", f"Speech rate {rate_wpm} words/minute is out of range.",
                             hint="use a rate between 80 and 300 words per minute")
        if not 0.0 <= volume <= 1.0:
            raise CoachError("tts.bad_volume", f"Speech volume {volume} is out of range.",
                             hint="use a volume between 0 and 1")
        self.rate_wpm = rate_wpm
        self.volume = volume
        self.cache_dir = cache_dir if cache_dir is not None else paths.cache_dir() / "tts"
        self._engine: str = "espeak-ng" if engine == "espeak-ng" else "pyttsx3"
        self._fallback = engine == "auto"
        if self._engine == "pyttsx3":
            _pyttsx3_espeak()
        elif shutil.which("espeak-ng") is None:
            raise _no_espeak("the espeak-ng program was not found")
        self.voice = self._check_voice(voice)
        self._memory: dict[str, Rendered] = {}
        self._ahead: queue.Queue[str | None] = queue.Queue()
        self._worker: threading.Thread | None = None

    # --- identity ----------------------------------------------------------------------------
    @property
    def engine_name(self) -> str:
        """Engine and version, part of the cache key (e.g. ``pyttsx3-2.99+espeak-ng-1.51``)."""
        return _engine_version(self._engine)

    def _check_voice(self, voice: str | None) -> str | None:
        if voice is None:
            return None
        voices = list_voices() if self._engine == "pyttsx3" or self._fallback else []
        if not voices:
            return voice  # the program reports unknown voices itself
        for v in voices:
            if voice.lower() in (v.id.lower(), v.name.lower()):
                return v.id
        some = ", ".join(v.id for v in voices if "en" in v.id.split("/")[-1][:2])
        raise CoachError("tts.no_voice", f"No installed voice is called '{voice}'.",
                         hint=f"pick one of `coach voices`, e.g. {some}")

    def _key(self, text: str) -> str:
        ident = json.dumps([text, self.voice, self.rate_wpm, round(self.volume, 3), self.engine_name])
        return hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]

    def cache_path(self, text: str) -> Path:
        return self.cache_dir / f"{self._key(text)}.wav"

    # --- rendering ---------------------------------------------------------------------------
    def render(self, text: str) -> Rendered:
        """The line as int16 PCM: from memory, else the disk cache, else the engine."""
        t0 = time.perf_counter()
        key = self._key(text)
        hit = self._memory.get(key)
        if hit is not None:
            return replace(hit, source="memory", seconds=time.perf_counter() - t0)
        path = self.cache_dir / f"{key}.wav"
        words_path = path.with_suffix(".words.json")
        if path.is_file() and (words_path.is_file() or self._engine != "pyttsx3"):
            # (a pyttsx3 line cached before word times were kept is rendered again, once)
            try:
                samples, rate = _read_wav(path)
                out = Rendered(samples, rate, "disk", time.perf_counter() - t0,
                               _read_words(words_path))
                self._memory[key] = out
                return out
            except (OSError, EOFError, ValueError, wave.Error):
                path.unlink(missing_ok=True)  # a broken cache file: render again
        samples, rate, words = self._synthesize(text)
        key = self._key(text)  # the engine may have fallen back
        out = Rendered(samples, rate, "engine", time.perf_counter() - t0, words)
        self._memory[key] = out
        _write_wav(self.cache_dir / f"{key}.wav", samples, rate)
        (self.cache_dir / f"{key}.words.json").write_text(json.dumps(words))
        return out

    def words_of(self, text: str) -> WordTimes:
        """``Rendered.words`` of a line already rendered in this process; () otherwise (never
        renders: the listening stage calls it)."""
        hit = self._memory.get(self._key(text))
        return hit.words if hit is not None else ()

    def _synthesize(self, text: str) -> tuple[np.ndarray, int, WordTimes]:
        if not text.strip():
            return np.zeros(0, dtype=np.int16), 22050, ()
        if self._engine == "pyttsx3":
            try:
                return self._with_pyttsx3(text)
            except CoachError:
                if not self._fallback or shutil.which("espeak-ng") is None:
                    raise
                self._engine = "espeak-ng"
        return self._with_program(text)

    def _with_pyttsx3(self, text: str) -> tuple[np.ndarray, int, WordTimes]:
        Engine, driver = _pyttsx3_espeak()
        with _ENGINE_LOCK, tempfile.TemporaryDirectory(prefix="coach-tts-") as tmp:
            path = Path(tmp) / "line.wav"
            done = threading.Event()
            engine = new_engine(Engine, driver)  # fresh: a reused one stops applying properties
            engine.connect("finished-utterance", lambda name, completed: done.set())
            _no_cancel(engine)
            words: list[tuple[str, float]] = []
            _capture_word_times(engine, text, words)
            if self.voice:
                engine.setProperty("voice", self.voice)
            engine.setProperty("rate", self.rate_wpm)
            engine.setProperty("volume", self.volume)
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            deadline = time.monotonic() + RENDER_TIMEOUT
            finished = done.wait(RENDER_TIMEOUT)
            while time.monotonic() < deadline and not (path.is_file() and path.stat().st_size > 44):
                time.sleep(0.005)
            del engine
            if not finished or not path.is_file():
                raise CoachError("tts.timeout", f"pyttsx3 did not render {text[:40]!r} within {RENDER_TIMEOUT:.0f} s.",
                                 hint="run with the espeak-ng engine instead")
            try:
                return (*_read_wav(path), tuple(words))
            except (EOFError, wave.Error, ValueError) as err:
                raise CoachError("tts.bad_output", f"pyttsx3 wrote an unreadable WAV for {text[:40]!r}: {err}.",
                                 hint="run with the espeak-ng engine instead") from err

    def _with_program(self, text: str) -> tuple[np.ndarray, int, WordTimes]:
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise _no_espeak("the espeak-ng program was not found")
        with tempfile.TemporaryDirectory(prefix="coach-tts-") as tmp:
            path = Path(tmp) / "line.wav"
            cmd = [exe, "-s", str(self.rate_wpm), "-a", str(int(round(self.volume * 100))), "-w", str(path), "--stdin"]
            if self.voice:
                cmd[1:1] = ["-v", self.voice]
            proc = subprocess.run(cmd, input=text, capture_output=True, text=True,
                                  timeout=RENDER_TIMEOUT, env=program_environment())
            if proc.returncode != 0 or not path.is_file():
                raise CoachError("tts.failed", f"espeak-ng failed on {text[:40]!r}: {proc.stderr.strip()}",
                                 hint="check the voice name with `espeak-ng --voices`")
            return (*_read_wav(path), ())  # the program reports no word times

    # --- ahead of time -----------------------------------------------------------------------
    def render_ahead(self, texts: Iterable[str]) -> None:
        """Render these lines in a background thread so ``render`` later hits the cache."""
        for text in texts:
            self._ahead.put(text)
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="tts-ahead", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while True:
            try:
                text = self._ahead.get(timeout=2.0)
            except queue.Empty:
                return  # idle: let the thread (and its reference to this synthesizer) go
            try:
                if text is None:
                    return
                self.render(text)
            except CoachError:
                pass  # render() raises it again when the line is needed
            finally:
                self._ahead.task_done()

    def wait_ahead(self, timeout: float = 30.0) -> bool:
        """Wait until everything given to ``render_ahead`` is rendered; False on timeout."""
        deadline = time.monotonic() + timeout
        while self._ahead.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def is_cached(self, text: str) -> bool:
        return self._key(text) in self._memory or self.cache_path(text).is_file()

    def close(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            self._ahead.put(None)
            self._worker.join(timeout=RENDER_TIMEOUT)

    def __enter__(self) -> Synthesizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
