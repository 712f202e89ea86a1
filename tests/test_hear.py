"""hear_file: any WAV in, the live accept path, hypotheses out."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from coach.app import load_recognizer
from coach.listen.hear_file import hear_file
from coach.pcm import read_wav
from coach.listen.asr.whisper.recognizer import WhisperRecognizer
from coach.errors import CoachError


def synth(path: Path, text: str, voice: str = "en-us") -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(path), text], check=True)
    return path


@pytest.fixture(scope="module")
def rec() -> WhisperRecognizer:
    r = load_recognizer(None, None, realtime=False)
    assert isinstance(r, WhisperRecognizer)
    r.set_vocabulary({"stop": ["stop"], "ready": ["ready"], "too_painful": ["too painful"],
                      "pause": ["pause"]})
    return r


def test_synthesized_stop_gives_stop_with_sane_times(tmp_path: Path, rec) -> None:
    wav = synth(tmp_path / "stop.wav", "stop")  # espeak-ng writes 22050 Hz mono
    samples, rate = read_wav(wav)
    duration = len(samples) / rate
    rec.reset()
    hyps = hear_file(wav, rec)
    assert [h.intent for h in hyps] == ["stop"]
    assert 0.0 <= hyps[0].start < hyps[0].end <= duration + 0.05


def test_stereo_float_48k_file_is_heard_the_same(tmp_path: Path, rec) -> None:
    wav = synth(tmp_path / "too_painful.wav", "too painful")
    out = tmp_path / "too_painful_f32_48k_stereo.wav"
    subprocess.run(["sox", str(wav), "-e", "floating-point", "-b", "32", "-r", "48000", "-c", "2",
                    str(out)], check=True)
    rec.reset()
    original = [h.intent for h in hear_file(wav, rec)]
    rec.reset()
    assert [h.intent for h in hear_file(out, rec)] == original == ["too_painful"]


def test_non_wav_and_missing_file_raise(tmp_path: Path, rec) -> None:
    bad = tmp_path / "x.wav"
    bad.write_text("not audio")
    with pytest.raises(CoachError):
        hear_file(bad, rec)
    with pytest.raises(CoachError):
        hear_file(tmp_path / "missing.wav", rec)


def test_unknown_backend_raises() -> None:
    with pytest.raises(CoachError):
        load_recognizer("nonsense", None)


def test_read_wav_converts_8bit_mono(tmp_path: Path) -> None:
    path = tmp_path / "u8.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1); w.setsampwidth(1); w.setframerate(8000)
        w.writeframes(bytes([128, 255, 0, 128]))
    samples, rate = read_wav(path)
    assert rate == 8000
    assert np.allclose(samples, [0.0, 127 / 128, -1.0, 0.0])
