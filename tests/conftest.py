import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = ["audio_fixtures"]


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path, monkeypatch):
    """The user's data, settings and cache directories point at a temp dir in every test."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    # coach.cli.main sends temporary files to the cache: put tempfile's folder back after
    monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)
    if "TMPDIR" in os.environ:
        monkeypatch.setenv("TMPDIR", os.environ["TMPDIR"])
    else:
        monkeypatch.delenv("TMPDIR", raising=False)
    if "COACH_KEEP_CACHE" not in os.environ:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
