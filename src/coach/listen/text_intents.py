"""Intents read from a transcript: the content's phrases found inside what a person said.

"okay, I'm ready", "ready now", "please stop", "it's too painful now" and "no, I'm not" all
count; a phrase negated just before it in the same clause does not ("I'm not ready", "don't
stop"). What was said must be short enough to be addressed to the coach (``MAX_WORDS``, a word
repeated in a row counted once, as Whisper may write "Stop. Stop."; longer
for the safety intents, so "can we stop now, please, I can't" still stops): a sentence of read
speech that happens to contain "no" is not an answer. Two safety intents at once, stop and too
painful, are ``unsure`` (the session pauses and asks); a safety intent with anything else wins;
two other intents at once ("yes, no") are none (the prompt is asked again).

Pure: text in, ``TextIntent`` out. Used by every recognizer that produces text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from coach.session.messages import SAFETY_INTENTS, STOP, TOO_PAINFUL, UNSURE

NEGATORS = frozenset({"not", "don't", "dont", "never", "can't", "cannot", "won't", "isn't",
                      "aren't", "didn't", "doesn't", "wasn't", "shouldn't", "mustn't"})
"""Words that negate a phrase that follows them closely in the same clause."""
NEGATION_REACH = 3
"""Words before a phrase in which a negator cancels it ("I do not want to stop": 3)."""
MAX_WORDS = 6
"""Most words an utterance may have for a command in it to count ("okay, I'm ready now")."""
MAX_WORDS_SAFETY = 12
"""The same for stop and too painful, which may come inside a longer sentence."""
FILLERS = frozenset({"um", "uh", "er", "erm", "hmm", "mm", "ah", "oh"})
"""Sounds that do not count as words."""
COURTESY = frozenset({"okay", "please", "now", "well", "so", "thanks", "thank", "you", "coach",
                      "just", "then"})
"""Words around a command that do not make it part of another sentence ("okay, ready now")."""
MIN_COVER = 0.5
"""Least share of an utterance's words (courtesy words aside) a command other than stop and too
painful must make up: "no, I'm not" counts, read speech like "no bids were issued" does not."""
SPELLINGS: Mapping[str, str] = {
    "ok": "okay", "o k": "okay", "alright": "all right",
    "to painful": "too painful", "two painful": "too painful",
    "yep": "yes", "yup": "yes", "nah": "no",
}
"""A recognizer's spellings of what content writes otherwise (whole words, after lower-casing)."""
_CLAUSE = re.compile(r"[.,!?;:\u2014\u2013\u2026]+|\s-\s|\bbut\b")
_WORD = re.compile(r"[\w']+")  # letters of any script, digits, apostrophes


def normalize(text: str) -> list[list[str]]:
    """``text`` as clauses of lower-case words: punctuation and "but" split clauses, curly
    apostrophes become straight ones, fillers go, and ``SPELLINGS`` are applied."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    clauses = []
    for part in _CLAUSE.split(text):
        words = [w.strip("'") for w in _WORD.findall(part)]
        line = " " + " ".join(w for w in words if w and w not in FILLERS) + " "
        for said, meant in SPELLINGS.items():
            line = line.replace(f" {said} ", f" {meant} ")
        if line.split():
            clauses.append(line.split())
    return clauses


@dataclass(frozen=True)
class PhraseHit:
    intent: str
    phrase: str
    clause: int
    start: int
    """Index of the phrase's first word in the transcript's words."""
    end: int
    negated: bool


@dataclass(frozen=True)
class TextIntent:
    """What a transcript means in the current vocabulary.

    intent: the intent, ``unsure`` (stop and too painful both: ``alternatives`` lists them), or
        "" when none counts.
    why: ``match``, ``none`` (no phrase), ``negated``, ``conflict``, ``too_long`` or
        ``other_words`` (the phrase is a small part of what was said).
    """

    intent: str
    why: str
    alternatives: tuple[str, ...] = ()
    words: int = 0


class IntentMatcher:
    """Finds the phrases of a vocabulary (intent -> phrases, lower-case words) in transcripts."""

    def __init__(self, phrases: Mapping[str, Sequence[str]]) -> None:
        self._phrases: list[tuple[tuple[str, ...], str]] = []
        for intent, plist in phrases.items():
            for p in plist:
                words = tuple(w for c in normalize(p) for w in c)
                if words:
                    self._phrases.append((words, intent))
        self._phrases.sort(key=lambda pw: -len(pw[0]))  # longest first: "no i'm not" before "no"
        self.intents = frozenset(phrases)

    def hits(self, text: str) -> list[PhraseHit]:
        """Every phrase found in ``text`` (across punctuation: "no, I'm not"), longest first
        where they overlap, in order. A negator counts only in the phrase's own clause."""
        words, clause = [], []
        for ci, c in enumerate(normalize(text)):
            words += c
            clause += [ci] * len(c)
        taken = [False] * len(words)
        found: list[PhraseHit] = []
        for phrase, intent in self._phrases:
            n = len(phrase)
            for i in range(len(words) - n + 1):
                if tuple(words[i:i + n]) == phrase and not any(taken[i:i + n]):
                    taken[i:i + n] = [True] * n
                    before = [w for w, c in zip(words[max(0, i - NEGATION_REACH):i],
                                                clause[max(0, i - NEGATION_REACH):i])
                              if c == clause[i]]
                    found.append(PhraseHit(intent, " ".join(phrase), clause[i], i, i + n,
                                           any(w in NEGATORS for w in before)))
        return sorted(found, key=lambda h: h.start)

    def match(self, text: str) -> TextIntent:
        """The intent ``text`` expresses in this vocabulary (see the module's rules)."""
        words = [w for c in normalize(text) for w in c]
        n_words = sum(1 for i, w in enumerate(words) if i == 0 or w != words[i - 1])
        hits = self.hits(text)
        kept = {h.intent for h in hits if not h.negated}
        if not hits:
            return TextIntent("", "none", words=n_words)
        if not kept:
            return TextIntent("", "negated", words=n_words)
        safety = kept & set(SAFETY_INTENTS)
        if n_words > (MAX_WORDS_SAFETY if safety else MAX_WORDS):
            return TextIntent("", "too_long", words=n_words)
        if not safety and _cover(hits, kept, words) < MIN_COVER:
            return TextIntent("", "other_words", words=n_words)
        if {STOP, TOO_PAINFUL} <= safety:
            return TextIntent(UNSURE, "match", (STOP, TOO_PAINFUL), n_words)
        if safety:
            return TextIntent(safety.pop(), "match", words=n_words)
        if len(kept) > 1:
            return TextIntent("", "conflict", tuple(sorted(kept)), n_words)
        return TextIntent(kept.pop(), "match", words=n_words)


def _cover(hits: list[PhraseHit], kept: set[str], words: list[str]) -> float:
    """Share of the non-courtesy words that are words of the kept phrases (1.0 when all are
    courtesy words)."""
    counted = [w for w in words if w not in COURTESY]
    if not counted:
        return 1.0
    inside = sum(1 for h in hits if h.intent in kept and not h.negated
                 for w in h.phrase.split() if w not in COURTESY)
    return inside / len(counted)
