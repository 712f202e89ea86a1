"""The voice subcommands: the main session, ``demo``, ``hear``, ``devices``, ``voices``, ``model``."""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np

from coach.cli.config import add_routine_options, cmd_config
from coach.errors import CoachError

from coach.app import (BACKENDS, TTS_ENGINES, build_driver, build_ear, load_recognizer,
                       pacer_sound, render_ahead, synthesizer, voice_16k)


def load_recognizer_for(args: argparse.Namespace, realtime: bool = True):
    return load_recognizer(getattr(args, "backend", None), getattr(args, "model", None),
                           realtime=realtime)


def driver_for(args: argparse.Namespace, info: dict[str, Any], *, history: bool = True):
    return build_driver(args.routine, getattr(args, "content", None), info,
                        events=getattr(args, "events", None), history=history,
                        settings=getattr(args, "settings", None))


def add_voice_commands(sub: Any, parser: argparse.ArgumentParser) -> None:
    def voice_opts(s: argparse.ArgumentParser) -> None:
        s.add_argument("--tts", choices=TTS_ENGINES, default="piper",
                       help="the coach's speech engine: piper (a natural neural voice, the "
                            "default) or pyttsx3 (espeak-ng)")
        s.add_argument("--voice", default=None, help="the coach's voice, one of the engine's "
                       "(see `coach voices`; default: its first)")
        s.add_argument("--rate", type=int, default=None, help="speaking rate, words per minute "
                       "(default: the voice's calm pace, about 160; 150 with pyttsx3)")
        s.add_argument("--volume", type=float, default=1.0, help="0.0 to 1.0 (voice and pacer)")
        s.add_argument("--routine", default="psoas-ball")

    def audio_opts(s: argparse.ArgumentParser, *, devices: bool) -> None:
        s.add_argument("--backend", choices=BACKENDS, default=None,
                       help="recognizer (default: vosk if a vosk model is installed, else whisper)")
        s.add_argument("--model", default=None, help="vosk model folder (or COACH_VOSK_MODEL)")
        voice_opts(s)
        s.add_argument("--pacer", action=argparse.BooleanOptionalAction, default=True,
                       help="a soft tone that rises as you breathe in and falls as you breathe "
                            "out, during the breathing and the hold (default: on)")
        s.add_argument("--events", type=Path, help="also write the event log (JSON Lines) here")
        if devices:
            s.add_argument("--mic", default=None, help="microphone: index or part of its name")
            s.add_argument("--speaker", default=None, help="speaker: index or part of its name")
        add_routine_options(s)

    s = sub.add_parser("session", help="a hands-free session on the microphone and speaker "
                       "(what `coach` does with no subcommand)")
    audio_opts(s, devices=True)
    s.add_argument("--no-mic-check", action="store_true", help="skip the 'say ready' microphone check")
    s.add_argument("--record", type=Path, default=None,
                   help="write what the microphone heard to this WAV, and what the coach was playing "
                        "at the same moments to FILE.reference.wav (nothing is recorded otherwise)")
    s.set_defaults(func=cmd_session)
    parser.set_defaults(func_default=cmd_session)
    for name, default in (("backend", None), ("model", None), ("tts", "piper"), ("voice", None),
                          ("rate", None), ("volume", 1.0), ("pacer", True), ("routine", "psoas-ball"), ("events", None),
                          ("mic", None), ("speaker", None), ("no_mic_check", False), ("record", None)):
        parser.set_defaults(**{name: default})

    s = sub.add_parser("config", help="each setting (voice, rate, sides …) for a session with "
                       "these options, and where it comes from: default, settings file or flag")
    audio_opts(s, devices=True)
    s.set_defaults(func=cmd_config)

    s = sub.add_parser("demo", help="the whole session with no sound card: a simulated user "
                       "answers by voice through the same recognizer")
    audio_opts(s, devices=False)
    s.add_argument("--user-script", type=Path, help="TOML: what the user says and when "
                   "(default: an ordinary, cooperative user)")
    s.add_argument("--speed", type=float, default=1.0, help="times real time; 0 = as fast as possible")
    s.add_argument("--wav", type=Path, help="write the session's audio here (left: coach, right: mic)")
    s.add_argument("--echo-db", type=float, default=-20.0, help="the coach's echo at the mic, dB")
    s.add_argument("--quiet", action="store_true", help="do not print the transcript")
    s.add_argument("--history", action="store_true",
                   help="plan from and record into your session history (off for demos)")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("hear", help="run a WAV through the recognizer; one JSON line per intent")
    s.add_argument("wav", type=Path)
    s.add_argument("--backend", choices=BACKENDS, default=None)
    s.add_argument("--model", default=None)
    s.add_argument("--intents", default=None,
                   help="comma-separated intents to listen for (default: all)")
    s.set_defaults(func=cmd_hear)

    s = sub.add_parser("devices", help="list audio devices")
    s.set_defaults(func=cmd_devices)
    s = sub.add_parser("voices", help="list the voices of both speech engines (piper, pyttsx3)")
    s.add_argument("--prepare", action="store_true",
                   help="instead, render every line a session says with these voice options into "
                        "the speech cache now, and write the listening model's int8 copy there "
                        "(the first session otherwise does both as it runs)")
    voice_opts(s)
    s.set_defaults(func=cmd_voices)
    s = sub.add_parser("model", help="speech models: `coach model download` fetches the vosk "
                       "English model")
    s.add_argument("action", choices=("download", "where"))
    s.set_defaults(func=cmd_model)


