"""The one error type of the coach: a machine code and a message a person can act on."""

from __future__ import annotations


class CoachError(Exception):
    """An error the user can fix.

    ``code`` is a short machine-readable name (``content.invalid``, ``audio.no_device`` …);
    ``message`` says what is wrong and names the file, line or device; ``hint`` says how to fix it.
    ``exit_status`` is what the ``coach`` command exits with (2 for bad input or set-up).
    """

    def __init__(self, code: str, message: str, hint: str = "", exit_status: int = 2) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.exit_status = exit_status

    def __reduce__(self):
        """Picklable (an error raised in a worker process reaches its parent whole)."""
        return (type(self), (self.code, self.message, self.hint, self.exit_status))

    def __str__(self) -> str:
        text = f"{self.message}"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text
