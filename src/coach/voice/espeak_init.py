"""libespeak-ng initialised without touching the sound system.

espeak-ng 1.51 (Debian 12) opens and closes an audio device when it initialises, even to render
into memory as the coach does: pcaudiolib tries PulseAudio, then ALSA. With no sound server
running, libpulse then creates ``~/.config/pulse`` and ``/tmp/pulse-*`` (or starts a server of
its own); with one, it creates its cookie (all seen with strace). With ``PULSE_SERVER`` naming no
server the probe fails at once and writes nothing, and the coach renders speech as before.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

NO_SOUND_SERVER = "unix:/nonexistent/coach-renders-speech-to-memory"
"""A PulseAudio server address that names no server."""


@contextmanager
def no_audio_probe() -> Iterator[None]:
    """``PULSE_SERVER`` names no server inside the block. The environment is process-wide, so
    this is for the one initialisation of libespeak-ng, which ``Synthesizer()`` does on the main
    thread before any audio stream is opened."""
    saved = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = NO_SOUND_SERVER
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = saved


def program_environment() -> dict[str, str]:
    """The environment for running the espeak-ng program (which probes the same way)."""
    return {**os.environ, "PULSE_SERVER": NO_SOUND_SERVER}


def new_engine(Engine: Any, driver: Any) -> Any:
    """A fresh pyttsx3 espeak engine (``Engine`` and ``driver`` are pyttsx3's engine class and
    espeak driver module); the first one in the process initialises libespeak-ng inside
    ``no_audio_probe``."""
    if getattr(getattr(driver, "EspeakDriver", None), "_moduleInitialized", True):
        return Engine("espeak")
    with no_audio_probe():
        return Engine("espeak")
