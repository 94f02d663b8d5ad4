"""``--record DIR``: every snapshot into a daily ``{UNDERLYING}-{YYYY-MM-DD}.jsonl.gz``.

Each snapshot is written as its own gzip member (gzip files may be concatenated) and flushed,
so a crash can only leave the last member partial. On opening an existing file the recorder
first cuts such a partial tail, so appends always follow a whole line. ``read_snapshot_lines``
reads a file cut mid-write up to its last whole line. ``spyglass score`` and the ``replay``
source read these files; one member per snapshot costs ~20 bytes of header each.
"""

from __future__ import annotations

import gzip
import logging
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from spyglass.clock import NEW_YORK
from spyglass.contract import Snapshot

log = logging.getLogger("edge.collector.recorder")


def whole_members_end(path: Path) -> tuple[int, int]:
    """(bytes covered by complete gzip members, total bytes). Members are found by decompressing."""
    data = path.read_bytes()
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj(wbits=31)
        try:
            d.decompress(data[pos:])
        except zlib.error:
            break
        if not d.eof:
            break
        pos = len(data) - len(d.unused_data)
    return pos, len(data)


def repair(path: Path) -> int:
    """Cut a partial trailing gzip member; returns the bytes removed (0 for a whole file)."""
    good, total = whole_members_end(path)
    if good < total:
        with open(path, "r+b") as fh:
            fh.truncate(good)
        log.warning("%s: cut %d bytes of a partial write at the end", path, total - good)
    return total - good


def read_snapshot_lines(path: str | Path) -> Iterator[bytes]:
    """Lines of a recording (``.gz`` or plain), stopping quietly at a partial tail."""
    p = Path(path)
    if p.suffix != ".gz":
        with open(p, "rb") as fh:
            for raw in fh:
                if raw.endswith(b"\n"):
                    yield raw
        return
    data = p.read_bytes()
    pos = 0
    pending = b""
    while pos < len(data):
        d = zlib.decompressobj(wbits=31)
        try:
            out = d.decompress(data[pos:])
        except zlib.error:
            log.warning("%s: unreadable data after byte %d; stopping there", p, pos)
            break
        if not d.eof:  # partial member: keep its whole lines, drop the torn one
            out = pending + out
            yield from (ln + b"\n" for ln in out.split(b"\n")[:-1])
            log.warning("%s: partial write at the end (byte %d); read up to the last whole line", p, pos)
            return
        pending += out
        *lines, pending = pending.split(b"\n")
        yield from (ln + b"\n" for ln in lines)
        pos = len(data) - len(d.unused_data)


class Recorder:
    """A sink: ``recorder(snapshot)``. Files roll over by the snapshot's New York date."""

    def __init__(self, directory: str | Path, *, fsync: bool = False, level: int = 6) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self.level = level
        self._fh: IO[bytes] | None = None
        self._path: Path | None = None
        self.written = 0

    def path_for(self, snapshot: Snapshot) -> Path:
        day = snapshot.ts.astimezone(NEW_YORK).date()
        return self.dir / f"{snapshot.underlying}-{day.isoformat()}.jsonl.gz"

    def __call__(self, snapshot: Snapshot) -> None:
        path = self.path_for(snapshot)
        if path != self._path:
            self._open(path)
        assert self._fh is not None
        self._fh.write(gzip.compress(snapshot.to_json() + b"\n", compresslevel=self.level, mtime=0))
        self._fh.flush()
        if self.fsync:
            os.fsync(self._fh.fileno())
        self.written += 1

    def _open(self, path: Path) -> None:
        self.close()
        if path.exists():
            repair(path)
        self._fh = open(path, "ab")
        self._path = path
        log.info("recording to %s", path)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._fh = None
        self._path = None
