"""Every intent phrase of content/intents.toml spoken by the Piper voice (joe, the simulated
user of `coach demo`), plus each intent's first phrase slower (length scale 1.3), through the
pocketsphinx backend with all intents listening, with and without the verification pass.
Prints phrases heard as their own intent (once) and the ones that were not.
Usage: .venv/bin/python bench/piper_phrases.py
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from coach.listen.hear_file import hear_samples  # noqa: E402
from coach.listen.asr.sphinx.recognizer import PocketsphinxRecognizer, PsSettings  # noqa: E402
from coach.voice.user_voice import PiperUserVoice  # noqa: E402


def main() -> None:
    intents = tomllib.loads((ROOT / "content" / "intents.toml").read_text())["intents"]
    vocab = {name: list(d["phrases"]) for name, d in intents.items()}
    pad = np.zeros(8000, dtype=np.int16)
    voice, slow = PiperUserVoice.shared(), PiperUserVoice(1.3)
    items = [(n, p, np.concatenate([pad, voice.int16(p), pad])) for n, ps in vocab.items()
             for p in ps]
    items += [(n, f"{ps[0]} (slow)", np.concatenate([pad, slow.int16(ps[0]), pad]))
              for n, ps in vocab.items()]
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
