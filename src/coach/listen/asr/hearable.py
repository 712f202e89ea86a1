"""Can a recognizer hear each phrase of the content? Checked by ``coach check-content``.

- every backend: a phrase must be findable in a transcript (``text_intents``): one clause and
  no filler sounds;
- ``whisper`` and ``pocketsphinx``: every word must be an English word of the CMU pronouncing
  dictionary shipped with pocketsphinx (Whisper writes English words; pocketsphinx can only
  decode words it has), so a typo ("redy") is caught;
- ``vosk``: every word must be in the installed model's vocabulary (vosk silently drops others).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from coach.errors import CoachError
from coach.listen.text_intents import FILLERS, SPELLINGS, normalize


@dataclass(frozen=True)
class Unhearable:
    intent: str
    phrase: str
    word: str
    why: str


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The words of pocketsphinx's en-US dictionary (``cmudict-en-us.dict``), lower case."""
    try:
        import pocketsphinx
    except ImportError as err:  # pragma: no cover - a hard dependency
        raise CoachError("asr.no_dictionary", "pocketsphinx (its English dictionary) is not "
                         "installed", "run scripts/setup") from err
    path = Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"
    words = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            w = line.split(" ", 1)[0]
            words.add(w.split("(", 1)[0].lower())
    return frozenset(words)


def unhearable(phrases: Mapping[str, Sequence[str]], backend: str,
               vosk_model: Path | None = None) -> list[Unhearable]:
    """What in ``phrases`` (intent -> phrases) the ``backend`` could not hear; [] when all can."""
    out = []
    knows = _vocabulary(backend, vosk_model)
    for intent, plist in phrases.items():
        for p in plist:
            clauses = normalize(p)
            words = p.split()
            if len(clauses) != 1:
                out.append(Unhearable(intent, p, p, "it splits into clauses, so a transcript "
                                      "never holds it whole"))
                continue
            for w in words:
                if w in FILLERS:
                    out.append(Unhearable(intent, p, w, "it is a filler sound, dropped from "
                                          "every transcript"))
                elif knows is not None and not knows(w):
                    out.append(Unhearable(intent, p, w, f"{backend} does not know the word"))
    return out


def _vocabulary(backend: str, vosk_model: Path | None) -> Callable[[str], bool] | None:
    """A test of whether ``backend`` knows a word; None when it takes any word."""
    if backend in ("whisper", "pocketsphinx"):
        words = english_words() | frozenset(w for v in SPELLINGS.values() for w in v.split())
        return words.__contains__
    if backend == "vosk" and vosk_model is not None:
        from coach.listen.asr.vosk_backend import load_model
        model = load_model(vosk_model)
        return lambda w: int(model.vosk_model_find_word(w)) >= 0
    return None
