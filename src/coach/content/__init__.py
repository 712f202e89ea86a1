"""What the coach says and hears, as data: routines, spoken lines and intent phrases.

``load_content`` reads ``content/`` (TOML), validates every file and returns one ``Content``;
any mistake is a ``CoachError('content.invalid')`` naming the file, key and line.
"""

from coach.content.load import (ENGINE_LINES, GUIDE_MAX_HOLD, GUIDE_MIN_HOLD, INTENTS, check_all,
                                load_content, routine_files)
from coach.content.types import (Announcement, Content, Intent, Routine, Step, StepKind, Timing)

__all__ = ["ENGINE_LINES", "GUIDE_MAX_HOLD", "GUIDE_MIN_HOLD", "INTENTS", "Announcement", "Content",
           "Intent", "Routine", "Step", "StepKind", "Timing", "check_all", "load_content",
           "routine_files"]
