"""The default recognizer: voice activity, an early "stop" check, and a transcript of each
utterance read for intents.

    16 kHz blocks ─▶ noise gate ─▶ Silero VAD ─▶ utterances
                          while one is open, every ``early_hop`` chunks: P(first word is "stop")
                          over its last ``early_window`` seconds ─▶ stop (final=False) at once
                          at its end: a Whisper transcript (worker thread) ─▶ IntentMatcher ─▶ intent

The early check runs on the caller's thread; transcripts run on a worker thread with their own
model worker, so a transcript never delays the next check. Results of the worker are returned by
the next ``accept`` (or by ``flush``). Times are seconds of audio fed.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from coach.errors import CoachError
from coach.listen.asr.base import Hypothesis
from coach.listen.asr.whisper.model import (TRANSCRIPT_FRAMES, WhisperModel, bundled_model_dir,
                                             load_whisper, whisper_model_dir)
from coach.listen.asr.whisper.vad import CHUNK, NoiseGate, Segmenter, SileroVad, VadSettings, Voice
from coach.listen.text_intents import SPELLINGS, IntentMatcher, TextIntent
from coach.pcm import SAMPLE_RATE
from coach.session.messages import STOP


@dataclass(frozen=True)
class WhisperSettings:
    vad: VadSettings = VadSettings()
    preroll: float = 0.3
    """Seconds of audio before the VAD's onset given to Whisper (the quiet "s" of "stop" comes
    before the VAD is sure)."""
    early_threshold: float = 0.02
    """P(first word is "stop") at which stop is reported before the utterance ends."""
    early_window: float = 2.0
    """Seconds of the utterance's most recent audio the early check looks at."""
    early_hop: int = 3
    """Chunks (32 ms each) between early checks while an utterance is open."""
    early_min: float = 0.25
    """Seconds an utterance must have lasted before the first early check."""
    early_max: float | None = 2.0
    """Seconds after the utterance's start after which early checks stop (a "stop" later in a
    long utterance is caught by its transcript); None: checks go on sliding to its end."""
    answer_thresholds: tuple[tuple[str, float], ...] = (("no", 0.1), ("stop", 0.008))
    """Intents of one-word answers whose first-word probability decides an utterance whose
    transcript matched nothing and has at most ``ANSWER_MAX_WORDS`` words, at these thresholds
    (the most probable of those over theirs wins): Whisper writes a lone "no" as "Now", "Low",
    "naught" (12 of 166 real "no"s of the tune set) and a lone "stop" as "start", "star", "The
    staff". Chosen on half A of its speakers: "no" 0.1 gained 4 of 91 and took no other word;
    "stop" 0.008, the geometric middle of the most probable other word (0.0057) and the least
    probable "stop" it gained (0.0115); "yes" gained none at any threshold that took no other
    word, so it is not listed."""
    tail: float = 0.0
    """Seconds of the silence after an utterance given to Whisper with it."""
    worker: bool = True
    """Transcripts on a worker thread, returned by a later ``accept`` (live audio: the next
    early check is never delayed). False: in the ``accept`` that ends the utterance, so that
    audio fed faster than real time (files, benchmarks, a demo at full speed) gets its results at
    the same point of the audio on any machine."""


@dataclass
class Trace:
    """What the recognizer computed, for benchmarks (off unless ``trace`` is set): every early
    check as (samples fed, utterance start in samples, P(stop)) and every transcript as
    (start s, end s, text, confidence, decode wall seconds, samples fed when submitted)."""

    early: list[tuple[int, int, float]]
    transcripts: list[tuple[float, float, str, float, float, int, dict[str, float] | None]]
    """... and the answer rule's probabilities when it was consulted."""


ANSWER_MAX_WORDS = 2
"""Most words a transcript may have for the answer rule (a misheard word, not a sentence)."""


def best_answer(answers: Mapping[str, float], thresholds: Sequence[tuple[str, float]]
                ) -> str | None:
    """The most probable answer intent among those at or over their threshold; None if none."""
    bar = dict(thresholds)
    over = {k: p for k, p in answers.items() if k in bar and p >= bar[k]}
    return max(over, key=over.get, default=None)


@dataclass(frozen=True)
class _Job:
    audio: np.ndarray
    start: float
    end: float
    matcher: IntentMatcher
    phrases: Mapping[str, Sequence[str]]
    stop_reported: bool
    fed: int


