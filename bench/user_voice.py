"""The simulated user's voice against the recognizer: how often a fresh rendition of each answer
is heard as its intent, alone (0.5 s of silence each side), by the pocketsphinx backend with the
vocabulary of the moment it is said in (a safety question for "no"/"yes", a prompt for the others,
"stop" among them), per pitch and length-scale setting of ``coach.voice.user_voice``.
``old`` is the voice before: piper-tts's own runtime, the voice unchanged (only if piper-tts is
installed; it is no longer a dependency).
Usage: .venv/bin/python bench/user_voice.py [--renditions N] [--words no,stop] [SETTING ...]
SETTING: PITCH,LENGTH_SCALE (default: the shipped one, and 1,1: the voice unchanged)
"""

from __future__ import annotations

import argparse

import numpy as np

import coach  # noqa: F401  (onnxruntime's telemetry off first)
from coach.app import load_recognizer
from coach.content import load_content
from coach.listen.hear_file import hear_samples
from coach.voice import user_voice

ANSWERS = {"no", "yes"}


def renderer(setting: str):
    if setting == "old":
        from coach.voice.neural import find_piper_voice
        from piper import PiperVoice
        voice = find_piper_voice(None)
        piper = PiperVoice.load(str(voice.model), config_path=str(voice.config))

        def old(text: str) -> np.ndarray:
            import soxr
            chunks = list(piper.synthesize(text))
            audio = np.concatenate([c.audio_float_array for c in chunks])
            return soxr.resample(audio, chunks[0].sample_rate, 16000)
        return old
    pitch, scale = map(float, setting.split(","))
    return user_voice.SimulatedUserVoice(pitch, scale).fresh


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("settings", nargs="*",
                   default=[f"{user_voice.PITCH:g},{user_voice.LENGTH_SCALE:g}", "1,1"])
    p.add_argument("--renditions", type=int, default=20)
    p.add_argument("--words", default="no,yes,ready,better,stop")
    args = p.parse_args()
    content = load_content()
    rec = load_recognizer("pocketsphinx")
    screening = content.phrases({"yes", "no", "stop", "pause", "skip", "help", "repeat",
                                 "health_changed"})
    prompt = content.phrases({"ready", "better", "same", "worse", "pause", "skip",
                              "too_painful", "stop", "help", "repeat"})
    pad = np.zeros(8000, np.int16)
    for setting in args.settings:
        render = renderer(setting)
        counts = {}
        for word in args.words.split(","):
            rec.set_vocabulary(screening if word in ANSWERS else prompt)
            heard = 0
            for _ in range(args.renditions):
                audio = render(word)
                audio = np.clip(audio / np.max(np.abs(audio)) * 0.97 * 32767, -32768, 32767)
                rec.reset()
                got = [h.intent for h in hear_samples(np.concatenate(
                    [pad, audio.astype(np.int16), pad]), rec)]
                heard += got == [word]
            counts[word] = heard
        print(f"user voice {setting}: " + ", ".join(f"{w} {n}/{args.renditions}"
                                                   for w, n in counts.items()), flush=True)


if __name__ == "__main__":
    main()
