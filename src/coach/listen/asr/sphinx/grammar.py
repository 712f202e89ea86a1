"""The JSGF grammar the pocketsphinx backend decodes with: commands against a garbage model.

An utterance is either exactly one command phrase or one or two competitor words (frequent
English words, see ``ps_words``). Pocketsphinx picks the better fitting path, so speech that is
not a command is usually taken by a competitor word and rejected. ``command_weight`` biases the
choice: above 1 favours commands (more recall, more false accepts).
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

from coach.listen.asr.sphinx.words import COMPETITORS
from coach.errors import CoachError

Lookup = Callable[[str], "str | None"]
"""word -> pronunciation (space-separated phones) or None when not in the dictionary."""


def check_vocabulary(phrases: Mapping[str, Sequence[str]], lookup: Lookup) -> dict[str, str]:
    """Validate intents and phrases; return phrase -> intent. Raises CoachError on bad words."""
    by_phrase: dict[str, str] = {}
    for intent, plist in phrases.items():
        if not plist:
            raise CoachError("asr.vocabulary", f"intent {intent!r} has no phrases",
                             "give every intent at least one phrase")
        for phrase in plist:
            words = phrase.lower().split()
            if not words:
                raise CoachError("asr.vocabulary", f"intent {intent!r} has an empty phrase",
                                 "remove the empty phrase")
            for word in words:
                if lookup(word) is None:
                    raise CoachError(
                        "asr.unknown_word",
                        f"the word {word!r} (intent {intent!r}, phrase {phrase!r}) is not in "
                        "the pocketsphinx en-US dictionary",
                        "use another wording for this phrase in the content files",
                    )
            by_phrase[" ".join(words)] = intent
    return by_phrase


def competitors(by_phrase: Mapping[str, str], lookup: Lookup, count: int,
                exclude: Sequence[str] = ()) -> list[str]:
    """The first ``count`` competitor words that are not, and do not sound like, a command word.
    Words in ``exclude`` are left out too (the tuning bench uses it to check rejection of words
    that are not competitors)."""
    command_words = {w for p in by_phrase for w in p.split()}
    command_sounds = {lookup(w) for w in command_words} | {
        " ".join(lookup(w) or "" for w in p.split()) for p in by_phrase
    }
    out: list[str] = []
    for word in COMPETITORS:
        if len(out) >= count:
            break
        sound = lookup(word)
        if word in command_words or sound is None or sound in command_sounds or word in exclude:
            continue
        out.append(word)
    return out


def build_grammar(by_phrase: Mapping[str, str], fillers: Sequence[str],
                  command_weight: float) -> str:
    """JSGF text: ``/w/ <command> | /1/ <other> [<other>]``."""
    lines = [
        "#JSGF V1.0;",
        "grammar coach;",
        f"public <utterance> = /{command_weight:.4f}/ <command> | /1/ <other> [<other>];",
        f"<command> = {' | '.join(sorted(by_phrase))};",
        f"<other> = {' | '.join(fillers)};" if fillers else "<other> = <VOID>;",
    ]
    return "\n".join(lines) + "\n"
