"""Tuning of the pocketsphinx backend (``PsSettings``), chosen with bench/ps_tune.py."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PsSettings:
    """Tuning of the pocketsphinx backend (chosen with bench/ps_tune.py; options measured to
    help nothing were removed, see docs/decisions.md).

    competitor_count: how many frequent words compete with the commands.
    command_weight: grammar weight of the command branch against the competitor branch.
    early_frames: 30 ms frames a partial safety hypothesis must hold before it is reported.
    vad_window: seconds of audio the endpointer decides on; vad_ratio: fraction of it that
        must be speech (or silence) to switch.
    vad_mode: endpointer aggressiveness 0..3.
    max_segment: seconds; a longer speech segment is cut and decoded.
    silprob, fillprob: pocketsphinx's probabilities of inserting silence / noise fillers.
    cmn: cepstral mean normalisation mode ("live" works on partial results).
    exclude_competitors: words never used as competitors (for honest benchmarking).
    verify: False turns the second pass off (grammar decisions only, for benchmarking).
    verify_min: the least fit (``ps_verify`` score) at which a decoded intent is reported.
    rescue: (intent, fit) pairs tried in order on a segment the grammar rejected: the first
        intent in the vocabulary that fits at least that well is reported.
    rescue_max: seconds; a longer segment is not rescued (in a long stretch of speech some
        part fits any short word).
    verify_window: seconds; only the end of a longer segment is verified (bounds the cost).
    """

    competitor_count: int = 100
    command_weight: float = 10000.0
    early_frames: int = 4
    vad_window: float = 0.3
    vad_ratio: float = 0.9
    vad_mode: int = 0
    max_segment: float = 8.0
    silprob: float = 0.1
    fillprob: float = 0.1
    cmn: str = "live"
    exclude_competitors: tuple[str, ...] = ()
    verify: bool = True
    verify_min: float = -0.003
    rescue: tuple[tuple[str, float], ...] = (("stop", -0.0015), ("yes", -0.0012))
    rescue_max: float = 2.0
    verify_window: float = 3.0
    preroll: float = 0.15
    """Seconds of audio from before the endpointer's speech start also given to the decoder,
    when the segment is within ``preroll_snr`` dB of the noise floor (``ps_preroll``)."""
    preroll_snr: float = 40.0
    decode_ahead: bool = True
    """The early report (``early_frames``) is decided on a second decoder fed each frame as
    it arrives (``ps_ahead``): the endpointer hands frames on a window late (0.27 s at
    ``vad_window`` 0.3), and a partial "stop" came that much after the word. The main decoder,
    the final results and the second pass keep the endpointer's frames."""
    answer_check: bool = True
    """Short segments of an answer vocabulary are decided by Whisper tiny.en (``whisper_check``),
    when it is installed: real people's "no" 6 -> 10 in 10 (bench/ps_tune.py, 2026-12-05)."""
    answer_intents: tuple[str, ...] = ("yes", "no")
    """A vocabulary with any of these intents is an answer's (``answer_check``)."""
    answer_max: float = 3.0
    """Seconds: a longer segment is not given to Whisper (it is not a short answer)."""
    echo_keeps_cmn: bool = True
    """A segment heard while the coach's own voice sounded (``note_far_end``) leaves the
    cepstral mean as it was before the segment: seconds of quiet echo residue otherwise pull
    the live mean far below a user's voice (see ``note_far_end``)."""
