"""Every intent phrase of content/intents.toml spoken by the simulated user's voice (the neural
voice joe, raised in pitch: ``coach.voice.user_voice``), plus each intent's first phrase slower
(length scale x1.3), through the pocketsphinx backend with all intents listening, with and
without the verification pass. Prints phrases heard as their own intent (once) and the ones that
were not.
Usage: .venv/bin/python bench/piper_phrases.py [--pitch P] [--length-scale L]
(default: the shipped user voice; --pitch 1 --length-scale 1 is the voice unchanged)
"""

from __future__ import annotations

import argparse
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from coach.listen.hear_file import hear_samples  # noqa: E402
from coach.listen.asr.sphinx.recognizer import PocketsphinxRecognizer, PsSettings  # noqa: E402
from coach.voice import user_voice  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pitch", type=float, default=user_voice.PITCH)
    p.add_argument("--length-scale", type=float, default=user_voice.LENGTH_SCALE)
    args = p.parse_args()
    intents = tomllib.loads((ROOT / "content" / "intents.toml").read_text())["intents"]
    vocab = {name: list(d["phrases"]) for name, d in intents.items()}
    pad = np.zeros(8000, dtype=np.int16)
    voice = user_voice.SimulatedUserVoice(args.pitch, args.length_scale)
    slow = user_voice.SimulatedUserVoice(args.pitch, args.length_scale * 1.3)
    items = [(n, p, np.concatenate([pad, voice.int16(p), pad])) for n, ps in vocab.items()
             for p in ps]
    items += [(n, f"{ps[0]} (slow)", np.concatenate([pad, slow.int16(ps[0]), pad]))
              for n, ps in vocab.items()]
    print(f"user voice: pitch x{args.pitch:g}, length scale {args.length_scale:g}")
    for verify in (False, True):
        rec = PocketsphinxRecognizer(settings=replace(PsSettings(), verify=verify))
        rec.set_vocabulary(vocab)
        wrong = []
        for intent, phrase, audio in items:
            rec.reset()
            heard = [h.intent for h in hear_samples(audio, rec)]
            ok = heard == [intent] or (heard == ["unsure"] and intent in ("stop", "too_painful"))
            if not ok:
                wrong.append(f"{phrase!r}->{'+'.join(heard) or '-'}")
        print(f"verification {'on ' if verify else 'off'}: {len(items) - len(wrong)}/{len(items)} "
              f"phrases heard as their intent; wrong: {wrong or 'none'}")


if __name__ == "__main__":
    main()
