"""The user's settings file, and how it meets the command line.

``$XDG_CONFIG_HOME/coach/config.toml`` (default ``~/.config/coach/config.toml``) is a flat TOML
table; every key is optional::

    tts = "piper"           # the synthesis engine: piper (neural) or pyttsx3 (espeak-ng)
    voice = "gmw/en-us"     # the coach's voice, one of the engine's (`coach voices`)
    rate = 150              # words per minute (default: the voice's own pace)
    volume = 0.8            # 0 to 1
    pace = [4, 6]           # seconds to breathe in and out (one number: both)
    pacer = true            # a breathing sound
    microphone = "USB"      # part of a device's name, or its index (`coach devices`)
    speaker = "USB"
    sides = "left"          # both, left or right
    short_intro = true      # the short introduction, once you have done a session

Each key feeds the default of the command-line option with the same destination (``SPECS``:
``rate`` → ``--rate``, ``microphone`` → ``--mic``, ``sides`` → ``--side`` …). A flag overrides the
file, the file overrides the option's own default, and an option another module adds under a
key's destination picks the key up by name: ``defer_to_settings`` marks a parser's defaults
before parsing, ``resolve`` fills them in after it and says where each value came from
(``coach config`` prints that).

The file is validated like content (``coach.content.toml_file``): a mistake is a
``CoachError('settings.invalid')`` naming the file, line and key, what was found and what is
expected (exit status 2). A flag's value is checked by the same rules.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

from coach.app import COACH_VOLUME, TTS_ENGINES
from coach.content import Content
from coach.content.toml_file import ContentFile, kind_of
from coach.errors import CoachError
from coach.paths import config_file
from coach.session.plan import Choices

SIDES = ("both", "left", "right")


class Invalid(ValueError):
    """A setting's value is wrong: ``found`` says what it is, ``expected`` what it should be."""

    def __init__(self, found: str, expected: str) -> None:
        super().__init__(f"{found}; expected {expected}")
        self.found, self.expected = found, expected


def _found(value: Any) -> str:
    if isinstance(value, bool):
        return f"is {str(value).lower()}"
    if isinstance(value, (str, int, float)) and (not isinstance(value, str) or value.strip()):
        return f"is {value!r}"
    return f"is {kind_of(value)}"


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise Invalid(_found(value), "a non-empty string (at most 200 characters)")
    return value.strip()


