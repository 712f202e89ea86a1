"""Speech models on disk: finding an unpacked vosk model, and fetching the English one.

The recognizer's English model (``vosk-model-small-en-us-0.15``, 40 MB, Apache-2.0) is not on
any package registry, so it is downloaded once from the vosk model page into ``models/`` and
checked against a pinned SHA-256. Nothing else in the coach touches the network.

    python -m coach.listen.asr.vosk_models download [--dest DIR]   fetch, check and unpack the English model
    python -m coach.listen.asr.vosk_models find [PATH]             print the model folder the coach would use
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Sequence

from coach import paths
from coach.errors import CoachError

MODEL_NAME = "vosk-model-small-en-us-0.15"
MODEL_URL = f"https://alphacephei.com/vosk/models/{MODEL_NAME}.zip"
MODEL_SHA256 = "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"
"""SHA-256 of the zip as pinned by public download scripts."""

DOWNLOAD_TIMEOUT = 30.0
"""Seconds to wait for the server to answer before giving up."""


def model_problem(path: Path) -> str | None:
    """Why ``path`` is not an unpacked vosk model folder, or None when it looks like one."""
    if not path.exists():
        return "it does not exist"
    if not path.is_dir():
        return "it is not a folder"
    missing = [part for part in ("am", "conf") if not (path / part).is_dir()]
    if missing:
        inner = sorted(p.name for p in path.glob("vosk-model-*") if p.is_dir())
        extra = f" (it holds {inner[0]}/: point at that folder instead)" if inner else ""
        return f"it has no {' or '.join(p + '/' for p in missing)} inside{extra}"
    if not (path / "graph").is_dir() and not (path / "HCLG.fst").exists():
        return "it has no graph/ inside"
    return None


def _checked(path: Path, source: str) -> Path:
    problem = model_problem(path)
    if problem:
        raise CoachError(
            "model.invalid",
            f"The vosk model folder {path} (from {source}) is not usable: {problem}.",
            "point it at an unpacked vosk model folder (one with am/, conf/ and graph/ inside), "
            "or run scripts/get-model",
        )
    return path


def find_vosk_model(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The vosk model folder to use, or None when there is none.

    Looks, in order, at ``explicit`` (a command-line option), ``$COACH_VOSK_MODEL``,
    ``models/vosk-model-small-en-us-0.15`` and any other ``models/vosk-model-*`` folder.
    A path given explicitly or by the environment must be a model, else CoachError
    ``model.invalid`` naming it.
    """
    if explicit:
        return _checked(Path(explicit).expanduser(), "the command line")
    env = os.environ.get("COACH_VOSK_MODEL")
    if env:
        return _checked(Path(env).expanduser(), "COACH_VOSK_MODEL")
    base = paths.models_dir()
    candidates = [base / MODEL_NAME] + sorted(p for p in base.glob("vosk-model-*") if p.name != MODEL_NAME)
    for candidate in candidates:
        if candidate.is_dir() and model_problem(candidate) is None:
            return candidate
    return None


def _manual_steps(url: str, sha256: str, dest: Path) -> str:
    return (
        f"on a machine with internet, download {url}, check that `sha256sum` prints {sha256}, "
        f"copy it here and unpack it into {dest} (`unzip {Path(url).name} -d {dest}`), "
        f"so that {dest / Path(url).stem}/am exists"
    )


def _unpack(archive: Path, dest: Path) -> None:
    """Unzip ``archive`` into ``dest``, refusing members that would land outside it."""
    root = dest.resolve()
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            target = (root / member).resolve()
            if target != root and root not in target.parents:
                raise CoachError(
                    "model.bad_archive",
                    f"The model archive {archive} has a member outside its folder: {member}.",
                    "delete it and download the model again",
                )
        zf.extractall(root)


def download_vosk_model(
    dest: Path | None = None, url: str = MODEL_URL, sha256: str = MODEL_SHA256
) -> Path:
    """Fetch the English model zip, check its SHA-256, unpack it into ``dest``; return its folder.

    dest: where to unpack (default ``models/``). Does nothing if the model is already there.
    Raises CoachError ``model.download_failed`` (no network, server error) or
    ``model.checksum`` (the file is not the expected one), both saying how to do it by hand.
    """
    dest = Path(dest) if dest is not None else paths.models_dir()
    name = Path(url).name.removesuffix(".zip")
    folder = dest / name
    if model_problem(folder) is None:
        return folder
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
        archive = Path(tmp) / Path(url).name
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response, open(archive, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        except (OSError, ValueError) as err:
            raise CoachError(
                "model.download_failed",
                f"Could not download the speech model from {url}: {err}.",
                _manual_steps(url, sha256, dest),
            ) from err
        got = paths.sha256_of(archive)
        if got != sha256:
            raise CoachError(
                "model.checksum",
                f"The file downloaded from {url} has SHA-256 {got}, expected {sha256}; "
                "it was deleted.",
                _manual_steps(url, sha256, dest),
            )
        try:
            _unpack(archive, dest)
        except zipfile.BadZipFile as err:
            raise CoachError(
                "model.bad_archive", f"The file from {url} is not a zip archive: {err}.",
                _manual_steps(url, sha256, dest),
            ) from err
    problem = model_problem(folder)
    if problem:
        raise CoachError(
            "model.invalid",
            f"After unpacking {url}, {folder} is not a vosk model: {problem}.",
            _manual_steps(url, sha256, dest),
        )
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m coach.listen.asr.vosk_models", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    dl = sub.add_parser("download", help=f"fetch, check and unpack {MODEL_NAME}")
    dl.add_argument("--dest", type=Path, default=None, help="folder to unpack into (default: models/)")
    fd = sub.add_parser("find", help="print the vosk model folder the coach would use")
    fd.add_argument("path", nargs="?", default=None)
    args = ap.parse_args(argv)
    try:
        if args.command == "download":
            print(f"downloading {MODEL_URL} …", file=sys.stderr)
            print(download_vosk_model(args.dest))
            return 0
        found = find_vosk_model(args.path)
        if found is None:
            print("no vosk model found; run scripts/get-model or set COACH_VOSK_MODEL", file=sys.stderr)
            return 1
        print(found)
        return 0
    except CoachError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_status


if __name__ == "__main__":
    sys.exit(main())
