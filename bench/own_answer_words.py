"""The coach's own answer words through a simulated room, N renderings of the neural voice:
what each stage hears ("peer": no self-speech filter; "shipped": with it), for both backends.

"No.", "Yes.", "Nope." three times, 2 s apart, at -10 dB through ``room_echo``, the material of
tests/test_whisper_check.py (whose helpers this uses); the neural voice samples noise at each
rendering, so each of the N renderings (a fresh cache each) differs. The shipped stages should
hear nothing.

Usage: .venv/bin/python bench/own_answer_words.py N   (about 15 s per rendering)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_whisper_check import heard_through_room, render_own_answer_words  # noqa: E402


def main() -> int:
    from coach.listen.asr.sphinx.recognizer import PocketsphinxRecognizer
    from coach.listen.asr.whisper.recognizer import WhisperRecognizer, WhisperSettings
    from coach.listen.echo.self_speech import SelfSpeechFilter
    stacks = {"pocketsphinx": PocketsphinxRecognizer,
              "whisper": lambda: WhisperRecognizer(WhisperSettings(worker=False))}
    for k in range(int(sys.argv[1]) if len(sys.argv) > 1 else 6):
        with tempfile.TemporaryDirectory() as cache:
            os.environ["XDG_CACHE_HOME"] = cache  # no cached lines: a new rendering
            rendered = render_own_answer_words()
            row = [f"{name} {kind} {heard_through_room(make(), *rendered, f)}"
                   for name, make in stacks.items()
                   for kind, f in (("peer", None), ("shipped", SelfSpeechFilter()))]
        print(k, "; ".join(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
