"""JSON-lines files: plain, gzip (by ``.gz`` suffix) or ``-`` for stdin/stdout."""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson


@contextmanager
def open_lines(path: str | Path) -> Iterator[Iterator[bytes]]:
    """Lines of a file, ``.gz`` or ``-`` (stdin); raises OSError when the input cannot be opened.

    A gzip file cut short (a recorder that crashed mid-write) yields every whole line, then a
    warning on stderr: the data before the cut is good and must stay readable.
    """
    if str(path) == "-":
        yield iter(sys.stdin.buffer)
        return
    p = Path(path)
    if p.suffix != ".gz":
        with open(p, "rb") as fh:
            yield iter(fh)
        return
    with gzip.open(p, "rb") as fh:
        yield _until_truncation(fh, p)


def _until_truncation(fh: IO[bytes], path: Path) -> Iterator[bytes]:
    try:
        yield from fh
    except EOFError:
        print(f"warning: {path}: truncated at the end; read up to the last whole line", file=sys.stderr)


@contextmanager
def open_sink(path: str | Path | None) -> Iterator[IO[bytes] | None]:
    """Binary writer for ``path`` (``-`` is stdout, ``None`` writes nothing)."""
    if path is None:
        yield None
        return
    if str(path) == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    raw = gzip.open(p, "wb") if p.suffix == ".gz" else open(p, "wb")
    with io.BufferedWriter(raw) if isinstance(raw, gzip.GzipFile) else raw as fh:
        yield fh


def read_records(path: str | Path) -> Iterator[dict]:
    """Parsed JSON objects from a JSON-lines file, skipping blank lines.

    Accepts the literal NaN that Python's json writes (orjson does not).
    """
    with open_lines(path) as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                yield orjson.loads(raw)
            except orjson.JSONDecodeError:
                yield json.loads(raw)


def write_records(path: str | Path, records: Iterable[dict]) -> int:
    """Write JSON objects as lines (``.gz`` compresses, ``-`` is stdout); returns the count."""
    n = 0
    with open_sink(path) as fh:
        for rec in records:
            fh.write(orjson.dumps(rec, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
            n += 1
    return n


def dumps_snapshot(snapshot: dict[str, Any], nan: str = "literal") -> bytes:
    """Serialise a snapshot; ``nan="literal"`` keeps NaN prices as ``NaN``, ``"null"`` writes null.

    The simulator injects NaN prices (data errors); orjson cannot write them, Python's json can.
    """
    if nan == "literal" and _has_nan(snapshot):
        return json.dumps(snapshot, separators=(",", ":"), allow_nan=True).encode()
    return orjson.dumps(snapshot)


def _has_nan(snapshot: dict[str, Any]) -> bool:
    for row in snapshot.get("contracts", ()):
        for key in ("bid", "ask", "last"):
            v = row.get(key)
            if isinstance(v, float) and v != v:
                return True
    return False
