"""The breathing pacer's sound, the speaker mixing it under the voice and into the echo
reference, and the pacer in the demo world. The engine's paced breathing: tests/test_pacing.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coach.devices.player import BED_FADE, Player
from coach.session.messages import BreathPace
from coach.voice.pacer import LEVEL_DBFS, PacerSound, breath_cycle
from sessions import kinds

RATE = 16000


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)))


def brightness(x: np.ndarray) -> float:
    """Zero crossings per second: higher for a brighter sound."""
    return np.count_nonzero(np.diff(np.signbit(x))) / (len(x) / RATE)


def test_the_sound_rises_with_the_in_breath_and_falls_with_the_out_breath() -> None:
    loop = breath_cycle(4.0, 6.0, RATE)
    assert loop.dtype == np.float32 and len(loop) == 10 * RATE
    win = RATE // 4
    at = lambda s: loop[int(s * RATE) - win // 2:int(s * RATE) + win // 2]  # noqa: E731
    levels = [rms(at(s)) for s in (0.25, 2.0, 3.85, 6.0, 9.75)]
    assert levels[0] < levels[1] < levels[2] and levels[2] > levels[3] > levels[4]
    assert levels[0] < levels[2] / 3  # quieter at the bottom of the breath than at its top
    bright = [brightness(at(s)) for s in (0.25, 2.0, 3.85, 6.0, 9.75)]
    assert bright[0] < bright[1] < bright[2] and bright[2] > bright[3] > bright[4]
    assert abs(20 * np.log10(levels[2]) - LEVEL_DBFS) < 1.5
    seam = abs(float(loop[-1]) - float(loop[0]))  # loops without a click
    assert seam < 2 * np.max(np.abs(np.diff(loop)))
    assert np.array_equal(loop, breath_cycle(4.0, 6.0, RATE))  # the same every time


def test_the_echo_stage_cancels_the_pacer_down_to_the_room_noise() -> None:
    """Played at the hold's level through a -20 dB echo path, the pacer leaves the echo stage
    at the microphone's noise floor (a tone did not: it stayed within 3 dB of its echo and
    pocketsphinx decoded its residue), and the recognizer hears nothing in it."""
    from coach.app import build_ear, load_recognizer
    from coach.content import load_content
    from coach.pcm import float_to_int16
    loop = breath_cycle(5.0, 5.0, RATE)
    ref = np.tile(loop, 3)
    echo = np.concatenate([np.zeros(640, np.float32), ref[:-640]]) * 0.1  # -20 dB, 40 ms
    noise = 0.001 * np.random.default_rng(0).standard_normal(len(ref)).astype(np.float32)
    mic, ref16 = float_to_int16(echo + noise), float_to_int16(ref)
    ear = build_ear(load_recognizer("pocketsphinx"), load_content())
    ear.listen_for(frozenset({"stop", "too_painful", "released", "slower", "faster", "pause",
                              "help", "repeat", "how_long", "skip", "better"}))
    cleaned, heard = [], []
    for i in range(0, len(mic), 800):
        cleaned.append(ear.echo.process(mic[i:i + 800], ref16[i:i + 800]))
    after = np.concatenate(cleaned)[5 * RATE:].astype(np.float64) / 32768
    assert 20 * np.log10(rms(after)) < 20 * np.log10(rms(noise)) + 2.0
    ear = build_ear(load_recognizer("pocketsphinx"), load_content())
    ear.listen_for(frozenset({"stop", "too_painful", "released", "slower", "faster", "pause"}))
    for i in range(0, len(mic), 800):
        heard += ear.hear(mic[i:i + 800], i / RATE, reference=ref16[i:i + 800])
    assert heard == [] and ear.recognizer.last_text == ""


def test_the_loop_starts_where_the_breath_is() -> None:
    sound = PacerSound(RATE)
    loop, at = sound.loop_for(BreathPace(5.0, 5.0, inhale_at=10.0), t=12.5)
    assert len(loop) == 10 * RATE and at == int(2.5 * RATE)
    assert sound.loop_for(None, 3.0) == (None, 0)
    assert PacerSound(RATE, enabled=False).loop_for(BreathPace(5, 5, 0), 1.0) == (None, 0)
    quiet, _ = PacerSound(RATE, volume=0.5).loop_for(BreathPace(5, 5, 0), 0.0)
    assert rms(quiet) == pytest.approx(rms(loop) / 2, rel=1e-3)


def test_the_speaker_plays_the_loop_under_the_voice_and_into_the_reference() -> None:
    block = 800
    p = Player(RATE, block)
    loop = (0.1 * np.sin(np.arange(RATE) * 2 * np.pi * 220 / RATE)).astype(np.float32)
    p.set_bed(loop, 0)
    p.enqueue(np.full(2 * block, 0.5, np.float32), utterance_id=1)
    out = [p.fill(block, i * block / RATE, i * block / RATE).copy() for i in range(2)]
    fade = int(BED_FADE * RATE)
    both = np.concatenate(out)
    assert np.allclose(both[fade:], 0.5 + loop[fade:2 * block], atol=1e-6)  # voice + loop
    p.request_stop()  # the voice's silence leaves the loop playing
    out.append(p.fill(block, 2 * block / RATE, 2 * block / RATE).copy())
    assert np.allclose(out[-1], loop[2 * block:3 * block], atol=1e-6)
    assert p.has_bed and not p.is_playing
    p.set_bed(None)  # off: faded out within BED_FADE
    out.append(p.fill(block, 3 * block / RATE, 3 * block / RATE).copy())
    assert np.all(out[-1][fade:] == 0) and rms(out[-1][:fade]) > 0 and not p.has_bed
    # what the echo stage is told was playing is what played, the loop included
    assert np.allclose(p.reference(block / RATE, 2 * block), np.concatenate(out[1:3]), atol=1e-4)


def pacer_entries(log: list[dict]) -> list[dict]:
    return kinds(log, "pacer")


def paced_content(tmp_path) -> Path:
    """A content folder with the shipped lines and intents and the routine "paced": the
    end-to-end tests' short routine with a breathing step before its hold."""
    import shutil
    from coach.paths import PROJECT_ROOT
    root = tmp_path / "content"
    (root / "routines").mkdir(parents=True)
    for name in ("lines.toml", "intents.toml"):
        shutil.copy(PROJECT_ROOT / "content" / name, root / name)
    (root / "routines" / "paced.toml").write_text(paced_routine())
    return root


