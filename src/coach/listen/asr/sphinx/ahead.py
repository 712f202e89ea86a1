"""The decoder ahead: partial results from each frame as it arrives, for the early "stop".

pocketsphinx's endpointer hands a frame on only once it has judged the window after it (0.27 s
at a 0.3 s window), so a decoder fed by it names a "stop" that long after the word. Feeding the
one decoder the frames as they arrive instead also gives it the ~0.27 s after the word that
the endpointer waits through before it closes the segment: with digital silence or a noise
floor there, real people's "stop", "yes" and "no" were each missed once more (bench/README.md,
"Decoding ahead"). So a second decoder runs ahead of the main one: the same grammar, the main
decoder's cepstral mean at each segment's start, and the segment's frames as they arrive (the
frames that may be the window after it are held back until speech follows: ``judge``). Its
partial results decide the early report; the main decoder's final results, the second pass
and the cepstral mean are as before. Its dictionary holds the grammar's words only (copied
from the main decoder's, alternates included): ~6 MB instead of ~27 MB.
"""

from __future__ import annotations

import tempfile
from collections import deque
from typing import Iterable

import pocketsphinx

from coach.pcm import SAMPLE_RATE


class AheadDecoder:
    """A pocketsphinx decoder that follows ``main``'s grammar and cepstral mean. ``vad_mode``:
    the endpointer's voice detector mode; ``window``: frames in the endpointer's window (as
    many judgements are kept); ``frame``: seconds per frame."""

    def __init__(self, hmm: str, main: pocketsphinx.Decoder, vad_mode: int, window: int,
                 frame: float, **options: object) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".dict") as empty:
            self.decoder = pocketsphinx.Decoder(hmm=hmm, dict=empty.name, lm=None,
                                                loglevel="FATAL", **options)
        self._main = main
        self._grammar = ""
        self._vad = pocketsphinx.Vad(mode=vad_mode, sample_rate=SAMPLE_RATE, frame_length=frame)
        self._judged: deque[bool] = deque(maxlen=window)
        self._was_voiced = False

    def judge(self, frame: bytes) -> None:
        """Every frame given to the endpointer, in order. A frame the voice detector (the
        endpointer's own, in the same mode) calls speech, or the one after such a frame, is one
        the endpointer keeps in its segment (its last frame is the first after the speech);
        the others may be the window after the segment that the endpointer waits through."""
        voiced = bool(self._vad.is_speech(frame))
        self._judged.append(voiced or self._was_voiced)
        self._was_voiced = voiced

    def judged(self, count: int) -> list[bool]:
        """For the newest ``count`` frames (``judge``), whether the early report may use them."""
        recent = list(self._judged)[-count:]
        return [False] * (count - len(recent)) + recent

    def use_grammar(self, grammar: str, words: Iterable[str]) -> None:
        """Listen with this JSGF ``grammar`` (as the main decoder does); ``words``: the words
        in it, whose pronunciations (and alternates: "the(2)") come from the main decoder."""
        for word in words:
            if self.decoder.lookup_word(word) is not None:  # added with its alternates before
                continue
            for variant in self._variants(word):
                self.decoder.add_word(variant, self._main.lookup_word(variant), False)
        if grammar != self._grammar:  # one search at a time: each one kept costs ~3 MB
            self.decoder.add_jsgf_string("ahead", grammar)
            self._grammar = grammar
        self.decoder.activate_search("ahead")

    def _variants(self, word: str) -> list[str]:
        out, k = [word], 2
        while self._main.lookup_word(f"{word}({k})") is not None:
            out.append(f"{word}({k})")
            k += 1
        return out

    def start(self) -> None:
        """A segment starts: from the main decoder's cepstral mean at this moment."""
        self.decoder.set_cmn(self._main.get_cmn())
        self.decoder.start_utt()

    def feed(self, frame: bytes) -> None:
        self.decoder.process_raw(frame, no_search=False, full_utt=False)

    def end(self) -> None:
        self.decoder.end_utt()