def _one_of(*names: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in names:
            raise Invalid(_found(value), " or ".join(repr(n) for n in names))
        return value
    return check


def _number(value: Any, lo: float, hi: float, expected: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise Invalid(_found(value), expected)
    return value


def _words_per_minute(value: Any) -> int:
    expected = "words per minute, a whole number from 80 to 300"
    if not isinstance(value, int):
        raise Invalid(_found(value), expected)
    return int(_number(value, 80, 300, expected))


def _volume(value: Any) -> float:
    return float(_number(value, 0, 1, "a number from 0 to 1"))


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(_found(value), "true or false")
    return value


def _pace(value: Any) -> tuple[float, float]:
    """Seconds in and out: one number for both, or two ([in, out] in the file, IN/OUT as a flag)."""
    expected = "seconds to breathe in and out: one number, or two ([4, 6]), each from 1 to 20"
    pair = value if isinstance(value, (list, tuple)) else [value, value]
    if len(pair) != 2:
        raise Invalid(_found(value), expected)
    b_in, b_out = (float(_number(x, 1, 20, expected)) for x in pair)
    return b_in, b_out


def _device(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    try:
        return _text(value)
    except Invalid:
        raise Invalid(_found(value), "part of a device's name, or its index (`coach devices`)") \
            from None


def parse_pace(text: str) -> tuple[float, float]:
    """``--pace`` IN/OUT or SECONDS → (in, out) seconds; the range is checked with the file's
    (``resolve``)."""
    try:
        parts = [float(p) for p in text.split("/")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2):
        raise argparse.ArgumentTypeError(f"{text!r} is not IN/OUT seconds (4/6) or one number")
    return (parts[0], parts[-1])


@dataclass(frozen=True)
class SettingSpec:
    """One key of the settings file and the command-line option it feeds."""

    key: str
    """The key in config.toml."""
    dest: str
    """The argparse destination of the option it feeds (its flag's name, as Python spells it)."""
    flag: str
    """The option a user types to override it."""
    default: Any
    """The value when neither the file nor an option of the command gives one."""
    check: Callable[[Any], Any]
    """Validates a value from the file or a flag and returns it in its one form; raises Invalid."""
    unset: str = ""
    """What a default of None means, for `coach config`."""


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("voice", "voice", "--voice", None, _text, unset="the engine's first voice"),
    SettingSpec("tts", "tts", "--tts", TTS_ENGINES[0], _one_of(*TTS_ENGINES)),
    SettingSpec("rate", "rate", "--rate", None, _words_per_minute,
                unset="the voice's own pace"),
    SettingSpec("volume", "volume", "--volume", COACH_VOLUME, _volume),
    SettingSpec("pace", "pace", "--pace", None, _pace,
                unset="last chosen, else the routine's"),
    SettingSpec("pacer", "pacer", "--pacer", True, _bool),
    SettingSpec("microphone", "mic", "--mic", None, _device, unset="system default"),
    SettingSpec("speaker", "speaker", "--speaker", None, _device, unset="system default"),
    SettingSpec("sides", "side", "--side", "both", _one_of(*SIDES)),
    SettingSpec("short_intro", "short_intro", "--short-intro", False, _bool),
)


# --- the file ---------------------------------------------------------------------------------
class SettingsFile(ContentFile):
    """config.toml being read: errors name it, the line and the key, like content's."""

    error_code = "settings.invalid"
    fix = "edit the file, then run `coach config` to check it"


@dataclass(frozen=True)
class FileSettings:
    """The settings file, validated: each key given and the line it is on."""

    path: Path
    found: bool
    """False: there is no file, so every value is a default or a flag."""
    values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """key → its checked value."""
    lines: Mapping[str, int | None] = field(default_factory=lambda: MappingProxyType({}))
    """key → the line it is on."""


def load_settings(path: Path | None = None) -> FileSettings:
    """Read and validate the settings file (default ``coach.paths.config_file()``); no file is
    no settings."""
    path = path or config_file()
    if not path.exists():
        return FileSettings(path, False)
    if not path.is_file():
        raise CoachError("settings.invalid", f"{path}: not a file", "make it a TOML file, or "
                         "remove it (every setting then has its default)")
    f = SettingsFile(path)
    f.known_keys(f.data, {s.key for s in SPECS}, "")
    values: dict[str, Any] = {}
    for spec in SPECS:
        if spec.key in f.data:
            try:
                values[spec.key] = spec.check(f.data[spec.key])
            except Invalid as err:
                f.fail(spec.key, err.found, err.expected)
    return FileSettings(path, True, MappingProxyType(values),
                        MappingProxyType({k: f.line_of(k) for k in values}))


# --- meeting the command line -----------------------------------------------------------------
class Origin(Enum):
    DEFAULT = "default"
    FILE = "file"
    FLAG = "flag"


@dataclass(frozen=True)
class Setting:
    """A setting's value for this run and where it came from."""

    key: str
    value: Any
    origin: Origin
    where: str
    """'default', the file as PATH:LINE, or 'flag --rate'."""
    used: bool = True
    """False: no option of this command has the key's destination (nothing here reads it)."""

    def invalid(self, found: str, expected: str) -> CoachError:
        """The error for a value that does not fit (e.g. a side today's routine lacks)."""
        fix = {Origin.FILE: "edit the settings file, then run `coach config` to check it",
               Origin.FLAG: f"give {self.where.removeprefix('flag ')} another value"
               }.get(self.origin, "")
        return CoachError("settings.invalid", f"{self.where}: '{self.key}' {found}; expected "
                          f"{expected}", fix)


@dataclass(frozen=True)
class Deferred:
    """An option's own default, held until ``resolve`` has read the settings file."""

    default: Any


def defer_to_settings(parser: argparse.ArgumentParser) -> None:
    """Let the settings file give the defaults of ``parser``'s options whose destination is a
    key's (``SPECS``), whoever added them; call it once every option is added."""
    declared = vars(parser.parse_args([]))
    parser.set_defaults(**{s.dest: Deferred(declared[s.dest]) for s in SPECS
                           if s.dest in declared and not isinstance(declared[s.dest], Deferred)})


_ABSENT = Deferred(None)


def resolve(args: argparse.Namespace, file: FileSettings) -> dict[str, Setting]:
    """Fill each key's destination in ``args``: a flag given, else the file, else the option's
    own default, else ``SettingSpec.default``. A flag's value is checked like the file's.
    Returns key → Setting, in ``SPECS`` order."""
    out: dict[str, Setting] = {}
    for spec in SPECS:
        given = getattr(args, spec.dest, _ABSENT)
        if not isinstance(given, Deferred):
            origin, where = Origin.FLAG, f"flag {spec.flag}"
            try:
                value = spec.check(given)
            except Invalid as err:
                raise Setting(spec.key, given, origin, where).invalid(err.found,
                                                                      err.expected) from err
        elif spec.key in file.values:
            line = file.lines.get(spec.key)
            value, origin = file.values[spec.key], Origin.FILE
            where = f"{file.path}:{line}" if line else str(file.path)
        else:
            value = spec.default if given.default is None else given.default
            origin, where = Origin.DEFAULT, "default"
        setattr(args, spec.dest, value)
        out[spec.key] = Setting(spec.key, value, origin, where, used=given is not _ABSENT)
    return out


def shown(setting: Setting) -> str:
    """A value as `coach config` prints it (the way the file or a flag writes it)."""
    v = setting.value
    if v is None:
        return f"({next(s.unset for s in SPECS if s.key == setting.key)})"
    if isinstance(v, bool):
        return "true" if v else "false"
    if setting.key == "pace":
        return f"{v[0]:g}/{v[1]:g}"
    return f"{v:g}" if isinstance(v, float) else str(v)


# --- what the session takes from them ---------------------------------------------------------
def choices_for(settings: Mapping[str, Setting], content: Content) -> Choices:
    """The user's choices for a session of ``content``'s routine, checked against it: a side it
    has, a pace within its ``breath_min``..``breath_max``. No settings: ``Choices()``."""
    r, choices = content.routine, Choices()
    sides = settings.get("sides")
    if sides is not None and sides.value != "both":
        if sides.value not in r.sides:
            raise sides.invalid(f"is {sides.value!r}", f"both, or one of the sides of routine "
                                f"'{r.id}': {', '.join(r.sides)}")
        choices = Choices(sides=(sides.value,))
    pace = settings.get("pace")
    if pace is not None and pace.value is not None:
        lo, hi = r.timing.breath_min, r.timing.breath_max
        if not all(lo <= x <= hi for x in pace.value):
            raise pace.invalid(f"is {shown(pace)}", f"seconds from {lo:g} to {hi:g} (the limits "
                               f"of routine '{r.id}')")
        choices = Choices(choices.sides, pace=tuple(pace.value))
    short = settings.get("short_intro")
    return Choices(choices.sides, choices.pace, short_intro=bool(short and short.value))
