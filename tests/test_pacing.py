"""The engine's paced breathing, in virtual time: the ``Pacer`` actions that tell the breathing
pacer the pace (anchored at the first "breathe in", carried through the hold, changed at once by
"slower"/"faster", silenced by a pause and, with the voice, by "stop"), and the spoken cues that
follow its turns."""

from __future__ import annotations

import pytest

from coach.run.user_script import Reply
from coach.session.messages import BreathPace
from sessions import kinds, run


def test_a_breath_pace_knows_its_turns_and_keeps_its_place_when_retimed() -> None:
    pace = BreathPace(4.0, 6.0, inhale_at=10.0)
    assert pace.cycle == 10.0 and pace.inhaling(12.0) and not pace.inhaling(15.0)
    assert pace.position(9.0) == pytest.approx(9.0)  # a breath before the anchor
    assert pace.next_turn(12.0) == pytest.approx(14.0) and pace.next_turn(15.0) == pytest.approx(20.0)
    slower = pace.retimed(5.0, 7.0, t=12.0)  # half through the in-breath: still half through
    assert slower.inhaling(12.0) and slower.position(12.0) == pytest.approx(2.5)
    out = pace.retimed(5.0, 7.0, t=17.0)  # half through the out-breath
    assert not out.inhaling(17.0) and out.position(17.0) - out.inhale == pytest.approx(3.5)


def pacer_entries(log: list[dict]) -> list[dict]:
    return kinds(log, "pacer")


def said_at(log: list[dict], line: str) -> list[float]:
    return [e["t"] for e in log if e["kind"] == "said" and e["line"] == line]


def test_the_pacer_follows_the_breathing_and_the_hold_of_each_side() -> None:
    log = run()
    paces = pacer_entries(log)
    on = [e for e in paces if not e.get("off")]
    assert len(on) == 2 and len(paces) == 4  # on and off, once per side
    first_in = said_at(log, "breathe_in")[0]
    assert on[0]["inhale_at"] == first_in and (on[0]["inhale"], on[0]["exhale"]) == (5.0, 5.0)
    # the spoken cues come at the pacer's turns (the clock ticks every 0.25 s)
    outs = [t for t in said_at(log, "breathe_out") if t < on[1]["t"]]
    ins = [t for t in said_at(log, "breathe_in") if first_in < t < on[1]["t"]]
    for k, t in enumerate(outs):
        assert 0 <= t - (first_in + 5.0 + 10.0 * k) <= 0.25
    for k, t in enumerate(ins, 1):
        assert 0 <= t - (first_in + 10.0 * k) <= 0.25
    hold_start = kinds(log, "hold_start")[0]["t"]
    hold_end = kinds(log, "hold_end")[0]["t"]
    off = next(e for e in paces if e.get("off"))
    assert hold_start < off["t"] and off["t"] == hold_end  # it sounds through the hold


def test_slower_changes_the_pace_at_once_without_a_jump() -> None:
    log = run([Reply("hold_start", "slower", delay=13.0, times=1)])
    heard = next(e for e in kinds(log, "heard") if e["intent"] == "slower")
    before, after = [e for e in pacer_entries(log) if not e.get("off")][:2]
    assert after["t"] == heard["t"] and (after["inhale"], after["exhale"]) == (6.0, 6.0)
    t = heard["t"]
    old = BreathPace(before["inhale"], before["exhale"], before["inhale_at"])
    new = BreathPace(after["inhale"], after["exhale"], after["inhale_at"])
    assert old.inhaling(t) == new.inhaling(t)
    frac = lambda p: (p.position(t) if p.inhaling(t) else p.position(t) - p.inhale) / (  # noqa: E731
        p.inhale if p.inhaling(t) else p.exhale)
    assert frac(new) == pytest.approx(frac(old), abs=1e-3)


@pytest.mark.parametrize("during", [True, False], ids=["over-a-line", "in-silence"])
def test_stop_silences_the_voice_and_the_pacer_in_the_same_step(during: bool) -> None:
    log = run([Reply("hold_start", "stop", delay=1.0 if during else 8.0, times=1, during=during)])
    stop = next(e for e in kinds(log, "heard") if e["intent"] == "stop")
    after = [e for e in log if e["seq"] > stop["seq"]]
    assert all(e["t"] == stop["t"] for e in after[:after.index(kinds(after, "session_end")[0])])
    paces = pacer_entries(after)
    assert len(paces) == 1 and paces[0].get("off")  # off once, never on again
    order = [e["kind"] for e in after]
    assert order.index("pacer") < order.index("said") < order.index("session_end")
    if during:
        assert order.index("silence") < order.index("pacer")


def test_a_pause_silences_the_pacer_and_resume_starts_a_new_in_breath() -> None:
    log = run([Reply("hold_start", "pause", delay=10.0, times=1),
               Reply("paused", "resume", delay=5.0, times=1)])
    pause = next(e for e in kinds(log, "heard") if e["intent"] == "pause")
    resume = next(e for e in kinds(log, "heard") if e["intent"] == "resume")
    paces = pacer_entries(log)
    assert any(e.get("off") and e["t"] == pause["t"] for e in paces)
    again = next(e for e in paces if not e.get("off") and e["t"] == resume["t"])
    assert again["inhale_at"] == resume["t"]