class WhisperRecognizer:
    """The ``Recognizer`` protocol over Silero VAD and Whisper tiny.en (see the module)."""

    def __init__(self, settings: WhisperSettings = WhisperSettings(),
                 model_dir: str | None = None) -> None:
        self.s = settings
        path = whisper_model_dir(model_dir)
        if path is None or not (path / "model.bin").is_file():
            load_whisper(model_dir)  # raises the CoachError that names the fix
        self.name = (f"Whisper {'tiny.en' if path == bundled_model_dir() else path.name} "
                     f"(CTranslate2 int8, {path}) with Silero VAD v6")
        self._model: WhisperModel | None = None
        self._error: CoachError | None = None
        self._loaded = threading.Event()
        self._vad = SileroVad()
        self._gate = NoiseGate(settings.vad)
        self._seg = Segmenter(settings.vad)
        keep = int((settings.vad.max_chunks * CHUNK) + (settings.preroll + 1.0) * SAMPLE_RATE)
        self._ring = np.zeros(keep, np.int16)  # the most recent audio, oldest first
        self._ring_end = 0  # samples fed that the ring holds up to
        self._pending = np.zeros(0, np.int16)
        self._matcher: IntentMatcher | None = None
        self._phrases: dict[str, tuple[str, ...]] = {}
        self._stop_ids: dict[str, list[int]] = {}
        self._utt_start = 0  # sample index where the open utterance's audio begins
        self._stop_reported = False
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[Hypothesis] = queue.SimpleQueue()
        self._busy = 0
        self._idle = threading.Condition()
        if settings.worker:
            threading.Thread(target=self._work, name="coach-whisper", daemon=True).start()
        self.stats = {"early_checks": 0, "transcripts": 0, "vad_chunks": 0, "gated": 0}
        self.trace: Trace | None = None
        """Set to ``Trace([], [])`` to keep what was computed (benchmarks)."""
        threading.Thread(target=self._load, args=(model_dir,), name="coach-whisper-load",
                         daemon=True).start()  # last: it sets attributes made above

    # --- loading -------------------------------------------------------------------------------
    def _load(self, model_dir: str | None) -> None:
        try:
            model = load_whisper(model_dir)
            self._stop_ids = {STOP: model.word_tokens("stop")}
            self._model = model
        except CoachError as err:
            self._error = err  # raised by ``accept``: one report, where the audio meets it
        finally:
            self._loaded.set()

    def ready(self, timeout: float | None = None) -> bool:
        """Wait for the model; False when it failed to load (``accept`` then raises)."""
        self._loaded.wait(timeout)
        return self._model is not None

    # --- Recognizer protocol ---------------------------------------------------------------------
    def set_vocabulary(self, phrases: Mapping[str, Sequence[str]]) -> None:
        self._matcher = IntentMatcher(phrases)
        self._phrases = {k: tuple(v) for k, v in phrases.items()}

    def accept(self, block: np.ndarray) -> list[Hypothesis]:
        if not self.s.worker:
            self._loaded.wait()  # offline: every block is heard with the model, on any machine
        if self._error is not None:
            raise self._error
        out: list[Hypothesis] = []
        x = np.concatenate([self._pending, np.asarray(block, np.int16).reshape(-1)])
        n = len(x) // CHUNK * CHUNK
        for i in range(0, n, CHUNK):
            self._chunk(x[i:i + CHUNK], out)
        self._pending = x[n:]
        return out + self._drain()

    def flush(self) -> list[Hypothesis]:
        """End of input: decode the utterance in progress and wait for every transcript."""
        if self._seg.open:
            self._seg.open = False
            self._submit()
        self._wait_idle()
        return self._drain()

    def note_far_end(self, sounding: bool) -> None:
        """Not used by this backend."""

    def reset(self) -> None:
        """Forget the utterance in progress (audio time keeps counting)."""
        self._seg = self._reopen()
        self._stop_reported = False

    # --- internals ---------------------------------------------------------------------------------
    def _reopen(self) -> Segmenter:
        seg = Segmenter(self.s.vad)
        seg.n = self._seg.n
        return seg

    def _chunk(self, chunk: np.ndarray, out: list[Hypothesis]) -> None:
        self._push_ring(chunk)
        seg, hold_db = self._seg, self.s.vad.hold_db
        above = self._gate.above(chunk)
        if not seg.open and above < self.s.vad.gate_db:
            p = 0.0
            self.stats["gated"] += 1
        else:
            p = self._vad.prob(chunk)
            self.stats["vad_chunks"] += 1
            if seg.open and hold_db is not None and above < hold_db:
                p = 0.0  # a quieter background talker: not the user's utterance
        voice = seg.push(p)
        if voice is Voice.START:
            self._utt_start = max(0, self._ring_end - CHUNK - int(self.s.preroll * SAMPLE_RATE))
            self._stop_reported = False
        elif voice is Voice.SPEECH:
            self._early_check(out)
        elif voice in (Voice.END, Voice.CUT):
            self._submit()

    def _push_ring(self, chunk: np.ndarray) -> None:
        self._ring = np.roll(self._ring, -len(chunk))
        self._ring[-len(chunk):] = chunk
        self._ring_end += len(chunk)

    def _audio(self, start: int, end: int) -> np.ndarray:
        first = self._ring_end - len(self._ring)
        start = max(start, first)
        return self._ring[start - first:end - first].copy()

    def _early_check(self, out: list[Hypothesis]) -> None:
        s, seg = self.s, self._seg
        if (self._stop_reported or self._model is None or self._matcher is None
                or STOP not in self._matcher.intents):
            return
        age = seg.n - seg.start
        if age * CHUNK < s.early_min * SAMPLE_RATE or age % s.early_hop:
            return
        if s.early_max is not None and age * CHUNK > s.early_max * SAMPLE_RATE:
            return
        start = max(self._utt_start, self._ring_end - int(s.early_window * SAMPLE_RATE))
        p = self._model.first_word(self._audio(start, self._ring_end), self._stop_ids)[STOP]
        self.stats["early_checks"] += 1
        if self.trace is not None:
            self.trace.early.append((self._ring_end, self._utt_start, p))
        if p >= s.early_threshold:
            self._stop_reported = True
            out.append(Hypothesis(STOP, "stop", p, start / SAMPLE_RATE,
                                  self._ring_end / SAMPLE_RATE, final=False))

    def _submit(self) -> None:
        if self._matcher is None or self._seg.speech_chunks < self.s.vad.min_speech_chunks:
            return
        end = self._ring_end
        speech_end = end - (self.s.vad.end_chunks * CHUNK if not self._seg.open else 0)
        audio_end = min(end, speech_end + int(self.s.tail * SAMPLE_RATE))
        job = _Job(self._audio(self._utt_start, audio_end), self._utt_start / SAMPLE_RATE,
                   speech_end / SAMPLE_RATE, self._matcher, self._phrases, self._stop_reported,
                   end)
        if not self.s.worker:
            self._transcribe(job)
            return
        with self._idle:
            self._busy += 1
        self._jobs.put(job)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._transcribe(job)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def _transcribe(self, job: _Job) -> None:
        if not self.ready():
            return
        w0 = time.perf_counter()
        text, confidence = self._model.transcribe(job.audio)
        self.stats["transcripts"] += 1
        found = job.matcher.match(text)
        answers = None
        unmatched = not found.intent and found.why == "none"
        if found.words <= ANSWER_MAX_WORDS and (unmatched or self.trace is not None):
            answers = self._answer(job)  # (a trace keeps them for every short transcript)
            best = best_answer(answers, self.s.answer_thresholds)
            if unmatched and best is not None:
                found, confidence = TextIntent(best, "answer", words=found.words), answers[best]
        if self.trace is not None:
            self.trace.transcripts.append((job.start, job.end, text, confidence,
                                           time.perf_counter() - w0, job.fed, answers))
        if not found.intent or (found.intent == STOP and job.stop_reported):
            return
        self._results.put(Hypothesis(found.intent, text, confidence, job.start, job.end,
                                     final=True, alternatives=found.alternatives))

    def _answer(self, job: _Job) -> dict[str, float]:
        """P(the utterance's first word is a one-word phrase of each answer intent in the
        vocabulary), on the transcript's context; {} when there is none."""
        words = {}
        for intent, _ in self.s.answer_thresholds:
            one_word = [p for p in job.phrases.get(intent, ()) if " " not in p]
            one_word += [said for said, meant in SPELLINGS.items() if meant in one_word]
            ids = [t for w in one_word for t in self._model.word_tokens(w)]
            if ids:
                words[intent] = ids
        if not words:
            return {}
        return self._model.first_word(job.audio, words, TRANSCRIPT_FRAMES)

    def _wait_idle(self) -> None:
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0)

    def _drain(self) -> list[Hypothesis]:
        out = []
        while True:
            try:
                out.append(self._results.get_nowait())
            except queue.Empty:
                return out
