"""Turning line keys into the words the voice says: placeholders, durations, the help list."""

from __future__ import annotations

from coach.content import Content

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


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return ""
