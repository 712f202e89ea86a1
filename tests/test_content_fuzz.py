"""Fuzzing the content loader: broken or hostile files give a CoachError naming the file, never a
crash with a traceback. A few thousand cases per CI run."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.content import load_content
from coach.errors import CoachError
from coach.paths import PROJECT_ROOT

FILES = ("routines/psoas-ball.toml", "lines.toml", "intents.toml")
ORIGINAL = {f: tomllib.loads((PROJECT_ROOT / "content" / f).read_text()) for f in FILES}


def to_toml(data: dict[str, Any]) -> str:
    """A small TOML writer: top-level tables as [headers], nested tables dotted, the rest inline."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(type(v))

    out: list[str] = []

    def table(prefix: str, d: dict[str, Any]) -> None:
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
        if prefix:
            out.append(f"[{prefix}]")
        out.extend(f"{json.dumps(k)} = {value(v)}" for k, v in scalars.items())
        for k, v in d.items():
            if isinstance(v, dict):
                table(f"{prefix}.{json.dumps(k)}" if prefix else json.dumps(k), v)
    table("", data)
    return "\n".join(out) + "\n"


leaf = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True),
              st.text(max_size=40), st.text(alphabet="{}[]'\"\\", max_size=10)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=8,
)


def paths(d: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(d, dict):
        for k, v in d.items():
            out += paths(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out += paths(v, prefix + (i,))
    return out


def mutate(data: Any, path: tuple, new: Any, delete: bool) -> Any:
    data = json.loads(json.dumps(data))
    target = data
    for k in path[:-1]:
        target = target[k]
    if delete and isinstance(target, dict):
        target.pop(path[-1], None)
    elif new is not None:
        target[path[-1]] = new
    return data


def _load_in(root: Path) -> None:
    try:
        load_content(root=root)
    except CoachError as err:
        assert err.code.startswith("content."), err.code
        assert str(root) in str(err), f"error does not name the file: {err}"


def _with_content(write) -> None:
    root = Path(tempfile.mkdtemp(prefix="coach-fuzz-"))
    try:
        shutil.copytree(PROJECT_ROOT / "content", root, dirs_exist_ok=True)
        write(root)
        _load_in(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), which=st.sampled_from(FILES), new=leaf, delete=st.booleans())
def test_structural_mutations_give_a_clear_error_or_load(data, which, new, delete):
    original = ORIGINAL[which]
    path = data.draw(st.sampled_from(paths(original)))
    mutated = mutate(original, path, new, delete)
    try:
        text = to_toml(mutated)
    except TypeError:
        return  # None has no TOML form: nothing to write
    _with_content(lambda root: (root / which).write_text(text, encoding="utf-8"))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(FILES), raw=st.binary(max_size=400), keep=st.integers(0, 4000))
def test_random_bytes_and_truncation_give_a_clear_error(which, raw, keep):
    def write(root: Path) -> None:
        p = root / which
        p.write_bytes(p.read_bytes()[:keep] + raw)
    _with_content(write)


@settings(max_examples=30, deadline=None)
@given(depth=st.integers(50, 5000), which=st.sampled_from(FILES))
def test_deep_nesting_and_huge_files(depth, which):
    _with_content(lambda root: (root / which).write_text("x = " + "[" * depth + "]" * depth + "\n"))
    _with_content(lambda root: (root / which).write_text("x = 1\n" * (200_000 + depth)))
