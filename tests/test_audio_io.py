"""Real audio I/O on a private PulseAudio server: the speaker, stop, the microphone, devices."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soxr

from audio_fixtures import (  # noqa: F401  (pulse_server is a fixture)
    SpeakerRecording,
    best_lag,
    monitor_microphone,
    play_into_mic,
    pulse_script,
    read_wav,
)
from coach.devices import streams as audio
from coach.errors import CoachError
from coach.voice.synth import Synthesizer

SPEECH = Path("/work/shared/speech/speech-commands-sample")
pytestmark = pytest.mark.audio


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, int]:
    r = Synthesizer(rate_wpm=170, cache_dir=tmp_path_factory.mktemp("tts")).render("Breathe in slowly, and let the ball sink into the muscle.")
    return r.samples, r.rate


def collect(mic: audio.Microphone, stop: threading.Event, into: list[audio.MicBlock]) -> None:
    while not stop.is_set():
        block = mic.read(0.5)
        if block is not None:
            into.append(block)


def test_speaker_plays_a_synthesized_line(pulse_server: dict[str, str], line: tuple[np.ndarray, int]) -> None:
    samples, rate = line
    rec = SpeakerRecording(16000)
    with audio.open_speaker() as speaker:
        t_play = speaker.time()
        speaker.play(samples, rate, utterance_id=7)
        assert speaker.is_playing
        done = speaker.events.get(timeout=len(samples) / rate + 3.0)
        assert not speaker.is_playing
    recorded = rec.stop().astype(np.float32) / 32768.0
    assert done.utterance_id == 7 and not done.interrupted
    played_for = done.t_end - t_play
    assert len(samples) / rate < played_for < len(samples) / rate + 0.3
    expected = soxr.resample(samples.astype(np.float32) / 32768.0, rate, 16000)
    assert len(recorded) > len(expected), "the recording is shorter than the line"
    lag, corr = best_lag(recorded, expected)
    print(f"\nspeaker->monitor correlation {corr:.4f}, played for {played_for:.3f} s of {len(samples) / rate:.3f} s")
    assert corr > 0.9


def test_stop_silences_within_50_ms(pulse_server: dict[str, str]) -> None:
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(3 * 44100) / 44100)).astype(np.float32)
    blocks: list[audio.MicBlock] = []
    stop = threading.Event()
    with monitor_microphone(block_ms=20) as mic, audio.open_speaker() as speaker:
        reader = threading.Thread(target=collect, args=(mic, stop, blocks))
        reader.start()
        try:
            time.sleep(0.2)
            results = []
            for trial in range(3):
                t_play = speaker.time()
                speaker.play(tone, 44100, utterance_id=trial)
                speaker.play(tone, 44100, utterance_id=100 + trial)  # queued: must be dropped too
                time.sleep(0.6 + 0.017 * trial)
                t_stop = speaker.stop()
                cut = [speaker.events.get(timeout=1.0) for _ in range(2)]
                assert [(p.utterance_id, p.interrupted) for p in cut] == [(trial, True), (100 + trial, True)]
                assert not speaker.is_playing
                time.sleep(0.3)
                x = np.concatenate([b.samples for b in blocks]).astype(np.float32) / 32768.0
                t = blocks[0].t_start + np.arange(len(x)) / 16000
                loud = np.flatnonzero((np.abs(x) > 0.05) & (t > t_play - 0.05))
                assert len(loud), "the tone never reached the speaker's monitor"
                onset, offset = t[loud[0]] - t_play, t[loud[-1]] - t_stop
                results.append((onset, offset))
        finally:
            stop.set()
            reader.join()
    print("\n(onset after play, sound after stop) in ms:", [(round(a * 1e3, 1), round(b * 1e3, 1)) for a, b in results])
    for onset, after_stop in results:
        assert 0.0 < onset < 0.3  # the tone did start: the timing is on one clock
        assert after_stop <= 0.050


def test_reference_lines_up_with_what_sounded(pulse_server: dict[str, str], line: tuple[np.ndarray, int]) -> None:
    samples, rate = line
    blocks: list[audio.MicBlock] = []
    stop = threading.Event()
    with monitor_microphone(block_ms=20) as mic, audio.open_speaker() as speaker:
        reader = threading.Thread(target=collect, args=(mic, stop, blocks))
        reader.start()
        try:
            time.sleep(0.2)
            t_play = speaker.time()
            speaker.play(samples[: 2 * rate], rate, utterance_id=1)  # the first 2 s
            speaker.events.get(timeout=5.0)
            time.sleep(0.2)
        finally:
            stop.set()
            reader.join()
        # what the monitor heard during 1 s starting 0.5 s into the line, vs the speaker's reference
        t_from = t_play + 0.5
        x = np.concatenate([b.samples for b in blocks]).astype(np.float32) / 32768.0
        i = int(round((t_from - blocks[0].t_start) * 16000))
        heard = x[i - 1600 : i + 16000 + 1600]  # ±100 ms of slack for the search
        ref = speaker.reference(t_from, 16000)
    lag, corr = best_lag(heard, ref)
    offset_ms = (lag - 1600) / 16.0
    print(f"\nreference vs monitor: offset {offset_ms:.1f} ms, correlation {corr:.4f}")
    assert corr > 0.95
    assert abs(offset_ms) <= 10.0


def test_microphone_hears_the_user_at_16_khz(pulse_server: dict[str, str]) -> None:
    wav = sorted((SPEECH / "stop").glob("*.wav"))[0] if SPEECH.is_dir() else None
    if wav is None:
        pytest.skip(f"speech sample not found at {SPEECH}")
    said, rate = read_wav(wav)
    assert rate == 16000
    with audio.open_microphone(block_ms=50) as mic:
        assert mic.block == 800
        first = mic.read(timeout=2.0)
        assert first is not None
        blocks = [first]
        t0 = time.monotonic()
        talker = play_into_mic(wav, wait=False)
        t_said = None
        while t_said is None or time.monotonic() < t_said + 0.3:
            block = mic.read(timeout=1.0)
            assert block is not None
            blocks.append(block)
            if t_said is None and talker.poll() is not None:
                t_said = time.monotonic()
            assert time.monotonic() - t0 < 10.0
        print(f"\npaplay of {len(said) / rate:.2f} s took {t_said - t0:.2f} s")
    assert all(b.samples.dtype == np.int16 and b.samples.shape == (800,) for b in blocks)
    steps = np.diff([b.t_start for b in blocks])
    assert np.allclose(steps, 0.05, atol=1e-6)
    heard = np.concatenate([b.samples for b in blocks]).astype(np.float32)
    lag, corr = best_lag(heard, said.astype(np.float32))
    print(f"\nmic device rate {mic.rate} Hz -> 16 kHz; correlation with the played file {corr:.4f}")
    assert corr > 0.9


def test_echo_mode_routes_the_speaker_into_the_mic(pulse_server: dict[str, str]) -> None:
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(22050) / 44100)).astype(np.float32)  # 0.5 s
    peaks = {}
    try:
        for mode in ("on", "off"):
            pulse_script("echo", "on", "30", "-12") if mode == "on" else pulse_script("echo", "off")
            with audio.open_microphone(block_ms=50) as mic, audio.open_speaker() as speaker:
                blocks = []
                speaker.play(tone, 44100, utterance_id=1)
                t_end = time.monotonic() + 0.9
                while time.monotonic() < t_end:
                    block = mic.read(timeout=1.0)
                    assert block is not None
                    blocks.append(block.samples)
            peaks[mode] = np.abs(np.concatenate(blocks)).max() / 32768.0
    finally:
        pulse_script("echo", "off")
    print(f"\necho peaks: on {peaks['on']:.3f} (0.5 at -12 dB = 0.126), off {peaks['off']:.4f}")
    assert 0.08 < peaks["on"] < 0.2
    assert peaks["off"] < 0.01


def test_microphone_loss_is_reported(pulse_server: dict[str, str]) -> None:
    with audio.open_microphone(block_ms=50, lost_after=0.5) as mic:
        assert mic.read(timeout=2.0) is not None
        subprocess.run(["pactl", "suspend-source", "coach_mic", "1"], check=True)
        try:
            t0 = time.monotonic()
            with pytest.raises(CoachError) as err:
                for _ in range(200):
                    mic.read(timeout=0.1)
            assert time.monotonic() - t0 < 3.0
        finally:
            subprocess.run(["pactl", "suspend-source", "coach_mic", "0"], check=True)
    assert err.value.code == "audio.mic_lost"
    assert mic.device_name in err.value.message


def test_unknown_device_is_named(pulse_server: dict[str, str]) -> None:
    names = [d.name for d in audio.list_devices()]
    assert "pulse" in names
    with pytest.raises(CoachError) as err:
        audio.resolve_device("no-such-headset", "input")
    assert err.value.code == "audio.no_device"
    assert "no-such-headset" in err.value.message and "pulse" in err.value.message
    assert audio.resolve_device("puls", "output") == names.index("pulse")
    with pytest.raises(CoachError):
        audio.resolve_device(99, "output")


def test_no_sound_card_gives_a_plain_error(tmp_path: Path) -> None:
    """With no server and (on this machine) no sound card, PortAudio sees nothing."""
    code = (
        "from coach.devices import streams as audio\n"
        "from coach.errors import CoachError\n"
        "if audio.list_devices(): print('HAS-DEVICES'); raise SystemExit\n"
        "try: audio.open_speaker()\n"
        "except CoachError as e: print(e.code); print(e)\n"
    )
    env = dict(os.environ, PULSE_SERVER=f"unix:{tmp_path}/nothing-here")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60).stdout
    if "HAS-DEVICES" in out:
        pytest.skip("this machine has a real sound card")
    assert out.splitlines()[0] == "audio.no_devices"
    assert "coach demo" in out


def test_virtual_speaker_plays_into_memory(tmp_path: Path) -> None:
    tone = (0.3 * np.sin(2 * np.pi * 300 * np.arange(8000) / 16000)).astype(np.float32)  # 0.5 s
    with audio.open_virtual_speaker(speed=20.0) as speaker:
        t0 = time.monotonic()
        speaker.play(tone, 16000, utterance_id=1)
        speaker.play((tone * 32767).astype(np.int16), 16000, utterance_id=2)
        done = [speaker.events.get(timeout=2.0) for _ in range(2)]
        wall = time.monotonic() - t0
        speaker.play(tone, 16000, utterance_id=3)
        time.sleep(0.005)
        speaker.stop()
        cut = speaker.events.get(timeout=2.0)
        path = speaker.write_wav(tmp_path / "demo.wav")
    assert [(p.utterance_id, p.interrupted) for p in done] == [(1, False), (2, False)]
    assert done[1].t_end - done[0].t_end == pytest.approx(0.5, abs=0.001)
    assert wall < 1.0 / 20 * 4  # 1 s of audio at 20x speed (plus slack)
    assert cut.utterance_id == 3 and cut.interrupted
    samples, rate = read_wav(path)
    assert rate == 16000
    lag, corr = best_lag(samples.astype(np.float32), tone)
    assert corr > 0.99
