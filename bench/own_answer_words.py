"""The coach's own answer words through a simulated room, N renderings of the neural voice:
what each stage hears ("peer": no self-speech filter; "shipped": with it), for both backends.

"No.", "Yes.", "Nope." three times, 2 s apart, at -10 dB through ``room_echo``, the material of
tests/test_whisper_check.py (whose helpers this uses); the neural voice samples noise at each
rendering, so each of the N renderings (a fresh cache each) differs. The shipped stages should
hear nothing.

Usage: .venv/bin/python bench/own_answer_words.py N   (about 15 s per rendering)
       .venv/bin/python bench/own_answer_words.py N --percentiles off,25,50
           (the shipped stages again for each setting of the echo stage's bound on its
           unconverged filter, bench/echo_onset.py: 'off' is the stage before it)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_whisper_check import heard_through_room, render_own_answer_words  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from echo_onset import use_coupling  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", nargs="?", type=int, default=6, help="renderings (default 6)")
    ap.add_argument("--percentiles", default="", help="settings of the echo stage's bound, "
                    "comma-separated ('off' or a percentile); default: as shipped")
    args = ap.parse_args()
    from coach.listen.asr.sphinx.recognizer import PocketsphinxRecognizer
    from coach.listen.asr.whisper.recognizer import WhisperRecognizer, WhisperSettings
    from coach.listen.echo.self_speech import SelfSpeechFilter
    stacks = {"pocketsphinx": PocketsphinxRecognizer,
              "whisper": lambda: WhisperRecognizer(WhisperSettings(worker=False))}
    settings = [s for s in args.percentiles.split(",") if s]
    fooled = {}
    for k in range(args.n):
        with tempfile.TemporaryDirectory() as cache:
            os.environ["XDG_CACHE_HOME"] = cache  # no cached lines: a new rendering
            rendered = render_own_answer_words()
            row = []
            for name, make in stacks.items():
                row.append(f"{name} peer {heard_through_room(make(), *rendered, None)}")
                for setting in settings or ["shipped"]:
                    if settings:
                        use_coupling(setting)
                    heard = heard_through_room(make(), *rendered, SelfSpeechFilter())
                    fooled[name, setting] = fooled.get((name, setting), 0) + bool(heard)
                    row.append(f"{name} {setting} {heard}")
        print(k, "; ".join(row), flush=True)
    print("renderings taken for an answer: " + ", ".join(
        f"{name} {setting} {n}/{args.n}" for (name, setting), n in fooled.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
