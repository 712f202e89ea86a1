"""One content file being read and validated: every error names the file, the key and its line.

Errors are ``CoachError('content.invalid')`` (or ``content.missing`` / ``content.unreadable``)
saying what was found and what is expected.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from coach.errors import CoachError

MAX_FILE_BYTES = 1_000_000


class ContentFile:
    """One TOML file being validated: knows its path and text, so errors can name both."""

    error_code = "content.invalid"
    """The ``CoachError`` code of a mistake in the file."""
    fix = "edit the file, then run `coach check-content` to re-check it"
    """What the error tells the user to do about a mistake."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = ""
        try:
            raw = path.read_bytes()
        except FileNotFoundError as err:
            raise CoachError("content.missing", f"{path}: file not found",
                             "check the content folder (COACH_CONTENT or content/)") from err
        except OSError as err:
            raise CoachError("content.unreadable", f"{path}: cannot read ({err.strerror})",
                             "check the file's permissions") from err
        if len(raw) > MAX_FILE_BYTES:
            self.fail("(file)", f"is {len(raw)} bytes", f"at most {MAX_FILE_BYTES} bytes")
        try:
            self.text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            raise CoachError(self.error_code, f"{path}:{line}: not valid UTF-8 "
                             f"(byte {err.start})", "save the file as UTF-8") from err
        try:
            self.data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as err:
            raise CoachError(self.error_code, f"{path}: {err}",
                             "fix the TOML syntax at that line") from err
        except RecursionError as err:
            raise CoachError(self.error_code, f"{path}: nested too deeply",
                             "content files are flat tables; remove the nesting") from err

    def line_of(self, key: str) -> int | None:
        last = key.rsplit(".", 1)[-1]
        # [ \t]*, not \s*: \s would run on from a blank line above to the key's own line
        for pattern in (rf"^[ \t]*\[[ \t]*{re.escape(key)}[ \t]*\]",
                        rf"^[ \t]*\"?{re.escape(last)}\"?[ \t]*="):
            m = re.search(pattern, self.text, re.MULTILINE)
            if m:
                return self.text.count("\n", 0, m.start()) + 1
        return None

    def fail(self, key: str, found: str, expected: str) -> CoachError:
        line = self.line_of(key)
        where = f"{self.path}:{line}" if line else str(self.path)
        raise CoachError(self.error_code, f"{where}: '{key}' {found}; expected {expected}",
                         self.fix)

    def table(self, data: Any, key: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail(key, f"is {kind_of(data)}", "a table")
        return data

    def text_value(self, data: Any, key: str) -> str:
        if not isinstance(data, str) or not data.strip():
            self.fail(key, f"is {kind_of(data)}", "a non-empty string")
        if len(data) > 2000:
            self.fail(key, f"is {len(data)} characters long", "at most 2000")
        return data

    def text_list(self, data: Any, key: str, *, allow_empty: bool = False) -> tuple[str, ...]:
        if not isinstance(data, list) or (not data and not allow_empty) or len(data) > 200:
            self.fail(key, f"is {kind_of(data)}", "a list of 1 to 200 strings")
        return tuple(self.text_value(v, f"{key}[{i}]") for i, v in enumerate(data))

    def number(self, data: Any, key: str, lo: float, hi: float) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)) or not lo <= data <= hi:
            self.fail(key, f"is {data!r}", f"a number from {lo:g} to {hi:g}")
        return float(data)

    def known_keys(self, data: dict[str, Any], allowed: set[str] | dict[str, Any], key: str) -> None:
        for k in data:
            if k not in allowed:
                self.fail(f"{key}.{k}" if key else k, "is not a known key",
                          "one of: " + ", ".join(sorted(allowed)))


def kind_of(value: Any) -> str:
    """How an error names what it found: 'a string', 'an empty string', 'a list' …"""
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)
