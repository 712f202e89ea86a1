"""An int8 copy of a CTranslate2 model, made once, so that loading it costs no conversion.

A model stored in float16 and run as int8 is converted by CTranslate2 as it loads: float16 ->
float32 -> int8, the whole model at once, so loading Whisper tiny.en (75 MB on disk, ~47 MB
loaded) peaks ~120 MB above what it keeps. This module writes the same weights already in int8,
quantized as CTranslate2 does it (per row: ``scale = 127 / max|row|``, ``round(row * scale)``, the
scale kept beside the weight as ``<name>_scale``), the other float variables as float32: what the
loader would have made, so loading the copy only reads it. The copy is written one variable (and
a large one a block of rows) at a time, never the whole model in memory, into a temporary folder
beside the copy's (``.<name>.part-*``) renamed into place when complete, with the small files of
the model folder (config, vocabulary, tokenizer) and the copy's SHA-256, checked at every load: a
reader never sees half a copy, and of two processes writing at once one copy stays.

Which variables are quantized: every ``.../weight`` of rank 2 (linear layers and the token
embeddings, which CTranslate2 also quantizes); convolution weights (rank 3) stay float32 (the
loader quantizes them itself if its version does, from the same values).

``model.bin`` (binary version 6): uint32 version, string spec name, uint32 spec revision, uint32
variable count, then per variable a string name, uint8 rank, uint32 dims, uint8 dtype, uint32
byte count and the bytes; then uint32 alias count and (alias, variable) string pairs. A string
is a uint16 length (with its NUL) and the bytes with a NUL.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import struct
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np

from coach.paths import sha256_of

FLOAT32, INT8, FLOAT16 = 0, 1, 4
"""CTranslate2's ``DataType`` ids used here."""
DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
ROWS_PER_BLOCK = 4096
"""Rows quantized at a time (the token embeddings: 51,864 rows of 384)."""
SMALL_FILES = ("config.json", "vocabulary.txt", "vocabulary.json", "tokenizer.json",
               "preprocessor_config.json")
DIGEST_FILE = "model.bin.sha256"
"""Beside the copy: the SHA-256 of its ``model.bin`` as written (a copy damaged later, even
one that still loads, is made anew)."""


class FormatError(ValueError):
    """``model.bin`` is not a CTranslate2 model this module can read."""


def _u(f: BinaryIO, fmt: str) -> int:
    size = struct.calcsize("<" + fmt)
    raw = f.read(size)
    if len(raw) != size:
        raise FormatError("truncated file")
    return struct.unpack("<" + fmt, raw)[0]


def _read_string(f: BinaryIO) -> bytes:
    n = _u(f, "H")
    raw = f.read(n)
    if len(raw) != n or not raw.endswith(b"\0"):
        raise FormatError("bad string")
    return raw[:-1]


def _string(s: bytes) -> bytes:
    return struct.pack("<H", len(s) + 1) + s + b"\0"


def _variables(f: BinaryIO, count: int) -> Iterator[tuple[bytes, tuple[int, ...], int, int]]:
    """(name, dims, dtype, byte count) of each variable; the file is left at its bytes."""
    for _ in range(count):
        name = _read_string(f)
        dims = tuple(_u(f, "I") for _ in range(_u(f, "B")))
        dtype, nbytes = _u(f, "B"), _u(f, "I")
        yield name, dims, dtype, nbytes


def _head(f: BinaryIO) -> tuple[int, bytes, int, int]:
    """(binary version, spec name, spec revision, variable count); ``FormatError`` unless the
    version is 6."""
    version = _u(f, "I")
    if version != 6:
        raise FormatError(f"binary version {version} (expected 6)")
    return version, _read_string(f), _u(f, "I"), _u(f, "I")


def needs_copy(model_bin: Path) -> bool:
    """True when ``model_bin`` holds float weights that loading as int8 would convert."""
    with open(model_bin, "rb") as f:
        try:
            count = _head(f)[3]
        except FormatError:
            return False
        for name, dims, dtype, nbytes in _variables(f, count):
            if _quantized(name, dims) and dtype != INT8:
                return True
            f.seek(nbytes, os.SEEK_CUR)
    return False


def _quantized(name: bytes, dims: tuple[int, ...]) -> bool:
    return name.endswith(b"weight") and len(dims) == 2


def quantize_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 rows, float32 scale per row) as CTranslate2 quantizes a weight: the rows times
    ``127 / max|row|``, rounded half to even (an all-zero row gets scale 1)."""
    x = x.astype(np.float32)
    amax = np.max(np.abs(x), axis=1)
    amax[amax == 0] = np.float32(127.0)
    scale = (np.float32(127.0) / amax).astype(np.float32)
    q = np.clip(np.rint(x * scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


PART_PREFIX = "."
"""Temporary folders are named ``.<copy's name>.part-*``: hidden, and not ``<model>.*``."""


