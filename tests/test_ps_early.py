"""The early report's decisions (``coach.listen.asr.sphinx.early``): partial results in, intents out."""

from __future__ import annotations

from coach.listen.asr.sphinx.early import PREFIX_FRAMES, EarlyRule
from coach.listen.asr.sphinx.grammar import committed_prefixes

BY_PHRASE = {"stop": "stop", "stop now": "stop", "stop the session": "stop",
             "too painful": "too_painful", "that hurts": "too_painful", "ready": "ready"}


def rule(pause_frames: int = 2) -> EarlyRule:
    r = EarlyRule(early_frames=4, pause_frames=pause_frames)
    r.use(BY_PHRASE)
    return r


def test_a_safety_intent_held_four_frames_is_reported_once() -> None:
    r = rule()
    assert [r.partial(t) for t in ["", "so", "stop", "stop", "stop", "stop", "stop"]] == \
        ["", "", "", "", "", "stop", ""]
    assert r.reported == "stop"


def test_other_intents_are_never_reported_early() -> None:
    r = rule()
    assert [r.partial("ready") for _ in range(8)] + [r.pause(1), r.pause(2)] == [""] * 10


def test_at_the_pause_a_partial_that_can_only_become_a_stop_is_reported() -> None:
    r = rule()
    assert [r.partial(t) for t in ["so", "stop", "stop", "stop the"]] == ["", "", "", ""]
    assert [r.pause(1), r.pause(2), r.pause(3)] == ["", "stop", ""]


def test_a_prefix_counts_only_soon_after_its_whole_phrase() -> None:
    """In a sentence the competitors cannot cover, "stop the" stayed the best partial path for
    45-86 frames ("a spotted woodpecker"): no stop. Soon after a whole "stop" it is one."""
    never_whole = rule()
    for t in ["so", "stop the", "stop the", "stop the"]:
        never_whole.partial(t)
    assert never_whole.pause(2) == ""
    long_ago = rule()
    for t in ["stop", "was got"] + ["stop the"] * PREFIX_FRAMES:
        long_ago.partial(t)
    assert long_ago.pause(2) == ""
    soon_after = rule()
    for t in ["stop", "stop the", "stop the", "stop", "stop the"] + ["stop the"] * 8:
        soon_after.partial(t)
    assert soon_after.pause(2) == "stop"


def test_at_the_pause_a_competitor_or_an_unfinished_phrase_is_not_reported() -> None:
    for last in ("top", "too", "that", ""):
        r = rule()
        for t in ["stop", "stop", last]:
            r.partial(t)
        assert [r.pause(k) for k in (1, 2, 3)] == ["", "", ""], last


def test_the_pause_rule_off_and_a_new_segment() -> None:
    r = rule(pause_frames=0)
    r.partial("stop")
    assert [r.pause(k) for k in range(6)] == [""] * 6
    r = rule()
    r.partial("stop")
    r.reset()
    assert r.pause(2) == "" and r.reported == ""


def test_both_safety_intents_in_one_segment_are_seen() -> None:
    r = rule()
    for t in ["stop", "stop", "too painful", "too painful"]:
        r.partial(t)
    assert r.seen_both


def test_committed_prefixes_name_only_partials_that_hold_a_whole_phrase() -> None:
    by_phrase = {"stop": "stop", "stop the session": "stop", "too painful": "too_painful",
                 "no": "no", "no i'm not": "no", "yes i do": "yes", "yes": "yes",
                 "skip this one": "skip", "skip this": "skip"}
    assert committed_prefixes(by_phrase) == {"stop the": "stop", "no i'm": "no", "yes i": "yes"}
    # "too" holds no whole phrase; "skip this" is itself a phrase (the decoder's own business)
    assert committed_prefixes({"go": "go", "go on": "resume", "go on now": "resume"}) == {}
