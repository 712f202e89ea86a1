"""The neural voice (a Piper voice run by onnxruntime directly), with real synthesis: phonemes from
the espeak-ng program, the durations output, word times, pace, loudness, the cache, the fallback
to pyttsx3, the command line, and the simulated user's voice made unlike the coach's."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from coach.errors import CoachError
from coach.pcm import SAMPLE_RATE, active_rms, to_float32
from coach.voice import phonemes as ph
from coach.voice.neural import (LEVEL_DBFS, NeuralEngine, VoiceConfig, _open_session,
                                find_piper_voice)
from coach.voice.onnx_durations import ceil_outputs
from coach.voice.synth import Synthesizer

LINE = "Breathe in slowly, and let the ball sink deeper into the muscle. Say stop at any moment."


@pytest.fixture(scope="module")
def voices_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the model with its durations output is kept for this module's engines."""
    return tmp_path_factory.mktemp("voices")


@pytest.fixture(scope="module")
def engine(voices_dir: Path) -> NeuralEngine:
    return NeuralEngine(find_piper_voice(None), cache_dir=voices_dir)


def level_db(samples: np.ndarray, rate: int) -> float:
    return 20 * np.log10(active_rms(samples.astype(np.float64) / 32768, frame=rate // 50))


def test_clauses_keep_their_punctuation_and_phonemes_come_from_espeak_ng() -> None:
    clauses = ph.split_clauses("Welcome. I'll guide you, one side; ok? Yes")
    assert [(c.text, c.terminator) for c in clauses] == [
        ("Welcome", "."), ("I'll guide you", ","), ("one side", ";"), ("ok", "?"), ("Yes", "")]
    assert [c.words for c in clauses[1:3]] == [["i'll", "guide", "you"], ["one", "side"]]
    said = ph.phonemize("Slower: in for 5, out for 6.")
    # espeak-ng 1.51's IPA, with the punctuation a Piper voice reads (the same as piper-tts's)
    assert [p.phonemes for p in said] == ["slˈoʊɚ: ", "ɪn fɔːɹ fˈaɪv, ", "ˈaʊt fɔːɹ sˈɪks."]
    assert [len(s) for s in ph.sentences(said)] == [3]
    assert said[1].word_spans == [(0, 2), (3, 7), (8, 13)]  # ɪn | fɔːɹ | fˈaɪv (NFD symbols)
    id_map = VoiceConfig.read(find_piper_voice(None).config).id_map
    assert ph.to_ids(["h", "ə"], id_map) == [1, 0, 20, 0, 59, 0, 2]  # ^ _ h _ ə _ $
    assert ph.to_ids(["h", "\u2603", "ə"], id_map, with_positions=True) == (
        [1, 0, 20, 0, 59, 0, 2], [2, 4, 4])  # a symbol the voice lacks is left out


def test_words_run_together_by_espeak_ng_are_shared_out() -> None:
    # "for a" is one phoneme word (fɚɹə); "2026" is three
    assert ph.align_words("rest for a moment".split(), "ɹˈɛst fɚɹə mˈoʊmənt".split()) == [
        (0, 0.0), (1, 0.0), (1, 0.75), (2, 0.0)]
    assert ph.align_words(["in", "2026"], "ɪn twˈɛnti twˈɛnti sˈɪks".split()) == [(0, 0.0), (1, 0.0)]


def test_the_model_also_outputs_each_phoneme_s_duration(voices_dir: Path) -> None:
    voice = find_piper_voice(None)
    assert ceil_outputs(voice.model) == ["/Ceil_output_0"]
    session, durations = _open_session(voice.model, voices_dir)
    config = VoiceConfig.read(voice.config)
    ids = ph.to_ids(ph.phonemize("Say stop.")[0].symbols, config.id_map)
    audio, frames = session.run(["output", durations], {
        "input": np.array([ids], np.int64), "input_lengths": np.array([len(ids)], np.int64),
        "scales": np.array([config.noise_scale, 1.0, config.noise_w], np.float32)})
    assert frames.size == len(ids) and audio.size == int(frames.sum()) * config.hop
    patched = sorted(voices_dir.glob("*.durations.onnx"))
    assert len(patched) == 1  # made once, reused


def test_renders_speech_with_word_times(engine: NeuralEngine) -> None:
    samples, rate, words = engine.synthesize(LINE)
    assert samples.dtype == np.int16 and rate == 22050
    assert 4.0 < len(samples) / rate < 9.0
    assert [w for w, _ in words] == [w.lower() for w in ph._WORD.findall(LINE)]
    times = [t for _, t in words]
    assert times[0] < 0.15 and times == sorted(times) and times[-1] < len(samples) / rate - 0.2
    for t in times:  # each word starts where there is sound (the 60 ms from its start)
        start = int(t * rate)
        assert np.sqrt(np.mean(samples[start:start + rate * 6 // 100].astype(float) ** 2)) > 300, t
    stop = dict(words)["stop"]
    assert dict(words)["say"] < stop < dict(words)["at"]
    assert abs(level_db(samples, rate) - LEVEL_DBFS) < 1.0
    # before its first sound and after its last, exact silence: the listening stage takes any
    # non-zero sample for the coach's voice
    loud = np.nonzero(np.abs(samples) > 32768 * 10 ** (-55 / 20))[0]
    assert not samples[:max(0, loud[0] - int(0.05 * rate))].any()
    assert not samples[loud[-1] + int(0.05 * rate):].any() and loud[-1] < len(samples) - 1


def test_lines_are_equally_loud_and_rate_and_volume_apply(tmp_path: Path, voices_dir: Path) -> None:
    voice = find_piper_voice(None)
    calm = NeuralEngine(voice, cache_dir=voices_dir)
    levels = [level_db(*calm.synthesize(t)[:2]) for t in
              ("Good.", "Rest for a moment. Say ready when you want to go on.", LINE)]
    assert max(levels) - min(levels) < 1.0, levels
    slow = Synthesizer(rate_wpm=110, cache_dir=tmp_path).render("Relax your shoulders and breathe.")
    quick = Synthesizer(rate_wpm=220, cache_dir=tmp_path).render("Relax your shoulders and breathe.")
    assert slow.duration > 1.6 * quick.duration
    soft = Synthesizer(volume=0.3, cache_dir=tmp_path).render("Relax your shoulders.")
    loud = Synthesizer(volume=1.0, cache_dir=tmp_path).render("Relax your shoulders.")
    assert level_db(soft.samples, soft.rate) < level_db(loud.samples, loud.rate) - 8


def test_cache_keeps_audio_and_word_times(tmp_path: Path) -> None:
    synth = Synthesizer(cache_dir=tmp_path)
    first = synth.render(LINE)
    assert first.source == "engine" and synth.engine == "piper"
    assert synth.render(LINE).source == "memory"
    again = Synthesizer(cache_dir=tmp_path)
    from_disk = again.render(LINE)
    assert from_disk.source == "disk" and np.array_equal(from_disk.samples, first.samples)
    assert again.words_of(LINE) == first.words and synth.words_of("never said") == ()
    assert not again._engine.loaded  # a line found in the cache never loads the model


def test_the_model_is_let_go_once_everything_ahead_is_rendered(tmp_path: Path) -> None:
    lines = ["Find the spot.", "Breathe out."]
    with Synthesizer(cache_dir=tmp_path) as synth:
        synth.render_ahead(lines)
        assert synth.wait_ahead(timeout=60)
        deadline = time.monotonic() + 10
        while synth._engine.loaded and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not synth._engine.loaded
        assert all(synth.is_cached(t) for t in lines) and synth.words_of(lines[0])
        assert synth.render("Relax.").duration > 0.3  # loads again when a line is missing


def broken_voice(tmp_path: Path) -> Path:
    """A Piper voice whose model file is damaged: its config is fine, its model is not ONNX."""
    voice = find_piper_voice(None)
    model = tmp_path / "damaged.onnx"
    model.write_bytes(b"\x08\x07" + bytes(range(256)) * 64)
    model.with_suffix(".onnx.json").write_text(voice.config.read_text())
    return model


def test_a_voice_that_cannot_load_falls_back_to_pyttsx3_saying_so_once(tmp_path: Path) -> None:
    notes: list[str] = []
    synth = Synthesizer(voice=str(broken_voice(tmp_path)), cache_dir=tmp_path / "tts",
                        on_fallback=notes.append)
    assert synth.engine == "piper"  # the config reads; the model fails when first used
    r = synth.render("Say stop at any moment.")
    assert synth.engine == "pyttsx3" and synth.voice == "gmw/en-us"
    assert r.duration > 1.0 and r.words and dict(r.words)["stop"] > 0  # pyttsx3's word times
    assert len(notes) == 1 and "piper voice cannot be used" in notes[0] and "pyttsx3" in notes[0]
    synth.render("Breathe out.")
    assert len(notes) == 1
    with pytest.raises(CoachError) as err:  # no fallback asked for: the failure is the answer
        Synthesizer(voice=str(broken_voice(tmp_path)), cache_dir=tmp_path / "tts",
                    fallback=False).render("Say stop.")
    assert err.value.code == "tts.bad_model"


def test_the_fallback_is_said_on_stderr_and_in_the_event_log(tmp_path: Path, capsys) -> None:
    from coach.app import synthesizer
    from coach.session.eventlog import EventLog
    log = EventLog()
    log.write(1.5, "said", text="Welcome.")
    synth = synthesizer(str(broken_voice(tmp_path)), log=log)
    synth.render("Breathe in.")
    assert not [e for e in log.entries if e["kind"] == "tts_fallback"]  # written by the loop's thread,
    log.write(2.0, "line_done")  # with its next entry
    fell = [e for e in log.entries if e["kind"] == "tts_fallback"]
    assert len(fell) == 1 and fell[0]["t"] == 2.0 and "pyttsx3" in fell[0]["reason"]
    assert capsys.readouterr().err.count("coach: the piper voice cannot be used") == 1


def test_voices_and_engine_options_on_the_command_line(capsys, tmp_path, monkeypatch) -> None:
    from coach.cli import build_parser, main
    from coach.cli.config import apply_settings
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no settings file: the defaults
    assert main(["voices"]) == 0
    out = capsys.readouterr().out.splitlines()
    piper = [line for line in out if line.startswith("piper")]
    assert piper and "en_US-joe-medium" in piper[0] and "* default" in piper[0]
    assert any(line.startswith("pyttsx3") and "gmw/en-us" in line and "default for --tts pyttsx3"
               in line for line in out)
    p = build_parser()
    args = p.parse_args(["demo"])
    apply_settings(args)
    assert (args.tts, args.voice, args.rate, args.pacer) == ("piper", None, None, True)
    args = p.parse_args(["session", "--tts", "pyttsx3", "--no-pacer", "--rate", "140"])
    apply_settings(args)
    assert (args.tts, args.pacer, args.rate) == ("pyttsx3", False, 140)
    with pytest.raises(SystemExit) as exit_:
        p.parse_args(["demo", "--tts", "espeak"])
    assert exit_.value.code == 2


def f0(audio: np.ndarray) -> float:
    """Median fundamental frequency (Hertz) of the louder 40 ms frames of 16 kHz float audio."""
    frame, out = 640, []
    frames = [audio[i:i + frame] for i in range(0, len(audio) - frame, frame // 2)]
    loud = np.median([np.sqrt(np.mean(f ** 2)) for f in frames])
    for f in frames:
        if np.sqrt(np.mean(f ** 2)) < loud:
            continue
        f = f - f.mean()
        ac = np.correlate(f, f, "full")[frame - 1:]
        lo, hi = SAMPLE_RATE // 400, SAMPLE_RATE // 70
        out.append(SAMPLE_RATE / (lo + int(np.argmax(ac[lo:hi]))))
    return float(np.median(out))


def test_the_simulated_user_sounds_higher_and_quicker_than_the_coach(engine: NeuralEngine) -> None:
    from coach.voice.user_voice import PITCH, SimulatedUserVoice, shift_pitch
    tone = (np.sin(2 * np.pi * 110 * np.arange(22050) / 22050) * 8000).astype(np.int16)
    shifted = shift_pitch(tone, 22050, PITCH)
    assert PITCH > 1.03 and f0(shifted) == pytest.approx(110 * PITCH, rel=0.01)
    assert len(shifted) == pytest.approx(SAMPLE_RATE / PITCH, abs=2)
    user = SimulatedUserVoice()
    text = "I'm ready now, let's go on"
    coach_samples, rate, _ = engine.synthesize(text)
    said = user(text)
    assert said.dtype == np.float32 and 0.9 < np.max(np.abs(said)) <= 1.0
    assert len(said) < 0.9 * len(to_float32(coach_samples, rate, SAMPLE_RATE))
    assert not np.array_equal(user.fresh("ready"), user.fresh("ready"))  # each rendition differs


def test_voices_prepare_renders_the_session_s_lines_once(capsys) -> None:
    """``coach voices --prepare`` (run by scripts/coach) fills the speech cache with every line
    known before a session, and writes the Whisper model's int8 copy; run again it has nothing
    to do. (espeak-ng here, for speed: the same path as the neural voice's.)"""
    from coach import paths
    from coach.cli import main
    from coach.content import load_content
    from coach.listen.asr.whisper import int8_copy
    from coach.listen.asr.whisper.model import bundled_model_dir
    from coach.session.engine import Engine
    assert main(["voices", "--prepare", "--tts", "pyttsx3"]) == 0
    texts = Engine(load_content()).texts_ahead()
    assert f"rendering {len(texts)} of {len(texts)} lines with pyttsx3" in capsys.readouterr().out
    synth = Synthesizer(engine="pyttsx3")
    assert all(synth.is_cached(t) for t in texts)
    copies = list((paths.cache_dir() / "whisper").glob(f"{bundled_model_dir().name}.*"))
    assert len(copies) == 1 and int8_copy.copy_is_intact(copies[0])
    assert main(["voices", "--prepare", "--tts", "pyttsx3"]) == 0
    assert capsys.readouterr().out == ""
