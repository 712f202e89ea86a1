"""Privacy (no network, no audio on disk unless asked) and a soak of back-to-back demo sessions."""

from __future__ import annotations

import gc
import socket
import threading
from pathlib import Path

import pytest

from coach.cli import main
from test_live_e2e import short_content  # noqa: F401 (fixture)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection or send a datagram off the machine fails the test."""
    attempts: list[object] = []
    real_connect, real_sendto = socket.socket.connect, socket.socket.sendto

    def guard(self, address, *a):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError("network use is forbidden in this test")
        return real_connect(self, address, *a) if not a else real_sendto(self, address, *a)

    def guard_sendto(self, data, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(args[-1])
            raise OSError("network use is forbidden in this test")
        return real_sendto(self, data, *args)

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket.socket, "connect_ex", guard)
    monkeypatch.setattr(socket.socket, "sendto", guard_sendto)
    yield attempts
    assert not attempts, f"the coach tried to reach the network: {attempts}"


def _audio_files(root: Path) -> list[Path]:
    found = []
    for p in root.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                head = f.read(12)
            if head[:4] == b"RIFF" or p.suffix in (".wav", ".raw", ".flac"):
                found.append(p)
    return found


def test_a_session_opens_no_network_connection_and_writes_no_audio(no_network, short_content, tmp_path, capsys):
    data_home = Path(__import__("os").environ["XDG_DATA_HOME"])
    code = main(["--content", str(short_content), "demo", "--routine", "short", "--speed", "0",
                 "--quiet"])
    assert code in (0, 1)
    assert "session ended" in capsys.readouterr().out
    assert list((data_home / "coach" / "sessions").glob("*.jsonl")), "no event log written"
    assert _audio_files(data_home) == []
    # asked for, it does write the session's audio
    out = tmp_path / "session.wav"
    main(["--content", str(short_content), "demo", "--routine", "short", "--speed", "0",
          "--quiet", "--wav", str(out)])
    assert out.exists() and out.read_bytes()[:4] == b"RIFF"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.slow
def test_soak_twenty_demo_sessions_back_to_back(short_content, capsys):
    threads_before = threading.active_count()
    rss = []
    for i in range(20):
        code = main(["--content", str(short_content), "demo", "--routine", "short", "--speed", "0",
                     "--quiet"])
        assert code in (0, 1)
        gc.collect()
        rss.append(_rss_mb())
    out = capsys.readouterr().out
    assert out.count("session ended") == 20
    growth = rss[-1] - rss[4]
    print(f"\nRSS after sessions 1, 5, 10, 20: {rss[0]:.0f}, {rss[4]:.0f}, {rss[9]:.0f}, "
          f"{rss[-1]:.0f} MB; growth 5->20: {growth:+.1f} MB")
    assert growth < 40, f"memory grew {growth:.1f} MB over 15 sessions"
    assert threading.active_count() <= threads_before + 1, [t.name for t in threading.enumerate()]


def test_a_full_disk_does_not_stop_the_session_and_is_reported(short_content, capsys):
    """Writing the event log fails (ENOSPC from /dev/full): the voice carries on to the end, the
    error names the file at the end, exit status 2."""
    code = main(["--content", str(short_content), "demo", "--routine", "short", "--speed", "0",
                 "--quiet", "--events", "/dev/full"])
    out = capsys.readouterr()
    assert code == 2
    assert "session ended: completed" in out.out
    assert "/dev/full" in out.err and "No space left" in out.err