def paced_routine() -> str:
    from test_live_e2e import SHORT_ROUTINE
    return SHORT_ROUTINE.replace('id = "short"', 'id = "paced"').replace(
        'per_side = ["position", "hold", "roll_off"]',
        'per_side = ["position", "breathe", "hold", "roll_off"]') + """
[steps.breathe]
kind = "breathe"
on_ball = true
intro = "breathe_intro"
inhale = "breathe_in"
exhale = "breathe_out"
cycles = 1
"""


@pytest.mark.slow
def test_in_the_demo_the_pacer_sounds_under_the_voice_and_is_not_heard_as_speech(tmp_path) -> None:
    """The demo world (pocketsphinx, echo -20 dB): with the pacer, the speaker's output (which is
    the echo stage's reference) holds the rising and falling sound through the breathing and the
    hold, where no line plays; without it, silence there. The recognizer hears the same in both
    runs (the same renditions of the user's answers, the same intents at the same moments), and
    nothing while the pacer sounds."""
    from coach.app import build_driver, build_ear, load_recognizer, synthesizer, voice_16k
    from coach.run.demo import World, run_demo
    from coach.run.user_script import default_replies
    from coach.voice.user_voice import SimulatedUserVoice

    root = paced_content(tmp_path)
    coach_voice = voice_16k(synthesizer(tts="pyttsx3"))
    user = SimulatedUserVoice.shared()
    runs = {}
    for pacer in (True, False):
        content, driver = build_driver("paced", root, {}, history=False)
        ear = build_ear(load_recognizer("pocketsphinx"), content)
        run = run_demo(driver, ear, coach_voice, user, default_replies(content), World(speed=0),
                       keep_audio=True, pacer=PacerSound(RATE, enabled=pacer))
        log = driver.log.entries
        assert driver.end is not None and driver.end.outcome.value == "completed"
        runs[pacer] = (log, np.concatenate(run.coach_audio).astype(np.float64) / 32768)
    heard = {p: [(e["intent"], e["t"]) for e in kinds(runs[p][0], "heard")] for p in runs}
    assert [i for i, _ in heard[True]] == [i for i, _ in heard[False]]
    assert all(abs(a - b) <= 0.15 for (_, a), (_, b) in zip(heard[True], heard[False]))
    assert {i for i, _ in heard[True]} == {"no", "ready", "better"}
    log, coach = runs[True]
    on = next(e for e in pacer_entries(log) if not e.get("off"))
    off = next(e for e in pacer_entries(log) if e.get("off"))
    assert not [t for _, t in heard[True] if on["t"] <= t <= off["t"] + 1.0]
    voice = [(e["t"], next(d["t"] for d in kinds(log, "line_done") if d["utterance"] == e["utterance"]))
             for e in kinds(log, "said")]
    quiet = lambda a, b: all(b <= s or a >= d + 0.1 for s, d in voice)  # noqa: E731
    pace = BreathPace(on["inhale"], on["exhale"], on["inhale_at"])
    tops, bottoms = [], []
    for k in range(int((off["t"] - on["t"]) // pace.cycle) + 1):
        for at, into in ((pace.inhale_at + k * pace.cycle + pace.inhale, tops),
                         (pace.inhale_at + k * pace.cycle + 0.25, bottoms)):
            if on["t"] <= at - 0.25 and at + 0.25 <= off["t"] and quiet(at - 0.25, at + 0.25):
                span = slice(int((at - 0.25) * RATE), int((at + 0.25) * RATE))
                into.append((rms(coach[span]), rms(runs[False][1][span])))
    assert len(tops) >= 2 and len(bottoms) >= 2, (tops, bottoms)
    for level, without in tops:
        assert abs(20 * np.log10(level) - LEVEL_DBFS) < 3 and without == 0
    assert max(b for b, _ in bottoms) < min(t for t, _ in tops) / 2
    after = slice(int((off["t"] + 0.1) * RATE), int((off["t"] + 0.6) * RATE))
    assert rms(coach[after]) < 10 ** (-60 / 20) or not quiet(off["t"], off["t"] + 0.6)


@pytest.mark.slow
def test_over_the_pacer_the_users_too_painful_is_heard(tmp_path) -> None:
    """In the demo world, "too painful" said in the hold between lines, over the pacer's echo,
    is heard and eases off."""
    from coach.app import build_driver, build_ear, load_recognizer, synthesizer, voice_16k
    from coach.run.demo import World, run_demo
    from coach.run.user_script import Reply, default_replies
    from coach.voice.user_voice import SimulatedUserVoice

    root = paced_content(tmp_path)
    content, driver = build_driver("paced", root, {}, history=False)
    ear = build_ear(load_recognizer("pocketsphinx"), content)
    replies = [Reply("hold_start", "too painful", delay=6.0, times=1)] + default_replies(content)
    run_demo(driver, ear, voice_16k(synthesizer(tts="pyttsx3")), SimulatedUserVoice.shared(),
             replies, World(speed=0), pacer=PacerSound(RATE))
    log = driver.log.entries
    said = next(e for e in kinds(log, "user_spoke") if e["text"] == "too painful")
    on = next(e for e in pacer_entries(log) if not e.get("off"))
    assert on["t"] < said["t"] and not [e for e in kinds(log, "said")
                                        if e["t"] <= said["t"] <= e["t"] + 0.1]
    assert [e["intent"] for e in kinds(log, "heard") if e["t"] > said["t"]][:1] == ["too_painful"]
    assert "ease_off_weight" in [e["line"] for e in kinds(log, "said") if e["t"] > said["t"]]


def test_the_ear_is_told_of_the_voice_alone_and_its_echo_stage_of_everything_played() -> None:
    """``hear_played``: the echo stage cancels voice and pacer; the Ear judges what it hears
    against a line only while the voice plays. A "stop" 2 s after the line, over the pacer, with
    the echo stage's user-to-echo ratio low (0.5: a lookup that missed the words, as pocketsphinx's
    times did live after a vocabulary change) is kept; given the pacer as the voice, the Ear held
    the line "sounding" and dropped it as the line's own echo."""
    from coach.content import load_content
    from coach.listen.ear import Ear
    from coach.listen.echo.self_speech import SelfSpeechFilter
    from coach.run.played import hear_played
    from fakes import FixedRatio, ScriptedStops

    line = "Stay here and keep breathing. Say released, or stop."
    pacer = np.tile(breath_cycle(2.0, 2.0, RATE), 2)[:5 * RATE] * 2.0
    voice = np.zeros(5 * RATE, np.float32)
    voice[:RATE] = 0.1 * np.sin(np.arange(RATE) * 2 * np.pi * 300 / RATE)
    played, voice16 = (np.round((pacer + voice) * 32767).astype(np.int16),
                       np.round(voice * 32767).astype(np.int16))
    kept = {}
    for apart in (True, False):
        echo = FixedRatio(0.5)
        seen: list = []
        echo.process = lambda mic, ref, seen=seen: (seen.append(ref.copy()), mic)[1]
        ear = Ear(ScriptedStops([(3.0, 3.4)]), load_content(), echo, SelfSpeechFilter())
        ear.listen_for(frozenset({"stop"}))
        heard = []
        for i in range(0, 5 * RATE, 800):
            playing = line if i < RATE else None
            mic = np.zeros(800, np.int16)
            if apart:
                heard += hear_played(ear, mic, i / RATE, played[i:i + 800], voice16[i:i + 800],
                                     playing)
            else:
                heard += ear.hear(mic, i / RATE, reference=played[i:i + 800], now_playing=playing)
        assert np.array_equal(np.concatenate(seen), played[:len(seen) * 800])  # all played
        kept[apart] = [h.intent for h in heard]
    assert kept == {True: ["stop"], False: []}
