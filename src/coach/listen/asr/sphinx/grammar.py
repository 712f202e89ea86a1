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


def committed_prefixes(by_phrase: Mapping[str, str]) -> dict[str, str]:
    """Partial results that can only end as one intent and already hold one of its phrases
    whole: prefix -> intent. "stop the" (of "stop the session") is the intent ``stop``: it
    starts with the phrase "stop" and every phrase it can still become is a stop phrase; "too"
    (of "too painful") is none, as it holds no whole phrase."""
    out: dict[str, str] = {}
    for phrase, intent in by_phrase.items():
        words = phrase.split()
        for k in range(2, len(words)):
            prefix = " ".join(words[:k])
            holds_whole = any(" ".join(words[:j]) in by_phrase for j in range(1, k))
            endings = {i for p, i in by_phrase.items() if p == prefix or p.startswith(prefix + " ")}
            if holds_whole and prefix not in by_phrase and endings == {intent}:
                out[prefix] = intent
    return out


def phone_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Edit distance (insertions, deletions, substitutions) between two phone sequences."""
    prev = list(range(len(b) + 1))
    for i, pa in enumerate(a, 1):
        cur = [i]
        for j, pb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (pa != pb)))
        prev = cur
    return prev[-1]


def competitors(by_phrase: Mapping[str, str], lookup: Lookup, count: int,
                min_phones: int = 1, exclude: Sequence[str] = (),
                near: Mapping[str, int] | None = None) -> list[str]:
    """The first ``count`` competitor words that are not, and do not sound like, a command word.

    Words of fewer than ``min_phones`` phones ("a", "oh", "the") are left out: they can swallow
    a command's vowel and make the command lose. Words in ``exclude`` are left out too (the
    tuning bench uses it to check rejection of words that are not competitors).
    ``near`` maps a command word to a phone edit distance: competitors within that distance of
    its pronunciation are left out (they take the command's own utterances away from it).
    """
    near_sounds = [((lookup(w) or "").split(), d) for w, d in (near or {}).items()
                   if w in {x for p in by_phrase for x in p.split()}]
    command_words = {w for p in by_phrase for w in p.split()}
    command_sounds = {lookup(w) for w in command_words} | {
        " ".join(lookup(w) or "" for w in p.split()) for p in by_phrase
    }
    out: list[str] = []
    for word in COMPETITORS:
        if len(out) >= count:
            break
        sound = lookup(word)
        if (word in command_words or sound is None or sound in command_sounds
                or len(sound.split()) < min_phones or word in exclude
                or any(phone_distance(sound.split(), ph) <= d for ph, d in near_sounds)):
            continue
        out.append(word)
    return out


def build_grammar(by_phrase: Mapping[str, str], fillers: Sequence[str], command_weight: float,
                  boosts: Mapping[str, float] | None = None, pair_weight: float = 1.0) -> str:
    """JSGF text: ``/w/ <command> | /1/ <other> [<other>]``.

    With ``boosts`` (intent -> factor) each command phrase is its own alternative instead,
    weighing ``command_weight / n_phrases`` times its intent's boost (default 1). A run of
    two competitor words weighs ``pair_weight`` against 1 for a single competitor word (below 1
    stops a short command being split into two competitor words).
    """
    boosts = boosts or {}
    phrases = sorted(by_phrase)
    each = command_weight / max(1, len(phrases))
    alts = [f"/{each * boosts.get(by_phrase[p], 1.0):.4f}/ {p}" for p in phrases]
    if not boosts:  # one weighted <command> rule, as measured in bench/ps_tune.py
        alts = [f"/{command_weight:.4f}/ <command>"]
    other = ("/1/ <other> [<other>]" if pair_weight == 1.0
             else f"/1/ <other> | /{pair_weight:.6f}/ <other> <other>")
    lines = [
        "#JSGF V1.0;",
        "grammar coach;",
        f"public <utterance> = {' | '.join(alts + [other])};",
        f"<other> = {' | '.join(fillers)};" if fillers else "<other> = <VOID>;",
    ]
    if not boosts:
        lines.insert(3, f"<command> = {' | '.join(phrases)};")
    return "\n".join(lines) + "\n"
