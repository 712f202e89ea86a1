"""The embedded default recognizer: pocketsphinx 5 with a garbage-model grammar.

Audio flows: int16 blocks -> fixed 30 ms frames -> voice activity endpointer -> one decoder
utterance per speech segment (in a noise floor with 0.15 s of pre-roll: ``ps_preroll``) ->
Hypothesis. Every stage works on whole 30 ms frames, so results
do not depend on the caller's block size.

Rejection: the grammar (``ps_grammar``) lets an utterance be one command phrase or any run of
frequent English words; only an utterance decoded as exactly one command is reported.
Early report: ``stop`` and ``too painful`` are reported (``final=False``) as soon as the partial
hypothesis has named the same safety intent for ``early_frames`` consecutive frames
(``ps_early``); those partial results come from a second decoder given
each frame as it arrives (``ps_ahead``), not a window (0.27 s) late as the endpointer hands them
to the main decoder. If the partial results of a segment named both ``stop`` and
``too_painful``, or the other one fits the segment at least as well (``ps_verify``), ``unsure``
is reported instead, with both as alternatives. A segment is reported at most once.
Verification (``ps_verify``): a finished segment decoded as an intent other than ``stop`` or
``too painful`` is scored against that intent's phrases and dropped if it fits too poorly (the
safety intents are never dropped: a missed "stop" costs more than a false one); a short segment
the grammar rejected is scored against the rescue intents ("stop", then "yes") and reported as
the first that fits well. This is what lifts real people's "stop" from 7 to 9 in 10 (see
bench/README.md).
Answers (``whisper_check``): in a vocabulary with "yes" or "no", a short finished segment not
decoded as a safety intent is decided by Whisper tiny.en instead (exactly a phrase, or
nothing; the "stop" rescue still applies): real people's "no" 6 -> 10 in 10 (ps_tune).
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np
import pocketsphinx

from coach.listen.asr.base import Hypothesis

from coach.pcm import SAMPLE_RATE

from coach.session.messages import SAFETY_INTENTS
from coach.listen.asr.sphinx.grammar import build_grammar, check_vocabulary, competitors
from coach.listen.asr.sphinx.ahead import AheadDecoder
from coach.listen.asr.sphinx.early import EarlyRule
from coach.listen.asr.sphinx.preroll import PreRoll
from coach.listen.asr.sphinx.settings import PsSettings
from coach.listen.asr.sphinx.verify import IntentVerifier, fit_confidence, model_files, word_span
from coach.listen.asr.whisper_check import load_whisper_check, whisper_model_dir
from coach.errors import CoachError


class PocketsphinxRecognizer:
    """Recognizer protocol on pocketsphinx 5.1 with the en-US model shipped in its wheel."""

    def __init__(self, model_dir: str | None = None, settings: PsSettings = PsSettings()) -> None:
        hmm, dic = model_files(model_dir)
        for path in (hmm, dic):
            if not os.path.exists(path):
                raise CoachError("asr.no_model", f"pocketsphinx model file missing: {path}",
                                 "reinstall pocketsphinx (pip install pocketsphinx==5.1.1)")
        self.settings = settings
        self.name = "pocketsphinx en-us"
        self._decoder = pocketsphinx.Decoder(hmm=hmm, dict=dic, lm=None, loglevel="FATAL",
                                             cmn=settings.cmn, bestpath=False,
                                             silprob=settings.silprob, fillprob=settings.fillprob)
        self._verifier = IntentVerifier(hmm, dic) if settings.verify else None
        self._answers = None  # loaded at the first answer vocabulary (off the start-up path)
        self._answers_wanted = settings.answer_check and whisper_model_dir() is not None
        if self._answers_wanted:
            self.name += " (answers: whisper tiny.en)"
        self._check_answers = False
        """The vocabulary is an answer's: short segments go to ``_answers`` (Whisper)."""
        self._by_phrase: dict[str, str] = {}
        self._phrases: dict[str, list[str]] = {}
        self._search_names: dict[str, str] = {}
        self.last_text = ""
        """Words decoded for the last finished segment (commands or competitors), for tuning."""
        self._endpointer = pocketsphinx.Endpointer(
            window=settings.vad_window, ratio=settings.vad_ratio, vad_mode=settings.vad_mode,
            sample_rate=SAMPLE_RATE)
        self._frame_samples = self._endpointer.frame_bytes // 2
        self._window = max(1, round(settings.vad_window * SAMPLE_RATE / self._frame_samples))
        """Frames in the endpointer's window: it hands each frame on ``_window - 1`` late."""
        self._ahead = AheadDecoder(
            hmm, self._decoder, settings.vad_mode, self._window, self._frame_samples / SAMPLE_RATE,
            cmn=settings.cmn, bestpath=False, silprob=settings.silprob,
            fillprob=settings.fillprob) \
            if settings.decode_ahead else None
        self._pending = np.zeros(0, dtype=np.int16)
        self._preroll = PreRoll(round(settings.preroll * SAMPLE_RATE / self._frame_samples),
                                settings.preroll_snr, history=max(64, self._window))
        self._rule = EarlyRule(settings.early_frames)
        self._frames_fed = 0
        self._resume_frame = 0
        """No segment opens mid-speech on a frame before this one (``_abort_utterance``)."""
        self._in_utt = False
        self._far_end = False
        self._reset_segment()

    # -- vocabulary -------------------------------------------------------------------------
    def _lookup(self, word: str) -> str | None:
        return self._decoder.lookup_word(word)

    def set_vocabulary(self, phrases: Mapping[str, Sequence[str]]) -> None:
        """Listen only for these intents (intent -> lower-case phrases); unknown words raise."""
        by_phrase = check_vocabulary(phrases, self._lookup)
        fillers = competitors(by_phrase, self._lookup, self.settings.competitor_count,
                              self.settings.exclude_competitors)
        grammar = build_grammar(by_phrase, fillers, self.settings.command_weight)
        self._abort_utterance()
        name = self._search_names.get(grammar)
        if name is None:  # each search costs memory in the decoder: build each grammar once
            name = self._search_names[grammar] = f"vocab{len(self._search_names) + 1}"
            self._decoder.add_jsgf_string(name, grammar)
        self._decoder.activate_search(name)
        if self._ahead is not None:
            words = {w for phrase in by_phrase for w in phrase.split()} | set(fillers)
            self._ahead.use_grammar(grammar, words)
        self._by_phrase = by_phrase
        self._check_answers = self._answers_wanted and any(
            i in self.settings.answer_intents for i in by_phrase.values())
        if self._check_answers and self._answers is None:
            self._answers = load_whisper_check()  # starts loading (~0.6 s, a thread of its own)
            self._check_answers = self._answers is not None
        self._rule.use(by_phrase)
        self._phrases = {}
        for phrase, intent in by_phrase.items():
            self._phrases.setdefault(intent, []).append(phrase)

    # -- streaming --------------------------------------------------------------------------
    def accept(self, block: np.ndarray) -> list[Hypothesis]:
        """Feed 16 kHz mono int16 samples (any block length); return what was heard."""
        samples = np.asarray(block, dtype=np.int16).reshape(-1)
        buf = np.concatenate([self._pending, samples]) if self._pending.size else samples
        n = self._frame_samples
        whole = (buf.size // n) * n
        out: list[Hypothesis] = []
        for i in range(0, whole, n):
            out.extend(self._frame(buf[i:i + n]))
        self._pending = buf[whole:].copy()
        return out

    def flush(self) -> list[Hypothesis]:
        """End of the audio: decode the speech in progress and report it."""
        out: list[Hypothesis] = []
        if self._endpointer.in_speech:  # (end_stream raises on no data: give it one sample)
            tail = self._pending if self._pending.size else np.zeros(1, dtype=np.int16)
            speech = self._endpointer.end_stream(tail.tobytes())
            if speech and self._in_utt:  # (the decoder ahead has had all but the tail)
                out.extend(self._feed(speech, [(self._pending.tobytes(), False)]
                                      if self._pending.size else []))
        self._pending = np.zeros(0, dtype=np.int16)
        if self._in_utt:
            out.extend(self._end_segment(self._frames_fed * self._frame_samples / SAMPLE_RATE))
        return out

    @property
    def audio_time(self) -> float:
        """Seconds of audio fed so far (the clock of Hypothesis.start/end)."""
        return (self._frames_fed * self._frame_samples + self._pending.size) / SAMPLE_RATE

    def reset(self) -> None:
        """Forget the utterance in progress (audio time keeps counting)."""
        self._abort_utterance()

    def note_far_end(self, sounding: bool) -> None:
        """Tell the recognizer whether the coach's own voice (or its echo tail) reaches the
        microphone in the audio fed next. Live cepstral mean normalisation learns the level and
        colour of the voice from every segment it decodes; what is left of the echo after the
        echo stage is quiet and coloured, and seconds of it moved the mean's energy term from
        the model's 40 to ~29.5: a user's loud "stop" straight after was then heard as "pause"
        or not at all (live echo-loopback test). With ``echo_keeps_cmn``, a segment that
        overlapped the far end leaves the mean as it found it, even when it gave a command:
        the coach's own "... or stop" is reported here and dropped later by the self-speech
        filter, and a user's command said over the coach is mixed with its echo."""
        self._far_end = sounding
        if sounding and self._in_utt:
            self._seg_far_end = True

    # -- internals --------------------------------------------------------------------------
    def _reset_segment(self) -> None:
        self._seg_start = 0.0
        self._seg_frames = 0
        self._ahead_frames = 0
        self._held: list[bytes] = []
        self._rule.reset()
        self._speech: list[bytes] = []
        self._fits: dict[tuple[str, int], float] = {}
        self._seg_far_end = False
        self._seg_cmn = ""

    def _abort_utterance(self) -> None:
        if self._in_utt:
            if self._rule.reported and self._endpointer.in_speech:
                # the endpointer is a window behind: what it hands on next is the end of the
                # word just reported, and decoded again in a new vocabulary "painful"'s tail
                # was heard as "help" (live e2e). A new segment starts after the frames had.
                self._resume_frame = self._frames_fed
            self._end_utt()
            self._in_utt = False
            self._keep_cmn_after_echo()
        self._reset_segment()

    def _keep_cmn_after_echo(self) -> None:
        """After a segment (ended, cut or aborted): if it overlapped the far end, put back the
        cepstral mean it started with (``note_far_end``)."""
        if self._seg_far_end and self._seg_cmn:
            self._decoder.set_cmn(self._seg_cmn)

    def _frame(self, frame: np.ndarray) -> list[Hypothesis]:
        was_in_speech = self._endpointer.in_speech
        raw = frame.tobytes()
        self._preroll.push(raw)
        if self._ahead is not None:
            self._ahead.judge(raw)
        speech = self._endpointer.process(raw)
        self._frames_fed += 1
        out: list[Hypothesis] = []
        if speech is None or not self._by_phrase:
            return out
        if not was_in_speech or not self._in_utt:
            first = self._frames_fed - self._window  # the frame ``speech`` holds
            if was_in_speech and first < self._resume_frame:
                return out  # the rest of a word already reported (``_abort_utterance``)
            self._reset_segment()
            self._seg_start = float(self._endpointer.speech_start) if not was_in_speech \
                else first * self._frame_samples / SAMPLE_RATE
            self._start_utt()
            self._in_utt = True
            if not was_in_speech:  # (reopened mid-speech, the frames before are that speech)
                self._feed_preroll()
            # catch up: ``speech`` is the first of the window's frames, all had by now
            ahead = list(zip(self._preroll.last(self._window), self._ahead.judged(self._window))) \
                if self._ahead is not None else []
        else:
            ahead = [(raw, self._ahead.judged(1)[0])] if self._ahead is not None else []
        out.extend(self._feed(speech, ahead))
        if not self._endpointer.in_speech:
            out.extend(self._end_segment(float(self._endpointer.speech_end)))
        elif self._seg_frames * self._frame_samples >= self.settings.max_segment * SAMPLE_RATE:
            now = self._frames_fed * self._frame_samples / SAMPLE_RATE
            out.extend(self._end_segment(now))
            lag = self._window - 1  # the frames the main decoder gets next, had by the one ahead
            self._seg_start = (self._frames_fed - lag) * self._frame_samples / SAMPLE_RATE
            self._start_utt()
            self._in_utt = True
            if self._ahead is not None:
                for f in self._preroll.last(lag):
                    self._ahead.feed(f)
                    self._ahead_frames += 1
        return out

    def _start_utt(self) -> None:
        if self.settings.echo_keeps_cmn:
            self._seg_cmn = self._decoder.get_cmn()
        self._seg_far_end = self._far_end
        if self._ahead is not None:
            self._ahead.start()
        self._decoder.start_utt()

    def _end_utt(self) -> None:
        self._decoder.end_utt()
        if self._ahead is not None:
            self._ahead.end()

    def _feed_preroll(self) -> None:
        """Give the decoder the pre-roll (``PreRoll.before``) of the segment just opened; the
        segment then starts that much earlier. Not kept for the second pass (tuned without)."""
        first = round(self._seg_start * SAMPLE_RATE / self._frame_samples)
        frames = self._preroll.before(self._frames_fed - first)
        if frames:
            self._decoder.process_raw(b"".join(frames), no_search=False, full_utt=False)
            if self._ahead is not None:
                self._ahead.feed(b"".join(frames))
            self._seg_frames += len(frames)
            self._ahead_frames += len(frames)
            self._seg_start -= len(frames) * self._frame_samples / SAMPLE_RATE

    def _feed(self, speech: bytes, ahead: list[tuple[bytes, bool]]) -> list[Hypothesis]:
        """``speech``: the endpointer's frames, for the main decoder; ``ahead``: the frames
        that have arrived since the decoder ahead was last fed (``decode_ahead``), each with
        whether it is one the endpointer will keep (``AheadDecoder.judge``). The others are
        held back until a kept one follows, so the decoder ahead is given the segment's frames
        only, as the main decoder is: given the window after a segment too, its cepstral mean
        and noise estimate drifted from the main decoder's and its partial results with them
        (a real "off" heard as "ouch")."""
        self._decoder.process_raw(speech, no_search=False, full_utt=False)
        self._speech.append(speech)
        self._seg_frames += len(speech) // 2 // self._frame_samples
        if self._ahead is None:
            return self._early(self._decoder, self._seg_frames)
        out: list[Hypothesis] = []
        for frame, judged in ahead:
            if not judged:  # fed once speech follows: never if the endpointer ends first
                self._held.append(frame)
                continue
            for f in [*self._held, frame]:
                self._ahead.feed(f)
                self._ahead_frames += len(f) // 2 // self._frame_samples
            self._held = []
            out.extend(self._early(self._ahead.decoder, self._ahead_frames))
        return out

    def _early(self, decoder: pocketsphinx.Decoder, frames: int) -> list[Hypothesis]:
        """The early report (``ps_early``): ``decoder``'s partial result, ``frames`` into the
        segment."""
        hyp = decoder.hyp()
        intent = self._rule.partial(hyp.hypstr.strip() if hyp is not None else "")
        return self._early_report(intent, decoder, frames) if intent else []

    def _early_report(self, intent: str, decoder: pocketsphinx.Decoder,
                      frames: int) -> list[Hypothesis]:
        now = self._seg_start + frames * self._frame_samples / SAMPLE_RATE
        start, end = self._word_span(self._seg_start, now, decoder)
        text = decoder.hyp().hypstr.strip()
        return [self._hypothesis(intent, text, 0.5, start, end, final=False)]

    def _fit(self, intent: str) -> float | None:
        """How well the segment so far fits ``intent`` (None when verification is off)."""
        if self._verifier is None:
            return None
        key = (intent, len(self._speech))
        if key not in self._fits:
            audio = np.frombuffer(b"".join(self._speech), dtype=np.int16)
            audio = audio[-int(self.settings.verify_window * SAMPLE_RATE):]
            self._fits[key] = self._verifier.score(audio, self._phrases.get(intent, ()))
        return self._fits[key]

    def _rival_fits_better(self, intent: str) -> bool:
        """True when the other safety intent fits the segment at least as well as ``intent``."""
        rival = next((i for i in SAFETY_INTENTS if i != intent and i in self._phrases), "")
        if not rival or intent not in SAFETY_INTENTS or self._verifier is None:
            return False
        own, other = self._fit(intent), self._fit(rival)
        return own is not None and other is not None and other >= own

    def _verified(self, intent: str, text: str, confidence: float) -> tuple[str, str, float]:
        """(intent, words, confidence) to report for a finished segment the grammar decoded as
        ``intent`` (possibly empty) from ``text``; ("", "", 0) to report nothing."""
        if intent in SAFETY_INTENTS:  # never dropped: a missed "stop" costs more than a false one
            return intent, text, confidence
        seconds = sum(len(b) for b in self._speech) / 2 / SAMPLE_RATE
        judged = self._check_answers and seconds <= self.settings.answer_max \
            and self._answers.ready()
        if judged:
            audio = np.frombuffer(b"".join(self._speech), dtype=np.int16)
            heard, words, confidence = self._answers.intent(audio, self._by_phrase)
            if heard:
                return heard, words, confidence
            intent = ""  # Whisper heard none of the phrases: only the "stop" rescue is left
        elif self._verifier is None:
            return intent, text, confidence
        elif intent:
            fit = self._fit(intent)
            return (intent, text, confidence) if fit is not None \
                and fit >= self.settings.verify_min else ("", "", 0.0)
        if self._verifier is None or seconds > self.settings.rescue_max:
            return "", "", 0.0
        # a segment the grammar rejected, re-aligned to the rescue intents (Whisper has had
        # its say on the answers: only a safety intent is rescued after it)
        for rescue, least in self.settings.rescue:
            if rescue in self._phrases and not (judged and rescue not in SAFETY_INTENTS):
                fit = self._fit(rescue)
                if fit is not None and fit >= least:
                    return rescue, text, fit_confidence(fit)
        return "", "", 0.0

    def _end_segment(self, end: float) -> list[Hypothesis]:
        self._end_utt()
        self._in_utt = False
        hyp = self._decoder.hyp()
        reported = self._rule.reported  # the intent acted on early ("" if none)
        start = self._seg_start
        text = hyp.hypstr.strip() if hyp is not None else ""
        intent = self._by_phrase.get(text, "")
        self.last_text = text
        confidence = float(min(1.0, max(0.0, hyp.prob))) if hyp is not None else 0.0
        if intent or reported:  # the phrase's own words, not the whole segment (glued echo)
            start, end = self._word_span(start, end)
        if not reported:
            intent, text, confidence = self._verified(intent, text, confidence)
        if reported:  # acted on early; the alignments kept off that hot path are done now
            out = [self._unsure(text, 0.5, start, end)] if (
                reported in SAFETY_INTENTS and self._rival_fits_better(reported)) else []
        else:
            out = [self._hypothesis(intent, text, confidence, start, end, final=True)] \
                if intent else []
        self._keep_cmn_after_echo()
        self._reset_segment()
        return out

    def _word_span(self, start: float, end: float,
                   decoder: pocketsphinx.Decoder | None = None) -> tuple[float, float]:
        """Seconds where the words decoded so far lie inside the segment [start, end] (for a
        partial result too). The self-speech filter judges the user's voice over this span:
        over a segment of several seconds of the coach's echo a stray spike of the echo stage's
        ratio was enough to keep "what can i say", and, for an early report timed by the whole
        segment, the coach's own "... or stop" 7 s into a segment (live echo tests)."""
        segments = (decoder or self._decoder).seg() or ()
        return word_span([(w.word, w.start_frame, w.end_frame) for w in segments],
                         self._seg_start, start, end)

    def _hypothesis(self, intent: str, text: str, confidence: float, start: float, end: float,
                    final: bool) -> Hypothesis:
        """An early (partial) report trusts the grammar alone: the forced alignments that compare
        "stop" with "too painful" cost 40-100 ms, too much between a user's "stop" and the
        speaker going silent. They run when the segment ends (``_end_segment``)."""
        if intent in SAFETY_INTENTS and (self._rule.seen_both
                                         or (final and self._rival_fits_better(intent))):
            return self._unsure(text, confidence, start, end, final)
        return Hypothesis(intent, text, confidence, start, end, final)

    @staticmethod
    def _unsure(text: str, confidence: float, start: float, end: float,
                final: bool = True) -> Hypothesis:
        return Hypothesis("unsure", text, confidence, start, end, final,
                          alternatives=SAFETY_INTENTS)
