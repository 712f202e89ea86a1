"""The one place a recognizer is chosen and loaded."""

from __future__ import annotations

from coach.errors import CoachError
from coach.listen.asr.base import Recognizer

BACKENDS = ("whisper", "pocketsphinx", "vosk")
"""``whisper``: Silero VAD + Whisper tiny.en, the embedded default; ``pocketsphinx``: the earlier
embedded recognizer (grammar per state); ``vosk``: with a downloaded vosk model."""


def load_recognizer(backend: str | None = None, model: str | None = None, *,
                    realtime: bool = True) -> Recognizer:
    """The recognizer to use: ``vosk`` when a vosk model is installed (``model``,
    COACH_VOSK_MODEL, or models/), else ``whisper``; ``backend`` forces one. ``realtime=False``
    when audio is fed faster than it is spoken (a file, a demo at full speed): results then come
    at the same point of the audio whatever the machine's speed."""
    if backend in (None, "", "vosk"):
        from coach.listen.asr.vosk_models import find_vosk_model

        found = find_vosk_model(model)
        if found is not None:
            from coach.listen.asr.vosk_backend import VoskRecognizer

            return VoskRecognizer(found)
        if backend == "vosk":
            raise CoachError("asr.no_model", "the vosk backend needs a model, and none is installed",
                             "run scripts/get-model, or pass --model PATH / set COACH_VOSK_MODEL")
    if backend in (None, "", "whisper"):
        from coach.listen.asr.whisper.recognizer import WhisperRecognizer

        from coach.listen.asr.whisper.recognizer import WhisperSettings

        return WhisperRecognizer(WhisperSettings(worker=realtime))
    if backend == "pocketsphinx":
        from coach.listen.asr.sphinx.recognizer import PocketsphinxRecognizer

        return PocketsphinxRecognizer()
    raise CoachError("asr.backend", f"unknown recognizer backend {backend!r}",
                     "use one of: " + ", ".join(BACKENDS))
