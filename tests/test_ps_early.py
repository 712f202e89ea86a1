"""The early report's decisions (``coach.listen.asr.sphinx.early``): partial results in, intents out."""

from __future__ import annotations

from coach.listen.asr.sphinx.early import EarlyRule

BY_PHRASE = {"stop": "stop", "stop now": "stop", "stop the session": "stop",
             "too painful": "too_painful", "that hurts": "too_painful", "ready": "ready"}


def rule() -> EarlyRule:
    r = EarlyRule(early_frames=4)
    r.use(BY_PHRASE)
    return r


def test_a_safety_intent_held_four_frames_is_reported_once() -> None:
    r = rule()
    assert [r.partial(t) for t in ["", "so", "stop", "stop", "stop", "stop", "stop"]] == \
        ["", "", "", "", "", "stop", ""]
    assert r.reported == "stop"


def test_a_run_broken_by_another_partial_starts_again() -> None:
    r = rule()
    assert [r.partial(t) for t in ["stop", "stop", "stop the", "stop", "stop", "stop"]] == [""] * 6
    assert r.partial("stop") == "stop"


def test_other_intents_are_never_reported_early() -> None:
    r = rule()
    assert [r.partial("ready") for _ in range(8)] == [""] * 8
    assert r.reported == ""


def test_a_new_segment_forgets_the_run_and_the_report() -> None:
    r = rule()
    for t in ["stop"] * 4:
        r.partial(t)
    r.reset()
    assert r.reported == "" and not r.seen_both
    assert [r.partial(t) for t in ["stop"] * 4] == ["", "", "", "stop"]


def test_both_safety_intents_in_one_segment_are_seen() -> None:
    r = rule()
    for t in ["stop", "stop", "too painful", "too painful"]:
        r.partial(t)
    assert r.seen_both
