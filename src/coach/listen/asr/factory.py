"""The one place a recognizer is chosen and loaded."""

from __future__ import annotations

from coach.errors import CoachError
from coach.listen.asr.base import Recognizer

BACKENDS = ("pocketsphinx", "vosk")


def load_recognizer(backend: str | None = None, model: str | None = None) -> Recognizer:
    """The recognizer to use: ``vosk`` when a vosk model is found (``model``, COACH_VOSK_MODEL,
    or models/), else the embedded ``pocketsphinx``; ``backend`` forces one."""
    from coach.listen.asr.vosk_models import find_vosk_model

    if backend in (None, "", "vosk"):
        found = find_vosk_model(model)
        if found is not None:
            from coach.listen.asr.vosk_backend import VoskRecognizer

            return VoskRecognizer(found)
        if backend == "vosk":
            raise CoachError("asr.no_model", "the vosk backend needs a model, and none is installed",
                             "run scripts/get-model, or pass --model PATH / set COACH_VOSK_MODEL")
    if backend in (None, "", "pocketsphinx"):
        from coach.listen.asr.sphinx.recognizer import PocketsphinxRecognizer

        return PocketsphinxRecognizer()
    raise CoachError("asr.backend", f"unknown recognizer backend {backend!r}",
                     "use pocketsphinx or vosk")
