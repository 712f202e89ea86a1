"""A second opinion on short answers for the pocketsphinx backend: Whisper tiny.en.

pocketsphinx's acoustic model hears many real people's "no" as "now", "go" or "oh" (6 of the
10 people in ``shared/speech``), and no threshold on its fits separates them. Whisper was
trained on far more real speech: on the same clips it hears "no", "yes" and "stop" as words,
and other words as themselves ("down", "go"), which is both the catch and the rejection.

Only short finished segments of an answer vocabulary are given to it (``sphinx.recognizer``:
a screening question, the "did you say stop?" question), never the early "stop". Its text counts
only when it is exactly one of the vocabulary's phrases. The encoder is given ``CONTEXT_FRAMES``
(10 s); a short context makes it repeat a word ("no no no"), so runs of one word are collapsed.
The model is the one ``coach.listen.asr.whisper.model`` loads (SHA-256 checked).
"""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path
from typing import Mapping

import numpy as np

from coach.errors import CoachError
from coach.listen.asr.whisper.model import WhisperModel, bundled_model_dir, whisper_model_dir

__all__ = ["WhisperCheck", "load_whisper_check", "whisper_model_dir", "words_of"]

CONTEXT_FRAMES = 1000
"""Mel frames (10 ms each) given to the encoder: the segment, then silence up to this."""
MAX_TOKENS = 16
"""Tokens generated at most: an answer is a few words."""
MAX_SAMPLES = (CONTEXT_FRAMES - 100) * 160
"""Audio longer than this (9 s at 16 kHz) is cut: the context must hold silence after it."""


def words_of(text: str) -> str:
    """Whisper's text as the content's phrases are written: lower case, letters, apostrophes
    and single spaces, with a word repeated in a row kept once ("No, no." -> "no")."""
    words = re.sub(r"[^a-z' ]+", " ", text.lower().replace("\u2019", "'")).split()
    kept = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]
    return " ".join(kept)


class WhisperCheck:
    """Transcribes a short 16 kHz int16 segment; ``intent`` maps the text to a phrase's intent.

    The model loads on a background thread from construction (~0.3 s; the backend makes one at
    its first answer vocabulary, not at start-up); the first ``transcribe`` waits for it."""

    def __init__(self, model_dir: str | Path, verify_hash: bool = True) -> None:
        self.model_dir = Path(model_dir)
        self._verify_hash = verify_hash
        self._model: WhisperModel | None = None
        self._error: CoachError | None = None
        self._loaded = threading.Event()
        threading.Thread(target=self._load, name="whisper-load", daemon=True).start()

    def _load(self) -> None:
        try:
            self._model = WhisperModel(self.model_dir, self._verify_hash)
        except CoachError as err:
            self._error = err
            print(f"coach: the answer check is off ({err.message}); yes/no answers are heard by "
                  f"pocketsphinx alone. Fix: {err.hint}", file=sys.stderr)
        finally:
            self._loaded.set()

    def ready(self, timeout: float | None = None) -> bool:
        """Wait for the model; True when it loaded, False when it failed (``error`` says why)."""
        self._loaded.wait(timeout)
        return self._model is not None

    @property
    def error(self) -> CoachError | None:
        return self._error

    def transcribe(self, audio: np.ndarray) -> tuple[str, float]:
        """(words, confidence 0..1) heard in ``audio`` (16 kHz int16, at most ~9 s); ("", 0)
        if the model could not be loaded."""
        if not self.ready():
            return "", 0.0
        x = np.asarray(audio).reshape(-1)[:MAX_SAMPLES]
        text, confidence = self._model.transcribe(x, CONTEXT_FRAMES, MAX_TOKENS)
        return words_of(text), confidence

    def intent(self, audio: np.ndarray, by_phrase: Mapping[str, str]) -> tuple[str, str, float]:
        """(intent, words, confidence): the intent whose phrase is exactly what was heard, or
        ("", words, confidence) when it is none of them."""
        words, confidence = self.transcribe(audio)
        return by_phrase.get(words, ""), words, confidence


_shared: dict[Path, WhisperCheck] = {}
_shared_lock = threading.Lock()


def load_whisper_check(model_dir: str | None = None) -> WhisperCheck | None:
    """The process's one ``WhisperCheck`` for ``model_dir`` (default: ``COACH_WHISPER_MODEL``,
    else the bundled tiny.en), or None when no model is installed. Loading starts now."""
    path = whisper_model_dir(model_dir)
    if path is None:
        return None
    with _shared_lock:
        if path not in _shared:
            bundled = bundled_model_dir()
            _shared[path] = WhisperCheck(path, verify_hash=bundled is not None
                                         and path.resolve() == bundled.resolve())
        return _shared[path]
