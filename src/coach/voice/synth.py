"""Speech synthesis: text -> 16-bit mono PCM with each word's time, rendered once and cached.

Three engines, each in its module: ``piper`` (the neural voice, ``coach.voice.neural``: the
default), ``pyttsx3`` (espeak-ng through pyttsx3, ``coach.voice.espeak``) and ``espeak-ng`` (the
program). A ``Synthesizer`` renders with its engine; when that engine cannot load or fails it
falls back to the next one (piper → pyttsx3 → the espeak-ng program) for good, and tells
``on_fallback`` once per change, with the reason.

Lines are static, so audio is cached on disk under ``paths.cache_dir()/tts`` (with its word
times beside it), keyed by text, voice, rate, volume and the engine's version, and in memory once
played. ``render_ahead`` renders lines on a background thread before they are needed; when that
thread has nothing left to do it unloads the neural model (~90 MB), which loads again if a line
not in the cache is needed. Playback is not done here: hand ``Rendered.samples`` to a speaker.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import tempfile
import threading
import time
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Literal, Protocol

import numpy as np

from coach import paths
from coach.errors import CoachError
from coach.pcm import write_wav
from coach.voice import espeak
from coach.voice.espeak import VoiceInfo, read_wav_int16

EngineName = Literal["piper", "pyttsx3", "espeak-ng"]
ENGINES: tuple[EngineName, ...] = ("piper", "pyttsx3", "espeak-ng")
"""In fallback order."""
DEFAULT_ENGINE: EngineName = "piper"

CLOSE_TIMEOUT = 30.0
"""Seconds ``close`` waits for the line being rendered ahead to finish."""

WordTimes = tuple[tuple[str, float], ...]
"""Each word of a line (lower case) with the second its sound starts in the rendered audio."""


class Engine(Protocol):
    kind: str
    voice: str | None

    @property
    def name(self) -> str:
        """Engine and version, part of the cache key (e.g. ``pyttsx3-2.99+espeak-ng-1.51``)."""

    def synthesize(self, text: str) -> tuple[np.ndarray, int, WordTimes]:
        """int16 samples, rate (Hertz), each word with the second it starts."""


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
    """Each word of the text (lower case) with the second its sound starts (from espeak-ng's word
    events, or the neural voice's phoneme durations); empty when not known (the program engine).
    The listening stage uses it to tell whether the coach was saying "stop" when a "stop" was
    heard."""

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return len(self.samples) / self.rate


def make_engine(kind: EngineName, voice: str | None, rate_wpm: int | None,
                volume: float) -> Engine:
    """An engine of ``kind``; ``voice`` and ``rate_wpm`` None give its defaults. An unknown voice
    name is a ``CoachError`` (``tts.no_voice``); so is an engine that cannot be set up."""
    if kind == "piper":
        from coach.voice.neural import NeuralEngine, find_piper_voice, length_scale_for
        return NeuralEngine(find_piper_voice(voice), length_scale_for(rate_wpm), volume)
    rate = rate_wpm or espeak.DEFAULT_RATE
    if kind == "pyttsx3":
        return espeak.Pyttsx3Engine(espeak.check_espeak_voice(voice), rate, volume)
    return espeak.EspeakProgramEngine(voice or espeak.DEFAULT_VOICE, rate, volume)


def list_voices() -> list[VoiceInfo]:
    """Every engine's voices: the neural (Piper) voices first, then espeak-ng's."""
    from coach.voice.neural import piper_voices
    out = [VoiceInfo(v.id, f"Piper voice ({v.source})", ("en-us",), None, "piper")
           for v in piper_voices()]
    try:
        out += espeak.espeak_voices()
    except CoachError:
        pass
    return out


class Synthesizer:
    """Renders lines with one engine, voice, rate (words per minute; None: the engine's own
    pace) and volume (0..1), falling back to the next engine when one fails (``fallback``)."""

    def __init__(self, voice: str | None = None, rate_wpm: int | None = None, volume: float = 1.0,
                 engine: EngineName = DEFAULT_ENGINE, cache_dir: Path | None = None,
                 fallback: bool = True,
                 on_fallback: Callable[[str], None] | None = None) -> None:
        if rate_wpm is not None and not 50 <= rate_wpm <= 450:
            raise CoachError("tts.bad_rate", f"Speech rate {rate_wpm} words/minute is out of range.",
                             hint="use a rate between 80 and 300 words per minute")
        if not 0.0 <= volume <= 1.0:
            raise CoachError("tts.bad_volume", f"Speech volume {volume} is out of range.",
                             hint="use a volume between 0 and 1")
        if engine not in ENGINES:
            raise CoachError("tts.bad_engine", f"No speech engine is called '{engine}'.",
                             hint=f"use one of {', '.join(ENGINES)}")
        self.rate_wpm, self.volume = rate_wpm, volume
        self.cache_dir = cache_dir if cache_dir is not None else paths.cache_dir() / "tts"
        self.on_fallback = on_fallback
        self.fallbacks: list[str] = []
        """Why each fallback happened, in order (also given to ``on_fallback``)."""
        self._next = list(ENGINES[ENGINES.index(engine) + 1:]) if fallback else []
        self._switch_lock = threading.Lock()
        try:
            self._engine: Engine = make_engine(engine, voice, rate_wpm, volume)
        except CoachError as err:
            if err.code == "tts.no_voice" or not self._next:
                raise  # a voice name the user got wrong is theirs to fix
            self._engine = self._fall_back(engine, err)
        self._memory: dict[str, Rendered] = {}
        self._words: dict[str, WordTimes] = {}
        self._inflight: dict[str, threading.Event] = {}
        self._ahead: queue.Queue[str | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._wanted_now = 0  # lines being rendered because they are needed now
        self._quiet = threading.Condition()

    # --- identity ----------------------------------------------------------------------------
    @property
    def engine(self) -> str:
        """The engine rendering now: ``piper``, ``pyttsx3`` or ``espeak-ng``."""
        return self._engine.kind

    @property
    def voice(self) -> str | None:
        return self._engine.voice

    @property
    def engine_name(self) -> str:
        """Engine and version, part of the cache key (e.g. ``pyttsx3-2.99+espeak-ng-1.51``)."""
        return self._engine.name

    def _key(self, text: str) -> str:
        ident = json.dumps([text, self.voice, self.rate_wpm, round(self.volume, 3), self.engine_name])
        return hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]

    def cache_path(self, text: str) -> Path:
        return self.cache_dir / f"{self._key(text)}.wav"

    # --- falling back ------------------------------------------------------------------------
    def _fall_back(self, failed: str, err: CoachError) -> Engine:
        """The next engine that can be made; says why once (``on_fallback``)."""
        while self._next:
            kind = self._next.pop(0)
            try:
                engine = make_engine(kind, None, self.rate_wpm, self.volume)
            except CoachError as next_err:
                failed, err = kind, next_err
                continue
            why = (f"the {failed} voice cannot be used ({err.message.rstrip('.')}); speaking "
                   f"with {kind} instead")
            self.fallbacks.append(why)
            if self.on_fallback is not None:
                self.on_fallback(why)
            return engine
        raise err

    def _synthesize(self, text: str) -> tuple[np.ndarray, int, WordTimes]:
        while True:
            engine = self._engine
            try:
                return engine.synthesize(text)
            except CoachError as err:
                with self._switch_lock:
                    if self._engine is engine:  # (another thread may have switched already)
                        if not self._next:
                            raise
                        self._engine = self._fall_back(engine.kind, err)

    # --- rendering ---------------------------------------------------------------------------
    def render(self, text: str, *, keep: bool = True) -> Rendered:
        """The line as int16 PCM: from memory, else the disk cache, else the engine (waiting for
        a render of the same line already under way). ``keep``: hold it in memory after."""
        t0 = time.perf_counter()
        while True:
            key = self._key(text)
            hit = self._memory.get(key)
            if hit is not None:
                return replace(hit, source="memory", seconds=time.perf_counter() - t0)
            from_disk = self._from_disk(key, t0)
            if from_disk is not None:
                if keep:
                    self._memory[key] = from_disk
                return from_disk
            with self._switch_lock:
                under_way = self._inflight.get(key)
                if under_way is None:
                    self._inflight[key] = threading.Event()
            if under_way is None:
                break
            under_way.wait(30.0)
        foreground = threading.current_thread() is not self._worker
        if foreground:  # needed now: the renders ahead wait (one at a time is fastest here)
            with self._quiet:
                self._wanted_now += 1
        try:
            samples, rate, words = self._synthesize(text)
            now_key = self._key(text)  # (the engine may have fallen back)
            out = Rendered(samples, rate, "engine", time.perf_counter() - t0, words)
            self._words[now_key] = words
            if not self._to_disk(now_key, out) or keep:
                self._memory[now_key] = out
            return out
        finally:
            with self._switch_lock:
                self._inflight.pop(key).set()
            if foreground:
                with self._quiet:
                    self._wanted_now -= 1
                    self._quiet.notify_all()

    def _from_disk(self, key: str, t0: float) -> Rendered | None:
        path = self.cache_dir / f"{key}.wav"
        words_path = path.with_suffix(".words.json")
        if not path.is_file() or not (words_path.is_file() or self.engine == "espeak-ng"):
            return None  # (a line cached before word times were kept is rendered again, once)
        try:
            samples, rate = read_wav_int16(path)
            words = self._words.get(key) or _read_words(words_path)
        except (OSError, EOFError, ValueError, wave.Error):
            path.unlink(missing_ok=True)  # a broken cache file: render again
            return None
        self._words[key] = words
        return Rendered(samples, rate, "disk", time.perf_counter() - t0, words)

    def _to_disk(self, key: str, r: Rendered) -> bool:
        try:
            _write_wav(self.cache_dir / f"{key}.wav", r.samples, r.rate)
            (self.cache_dir / f"{key}.words.json").write_text(json.dumps(r.words))
            return True
        except OSError:
            return False  # a read-only or full cache: the line stays in memory instead

    def words_of(self, text: str) -> WordTimes:
        """``Rendered.words`` of a line already rendered in this process; () otherwise (never
        renders: the listening stage calls it)."""
        return self._words.get(self._key(text), ())

    # --- ahead of time -----------------------------------------------------------------------
    def render_ahead(self, texts: Iterable[str]) -> None:
        """Render these lines in a background thread so ``render`` later finds them cached."""
        for text in texts:
            self._ahead.put(text)
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="tts-ahead", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        rendered = 0
        while True:
            try:
                text = self._ahead.get(timeout=2.0)
            except queue.Empty:
                unload = getattr(self._engine, "unload", None)
                if unload is not None:
                    unload()  # nothing left to render: give the model's memory back
                return  # idle: let the thread (and its reference to this synthesizer) go
            try:
                if text is None:
                    return
                with self._quiet:  # a line needed now goes first
                    self._quiet.wait_for(lambda: self._wanted_now == 0, timeout=30.0)
                self.render(text, keep=False)
                rendered += 1
                if rendered == 1:  # the first line (and the model) at once, the rest when idle
                    _lowest_priority()
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
        """Drop the lines not yet rendered ahead, let the line under way finish (a thread still
        inside onnxruntime when the process exits aborts it) and free the model."""
        if self._worker is not None and self._worker.is_alive():
            while True:
                try:
                    self._ahead.get_nowait()
                    self._ahead.task_done()
                except queue.Empty:
                    break
            self._ahead.put(None)
            self._worker.join(timeout=CLOSE_TIMEOUT)
        unload = getattr(self._engine, "unload", None)
        if unload is not None:
            unload()

    def __enter__(self) -> Synthesizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


AHEAD_NICENESS = 19
"""The render-ahead thread's scheduling priority after its first line (Linux nice: 19 is the
lowest; the first line, usually the one the session says first, and the model load go at normal
priority). The neural voice takes a core for a minute on a first session; at normal priority, on
a loaded 2-core machine, the listener starved (the live tests' coach reported its recognizer
stalled and dropped a user's "stop" over its voice) and the speaker underran."""


def _lowest_priority() -> None:
    """Lower the calling thread's CPU priority to ``AHEAD_NICENESS`` (Linux threads each have
    their own; elsewhere nothing)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), AHEAD_NICENESS)
    except (AttributeError, OSError):
        pass


def _read_words(path: Path) -> WordTimes:
    try:
        return tuple((str(w), float(t)) for w, t in json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return ()


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """Written whole or not at all (a temporary file renamed): another process may read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".wav", dir=path.parent)
    os.close(fd)
    try:
        write_wav(tmp, samples, rate)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
