"""Routine content: steps, timings, spoken lines and intent phrases, loaded from TOML and validated.

Every word the voice says lives in ``content/lines.toml``; the order of steps and their timings in
``content/routines/<id>.toml``; what the user can say in ``content/intents.toml``. Any mistake is a
``CoachError('content.invalid')`` naming the file, the key (with its line where it can be found),
what was found and what is expected.

The loaded types live in ``coach.content.types``, the file reader with its line-numbered errors in
``coach.content.toml_file``.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from coach.content.toml_file import ContentFile, kind_of
from coach.content.types import (Announcement, Content, Intent, Routine, Step,  # noqa: F401
                                 StepKind, Timing)
from coach.errors import CoachError
from coach.paths import content_dir

GUIDE_MIN_HOLD = 120.0
"""Seconds: the guide's short end of a hold ("about 120 to 180 seconds")."""
GUIDE_MAX_HOLD = 180.0
"""Seconds: no hold may ever be planned or run past this."""

PLACEHOLDERS = frozenset(
    {"side", "sides", "time", "options", "seconds", "minutes", "n", "inhale", "exhale", "plan",
     "summary"}
)

ENGINE_LINES = (
    "stopping", "ease_off_weight", "ease_off_shift", "ease_off_prompt", "pain_end_side", "paused",
    "still_paused", "resumed", "lighter", "skipping", "help", "time_left", "no_timer", "not_heard",
    "unsure_confirm", "no_response_end", "no_response_end_off_ball", "pace_slower",
    "pace_faster", "pace_limit", "health_changed", "cannot_hear", "cannot_hear_hold", "fault_end", "plan", "summary", "count",
    "screening_no_skip", "mic_check", "mic_check_ok", "mic_check_retry", "mic_check_failed",
)
"""Lines the session engine says by name in any routine."""

FORMATS = ("seconds", "one_minute", "minutes", "minutes_seconds", "one_minute_seconds",
           "sides_all", "side_only")
"""Formats the engine fills: durations, and ``{sides}`` (every side of the routine, or one)."""

INTENTS = (
    "stop", "too_painful", "ready", "pause", "resume", "repeat", "skip", "yes", "no", "how_long",
    "slower", "faster", "help", "released", "better", "same", "worse", "health_changed",
)
"""Every intent the engine understands; content must give phrases for each."""


# --- step schema: allowed keys per kind, and how to read each ---------------------------------
_COMMON = {"kind": "str", "on_ball": "bool"}
_KIND_KEYS: dict[StepKind, dict[str, str]] = {
    StepKind.SAY: {"lines": "lines", "short_lines": "lines", "prompt": "line"},
    StepKind.SCREENING: {"intro": "line", "questions": "lines", "reconfirm": "line",
                         "passed": "line", "screened_out": "lines"},
    StepKind.BREATHE: {"intro": "line", "inhale": "line", "exhale": "line", "cycles": "count"},
    StepKind.HOLD: {"seconds": "duration", "max_seconds": "duration", "start": "line",
                    "announce": "announce", "count_last": "count", "checkin_every": "duration",
                    "checkins": "lines", "done": "line", "released": "line",
                    "max_reached": "line"},
    StepKind.REST: {"seconds": "duration", "lines": "lines", "done": "line", "prompt": "line"},
    StepKind.FEEDBACK: {"prompt": "line", "answers": "answers", "after": "lines"},
}
_REQUIRED: dict[StepKind, tuple[str, ...]] = {
    StepKind.SAY: ("lines",),
    StepKind.SCREENING: ("intro", "questions", "reconfirm", "passed", "screened_out"),
    StepKind.BREATHE: ("intro", "inhale", "exhale", "cycles"),
    StepKind.HOLD: ("seconds", "max_seconds", "start", "done", "released", "max_reached"),
    StepKind.REST: ("seconds", "done", "prompt"),
    StepKind.FEEDBACK: ("prompt", "answers"),
}
_MAX_DURATION = 3600.0



def _load_lines(f: ContentFile) -> tuple[dict[str, str], dict[str, str]]:
    f.known_keys(f.data, {"lines", "formats"}, "")
    tables = {}
    for name in ("lines", "formats"):
        table = f.table(f.data.get(name), name)
        tables[name] = {}
        for key, value in table.items():
            text = f.text_value(value, key)
            try:
                fields = {fname for _, fname, _, _ in string.Formatter().parse(text) if fname}
            except ValueError as err:
                f.fail(key, f"has a broken placeholder ({err})", "{name} with matching braces")
            unknown = fields - PLACEHOLDERS
            if unknown:
                f.fail(key, f"uses unknown placeholder {{{sorted(unknown)[0]}}}",
                       "one of " + ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS)))
            tables[name][key] = text
    lines, formats = tables["lines"], tables["formats"]
    for key in ENGINE_LINES:
        if key not in lines:
            f.fail("lines", f"has no line '{key}'", f"a line '{key}' (the engine says it by name)")
    for key in FORMATS:
        if key not in formats:
            f.fail("formats", f"has no format '{key}'", f"a format '{key}'")
    return lines, formats


