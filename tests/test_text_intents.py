"""Intents read from transcripts (coach.listen.text_intents): how people say things, negations,
conflicts, and speech not addressed to the coach. Pure: text in, intent out."""

from __future__ import annotations

import pytest

from coach.content import load_content
from coach.listen.text_intents import MAX_WORDS, IntentMatcher, normalize

CONTENT = load_content()
ALL = IntentMatcher(CONTENT.phrases(set(CONTENT.intents)))
SCREENING = IntentMatcher(CONTENT.phrases({"stop", "yes", "no", "help", "repeat", "pause"}))
HOLD = IntentMatcher(CONTENT.phrases({"stop", "too_painful", "pause", "how_long", "released",
                                      "help", "repeat", "slower", "faster"}))


@pytest.mark.parametrize("text, matcher, intent", [
    ("Okay, I'm ready.", ALL, "ready"),
    ("Ready now.", ALL, "ready"),
    ("OK ready", ALL, "ready"),
    ("Stop please.", HOLD, "stop"),
    ("Please stop!", HOLD, "stop"),
    ("Can we stop now?", HOLD, "stop"),
    ("It's too painful now.", HOLD, "too_painful"),
    ("To painful.", HOLD, "too_painful"),
    ("No, I'm not.", SCREENING, "no"),
    ("Nope.", SCREENING, "no"),
    ("Yes, I do.", SCREENING, "yes"),
    ("Yep.", SCREENING, "yes"),
    ("Stop. Stop. Stop. Stop. Stop. Stop.", HOLD, "stop"),
    ("I can't, stop, stop!", HOLD, "stop"),
    ("How much longer?", HOLD, "how_long"),
    ("It hurts, stop!", HOLD, "unsure"),
    ("Yes, stop.", SCREENING, "stop"),
])
def test_what_people_say_counts(text, matcher, intent):
    assert matcher.match(text).intent == intent, matcher.match(text)


@pytest.mark.parametrize("text, why", [
    ("I'm not ready.", "negated"),
    ("I'm not quite ready", "negated"),
    ("Don't stop.", "negated"),
    ("It's not too painful.", "negated"),
    ("Go.", "none"),
    ("Down.", "none"),
    ("", "none"),
    ("Yes, no.", "conflict"),
    ("There was no doubt that the printing in Venice had declined very much.", "too_long"),
    ("No bids were issued.", "other_words"),
    ("and no doubt", "other_words"),
])
def test_what_does_not_count(text, why):
    m = SCREENING if why in ("conflict", "too_long", "other_words") else ALL
    got = m.match(text)
    assert got.intent == "" and got.why == why, got


def test_stop_and_too_painful_together_are_unsure_with_both():
    got = HOLD.match("Stop, it's too painful")
    assert got.intent == "unsure" and set(got.alternatives) == {"stop", "too_painful"}


def test_a_safety_intent_may_come_inside_a_longer_sentence_than_other_commands():
    long_ready = "okay so I think I am ready now to go"
    long_stop = "okay so I think I would like to stop now please"
    assert len(long_ready.split()) > MAX_WORDS
    assert ALL.match(long_ready).why == "too_long"
    assert HOLD.match(long_stop).intent == "stop"


def test_only_the_vocabularys_intents_count():
    assert HOLD.match("yes").intent == ""
    assert SCREENING.match("too painful").intent == ""


def test_normalize_splits_clauses_and_applies_spellings():
    assert normalize("Um, OK… it's — fine, but not now") == [["okay"], ["it's"], ["fine"], ["not", "now"]]
    assert normalize("I\u2019m READY") == [["i'm", "ready"]]
