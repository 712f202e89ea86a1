"""Peers: what a user could set up instead, each behind the coach's ``Recognizer`` protocol so the
same audio, the same Ear and the same demo world run them.

* ``NaivePocketsphinx``: the same pocketsphinx en-US model used the plain way its README shows
  for live audio: ``pocketsphinx.Endpointer()`` with its default settings, a ``Decoder`` with a
  JSGF grammar of just the command phrases, and a result only when the endpointer closes the
  segment (final results, default endpointing; no garbage model, no early report).
* ``KeywordSpotting``: pocketsphinx keyword-spotting mode as its documentation sets it up: a
  keyphrase list (one phrase per line with its threshold, ``/1e-20/``), the decoder fed
  continuously, a keyphrase reported as soon as it is spotted.
"""

from __future__ import annotations

import os
import tempfile
from typing import Mapping, Sequence

import numpy as np
import pocketsphinx

from coach.listen.asr.base import Hypothesis

from coach.pcm import SAMPLE_RATE

KWS_THRESHOLD = 1e-20


def _model() -> tuple[str, str]:
    base = os.path.join(pocketsphinx.get_model_path(), "en-us")
    return os.path.join(base, "en-us"), os.path.join(base, "cmudict-en-us.dict")


def _by_phrase(phrases: Mapping[str, Sequence[str]]) -> dict[str, str]:
    return {" ".join(p.lower().split()): intent for intent, ps in phrases.items() for p in ps}


class NaivePocketsphinx:
    """Finals only, default endpointing, grammar of the commands alone."""

    def __init__(self) -> None:
        hmm, dic = _model()
        self.name = "pocketsphinx naive (finals, default endpointer, commands-only grammar)"
        self._decoder = pocketsphinx.Decoder(hmm=hmm, dict=dic, lm=None, loglevel="FATAL")
        self._ep = pocketsphinx.Endpointer()
        self._n = self._ep.frame_bytes // 2
        self._pending = np.zeros(0, np.int16)
        self._map: dict[str, str] = {}
        self._in_utt = False
        self._searches = 0
        self._start = 0.0

    def set_vocabulary(self, phrases: Mapping[str, Sequence[str]]) -> None:
        self._map = _by_phrase(phrases)
        if self._in_utt:
            self._decoder.end_utt()
            self._in_utt = False
        self._searches += 1
        grammar = ("#JSGF V1.0;\ngrammar naive;\npublic <command> = "
                   + " | ".join(sorted(self._map)) + ";\n")
        name = f"g{self._searches}"
        self._decoder.add_jsgf_string(name, grammar)
        self._decoder.activate_search(name)

    def accept(self, block: np.ndarray) -> list[Hypothesis]:
        buf = np.concatenate([self._pending, np.asarray(block, np.int16)])
        whole = len(buf) // self._n * self._n
        out: list[Hypothesis] = []
        for i in range(0, whole, self._n):
            prev = self._ep.in_speech
            speech = self._ep.process(buf[i:i + self._n].tobytes())
            if speech is None or not self._map:
                continue
            if not prev or not self._in_utt:
                self._decoder.start_utt()
                self._in_utt = True
                self._start = float(self._ep.speech_start)
            self._decoder.process_raw(speech, False, False)
            if not self._ep.in_speech:
                out.extend(self._end(float(self._ep.speech_end)))
        self._pending = buf[whole:].copy()
        return out

    def _end(self, end: float) -> list[Hypothesis]:
        self._decoder.end_utt()
        self._in_utt = False
        hyp = self._decoder.hyp()
        text = hyp.hypstr.strip() if hyp is not None else ""
        intent = self._map.get(text)
        return [Hypothesis(intent, text, 1.0, self._start, end, True)] if intent else []

    def flush(self) -> list[Hypothesis]:
        out: list[Hypothesis] = []
        if self._ep.in_speech:
            speech = self._ep.end_stream(self._pending.tobytes())
            if speech and self._in_utt:
                self._decoder.process_raw(speech, False, False)
        self._pending = np.zeros(0, np.int16)
        if self._in_utt:
            out.extend(self._end(float(self._ep.speech_end or 0.0)))
        return out

    def reset(self) -> None:
        if self._in_utt:
            self._decoder.end_utt()
            self._in_utt = False


class KeywordSpotting:
    """pocketsphinx kws mode, keyphrase list with one documented threshold for every phrase."""

    def __init__(self, threshold: float = KWS_THRESHOLD) -> None:
        self.name = f"pocketsphinx keyword spotting (threshold {threshold:g})"
        self.threshold = threshold
        self._decoder: pocketsphinx.Decoder | None = None
        self._map: dict[str, str] = {}
        self._fed = 0
        self._searches = 0

    def set_vocabulary(self, phrases: Mapping[str, Sequence[str]]) -> None:
        self._map = _by_phrase(phrases)
        hmm, dic = _model()
        with tempfile.NamedTemporaryFile("w", suffix=".kws", delete=False) as f:
            for p in sorted(self._map):
                f.write(f"{p} /{self.threshold:g}/\n")
        try:
            if self._decoder is None:
                self._decoder = pocketsphinx.Decoder(hmm=hmm, dict=dic, kws=f.name, loglevel="FATAL")
            else:
                self._decoder.end_utt()
                self._searches += 1
                self._decoder.add_kws(f"k{self._searches}", f.name)
                self._decoder.activate_search(f"k{self._searches}")
        finally:
            os.unlink(f.name)
        self._decoder.start_utt()

    def accept(self, block: np.ndarray) -> list[Hypothesis]:
        assert self._decoder is not None
        b = np.asarray(block, np.int16)
        self._decoder.process_raw(b.tobytes(), False, False)
        self._fed += len(b)
        hyp = self._decoder.hyp()
        if hyp is None or not hyp.hypstr.strip():
            return []
        now = self._fed / SAMPLE_RATE
        self._decoder.end_utt()
        self._decoder.start_utt()
        out = []
        for seg in hyp.hypstr.split("  "):  # kws joins keyphrases with two spaces
            text = seg.strip()
            if text in self._map:
                out.append(Hypothesis(self._map[text], text, 1.0, max(0.0, now - 0.6), now, False))
        return out

    def flush(self) -> list[Hypothesis]:
        return []

    def reset(self) -> None:
        if self._decoder is not None:
            self._decoder.end_utt()
            self._decoder.start_utt()