def _load_intents(f: ContentFile) -> dict[str, Intent]:
    f.known_keys(f.data, {"intents"}, "")
    table = f.table(f.data.get("intents"), "intents")
    intents = {}
    for name, spec in table.items():
        if name not in INTENTS:
            f.fail(f"intents.{name}", "is not an intent the coach knows", "one of " + ", ".join(INTENTS))
        spec = f.table(spec, f"intents.{name}")
        f.known_keys(spec, {"label", "phrases"}, f"intents.{name}")
        label = f.text_value(spec.get("label"), f"intents.{name}.label")
        phrases = f.text_list(spec.get("phrases"), f"intents.{name}.phrases")
        for i, p in enumerate(phrases):
            if not re.fullmatch(r"[a-z' ]+", p):
                f.fail(f"intents.{name}.phrases", f"has {p!r} at position {i}",
                       "lower-case words and apostrophes only")
        intents[name] = Intent(name, label, tuple(" ".join(p.split()) for p in phrases))
    for name in INTENTS:
        if name not in intents:
            f.fail("intents", f"has no [intents.{name}]", f"phrases for '{name}'")
    seen: dict[str, str] = {}
    for intent in intents.values():
        for p in intent.phrases:
            if p in seen and seen[p] != intent.name:
                f.fail(f"intents.{intent.name}.phrases", f"repeats {p!r} of '{seen[p]}'",
                       "each phrase to belong to one intent")
            seen[p] = intent.name
    return intents


def _load_step(f: ContentFile, sid: str, spec: Any, lines: Mapping[str, str]) -> Step:
    key = f"steps.{sid}"
    spec = f.table(spec, key)
    kind_name = spec.get("kind")
    try:
        kind = StepKind(kind_name)
    except ValueError:
        f.fail(f"{key}.kind", f"is {kind_name!r}", "one of " + ", ".join(k.value for k in StepKind))
    allowed = {**_COMMON, **_KIND_KEYS[kind]}
    f.known_keys(spec, allowed, key)
    for req in _REQUIRED[kind]:
        if req not in spec:
            f.fail(key, f"has no '{req}'", f"'{req}' for a step of kind '{kind.value}'")

    def line_ref(value: Any, k: str) -> str:
        ref = f.text_value(value, k)
        if ref not in lines:
            f.fail(k, f"refers to line '{ref}', which lines.toml does not have",
                   "the name of a line in lines.toml")
        return ref

    values: dict[str, Any] = {}
    for k, v in spec.items():
        how = allowed[k]
        kk = f"{key}.{k}"
        if how == "str":
            continue
        if how == "bool":
            if not isinstance(v, bool):
                f.fail(kk, f"is {kind_of(v)}", "true or false")
            values[k] = v
        elif how == "line":
            values[k] = line_ref(v, kk)
        elif how == "lines":
            values[k] = tuple(line_ref(x, f"{kk}[{i}]") for i, x in enumerate(
                f.text_list(v, kk)))
        elif how == "duration":
            values[k] = f.number(v, kk, 1, _MAX_DURATION)
        elif how == "count":
            values[k] = int(f.number(v, kk, 0, 100)) if isinstance(v, int) else f.fail(
                kk, f"is {v!r}", "a whole number from 0 to 100")
        elif how == "announce":
            if not isinstance(v, list) or len(v) > 50:
                f.fail(kk, f"is {kind_of(v)}", "a list of { left = SECONDS, line = NAME }")
            items = []
            for i, a in enumerate(v):
                a = f.table(a, f"{kk}[{i}]")
                f.known_keys(a, {"left", "line"}, f"{kk}[{i}]")
                items.append(Announcement(f.number(a.get("left"), f"{kk}[{i}].left", 1, _MAX_DURATION),
                                          line_ref(a.get("line"), f"{kk}[{i}].line")))
            values[k] = tuple(items)
        elif how == "answers":
            a = f.table(v, kk)
            f.known_keys(a, {"better", "same", "worse"}, kk)
            for need in ("better", "same", "worse"):
                if need not in a:
                    f.fail(kk, f"has no '{need}'", "better, same and worse")
            values[k] = MappingProxyType({n: line_ref(x, f"{kk}.{n}") for n, x in a.items()})
    step = Step(id=sid, kind=kind, **values)
    if kind is StepKind.HOLD:
        if step.max_seconds > GUIDE_MAX_HOLD:
            f.fail(f"{key}.max_seconds", f"is {step.max_seconds:g}",
                   f"at most {GUIDE_MAX_HOLD:g} seconds (the guide's longest hold)")
        if not GUIDE_MIN_HOLD / 4 <= step.seconds <= step.max_seconds:
            f.fail(f"{key}.seconds", f"is {step.seconds:g}",
                   f"from {GUIDE_MIN_HOLD / 4:g} up to max_seconds ({step.max_seconds:g})")
        if step.count_last >= step.seconds:
            f.fail(f"{key}.count_last", f"is {step.count_last}", "fewer than the hold's seconds")
    return step


