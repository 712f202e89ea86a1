"""What a whole process (and every thread and child of it) did to the network and the disk, as
seen by the kernel: the program runs under ``strace -f``, so native libraries' own threads are
seen too (the Python-level socket guard cannot see them: onnxruntime's telemetry once sent DNS
queries from its threads, and wrote under ``$XDG_CACHE_HOME/Microsoft``).

``run_traced`` runs a command under strace; ``audit`` reads the trace and returns every
``Trespass``: any AF_INET/AF_INET6 socket (created, connected or sent to, whether or not it
succeeded), and any file or folder created, written, renamed, linked or removed outside the
allowed roots.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

TRACED_CALLS = ("socket", "connect", "sendto", "sendmsg", "sendmmsg", "bind",
                "open", "openat", "openat2", "creat", "mkdir", "mkdirat", "mknod", "mknodat",
                "rename", "renameat", "renameat2", "unlink", "unlinkat", "rmdir",
                "link", "linkat", "symlink", "symlinkat", "truncate", "chmod", "fchmodat")
"""System calls traced: those that reach the network or change what is on disk."""

_WRITE_FLAGS = re.compile(r"\bO_(WRONLY|RDWR|CREAT|TRUNC|APPEND)\b")
_INET = re.compile(r"\b(AF_INET6?|PF_INET6?)\b")
_CALL = re.compile(r"^(?P<pid>\d+)\s+(?P<call>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>-?\d+|\?)")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_DIRFD = re.compile(r"(?:AT_FDCWD|-?\d+)<([^>]*)>")


@dataclass(frozen=True)
class Trespass:
    """One thing the process did that it must not: reach the network, or write a file outside
    the allowed roots."""

    kind: str
    """'network' or 'file'."""
    call: str
    """The system call (``socket``, ``openat``, ``mkdir`` …)."""
    target: str
    """The address family or socket address; or the absolute path written."""
    line: str
    """The strace line, for the failure message."""


def strace_missing() -> str | None:
    """Why a traced run cannot happen here (None if it can): no strace, or tracing is not
    allowed (a container without ptrace)."""
    if shutil.which("strace") is None:
        return "strace not found: run scripts/setup --test (Debian strace)"
    probe = subprocess.run(["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=openat",
                            "-o", "/dev/null", "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return f"strace cannot trace here: {probe.stderr.strip()[:200]}"
    return None


def run_traced(argv: Sequence[str], trace: Path, *, env: dict[str, str], cwd: Path,
               **popen: object) -> subprocess.Popen:
    """Start ``argv`` under ``strace -f``, its trace written to ``trace``; returns the Popen
    (of strace, which exits with the program's status and passes signals on to it)."""
    cmd = ["strace", "-f", "-qq", "-y", "-s", "4096", "--seccomp-bpf", "-e", "signal=none",
           "-e", "trace=" + ",".join(TRACED_CALLS), "-o", str(trace), *argv]
    return subprocess.Popen(cmd, env=env, cwd=cwd, **popen)  # type: ignore[call-overload]


def _joined(lines: Iterable[str]) -> Iterable[str]:
    """Whole calls: ``<unfinished ...>`` halves joined with their ``<... resumed>`` ends."""
    pending: dict[str, str] = {}
    for line in lines:
        head = line.split(None, 1)
        if len(head) < 2:
            continue
        pid, rest = head
        if rest.endswith("<unfinished ...>"):
            pending[pid] = line[: -len("<unfinished ...>")].rstrip()
        elif rest.startswith("<... "):
            start = pending.pop(pid, None)
            if start is not None:
                yield start + rest.split("resumed>", 1)[-1]
        else:
            yield line


def _unescape(s: str) -> str:
    return s.encode("latin-1", "backslashreplace").decode("unicode_escape")


def _paths(call: str, args: str) -> list[str]:
    """The absolute paths a call names: each string argument, made absolute against the
    directory of the file descriptor before it (strace ``-y`` prints it as ``fd</path>``)."""
    out = []
    strings = list(_STRING.finditer(args))
    for m in strings:
        name = _unescape(m.group(1))
        if name.startswith("/"):
            out.append(name)
            continue
        before = args[: m.start()]
        dirs = _DIRFD.findall(before)
        base = dirs[-1] if dirs else ""
        out.append(f"{base.rstrip('/')}/{name}")
    if call == "symlink" or call == "symlinkat":
        out = out[1:]  # the link's target is only text; the link itself is what is written
    return out


def _writes(call: str, args: str) -> bool:
    if call in ("open", "openat", "openat2"):
        return bool(_WRITE_FLAGS.search(args))
    return call not in ("socket", "connect", "sendto", "sendmsg", "sendmmsg", "bind")


def audit(trace: str, allowed: Iterable[Path | str],
          allowed_patterns: Iterable[str] = ()) -> list[Trespass]:
    """Every network use and every file written outside ``allowed`` (folders, with all they
    hold, or single files) in an strace ``-f -y`` trace; ``allowed_patterns`` are regular
    expressions a whole path may match instead. A failed file call wrote nothing and is not
    counted; a network call counts even when it failed."""
    roots = [str(Path(p)) for p in allowed]
    patterns = [re.compile(p) for p in allowed_patterns]
    found = []
    for line in _joined(trace.splitlines()):
        m = _CALL.match(line)
        if m is None:
            continue
        call, args, ret = m.group("call"), m.group("args"), m.group("ret")
        if call in ("socket", "connect", "sendto", "sendmsg", "sendmmsg", "bind"):
            family = _INET.search(args)
            if family:
                found.append(Trespass("network", call, family.group(1), line))
            continue
        if ret == "?" or int(ret) < 0 or not _writes(call, args):
            continue
        for path in _paths(call, args):
            if not (any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)
                    or any(p.fullmatch(path) for p in patterns)):
                found.append(Trespass("file", call, path, line))
    return found
