"""Builds the parts of a session from settings: the recognizer, the listening stage (Ear), the
coach's synthesizer and the session driver. The CLI, the benchmarks and the tests use these, so a
pipeline is assembled in one place."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from coach.listen.asr.factory import BACKENDS, load_recognizer

__all__ = ["BACKENDS", "COACH_RATE", "COACH_VOICE", "COACH_VOLUME", "USER_VOICE", "build_driver",
           "build_ear", "load_recognizer", "render_ahead", "synthesizer", "voice_16k"]

COACH_VOICE = "gmw/en-us"
"""The coach's default voice (espeak-ng through pyttsx3)."""
COACH_RATE = 150
"""The coach's default speaking rate, words per minute."""
COACH_VOLUME = 1.0
"""The coach's default volume, 0..1."""
USER_VOICE = "piper en_US-joe-medium"
"""The simulated user's voice: a neural voice, distinct from the coach's (coach.voice.user_voice)."""


def build_ear(recognizer, content, line_words=None):
    """The listening stage with its echo stage and self-speech filter; ``line_words``: the coach
    synthesizer's ``words_of`` (a line's words with their start in seconds)."""
    from coach.listen.ear import Ear
    from coach.listen.echo.self_speech import SelfSpeechFilter
    from coach.listen.echo.suppressor import EchoSuppressor
    return Ear(recognizer, content, EchoSuppressor(), SelfSpeechFilter(), line_words)


def synthesizer(voice: str = COACH_VOICE, rate: int = COACH_RATE, volume: float = COACH_VOLUME):
    """The coach's synthesizer: ``voice`` id, ``rate`` words per minute, ``volume`` 0..1."""
    from coach.voice.synth import Synthesizer
    return Synthesizer(voice=voice, rate_wpm=rate, volume=volume)


def voice_16k(synth) -> Callable[[str], np.ndarray]:
    """text -> float32 samples (-1..1) at 16 kHz rendered by ``synth``, cached per text."""
    from coach.pcm import SAMPLE_RATE, to_float32
    cache: dict[str, np.ndarray] = {}

    def render(text: str) -> np.ndarray:
        if text not in cache:
            r = synth.render(text)
            cache[text] = to_float32(r.samples, r.rate, SAMPLE_RATE)
        return cache[text]
    return render


def render_ahead(synth, content) -> None:
    """Start rendering every fixed line of ``content`` in the background (lines with
    placeholders are rendered when said)."""
    ahead = getattr(synth, "render_ahead", None)
    if ahead:
        ahead([t for t in content.lines.values() if "{" not in t])


def build_driver(routine: str, content_dir: Path | None, info: dict[str, Any], *,
                 events: Path | None = None, history: bool = True,
                 settings: Mapping[str, Any] | None = None):
    """(content, driver) for one session of ``routine``: the event log goes to the user's data
    folder (and to ``events`` if given); with ``history`` the plan comes from the user's history
    and the session is recorded there. ``settings`` (``coach.settings.resolve``) give the user's
    sides, pace and short introduction. ``info`` goes into the log's header."""
    from coach.content import load_content
    from coach.session.driver import SessionDriver
    from coach.session.engine import Engine
    from coach.session.eventlog import EventLog, JsonlFile, default_log_path
    from coach.settings import choices_for

    content = load_content(routine, content_dir)
    choices = choices_for(settings or {}, content)
    log = EventLog()
    log.sinks.append(JsonlFile(default_log_path(log.session)))
    if events:
        log.sinks.append(JsonlFile(events))
    plan = choices.plan()
    if history:
        from coach.history.session import plan_and_record
        from coach.history.store import HistoryStore
        store = HistoryStore()
        previous = store.sessions()
        if previous and previous[-1].status == "unfinished":
            p = previous[-1]
            print(f"coach: the last session ({p.started:%Y-%m-%d %H:%M} UTC) did not finish: it "
                  "was cut off and is kept in your history as unfinished.", file=sys.stderr)
            log.header["previous_unfinished"] = p.id
        plan = plan_and_record(content, log, store=store, choices=choices)
        if choices.short_intro and not plan.short_intro:
            print("coach: the short introduction is for returning users, so this first session "
                  "has the full one.", file=sys.stderr)
    log.header.update(info)
    return content, SessionDriver(Engine(content, plan), log)