# --- commands ---------------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace) -> int:
    from coach.content import load_content
    from coach.pcm import SAMPLE_RATE
    from coach.run.demo import World, run_demo, write_wav
    from coach.run.user_script import default_replies, load_user_script
    from coach.voice.user_voice import SimulatedUserVoice

    if not (math.isfinite(args.speed) and args.speed >= 0):
        raise CoachError("demo.bad_speed", f"--speed {args.speed:g}: not a speed",
                         "times real time, e.g. --speed 1 (real time) or --speed 0 (as fast "
                         "as possible)")
    content = load_content(args.routine, getattr(args, "content", None))
    replies = load_user_script(args.user_script, content) if args.user_script else \
        default_replies(content)
    content, driver = driver_for(args, {"mode": "demo", "speed": args.speed},
                                 history=args.history)
    coach_synth = voice_for(args, driver)  # rendering starts while the recognizer loads
    recognizer = load_recognizer_for(args, realtime=args.speed > 0)
    user_synth = SimulatedUserVoice.shared()
    driver.log.header.update(recognizer=recognizer.name, user_voice=user_synth.name)
    ear = build_ear(recognizer, content, coach_synth.words_of)
    if not args.quiet:
        print(f"coach demo: listening with {recognizer.name}; the coach speaks with "
              f"{coach_synth.engine} ({coach_synth.voice}); the user is simulated "
              f"({user_synth.name}); speed {args.speed:g}x", flush=True)
    status = None if args.quiet else status_line(driver, content)
    with coach_synth:
        run = run_demo(driver, ear, voice_16k(coach_synth), user_synth.fresh, replies,
                       World(echo_db=args.echo_db, speed=args.speed), keep_audio=bool(args.wav),
                       echo_to=status.print_above if status else None,
                       on_tick=status.at if status else None,
                       pacer=pacer_sound(SAMPLE_RATE, args.volume, args.pacer))
    if status:
        status.close()
    if args.wav:
        write_wav(args.wav, run)
    stats = ear.stats()
    print(f"{stats.audio_seconds:.0f} s of audio in {run.wall_seconds:.1f} s; listening CPU "
          f"{stats.cpu_seconds / max(stats.audio_seconds, 1e-9):.3f} s per audio second", flush=True)
    return finish_report(driver, driver.end)


