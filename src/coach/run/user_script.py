"""What a simulated user says, and when: replies triggered by the coach's lines.

A user script is TOML::

    defaults = true            # also answer every prompt the ordinary way (no, ready, better)

    [[reply]]
    after = "hold_start"       # a line key from content/lines.toml
    say = "too painful"        # the words the user speaks
    delay = 20                 # seconds after that line finished
    times = 1                  # fire only the first time (default: every time)

    [[reply]]
    after = "position_ball"
    during = true              # count the delay from the line's start: the user talks over it
    delay = 1.5
    say = "stop"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from coach.content import Content
from coach.errors import CoachError


@dataclass(frozen=True)
class Reply:
    after: str
    say: str
    delay: float = 1.0
    """Seconds after the line ends (or starts, with ``during``)."""
    times: int | None = None
    during: bool = False
    default: bool = False
    """An ordinary answer: dropped for a line that a script's own rule also answers."""


def default_replies(content: Content) -> list[Reply]:
    """An ordinary, cooperative user: no contraindications, ready at each prompt, feels better."""
    steps = content.routine.steps.values()
    replies = [(q, "no") for st in steps for q in st.questions]
    replies += [(st.reconfirm, "no") for st in steps if st.reconfirm]
    replies += [(st.prompt, "ready") for st in steps
                if st.prompt and st.kind.value in ("say", "rest")]
    replies += [(st.prompt, "better") for st in steps if st.kind.value == "feedback"]
    replies.append(("ease_off_prompt", "ready"))
    return [Reply(after, say, delay=1.0, default=True) for after, say in replies]


EXAMPLE = "docs/user-script.md and examples/painful-then-stop.toml"
"""Where a user script's format is shown, for error messages."""


def load_user_script(path: Path, content: Content) -> list[Reply]:
    """The replies of the user script at ``path``; any mistake is a ``CoachError`` naming the
    file (and the reply) and the fix."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise CoachError("script.missing", f"{path}: user script not found",
                         f"give the path of a TOML user script (see {EXAMPLE})") from err
    except IsADirectoryError as err:
        raise CoachError("script.missing", f"{path} is a folder, not a user script",
                         f"give the path of a TOML user script (see {EXAMPLE})") from err
    except OSError as err:
        raise CoachError("script.missing", f"{path}: cannot read the user script "
                         f"({err.strerror})", "check the path and its permissions") from err
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise CoachError("script.invalid", f"{path}: {err}", "fix the TOML at that line") from err
    unknown = set(data) - {"defaults", "reply"}
    if unknown:
        raise CoachError("script.invalid", f"{path}: unknown key '{sorted(unknown)[0]}'",
                         f"use 'defaults' and [[reply]] tables (see {EXAMPLE})")
    defaults = data.get("defaults", True)
    if not isinstance(defaults, bool):
        raise CoachError("script.invalid", f"{path}: 'defaults' is {defaults!r}",
                         "true or false, without quotes")
    reply_tables = data.get("reply", [])
    if not isinstance(reply_tables, list):
        raise CoachError("script.invalid", f"{path}: 'reply' is not a list of [[reply]] tables",
                         f"write each reply as a [[reply]] table (see {EXAMPLE})")
    replies: list[Reply] = []
    for i, r in enumerate(reply_tables):
        where = f"{path}: reply #{i + 1}"
        if not isinstance(r, dict) or set(r) - {"after", "say", "delay", "times", "during"}:
            raise CoachError("script.invalid", f"{where}: keys must be after, say, delay, times, "
                             "during", f"see {EXAMPLE}")
        after, say = r.get("after"), r.get("say")
        if after not in content.lines:
            raise CoachError("script.invalid", f"{where}: 'after' is {after!r}, not a line key",
                             "use a key from content/lines.toml, e.g. hold_start")
        if not isinstance(say, str) or not say.strip():
            raise CoachError("script.invalid", f"{where}: 'say' must be the words to speak", "")
        delay = r.get("delay", 1.0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= 3600:
            raise CoachError("script.invalid", f"{where}: 'delay' is {delay!r}",
                             "seconds from 0 to 3600")
        times = r.get("times")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)
                                  or times < 1):
            raise CoachError("script.invalid", f"{where}: 'times' is {times!r}", "a whole number >= 1")
        during = r.get("during", False)
        if not isinstance(during, bool):
            raise CoachError("script.invalid", f"{where}: 'during' is {during!r}",
                             "true or false, without quotes")
        replies.append(Reply(after, say.strip().lower(), float(delay), times, during))
    if defaults:
        replies += default_replies(content)
    return replies


def intent_of(text: str, content: Content) -> str | None:
    """The intent whose phrase is exactly these words (the simulated ear's perfect hearing)."""
    words = " ".join(text.lower().replace(",", " ").split())
    for intent in content.intents.values():
        if words in intent.phrases:
            return intent.name
    return None


class ReplyBook:
    """Decides which replies a line triggers, counting how often each rule has fired."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.fired = [0] * len(replies)

    def triggered(self, line: str) -> list[Reply]:
        """The replies this line sets off; a script's own rules for a line replace the default."""
        live = [i for i, r in enumerate(self.replies)
                if r.after == line and (r.times is None or self.fired[i] < r.times)]
        if any(not self.replies[i].default for i in live):
            live = [i for i in live if not self.replies[i].default]
        for i in live:
            self.fired[i] += 1
        return [self.replies[i] for i in live]
