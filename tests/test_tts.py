"""Speech synthesis with the real espeak-ng (through pyttsx3, and the espeak-ng program): the
``--tts pyttsx3`` engine and the last fallback. The neural voice: tests/test_neural_voice.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coach.voice import synth as tts
from coach.errors import CoachError

LINE = "Breathe in slowly, and let the ball sink deeper into the muscle."


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def test_renders_speech(tmp_path: Path) -> None:
    r = tts.Synthesizer(rate_wpm=160, engine="pyttsx3", cache_dir=tmp_path).render(LINE)
    assert r.source == "engine"
    assert r.samples.dtype == np.int16 and r.rate == 22050
    assert 2.0 < r.duration < 8.0  # 11 words at 160 words/minute
    assert rms(r.samples) > 1000


def test_cache_hits_are_fast_and_identical(tmp_path: Path) -> None:
    synth = tts.Synthesizer(rate_wpm=160, engine="pyttsx3", cache_dir=tmp_path)
    first = synth.render(LINE)
    again = synth.render(LINE)
    from_disk = tts.Synthesizer(rate_wpm=160, engine="pyttsx3", cache_dir=tmp_path).render(LINE)
    print(f"\nrender: engine {first.seconds * 1e3:.1f} ms, memory {again.seconds * 1e3:.3f} ms, "
          f"disk {from_disk.seconds * 1e3:.2f} ms")
    assert (again.source, from_disk.source) == ("memory", "disk")
    assert np.array_equal(first.samples, again.samples) and np.array_equal(first.samples, from_disk.samples)
    assert again.seconds < first.seconds / 2 and again.seconds < 0.005
    assert from_disk.seconds < first.seconds
    assert synth.cache_path(LINE).is_file()


def test_rate_and_volume_apply_on_every_line(tmp_path: Path) -> None:
    """A reused pyttsx3 engine stops applying property changes: each line must still get its own."""
    durations = {}
    for rate in (100, 250, 100, 250):
        r = tts.Synthesizer(rate_wpm=rate, engine="pyttsx3", cache_dir=tmp_path / str(len(durations))).render(LINE)
        durations.setdefault(rate, []).append(r.duration)
    assert min(durations[100]) > 1.8 * max(durations[250])
    loud = tts.Synthesizer(volume=1.0, engine="pyttsx3", cache_dir=tmp_path).render("Relax your shoulders.")
    soft = tts.Synthesizer(volume=0.3, engine="pyttsx3", cache_dir=tmp_path).render("Relax your shoulders.")
    assert rms(soft.samples) < 0.5 * rms(loud.samples)


def test_cache_key_separates_settings(tmp_path: Path) -> None:
    a = tts.Synthesizer(rate_wpm=150, engine="pyttsx3", cache_dir=tmp_path)
    b = tts.Synthesizer(rate_wpm=151, engine="pyttsx3", cache_dir=tmp_path)
    c = tts.Synthesizer(rate_wpm=150, voice="gmw/en", engine="pyttsx3", cache_dir=tmp_path)
    d = tts.Synthesizer(rate_wpm=150, cache_dir=tmp_path)  # the neural voice
    paths = {a.cache_path(LINE), b.cache_path(LINE), c.cache_path(LINE), d.cache_path(LINE),
             a.cache_path(LINE + ".")}
    assert len(paths) == 5
    assert "pyttsx3-2.99" in a.engine_name and "espeak-ng" in a.engine_name
    assert d.engine_name.startswith("piper-onnx-en_US-joe-medium")


def test_voices() -> None:
    voices = tts.list_voices()
    assert voices[0].engine == "piper" and voices[0].id == "en_US-joe-medium"
    assert any(v.id == "gmw/en-us" and v.engine == "pyttsx3" for v in voices)
    assert tts.Synthesizer(voice="English (America)", engine="pyttsx3").voice == "gmw/en-us"
    assert tts.Synthesizer(engine="pyttsx3").voice == "gmw/en-us"
    for engine in ("pyttsx3", "piper"):
        with pytest.raises(CoachError) as err:
            tts.Synthesizer(voice="no-such-voice", engine=engine)
        assert err.value.code == "tts.no_voice" and "no-such-voice" in err.value.message
    with pytest.raises(CoachError) as err:  # an espeak-ng voice is not a neural one: no fallback
        tts.Synthesizer(voice="gmw/en-us", engine="piper")
    assert err.value.code == "tts.no_voice" and "--tts pyttsx3" in err.value.hint


def test_word_times_come_with_the_audio_and_the_cache(tmp_path: Path) -> None:
    """espeak-ng's word events give each word's start in the rendered audio: they follow the
    text, rise, and the words sound where the audio is loud (checked against the audio itself:
    the 50 ms after a word's start is not silence). Kept on disk beside the WAV."""
    synth = tts.Synthesizer(rate_wpm=160, engine="pyttsx3", cache_dir=tmp_path)
    r = synth.render(LINE)
    assert [w for w, _ in r.words] == [w.strip(",.").lower() for w in LINE.split()]
    times = [t for _, t in r.words]
    assert times[0] < 0.1 and times == sorted(times) and times[-1] < r.duration - 0.2
    for t in times:
        start = int(t * r.rate)
        assert rms(r.samples[start:start + r.rate // 20]) > 300, t
    assert synth.words_of(LINE) == r.words and synth.words_of("never rendered") == ()
    assert tts.Synthesizer(rate_wpm=160, engine="pyttsx3", cache_dir=tmp_path).render(LINE).words == r.words
    synth.cache_path(LINE).with_suffix(".words.json").unlink()  # cached before word times
    again = tts.Synthesizer(rate_wpm=160, engine="pyttsx3", cache_dir=tmp_path).render(LINE)
    assert again.source == "engine" and [w for w, _ in again.words] == [w for w, _ in r.words]
    assert np.allclose([t for _, t in again.words], times, atol=0.02)  # (events vary by ~5 ms)
    assert tts.Synthesizer(rate_wpm=160, engine="espeak-ng", cache_dir=tmp_path).render(
        LINE).words == ()  # the program reports none


def test_espeak_program_engine(tmp_path: Path) -> None:
    synth = tts.Synthesizer(rate_wpm=160, engine="espeak-ng", cache_dir=tmp_path)
    r = synth.render(LINE)
    assert synth.engine_name.startswith("espeak-ng-")
    assert r.rate == 22050 and 2.0 < r.duration < 8.0 and rms(r.samples) > 1000


def test_render_ahead(tmp_path: Path) -> None:
    lines = ["Find the spot.", "Ease your weight onto the ball.", "Breathe out."]
    with tts.Synthesizer(engine="pyttsx3", cache_dir=tmp_path) as synth:
        assert not any(synth.is_cached(t) for t in lines)
        synth.render_ahead(lines)
        assert synth.wait_ahead(timeout=30)
        assert all(synth.is_cached(t) for t in lines)
        first = synth.render(lines[1])  # rendered ahead onto the disk, then kept in memory
        assert first.source == "disk" and first.words and synth.words_of(lines[1]) == first.words
        assert synth.render(lines[1]).source == "memory"


def test_missing_espeak_names_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng program on it
    with pytest.raises(CoachError) as err:
        tts.Synthesizer(engine="espeak-ng", cache_dir=tmp_path)
    assert err.value.code == "tts.no_espeak" and "scripts/setup" in err.value.hint
