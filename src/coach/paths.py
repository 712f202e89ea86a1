"""Where the coach keeps things: the project tree and the user's XDG directories."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def content_dir() -> Path:
    """The content folder: ``COACH_CONTENT`` if set, else ``content/`` of the project."""
    env = os.environ.get("COACH_CONTENT")
    return Path(env) if env else PROJECT_ROOT / "content"


def models_dir() -> Path:
    env = os.environ.get("COACH_MODELS")
    return Path(env) if env else PROJECT_ROOT / "models"


def data_dir() -> Path:
    """The user's data directory (``$XDG_DATA_HOME/coach``, default ``~/.local/share/coach``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "coach"


def config_file() -> Path:
    """The user's settings file (``$XDG_CONFIG_HOME/coach/config.toml``, default
    ``~/.config/coach/config.toml``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "coach" / "config.toml"


def cache_dir() -> Path:
    """The user's cache directory (``$XDG_CACHE_HOME/coach``, default ``~/.cache/coach``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "coach"


def keep_temporary_files_private() -> Path | None:
    """Send this process's temporary files, and its children's (``TMPDIR``), to
    ``cache_dir()/tmp`` (mode 0700) instead of the shared ``/tmp``: the coach's rendered lines,
    the recognizer's scratch files, and Python's own probe of the temp folder. Call it first,
    before any thread starts (it sets the environment). Returns the folder, or None (and
    changes nothing) if it cannot be made."""
    folder = cache_dir() / "tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = str(folder)
    return folder


def sha256_of(path: Path) -> str:
    """The SHA-256 of the file at ``path`` as hex, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
