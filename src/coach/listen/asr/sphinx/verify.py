"""Second pass of the pocketsphinx backend: how well does a speech segment fit one intent?

The grammar decoder (``pocketsphinx_backend``) picks the best of "a command" and "some common
words"; on real people that choice is wrong both ways (a real "stop" taken for "are one", a
real "go" taken for "resume"). This stage re-decodes the finished segment, forced onto one
intent's phrases, and scores the fit acoustically: the mean per-frame log score of the
intent's words, relative to the best-scoring senone of each frame (0 would be a perfect fit;
pocketsphinx already normalises each frame to its best senone). It is computed with its own
decoder, cepstral mean normalisation over the whole segment, and wide beams, so it never
disturbs the streaming decoder.

Thresholds were chosen on half of the real recordings in ``shared/speech`` and checked on the
other half (``bench/ps_tune.py``, figures in ``bench/README.md``).
"""

from __future__ import annotations

import math
import os
from typing import Sequence

import numpy as np
import pocketsphinx

NO_FIT = float("-inf")
"""Score of an intent whose phrases could not be aligned to the segment at all."""

MIN_WORD_RMS = 50.0
"""Least RMS (int16 units, about -56 dBFS) of the frames aligned to the words. On digital
silence every senone scores alike, so any phrase would "fit" perfectly: such a fit is void."""


def fit_confidence(score: float) -> float:
    """A 0..1 confidence that grows with the fit score (exp(100 * score); -0.0015 -> 0.86)."""
    return 0.0 if score == NO_FIT else math.exp(100.0 * score)


class IntentVerifier:
    """Scores a 16 kHz int16 speech segment against one intent's phrases."""

    def __init__(self, hmm: str, dic: str) -> None:
        self._decoder = pocketsphinx.Decoder(
            hmm=hmm, dict=dic, lm=None, loglevel="FATAL", cmn="batch", bestpath=False,
            beam=1e-100, pbeam=1e-100, wbeam=1e-80, silprob=0.1, fillprob=0.1)
        self._searches: dict[str, str] = {}

    def score(self, audio: np.ndarray, phrases: Sequence[str]) -> float:
        """Best per-frame log fit of any of ``phrases`` to ``audio`` (<= 0, higher is better)."""
        if audio.size < 1600:
            return NO_FIT
        samples = np.ascontiguousarray(audio, dtype=np.int16)
        return max((self._phrase_fit(samples, p) for p in set(phrases)), default=NO_FIT)

    def _phrase_fit(self, samples: np.ndarray, phrase: str) -> float:
        name = self._searches.get(phrase)
        if name is None:  # one small forced grammar per phrase, built once
            name = self._searches[phrase] = f"forced{len(self._searches) + 1}"
            self._decoder.add_jsgf_string(
                name, f"#JSGF V1.0;\ngrammar forced;\npublic <u> = {phrase};\n")
        self._decoder.activate_search(name)
        self._decoder.start_utt()
        self._decoder.process_raw(samples.tobytes(), no_search=False, full_utt=True)
        self._decoder.end_utt()
        segments = self._decoder.seg()
        if segments is None:
            return NO_FIT
        words = set(phrase.split())
        frames, total, energy = 0, 0.0, 0.0
        for seg in segments:
            if seg.word.split("(")[0] in words:
                frames += seg.end_frame - seg.start_frame + 1
                total += math.log(max(seg.ascore, 1e-300))
                word = samples[seg.start_frame * 160:(seg.end_frame + 1) * 160].astype(np.float64)
                energy += float(np.sum(word * word))
        if not frames or energy / (frames * 160) < MIN_WORD_RMS ** 2:
            return NO_FIT
        return total / frames


def model_files(model_dir: str | None) -> tuple[str, str]:
    """(acoustic model dir, dictionary) of the en-US model shipped in the pocketsphinx wheel."""
    base = model_dir or os.path.join(pocketsphinx.get_model_path(), "en-us")
    return os.path.join(base, "en-us"), os.path.join(base, "cmudict-en-us.dict")


def word_span(segments: Sequence[tuple[str, int, int]], seg_start: float, start: float,
              end: float) -> tuple[float, float]:
    """[start, end] narrowed to the words among ``segments`` (pocketsphinx's word, first and
    last 10 ms frame from ``seg_start``), leaving out silence, noise fillers and the grammar's
    null transitions (``(NULL)``, at frame -1 or between words); unchanged when none is left."""
    words = [(a, b) for w, a, b in segments if not w.startswith(("<", "[", "+", "("))]
    if not words:
        return start, end
    frame = 0.01  # pocketsphinx frames: 100 per second
    return (max(start, seg_start + words[0][0] * frame),
            min(end, seg_start + (words[-1][1] + 1) * frame))