def _load_routine(f: ContentFile, lines: Mapping[str, str]) -> Routine:
    f.known_keys(f.data, {"routine", "timing", "steps"}, "")
    r = f.table(f.data.get("routine"), "routine")
    f.known_keys(r, {"id", "title", "sides", "intro", "per_side", "outro"}, "routine")
    rid = f.text_value(r.get("id"), "routine.id")
    if not re.fullmatch(r"[a-z0-9-]+", rid):
        f.fail("routine.id", f"is {rid!r}", "lower-case letters, digits and dashes")
    t = f.table(f.data.get("timing"), "timing")
    f.known_keys(t, set(Timing.__dataclass_fields__), "timing")
    for name in Timing.__dataclass_fields__:
        if name not in t:
            f.fail("timing", f"has no '{name}'", f"'{name}'")
    timing = Timing(
        reprompt_after=f.number(t["reprompt_after"], "timing.reprompt_after", 3, 300),
        max_reprompts=int(f.number(t["max_reprompts"], "timing.max_reprompts", 1, 10)),
        pause_timeout=f.number(t["pause_timeout"], "timing.pause_timeout", 10, 1800),
        breath_in=f.number(t["breath_in"], "timing.breath_in", 1, 20),
        breath_out=f.number(t["breath_out"], "timing.breath_out", 1, 20),
        breath_min=f.number(t["breath_min"], "timing.breath_min", 1, 20),
        breath_max=f.number(t["breath_max"], "timing.breath_max", 1, 20),
        breath_step=f.number(t["breath_step"], "timing.breath_step", 0.5, 5),
    )
    if not timing.breath_min <= min(timing.breath_in, timing.breath_out) <= max(
            timing.breath_in, timing.breath_out) <= timing.breath_max:
        f.fail("timing.breath_in", "lies outside breath_min..breath_max", "min <= in, out <= max")
    steps_t = f.table(f.data.get("steps"), "steps")
    steps = {sid: _load_step(f, sid, spec, lines) for sid, spec in steps_t.items()}
    order: dict[str, tuple[str, ...]] = {}
    for part in ("intro", "per_side", "outro"):
        refs = f.text_list(r.get(part), f"routine.{part}", allow_empty=part != "per_side")
        for ref in refs:
            if ref not in steps:
                f.fail(f"routine.{part}", f"refers to step '{ref}', which is not defined",
                       "a step defined as [steps." + ref + "], or one of: " + ", ".join(steps))
        order[part] = refs
    sides = f.text_list(r.get("sides"), "routine.sides")
    all_refs = order["intro"] + order["per_side"] + order["outro"]
    if len(set(all_refs)) != len(all_refs):
        f.fail("routine", "uses a step twice", "each step once in intro, per_side and outro")
    kinds = [steps[s].kind for s in all_refs]
    if kinds.count(StepKind.SCREENING) != 1 or (
            StepKind.SCREENING in kinds and all_refs.index(next(
                s for s in all_refs if steps[s].kind is StepKind.SCREENING)) >= len(order["intro"])):
        f.fail("routine.intro", "does not hold exactly one screening step",
               "one step of kind 'screening' in intro, before anything on the ball")
    for s in order["intro"] + order["outro"]:
        if steps[s].on_ball or steps[s].kind is StepKind.HOLD:
            f.fail(f"steps.{s}", "is on the ball outside per_side", "ball work only in per_side")
    for s in order["per_side"] + order["outro"]:
        if steps[s].short_lines:
            f.fail(f"steps.{s}.short_lines", "shortens a step outside intro",
                   "short_lines only on set-up steps in intro (the ball work is always said in full)")
    return Routine(rid, f.text_value(r.get("title"), "routine.title"), sides, order["intro"],
                   order["per_side"], order["outro"], MappingProxyType(steps), timing, f.path)


def routine_files(root: Path | None = None) -> list[Path]:
    root = root or content_dir()
    return sorted((root / "routines").glob("*.toml"))


def load_content(routine: str = "psoas-ball", root: Path | None = None) -> Content:
    """Load and validate the content folder for one routine."""
    root = root or content_dir()
    if not root.is_dir():
        raise CoachError("content.missing", f"{root}: content folder not found",
                         "run from the project folder or set COACH_CONTENT")
    lines, formats = _load_lines(ContentFile(root / "lines.toml"))
    intents = _load_intents(ContentFile(root / "intents.toml"))
    path = root / "routines" / f"{routine}.toml"
    if not path.exists():
        known = ", ".join(p.stem for p in routine_files(root)) or "none"
        raise CoachError("content.unknown_routine", f"no routine '{routine}' in {root / 'routines'}",
                         f"choose one of: {known}")
    return Content(_load_routine(ContentFile(path), lines), MappingProxyType(lines),
                   MappingProxyType(formats), MappingProxyType(intents))


def check_all(root: Path | None = None) -> list[Content]:
    """Validate every routine in the content folder (for ``coach check-content``)."""
    root = root or content_dir()
    files = routine_files(root)
    if not files:
        raise CoachError("content.missing", f"{root / 'routines'}: no routine files (*.toml)",
                         "add a routine file or point COACH_CONTENT at a content folder")
    return [load_content(p.stem, root) for p in files]
