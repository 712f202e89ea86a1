"""The default listening stack (Silero VAD + Whisper tiny.en + intents from text) on real people,
and its mechanics: VAD segmentation, the noise gate, the log-mel, block-size independence, the
early stop, the worker thread, a missing or damaged model.

The real-people bar runs on a fixed subsample of the tune set's half B (speakers never used to
choose thresholds: ``bench/listen_people.py`` chooses them on half A), fed as one stream with
silences between clips, as a microphone would feed them."""

from __future__ import annotations

import csv
import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest

from coach.content import load_content
from coach.errors import CoachError
from coach.listen.asr.whisper.mel import HOP, N_MELS, log_mel, mel_filters
from coach.listen.asr.whisper.recognizer import Trace, WhisperRecognizer, WhisperSettings
from coach.listen.asr.whisper.vad import CHUNK, NoiseGate, Segmenter, VadSettings, Voice
from coach.listen.hear_file import hear_samples
from coach.paths import PROJECT_ROOT
from coach.pcm import SAMPLE_RATE, read_wav_16k

TUNE = PROJECT_ROOT.parent / "shared" / "speech" / "tune"
CONTENT = load_content()
SCREENING = CONTENT.phrases({"stop", "yes", "no", "help", "repeat", "pause", "skip",
                             "health_changed"})


# --- pure parts -----------------------------------------------------------------------------------
def test_segmenter_opens_on_speech_and_closes_after_the_silence_run():
    s = VadSettings(end_chunks=3, max_chunks=100)
    seg = Segmenter(s)
    probs = [0.1, 0.2, 0.9, 0.8, 0.2, 0.9, 0.1, 0.1, 0.1, 0.1]
    got = [seg.push(p) for p in probs]
    assert got == [Voice.QUIET, Voice.QUIET, Voice.START, Voice.SPEECH, Voice.SPEECH,
                   Voice.SPEECH, Voice.SPEECH, Voice.SPEECH, Voice.END, Voice.QUIET]


def test_segmenter_cuts_a_long_utterance_and_can_start_the_next_at_once():
    seg = Segmenter(VadSettings(max_chunks=5))
    got = [seg.push(0.9) for _ in range(7)]
    assert got == [Voice.START] + [Voice.SPEECH] * 3 + [Voice.CUT, Voice.START, Voice.SPEECH]


def test_noise_gate_lets_speech_through_and_keeps_steady_noise_out():
    rng = np.random.default_rng(0)
    gate, bar = NoiseGate(), VadSettings().gate_db
    noise = [(rng.standard_normal(CHUNK) * 200).astype(np.int16) for _ in range(400)]
    passed = [gate.above(c) >= bar for c in noise]
    assert sum(passed[-200:]) == 0  # once the floor is learnt (~6 s), steady noise costs nothing
    loud = (rng.standard_normal(CHUNK) * 2000).astype(np.int16)
    assert gate.above(loud) >= bar + 10  # 20 dB over the noise


