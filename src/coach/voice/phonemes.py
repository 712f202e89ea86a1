"""Text to phonemes for the neural voice, from the espeak-ng program (Debian ``espeak-ng``, which
pyttsx3 needs too), and phonemes to the ids a Piper voice was trained on.

A Piper voice reads espeak-ng's IPA with each clause's punctuation kept ("," ";" ":" followed by
a space, "." "?" "!" ending a sentence). The program prints one line of IPA per clause but drops
the punctuation, so the text is cut into clauses here first (at punctuation followed by a space
or the end) and given to the program as one paragraph each, in one call: a blank line in its
output marks each paragraph's end, so each clause gets its phonemes and its own punctuation
back. If the program splits a clause further (it does after "Mr."), the paragraph's lines are
joined. A clause's phonemes are cut into code points (NFD: a stress mark or a length mark is a
symbol of its own), as the voices' phoneme-id maps expect.

Checked against piper-tts 1.8 (its own espeak-ng 1.52 fork) on every line of content/lines.toml:
see ``bench/bench_voice.py --phonemes``.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence

from coach.errors import CoachError
from coach.voice.espeak_init import program_environment

PROGRAM_TIMEOUT = 10.0
"""Seconds the espeak-ng program may take for one line."""

SENTENCE_END = ".?!"
"""Clause punctuation that ends a sentence (each sentence is synthesized on its own)."""

_CLAUSE_END = re.compile(r"([.,;:?!]+)(?=\s|$)")
_WORD = re.compile(r"[A-Za-z0-9']+")
_LANGUAGE_SWITCH = re.compile(r"\([^)]*\)")
"""espeak-ng marks a word it reads in another language with "(fr)" … "(en)": not phonemes."""

PUNCTUATION = frozenset(".,;:?!")
VERSION = 1
"""Changes when this module turns text into different phonemes (part of the audio cache key)."""
PAD, BOS, EOS = "_", "^", "$"
"""The phoneme-id map's padding (after every phoneme), start and end symbols."""


@dataclass(frozen=True)
class Clause:
    """One clause of a line: its ``text`` (without the punctuation), the punctuation that ends it
    (``terminator``: "" at the end of unpunctuated text) and its ``words`` as written."""

    text: str
    terminator: str

    @property
    def ends_sentence(self) -> bool:
        return self.terminator[-1:] in SENTENCE_END or not self.terminator

    @property
    def words(self) -> list[str]:
        """The clause's words, lower case (letters, digits and apostrophes)."""
        return [w.lower() for w in _WORD.findall(self.text)]


@dataclass(frozen=True)
class Phonemized:
    """A clause with its phonemes: ``phonemes`` the IPA words, space separated, then the clause's
    punctuation (and a space after "," ";" ":"), as a Piper voice reads them."""

    clause: Clause
    phonemes: str

    @property
    def symbols(self) -> list[str]:
        """The phonemes as the voice's symbols: one Unicode code point each (NFD)."""
        return list(unicodedata.normalize("NFD", self.phonemes))

    @property
    def word_spans(self) -> list[tuple[int, int]]:
        """(first, end) index in ``symbols`` of each phoneme word (the punctuation left out)."""
        spoken = unicodedata.normalize("NFD", self.phonemes).rstrip(" " + self.clause.terminator)
        return [m.span() for m in re.finditer(r"\S+", spoken)]


def split_clauses(text: str) -> list[Clause]:
    """``text`` cut at clause punctuation followed by a space or the end; clauses with no word
    are dropped (their punctuation with them)."""
    out: list[Clause] = []
    start = 0
    for m in _CLAUSE_END.finditer(text):
        part = text[start:m.start()].strip()
        start = m.end()
        mark = m.group(1)
        terminator = next((c for c in reversed(mark) if c in SENTENCE_END), mark[-1])
        if _WORD.search(part):
            out.append(Clause(part, terminator))
    rest = text[start:].strip()
    if _WORD.search(rest):
        out.append(Clause(rest, ""))
    return out


