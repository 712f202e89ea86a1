"""The coach's own answer words through a simulated room, N renderings of the neural voice:
what each stage hears ("peer": no self-speech filter; "shipped": with it), for both backends.

"No.", "Yes.", "Nope." three times, 2 s apart, at -10 dB through ``room_echo`` (as in
tests/test_whisper_check.py); the neural voice samples noise at each rendering, so each of the N
renderings (a fresh cache each) differs. The shipped stages should hear nothing.

Usage: .venv/bin/python bench/own_answer_words.py N   (about 15 s per rendering)
"""
import os, sys, tempfile, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "tests"))
from coach.devices import room as S
from coach.pcm import SAMPLE_RATE, round_to_int16
from coach.listen.echo.suppressor import EchoSuppressor
from coach.listen.echo.self_speech import SelfSpeechFilter
from coach.content import load_content
from coach.listen.ear import Ear
from coach.app import synthesizer, voice_16k
from coach.listen.asr.sphinx.recognizer import PocketsphinxRecognizer
from coach.listen.asr.whisper.recognizer import WhisperRecognizer, WhisperSettings
from coach.listen.asr.whisper_check import load_whisper_check
from test_pocketsphinx import SCREENING
content = load_content()
def render():
    synth = synthesizer(); voice = voice_16k(synth)
    parts, spans, t = [np.zeros(SAMPLE_RATE, np.int16)], [], 1.0
    for text in ["No.", "Yes.", "Nope."] * 3:
        audio = round_to_int16(voice(text) * 32767)
        spans.append((t, t + len(audio) / SAMPLE_RATE, text)); parts += [audio, np.zeros(2 * SAMPLE_RATE, np.int16)]
        t += len(audio) / SAMPLE_RATE + 2.0
    play = np.concatenate(parts)
    noise = np.random.default_rng(2).standard_normal(len(play)) * 10.0
    return synth, play, round_to_int16(S.room_echo(play, -10.0, 0.05, reverb=0.08, seed=3) + noise), spans
def heard(rec, synth, play, mic, spans, f):
    ear = Ear(rec, content, EchoSuppressor(), f, synth.words_of)
    ear.listen_for(frozenset(SCREENING))
    out = []
    for i, (m, r) in enumerate(S.blocks(mic, play)):
        at = i * 800 / SAMPLE_RATE
        playing = next((text for a, b, text in spans if a <= at < b), None)
        out += ear.hear(m, at, reference=r, now_playing=playing)
    return [h.intent for h in out + ear.flush(len(mic) / SAMPLE_RATE)]
assert load_whisper_check().ready(60)
for k in range(int(sys.argv[1])):
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp()
    r = render()
    w = lambda: WhisperRecognizer(WhisperSettings(worker=False))
    print(k, "ps peer", heard(PocketsphinxRecognizer(), *r, None), "ps shipped", heard(PocketsphinxRecognizer(), *r, SelfSpeechFilter()),
          "whisper peer", heard(w(), *r, None), "whisper shipped", heard(w(), *r, SelfSpeechFilter()), flush=True)