def test_log_mel_has_one_frame_per_10_ms_and_puts_a_tone_in_its_band():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = (0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    mel = log_mel(tone)
    assert mel.shape == (N_MELS, SAMPLE_RATE // HOP)
    peak_band = int(np.argmax(mel[:, 50]))
    centres = np.argmax(mel_filters(), axis=1) * SAMPLE_RATE / 400  # Hz of each filter's peak bin
    assert abs(centres[peak_band] - 1000) < 80
    as_int16 = (tone * 32767).astype(np.int16)
    assert np.array_equal(log_mel(as_int16), log_mel(as_int16.astype(np.float32) / 32768.0))


# --- the model and the recognizer ---------------------------------------------------------------
def tune_rows() -> list[dict]:
    """The tune set's manifest rows, each recording once (13 of its files are byte-identical
    copies of another; a copy would count its speaker's word twice)."""
    seen: set[str] = set()
    out = []
    for r in csv.DictReader(open(TUNE / "manifest.csv")):
        digest = hashlib.sha256((TUNE / r["file"]).read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            out.append(r)
    return out


def half_b(speaker: str) -> bool:
    return int(hashlib.sha1(speaker.encode()).hexdigest(), 16) % 2 == 1


def subsample() -> list[tuple[str, Path]]:
    """A fixed CI subsample of half B: 40 "stop", 30 "yes", 30 "no" and 120 other words, each
    word's clips spread over its speakers (every k-th file in name order)."""
    rows = [r for r in tune_rows() if r["kind"] in ("command", "other") and half_b(r["speaker"])]
    out = []
    for word, n in (("stop", 40), ("yes", 30), ("no", 30)):
        files = sorted(r["file"] for r in rows if r["word"] == word)
        out += [(word, TUNE / f) for f in files[:: max(1, len(files) // n)][:n]]
    others = sorted(r["file"] for r in rows if r["kind"] == "other")
    out += [("other", TUNE / f) for f in others[:: max(1, len(others) // 120)][:120]]
    return out


def stream(clips: list[tuple[str, Path]], seed: int = 1) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The clips one after another with 1.5-2.5 s of silence between, and their spans (s)."""
    rng = np.random.default_rng(seed)
    parts, spans, t = [np.zeros(SAMPLE_RATE, np.int16)], [], 1.0
    for _, path in clips:
        x = read_wav_16k(path)
        spans.append((t, t + len(x) / SAMPLE_RATE))
        gap = np.zeros(int(rng.uniform(1.5, 2.5) * SAMPLE_RATE), np.int16)
        parts += [x, gap]
        t += (len(x) + len(gap)) / SAMPLE_RATE
    return np.concatenate(parts), spans


def heard_per_clip(hyps, spans) -> list[list]:
    out: list[list] = [[] for _ in spans]
    for h in hyps:
        overlap = [min(b + 0.5, h.end) - max(a - 0.5, h.start) for a, b in spans]
        i = int(np.argmax(overlap))
        if overlap[i] > 0:
            out[i].append(h)
    return out


@pytest.fixture(scope="module")
def recognizer() -> WhisperRecognizer:
    r = WhisperRecognizer(WhisperSettings(worker=False))
    assert r.ready(30), "the bundled Whisper model did not load"
    return r


@pytest.mark.slow
def test_real_people_of_half_b_stop_yes_no_caught_and_other_words_rejected(recognizer):
    """The bar on strangers (half B of the tune set, a fixed subsample): in the screening
    vocabulary, "stop" 38 of 40, "yes" and "no" 28 of 30 each, at most 2 of 120 other words
    taken for a command. Measured when set: see docs/recognition.md."""
    clips = subsample()
    audio, spans = stream(clips)
    recognizer.set_vocabulary(SCREENING)
    per_clip = heard_per_clip(hear_samples(audio, recognizer), spans)
    caught = {w: 0 for w in ("stop", "yes", "no")}
    false = []
    for (word, path), heard in zip(clips, per_clip):
        intents = [h.intent for h in heard]
        if word in caught:
            caught[word] += word in intents
        elif intents:
            false.append((path.name, intents))
    print(f"caught {caught} of 40/30/30; others taken {len(false)} of 120: {false}")
    assert caught["stop"] >= 38 and caught["yes"] >= 28 and caught["no"] >= 28, caught
    assert len(false) <= 2, false


def test_a_stop_is_reported_before_the_utterance_ends(recognizer):
    """The early check: "stop" comes from the first-word probability while the word is still in
    progress or just after (``final=False``), not from the transcript 0.25 s of silence later."""
    rows = [r for r in tune_rows() if r["word"] == "stop" and half_b(r["speaker"])][:8]
    recognizer.set_vocabulary({"stop": ["stop"]})
    early = 0
    for r in rows:
        x = np.concatenate([np.zeros(8000, np.int16), read_wav_16k(TUNE / r["file"]),
                            np.zeros(16000, np.int16)])
        recognizer.reset()
        hyps = hear_samples(x, recognizer)
        early += any(h.intent == "stop" and not h.final for h in hyps)
        assert [h.intent for h in hyps].count("stop") <= 1, hyps  # reported once, not again
    assert early >= 7, early


def test_the_answer_rule_takes_the_most_probable_intent_over_its_own_bar():
    from coach.listen.asr.whisper.recognizer import best_answer
    bars = (("no", 0.1), ("stop", 0.01))
    assert best_answer({"no": 0.05, "stop": 0.02}, bars) == "stop"  # "no" under its bar
    assert best_answer({"no": 0.5, "stop": 0.02}, bars) == "no"
    assert best_answer({"no": 0.09, "stop": 0.009}, bars) is None
    assert best_answer({"yes": 0.9}, bars) is None  # not an answer intent


def test_a_stop_written_as_start_or_star_is_heard_as_stop():
    """Real "stop"s that Whisper writes "start.", "start up", "the start" (the early check stays
    under its bar on them): the first-word probability of "stop" on the short transcript's
    audio catches them; without "stop" among the answer intents they are lost. Real "up"s,
    the other word closest to "stop" by that probability, stay unheard."""
    sample = PROJECT_ROOT.parent / "shared" / "speech" / "speech-commands-sample"
    names = ["stop/988e2f9a_nohash_0.wav", "../tune/speech-commands/stop/9d171fee_nohash_0.wav",
             "../tune/speech-commands/stop/d1a4fb3f_nohash_0.wav"]
    hold = CONTENT.phrases({"stop", "too_painful", "pause", "help", "how_long", "released"})

    def heard(settings: WhisperSettings, name: str) -> list[str]:
        r = WhisperRecognizer(settings)
        assert r.ready(30)
        r.set_vocabulary(hold)
        x = np.concatenate([np.zeros(8000, np.int16), read_wav_16k(sample / name),
                            np.zeros(16000, np.int16)])
        return [h.intent for h in hear_samples(x, r)]

    shipped, without = WhisperSettings(worker=False), WhisperSettings(
        worker=False, answer_thresholds=(("no", 0.1),))
    assert [heard(shipped, n) for n in names] == [["stop"]] * 3
    assert [heard(without, n) for n in names] == [[]] * 3
    ups = sorted((sample / "up").glob("*.wav"))[:4]
    assert all(heard(shipped, f"up/{p.name}") == [] for p in ups)


def test_babble_quieter_than_the_user_does_not_hold_the_users_utterance_open():
    """A real "stop" over babble (four read-speech talkers at once, as in
    ``bench/listen_people.py``) whose RMS is 18 dB under the word's loudest 32 ms: the utterance that holds the "stop" ends within a second of the
    word (``hold_db``), so its transcript is the user's word and not seconds of babble; with the
    VAD alone it runs on. (A single louder background talker is not covered: see
    docs/recognition.md.)"""
    stop = read_wav_16k(TUNE / next(r["file"] for r in tune_rows()
                                    if r["word"] == "stop" and half_b(r["speaker"])))
    files = [r["file"] for r in tune_rows() if r["kind"] == "continuous"]
    n = 16 * SAMPLE_RATE
    babble = np.zeros(n)
    for k in range(4):
        talk = np.concatenate([read_wav_16k(TUNE / f) for f in files[4 * k:4 * k + 4]])
        assert len(talk) >= n
        babble += talk[:n] / np.sqrt(np.mean(np.square(talk[:n].astype(np.float64))))
    at = 9 * SAMPLE_RATE
    peak = float(np.sqrt(np.max(np.convolve(np.square(stop.astype(np.float64)),
                                            np.ones(CHUNK) / CHUNK, "valid"))))
    background = babble / np.sqrt(np.mean(np.square(babble))) * peak * 10 ** (-12 / 20) / 2
    mix = background.copy()
    mix[at:at + len(stop)] += stop
    mix = np.clip(mix, -32768, 32767).astype(np.int16)
    word_end = (at + len(stop)) / SAMPLE_RATE
    ends = {}
    for hold in (WhisperSettings().vad.hold_db, None):
        r = WhisperRecognizer(WhisperSettings(vad=VadSettings(hold_db=hold), worker=False))
        r.set_vocabulary(SCREENING)
        r.trace = Trace([], [])
        hear_samples(mix, r)
        ends[hold] = [(round(a, 2), round(b, 2)) for a, b, *_ in r.trace.transcripts
                      if a < word_end and b > at / SAMPLE_RATE]
    assert ends[WhisperSettings().vad.hold_db][-1][1] <= word_end + 1.0, ends
    assert all(b > word_end + 1.0 for _, b in ends[None]), ends


def test_what_is_heard_does_not_depend_on_the_block_size():
    rows = [r for r in tune_rows() if r["word"] in ("stop", "no", "left") and half_b(r["speaker"])]
    audio, _ = stream([("", TUNE / r["file"]) for r in rows[:: max(1, len(rows) // 6)][:6]])
    results = []
    for block_ms in (20, 50, 128):
        r = WhisperRecognizer(WhisperSettings(worker=False))
        r.set_vocabulary(SCREENING)
        results.append([(h.intent, round(h.start, 3), h.final)
                        for h in hear_samples(audio, r, block_ms)])
    assert results[0] == results[1] == results[2] and results[0]


def test_the_worker_thread_hears_what_the_caller_thread_hears():
    rows = [r for r in tune_rows() if r["word"] in ("yes", "no") and half_b(r["speaker"])][:6]
    audio, _ = stream([("", TUNE / r["file"]) for r in rows])
    got = []
    for worker in (False, True):
        r = WhisperRecognizer(WhisperSettings(worker=worker))
        r.set_vocabulary(SCREENING)
        got.append(sorted((h.intent, round(h.start, 2)) for h in hear_samples(audio, r)))
    assert got[0] == got[1] and len(got[0]) >= 5


def test_okay_im_ready_said_naturally_is_heard_as_ready(tmp_path):
    """`coach hear` on a recording of "okay, I'm ready" (the neural user voice) prints ready."""
    from coach.pcm import write_wav
    from coach.voice.user_voice import SimulatedUserVoice

    path = tmp_path / "okay-im-ready.wav"
    write_wav(path, SimulatedUserVoice.shared().int16("Okay, I'm ready."))
    out = subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "coach"), "hear", str(path),
                          "--intents", "ready,stop,pause"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert '"intent": "ready"' in out.stdout, out.stdout


def test_a_missing_or_damaged_model_is_an_error_that_names_the_fix(tmp_path, monkeypatch):
    from coach.listen.asr.whisper import model as M

    with pytest.raises(CoachError) as missing:
        WhisperRecognizer(model_dir=str(tmp_path))
    assert "model.bin" in missing.value.message and missing.value.hint
    (tmp_path / "model.bin").write_bytes(b"not a model")
    with pytest.raises(CoachError) as damaged:
        M.check_model_file(tmp_path, verify_hash=True)
    assert damaged.value.code == "asr.bad_model" and "reinstall" in damaged.value.hint