def voice_for(args: argparse.Namespace, driver):
    """The coach's synthesizer from the voice options, already rendering the session's lines
    ahead; what it speaks with goes into the log's header."""
    synth = synthesizer(args.voice, args.rate, args.volume, tts=args.tts, log=driver.log)
    render_ahead(synth, driver)
    driver.log.header.update(tts=synth.engine, voice=synth.voice, pacer=args.pacer)
    return synth


def cmd_session(args: argparse.Namespace) -> int:
    from coach.devices import streams as audio
    from coach.run.live import LiveDevices, LiveSession
    try:
        mic_index = audio.resolve_device(args.mic, "input")
        spk_index = audio.resolve_device(args.speaker, "output")
    except CoachError as err:
        named = [f"--{o} {v}" for o, v in (("mic", args.mic), ("speaker", args.speaker)) if v]
        if err.code == "audio.no_devices" and named:
            raise CoachError("audio.no_device", f"{' and '.join(named)}: PortAudio sees no "
                             "sound card on this machine", "connect it (`coach devices` lists "
                             "what is seen), or run `coach demo`, which needs none") from err
        if err.code == "audio.no_devices":
            print(f"coach: {err.message}\ncoach: no microphone here, so running the narrated demo "
                  "with a simulated user instead (`coach demo --help`).", file=sys.stderr, flush=True)
            demo_args = argparse.Namespace(**{**vars(args), "user_script": None, "speed": 1.0,
                                              "wav": None, "echo_db": -20.0, "quiet": False,
                                              "history": False})
            return cmd_demo(demo_args)
        raise
    content, driver = driver_for(args, {"mode": "live"})
    synth = voice_for(args, driver)  # rendering starts while the recognizer loads
    recognizer = load_recognizer_for(args)
    driver.log.header["recognizer"] = recognizer.name
    print(f"coach: listening with {recognizer.name}; speaking with {synth.engine} "
          f"({synth.voice})", flush=True)

    def render(text: str):
        r = synth.render(text)
        return r.samples, r.rate

    with synth, audio.Speaker(spk_index) as speaker, audio.Microphone(mic_index) as mic:
        ear = build_ear(recognizer, content, synth.words_of)
        if not args.no_mic_check:
            from coach.run.mic_check import mic_check
            mic_check(content, ear, speaker, mic, render)
        pacer = pacer_sound(speaker.rate, args.volume, args.pacer)
        status = status_line(driver, content)
        session = LiveSession(driver, ear, LiveDevices(speaker, mic, render, pacer),
                              echo_to=status.print_above, record=args.record is not None,
                              on_tick=status.at)
        try:
            end = session.run()
        finally:
            status.close()
    if args.record is not None and session.recorded:
        from coach.pcm import write_wav as write_mono_wav
        write_mono_wav(args.record, np.concatenate(session.recorded))
        if session.recorded_reference:  # for replaying the echo stage offline
            write_mono_wav(args.record.with_suffix(".reference.wav"),
                           np.concatenate(session.recorded_reference))
    return finish_report(driver, end)


def status_line(driver, content):
    """The session's status line on stdout (in place on a terminal), following its log."""
    from coach.run.status import SessionStatus, StatusLine
    status = StatusLine(SessionStatus.for_content(content), sys.stdout)
    driver.log.sinks.append(status)
    return status


def finish_report(driver, end) -> int:
    """Print how the session ended; the exit status: 0 done, 1 fault, 2 log lost, 128 + the
    signal's number after a signal."""
    from coach.run.loop import ENDING_SIGNALS
    from coach.session.eventlog import default_log_path
    print(f"session ended: {end.outcome.value if end else 'not ended'}; log: "
          f"{default_log_path(driver.log.session)}", flush=True)
    for err in driver.log.failures:
        print(f"coach: error [{err.code}]: {err}", file=sys.stderr)
    if end is None or end.outcome.value == "fault":
        return 1
    if driver.log.failures:
        return 2
    if end.reason in {s.name for s in ENDING_SIGNALS}:
        return 128 + signal.Signals[end.reason].value  # 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP
    return 0


