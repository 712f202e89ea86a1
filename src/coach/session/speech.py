"""Turning line keys into the words the voice says: placeholders, durations, the help list."""

from __future__ import annotations

from dataclasses import fields
from typing import Mapping, Sequence

from coach.content import Content, Step, Timing
from coach.session.plan import SessionPlan

NOT_REPEATED = frozenset({
    "help", "time_left", "no_timer", "not_heard", "count", "resumed", "lighter", "skipping",
    "still_paused", "pace_slower", "pace_faster", "pace_limit", "screening_no_skip",
})
"""Lines that answer a question or mark a moment: "repeat" says the instruction before them."""

HELP_ORDER = (
    "ready", "yes", "no", "better", "same", "worse", "released", "too_painful", "pause", "resume",
    "how_long", "slower", "faster", "skip", "repeat", "health_changed", "stop", "help",
)


class Speech:
    def __init__(self, content: Content) -> None:
        self.lines = content.lines
        self.formats = content.formats
        self.intents = content.intents
        self.not_repeated = NOT_REPEATED

    def line(self, key: str, **fields: str | None) -> tuple[str, str]:
        """(key, text) with placeholders filled; unknown keys are a content bug caught at load."""
        text = self.lines[key]
        if "{" in text:
            text = text.format_map(_Fields({k: v for k, v in fields.items() if v is not None}))
        return key, text

    def duration(self, seconds: float) -> str:
        """Spoken duration: exact under 20 s, else to the nearest 5 s."""
        s = int(round(seconds)) if seconds < 20 else int(5 * round(seconds / 5))
        m, rest = divmod(max(0, s), 60)
        f = self.formats
        if m == 0:
            return f["seconds"].format(seconds=rest)
        if rest == 0:
            return f["one_minute"] if m == 1 else f["minutes"].format(minutes=m)
        if m == 1:
            return f["one_minute_seconds"].format(seconds=rest)
        return f["minutes_seconds"].format(minutes=m, seconds=rest)

    def sides(self, today: tuple[str, ...], routine_sides: tuple[str, ...]) -> str:
        """What ``{sides}`` says: one side of several (``side_only``), else ``sides_all``."""
        if len(today) == 1 and len(routine_sides) > 1:
            return self.formats["side_only"].format(side=today[0])
        return self.formats["sides_all"]

    def help(self, intents: frozenset[str]) -> tuple[str, str]:
        labels = [self.intents[i].label for i in HELP_ORDER if i in intents]
        return self.line("help", options=", ".join(labels))


    def ahead(self, steps: Sequence[tuple[Step, str | None]], timing: Timing, plan: SessionPlan,
              hold_seconds: float, sides: str) -> list[str]:
        """Every text a session with ``plan`` can say that is known before it starts, in the
        order a session first says them: each step's lines (side, hold time, counts filled in)
        with the plan, the summary and ``sides`` (what ``{sides}`` says), then the engine's own
        lines, each with every value its placeholders can take (every pace, every "time left"
        up to the longest hold). Help, which depends on the moment, is left out. For rendering
        speech ahead of time."""
        b_in, b_out = plan.breath_in or timing.breath_in, plan.breath_out or timing.breath_out
        paces = []
        for k in range(-int((timing.breath_max - timing.breath_min) / timing.breath_step) - 1,
                       int((timing.breath_max - timing.breath_min) / timing.breath_step) + 2):
            pair = tuple(f"{min(timing.breath_max, max(timing.breath_min, b + k * timing.breath_step)):g}"
                         for b in (b_in, b_out))
            if pair not in paces:
                paces.append(pair)
        longest = max((st.max_seconds for st, _ in steps), default=0.0)
        lefts = list(dict.fromkeys(self.duration(x) for x in range(int(longest) + 1)))
        counts = [str(n) for n in range(max((st.count_last for st, _ in steps), default=0), 0, -1)]
        out: list[str] = []
        in_steps: set[str] = set()

        def add(key: str, **known: str | None) -> None:
            text = self.lines[key]
            options = [dict(known)]
            if "{inhale}" in text and "inhale" not in known:
                options = [dict(known, inhale=i, exhale=e) for i, e in paces]
            elif "{time}" in text and "time" not in known:
                options = [dict(known, time=t) for t in lefts]
            elif "{n}" in text:
                options = [dict(known, n=n) for n in counts]
            elif "{options}" in text or ("{side}" in text and "side" not in known):
                return
            for o in options:
                out.append(self.line(key, plan=plan.plan_text, summary=plan.summary_text,
                                      sides=sides, **o)[1])

        for step, side in steps:
            for f in fields(step):
                value = getattr(step, f.name)
                items = value.values() if isinstance(value, Mapping) else \
                    value if isinstance(value, tuple) else (value,)
                for item in items:
                    key = getattr(item, "line", item)
                    if f.name != "id" and isinstance(key, str) and key in self.lines:
                        in_steps.add(key)
                        add(key, side=side, time=self.duration(hold_seconds),
                            inhale=f"{b_in:g}", exhale=f"{b_out:g}")
            if step.count_last and "count" in self.lines:
                add("count")
            if step is steps[0][0] and plan.plan_text:
                add("plan")
        if plan.summary_text:
            add("summary")
        for key in self.lines:
            if key not in in_steps:
                add(key)
        return [t for t in dict.fromkeys(out) if t.strip()]


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return ""