@lru_cache(maxsize=1)
def program_version() -> str:
    """The espeak-ng program's version ("1.51"), or "missing"."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return "missing"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10,
                         env=program_environment()).stdout
    parts = out.split()
    return parts[parts.index("text-to-speech:") + 1] if "text-to-speech:" in parts else out.strip()[:40]


def _program() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise CoachError("tts.no_espeak", "The espeak-ng program was not found (the neural voice "
                         "reads its phonemes from it).",
                         hint="run scripts/setup (Debian packages espeak-ng and libespeak-ng1)")
    return exe


def _run_program(texts: Sequence[str], voice: str) -> list[list[str]]:
    """Each text given to espeak-ng on a line of its own, a blank line between them (read from
    standard input, the program speaks each line apart and answers a blank line with a blank
    line); the IPA lines of each."""
    exe = _program()
    proc = subprocess.run([exe, "-q", "--ipa", "-v", voice], input="\n\n".join(texts),
                          capture_output=True, text=True, timeout=PROGRAM_TIMEOUT,
                          env=program_environment())
    if proc.returncode != 0:
        raise CoachError("tts.phonemes", f"espeak-ng could not read {texts[0][:40]!r}: "
                         f"{proc.stderr.strip()}", hint="check the voice's espeak language")
    groups: list[list[str]] = [[]]
    for line in proc.stdout.splitlines():
        if line.strip():
            groups[-1].append(line.strip())
        elif groups[-1]:
            groups.append([])
    return [g for g in groups if g]


def phonemize(text: str, voice: str = "en-us") -> list[Phonemized]:
    """The clauses of ``text`` with their phonemes, by espeak-ng's ``voice`` (a language, as in a
    Piper voice's config). One program call per line; one per clause if the paragraphs did not
    come back one for one (a clause espeak-ng read as nothing)."""
    clauses = split_clauses(text)
    if not clauses:
        return []
    groups = _run_program([c.text + c.terminator for c in clauses], voice)
    if len(groups) != len(clauses):
        groups = [sum(_run_program([c.text + c.terminator], voice), []) for c in clauses]
    out = []
    for clause, lines in zip(clauses, groups):
        ipa = _LANGUAGE_SWITCH.sub("", " ".join(lines)).strip()
        if not ipa:
            continue
        mark = clause.terminator[-1:]
        tail = mark + " " if mark and mark in ",;:" else mark
        out.append(Phonemized(clause, ipa + tail))
    return out


PHRASE_STARTS = frozenset(
    "and or but so that when if before after for from to into onto inside with without in on "
    "at is are often".split())
"""Words a long clause is best cut before (a breath group ends there when a person speaks)."""


def split_long(p: Phonemized, max_sounds: int, least: int = 8) -> list[Phonemized]:
    """``p`` cut into parts of at most ``max_sounds`` sounds where it can be (at least ``least``
    on each side), each part but the last ending with a comma: where a person reading it slowly
    would take a breath, before a word of ``PHRASE_STARTS`` nearest the middle, else at the
    word boundary nearest the middle."""
    nfd = unicodedata.normalize("NFD", p.phonemes)
    spans = p.word_spans
    sizes = [sounds(nfd[a:b]) for a, b in spans]
    total = sum(sizes)
    if total <= max_sounds or len(spans) < 2:
        return [p]
    words = p.clause.words
    where = align_words(words, [nfd[a:b] for a, b in spans])
    cuts = []  # (phoneme word the second part starts with, written words before it)
    for j in range(1, len(spans)):
        before = sum(sizes[:j])
        k = sum(1 for i, _ in where if i < j)
        if before >= least and total - before >= least and 0 < k < len(words) \
                and where[k][0] == j and where[k][1] == 0.0:
            cuts.append((j, k, before))
    if not cuts:
        return [p]
    j, k, _ = min(cuts, key=lambda c: (words[c[1]] not in PHRASE_STARTS, abs(c[2] - total / 2)))
    starts = [m.start() for m in _WORD.finditer(p.clause.text)]
    text = p.clause.text
    head = Phonemized(Clause(text[:starts[k]].strip(), ","), nfd[:spans[j - 1][1]] + ", ")
    tail = Phonemized(Clause(text[starts[k]:].strip(), p.clause.terminator), nfd[spans[j][0]:])
    return split_long(head, max_sounds, least) + split_long(tail, max_sounds, least)


def sentences(clauses: Sequence[Phonemized]) -> list[list[Phonemized]]:
    """Clauses grouped into sentences (a sentence ends at "." "?" "!" or the end)."""
    out: list[list[Phonemized]] = [[]]
    for c in clauses:
        out[-1].append(c)
        if c.clause.ends_sentence:
            out.append([])
    return [s for s in out if s]


def to_ids(symbols: Sequence[str], id_map: Mapping[str, Sequence[int]], *,
           with_positions: bool = False):
    """Phoneme symbols to a Piper voice's ids: start, then each symbol followed by the padding,
    then end. Symbols the map lacks are left out (Piper does the same, with a warning). With
    ``with_positions``: (ids, the index in ids where each symbol's ids begin)."""
    pad = list(id_map[PAD])
    ids = list(id_map[BOS]) + pad
    positions = []
    for s in symbols:
        positions.append(len(ids))
        if s in id_map:
            ids += list(id_map[s]) + pad
    ids += list(id_map[EOS])
    return (ids, positions) if with_positions else ids


MARKS = frozenset("ˈˌː")
"""Stress and length marks: symbols of their own that are not sounds."""
_LETTERS_PER_PHONEME = 1.15
"""English spelling has about this many letters per phoneme (the alignment's expectation)."""
_MOVES = ((1, 1), (2, 1), (3, 1), (1, 2), (1, 3))
"""(text words, phoneme words) one alignment step may take: espeak-ng runs short words together
("for a" -> "fɚɹə", "from the" -> "fɹʌmðə") and reads a number as several words."""


def sounds(phoneme_word: str) -> int:
    """Sounds in ``phoneme_word``: its symbols less stress and length marks and punctuation."""
    return sum(1 for c in unicodedata.normalize("NFD", phoneme_word)
               if c not in MARKS and c not in PUNCTUATION and not c.isspace()
               and not unicodedata.combining(c))


def align_words(words: Sequence[str], phoneme_words: Sequence[str]) -> list[tuple[int, float]]:
    """Where each written word starts among espeak-ng's phoneme words: (index of the phoneme word,
    fraction of its sounds before the word starts), so words espeak-ng ran together share one
    phoneme word in proportion to their letters. Found by dynamic programming over the moves in
    ``_MOVES``, each costing how far its letters-to-sounds ratio is from the usual one (and a
    little per word run together)."""
    n, m = len(words), len(phoneme_words)
    if n == 0:
        return []
    if m == 0:
        return [(0, 0.0)] * n
    letters = [max(1, len(w)) for w in words]
    sizes = [max(1, sounds(p)) for p in phoneme_words]
    inf = float("inf")
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            if cost[i][j] == inf:
                continue
            for di, dj in _MOVES:
                a, b = i + di, j + dj
                if a > n or b > m:
                    continue
                ratio = sum(letters[i:a]) / (_LETTERS_PER_PHONEME * sum(sizes[j:b]))
                c = cost[i][j] + abs(math.log(ratio)) + 0.3 * (di + dj - 2)
                if c < cost[a][b]:
                    cost[a][b], back[a][b] = c, (di, dj)
    if cost[n][m] == inf:  # counts too far apart for the moves: spread the words evenly
        return [(min(m - 1, k * m // n), 0.0) for k in range(n)]
    groups: list[list[tuple[int, float]]] = []
    i, j = n, m
    while i > 0:
        di, dj = back[i][j]  # type: ignore[misc]
        run = letters[i - di:i]
        groups.append([(j - dj, sum(run[:k]) / sum(run)) for k in range(di)])
        i, j = i - di, j - dj
    return [start for group in reversed(groups) for start in group]