def cmd_hear(args: argparse.Namespace) -> int:
    from coach.listen.hear_file import hear_file
    from coach.content import INTENTS, load_content
    content = load_content("psoas-ball", getattr(args, "content", None))
    names = INTENTS if not args.intents else tuple(x.strip() for x in args.intents.split(","))
    for n in names:
        if n not in content.intents:
            raise CoachError("hear.unknown_intent", f"unknown intent '{n}'",
                             "choose from: " + ", ".join(INTENTS))
    rec = load_recognizer_for(args, realtime=False)
    rec.set_vocabulary(content.phrases(set(names)))
    heard = hear_file(args.wav, rec)
    for h in heard:
        print(json.dumps({"intent": h.intent, "text": h.text, "confidence": round(h.confidence, 3),
                          "start": round(h.start, 3), "end": round(h.end, 3), "final": h.final}))
    if not heard:  # stdout stays JSON lines; the person is told on stderr
        print(f"coach hear: no intent heard in {args.wav} (listening for "
              f"{', '.join(names)})", file=sys.stderr)
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from coach.devices import streams as audio
    devices = audio.list_devices()
    if not devices:
        print("no audio devices (PortAudio sees none); `coach demo` runs without any")
    for d in devices:
        print(f"{d.index:3}  {d.name:40} in {d.max_input_channels}  out {d.max_output_channels}  "
              f"{d.default_rate:.0f} Hz")
    return 0


def cmd_voices(args: argparse.Namespace) -> int:
    from coach.voice.espeak import DEFAULT_VOICE
    from coach.voice.synth import list_voices
    if args.prepare:
        return prepare_voice(args)
    voices = list_voices()
    first_piper = next((v.id for v in voices if v.engine == "piper"), None)
    print(f"{'engine':8} {'voice (--voice)':28} about")
    for v in voices:
        mark = "  * default" if v.id == first_piper else \
            "  * default for --tts pyttsx3" if v.engine == "pyttsx3" and v.id == DEFAULT_VOICE else ""
        print(f"{v.engine:8} {v.id:28} {v.name}  {','.join(v.languages)}{mark}")
    if first_piper is None:
        print("(no Piper voice installed: run scripts/setup; the coach speaks with pyttsx3)")
    return 0


def prepare_voice(args: argparse.Namespace) -> int:
    """Render every line known before a session (``Engine.texts_ahead``) that is not cached,
    and write the Whisper model's int8 copy if it is missing (``int8_copy_of``): the first
    session then starts with its cache warm."""
    from coach.content import load_content
    from coach.session.engine import Engine
    content = load_content(args.routine, getattr(args, "content", None))
    texts = Engine(content).texts_ahead()
    with synthesizer(args.voice, args.rate, args.volume, tts=args.tts) as synth:
        missing = [t for t in texts if not synth.is_cached(t)]
        if missing:
            print(f"coach: rendering {len(missing)} of {len(texts)} lines with {synth.engine} "
                  f"({synth.voice}) into the speech cache, once…", flush=True)
        for text in missing:
            synth.render(text, keep=False)
    from coach.listen.asr.whisper.model import int8_copy_of, whisper_model_dir
    model_dir = whisper_model_dir()
    if model_dir is not None:  # (a missing or unreadable model: no copy, the session says why)
        int8_copy_of(model_dir)
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from coach.listen.asr import vosk_models as models
    if args.action == "where":
        found = models.find_vosk_model(None)
        print(found if found else "no vosk model installed; whisper (built in) is used")
        return 0
    path = models.download_vosk_model()
    print(f"installed: {path}")
    return 0
