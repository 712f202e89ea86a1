"""Standard output that may go away: ``coach demo | head -3``, or a terminal that was closed.

The transcript on stdout is for the person watching; the session is for the person on the ball.
A failed write must never stop the voice or lose the record, so once stdout fails, the rest of
the output goes to /dev/null and the session carries on (its event log and history are files of
their own).
"""

from __future__ import annotations

import io
import os
import sys
from contextlib import contextmanager
from typing import Any, Iterator, TextIO


class StdoutThatMayClose:
    """Stands in for ``sys.stdout``: writes and flushes pass through until one fails (a broken
    pipe, EIO from a closed terminal, a closed file); from then on output is dropped and the file
    descriptor points at /dev/null, so Python's own flush at exit cannot fail either."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.lost = False
        """True once a write failed and output is being dropped."""

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                return self._stream.write(text)
            except (OSError, ValueError):
                self._lose()
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._lose()

    def _lose(self) -> None:
        self.lost = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass  # not a real file descriptor (a test's capture): dropping the output is enough

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def stdout_that_may_close() -> Iterator[StdoutThatMayClose]:
    """``sys.stdout`` is a ``StdoutThatMayClose`` inside the block, flushed and put back after."""
    saved = sys.stdout
    wrapped = StdoutThatMayClose(saved)
    sys.stdout = wrapped  # type: ignore[assignment]
    try:
        yield wrapped
    finally:
        wrapped.flush()
        sys.stdout = saved
