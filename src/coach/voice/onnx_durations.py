"""A Piper voice model that also outputs each phoneme id's duration.

A Piper (VITS) model computes how many audio frames each phoneme id lasts (the ceiling of its
duration predictor's output, the graph's one ``Ceil`` node) but outputs only the audio. Marking
that tensor as a second graph output makes onnxruntime return it too: the audio samples of id
``i`` are ``durations[i] * hop_length``, and they add up to the audio's length.

No ``onnx`` package is needed: an ONNX file is a protobuf ``ModelProto`` whose field 7 is the
``GraphProto``; the Ceil node is found by walking the graph's nodes (field 1; a node's outputs are
field 2, its operator field 4) on a memory map, and the output is added by appending one more
field 7 holding a graph with only that output (field 12, a ``ValueInfoProto`` with just its name,
field 1): a protobuf parser merges a message field given twice, so the graph gains the output.
The patched copy is written once next to the cache (streamed, never whole in memory) and loaded
by path: loading from bytes held two extra copies of the 63 MB model at once (peak +106 MB).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from coach.errors import CoachError

MODEL_GRAPH, NODE, NODE_OUTPUT, OP_TYPE, GRAPH_OUTPUT, VALUE_NAME = 7, 1, 2, 4, 12, 1
"""Protobuf field numbers: ModelProto.graph, GraphProto.node, NodeProto.output,
NodeProto.op_type, GraphProto.output, ValueInfoProto.name."""
_LEN = 2  # wire type of length-delimited fields


def _varint(buf, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _fields(buf, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, start, end) of each field in ``buf[start:end]`` (the value's
    span; for a varint, its value in ``start`` and ``end`` = -1)."""
    i = start
    while i < end:
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
            yield number, wire, value, -1
        elif wire == _LEN:
            n, i = _varint(buf, i)
            yield number, wire, i, i + n
            i += n
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            yield number, wire, i, i + size
            i += size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} at byte {i}")


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _length_field(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | _LEN) + _encode_varint(len(payload)) + payload


def ceil_outputs(model: Path) -> list[str]:
    """Names of the tensors the model's ``Ceil`` nodes output (a Piper voice has one)."""
    with open(model, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        names: list[str] = []
        for number, wire, a, b in _fields(buf, 0, len(buf)):
            if number != MODEL_GRAPH or wire != _LEN:
                continue
            for n2, w2, a2, b2 in _fields(buf, a, b):
                if n2 != NODE or w2 != _LEN:
                    continue
                outputs, op = [], ""
                for n3, w3, a3, b3 in _fields(buf, a2, b2):
                    if n3 == NODE_OUTPUT and w3 == _LEN:
                        outputs.append(buf[a3:b3].decode("utf-8"))
                    elif n3 == OP_TYPE and w3 == _LEN:
                        op = buf[a3:b3].decode("utf-8")
                if op == "Ceil":
                    names += outputs
        return names


def output_suffix(tensor: str) -> bytes:
    """Bytes that, appended to a ModelProto, add ``tensor`` to the graph's outputs."""
    value_info = _length_field(VALUE_NAME, tensor.encode("utf-8"))
    return _length_field(MODEL_GRAPH, _length_field(GRAPH_OUTPUT, value_info))


def with_durations(model: Path, cache_dir: Path) -> tuple[Path, str]:
    """(path of a copy of ``model`` that also outputs the phoneme durations, that output's name).
    The copy is made once per model file (by size and modification time) under ``cache_dir``."""
    try:
        names = ceil_outputs(model)
    except (OSError, ValueError, IndexError, UnicodeDecodeError) as err:
        raise CoachError("tts.bad_model", f"{model}: not a readable ONNX voice model ({err}).",
                         hint="reinstall the voice (scripts/setup)") from err
    if len(names) != 1:
        raise CoachError("tts.bad_model", f"{model}: expected one Ceil node (a Piper voice's "
                         f"durations), found {len(names)}.", hint="use a Piper (VITS) voice")
    st = model.stat()
    tag = hashlib.sha256(f"{model.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    out = cache_dir / f"{model.stem}.{tag[:16]}.durations.onnx"
    if out.is_file() and out.stat().st_size == st.st_size + len(output_suffix(names[0])):
        return out, names[0]
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".onnx.part", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as dst, open(model, "rb") as src:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.write(output_suffix(names[0]))
        os.replace(tmp, out)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out, names[0]