def write_int8_copy(src_dir: Path, dst_dir: Path) -> None:
    """Write ``dst_dir`` (model.bin in int8 and the folder's small files) from ``src_dir``, built
    in a temporary folder beside it and renamed into place; when another process put a whole
    copy there first, that one is kept. ``FormatError`` for a file it cannot read; ``OSError``
    from the disk."""
    dst_dir.parent.mkdir(parents=True, exist_ok=True)
    part = Path(tempfile.mkdtemp(prefix=f"{PART_PREFIX}{dst_dir.name}.part-", dir=dst_dir.parent))
    try:
        _write_copy(src_dir, part)
        try:
            os.rename(part, dst_dir)
        except OSError:  # dst_dir is there and not empty: another process's copy came first
            if not copy_is_intact(dst_dir):
                raise
            shutil.rmtree(part, ignore_errors=True)
    except BaseException:
        shutil.rmtree(part, ignore_errors=True)
        raise


PART_STALE_AFTER = 3600.0
"""Seconds after which a temporary folder is a dead writer's (writing one takes ~2 s)."""


def remove_stale_parts(cache: Path, model_name: str, now: float | None = None) -> None:
    """Remove the temporary folders of copies of ``model_name`` in ``cache`` that a writer left
    more than ``PART_STALE_AFTER`` seconds ago (killed while writing); newer ones may be in use."""
    now = time.time() if now is None else now
    for part in cache.glob(f"{PART_PREFIX}{glob.escape(model_name)}.*.part-*"):
        try:
            if now - part.stat().st_mtime > PART_STALE_AFTER:
                shutil.rmtree(part, ignore_errors=True)
        except OSError:
            pass


def _write_copy(src_dir: Path, dst_dir: Path) -> None:
    """The copy's files into the (new, empty) folder ``dst_dir``."""
    model_bin = dst_dir / "model.bin"
    with open(src_dir / "model.bin", "rb") as f, open(model_bin, "wb") as out:
        version, spec, revision, count = _head(f)
        out.write(struct.pack("<I", version) + _string(spec) + struct.pack("<I", revision))
        plan = []  # (name, dims, dtype, nbytes, offset of the bytes)
        for name, dims, dtype, nbytes in _variables(f, count):
            plan.append((name, dims, dtype, nbytes, f.tell()))
            f.seek(nbytes, os.SEEK_CUR)
        aliases = f.read()
        scales = sum(1 for p in plan if _quantized(p[0], p[1]) and p[2] != INT8)
        out.write(struct.pack("<I", count + scales))
        names = {p[0] for p in plan}
        for name, dims, dtype, nbytes, at in plan:
            f.seek(at)
            _copy_variable(f, out, name, dims, dtype, nbytes, names)
        out.write(aliases)
    for name in SMALL_FILES:
        if (src_dir / name).is_file():
            shutil.copyfile(src_dir / name, dst_dir / name)
    (dst_dir / DIGEST_FILE).write_text(sha256_of(model_bin) + "\n")


def copy_is_intact(dst_dir: Path) -> bool:
    """True when ``dst_dir/model.bin`` has the SHA-256 recorded when it was written (reads
    the whole file: ~0.09 s for tiny.en's 42 MB)."""
    try:
        recorded = (dst_dir / DIGEST_FILE).read_text().strip()
        return recorded == sha256_of(dst_dir / "model.bin")
    except OSError:
        return False


def _header(name: bytes, dims: tuple[int, ...], dtype: int, nbytes: int) -> bytes:
    return (_string(name) + struct.pack("<B", len(dims)) +
            b"".join(struct.pack("<I", d) for d in dims) + struct.pack("<BI", dtype, nbytes))


def _copy_variable(f: BinaryIO, out: BinaryIO, name: bytes, dims: tuple[int, ...], dtype: int,
                   nbytes: int, names: set[bytes]) -> None:
    """One variable from ``f`` (at its bytes) to ``out``: quantized, converted or as it is."""
    if dtype not in (FLOAT16, FLOAT32):
        out.write(_header(name, dims, dtype, nbytes))
        shutil.copyfileobj(_Limited(f, nbytes), out, 1 << 20)
        return
    item = np.dtype(DTYPES[dtype]).itemsize
    if not _quantized(name, dims):
        count = nbytes // item
        out.write(_header(name, dims, FLOAT32, count * 4))
        out.write(np.frombuffer(f.read(nbytes), DTYPES[dtype]).astype("<f4").tobytes())
        return
    if name + b"_scale" in names:
        raise FormatError(f"{name.decode()} has a scale but is not int8")
    rows, cols = dims
    out.write(_header(name, dims, INT8, rows * cols))
    all_scales = []
    for r0 in range(0, rows, ROWS_PER_BLOCK):
        n = min(ROWS_PER_BLOCK, rows - r0)
        block = np.frombuffer(f.read(n * cols * item), DTYPES[dtype]).reshape(n, cols)
        q, s = quantize_rows(block)
        out.write(q.tobytes())
        all_scales.append(s)
    scale = np.concatenate(all_scales).astype("<f4")
    out.write(_header(name + b"_scale", (rows,), FLOAT32, scale.nbytes) + scale.tobytes())


class _Limited:
    """A reader of the next ``n`` bytes of ``f``."""

    def __init__(self, f: BinaryIO, n: int) -> None:
        self.f, self.left = f, n

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.f.read(size)
        self.left -= len(data)
        return data


def copy_tag(model_bin: Path) -> str:
    """Names the copy of this file: its path, size and modification time (a changed file gets a
    new copy)."""
    st = model_bin.stat()
    ident = f"{model_bin.resolve()}|{st.st_size}|{st.st_mtime_ns}|int8-v1"
    return hashlib.sha256(ident.encode()).hexdigest()[:16]
