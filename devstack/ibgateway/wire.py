"""TWS API text framing: a 4-byte big-endian length, then NUL-terminated ASCII fields.

Pure and shared by the fake gateway (and its tests); the real client (ib_async) has its own.
"""

from __future__ import annotations

import struct

SERVER_VERSION = 178  # ib_async's MaxClientVersion; above 200 the wire turns protobuf
MAGIC = b"API\0"
_LEN = struct.Struct(">I")


def field(value: object) -> bytes:
    """One field as the wire writes it: None is empty, bools are 1/0, floats in their shortest form."""
    if value is None:
        return b""
    if value is True:
        return b"1"
    if value is False:
        return b"0"
    if isinstance(value, float):
        if value != value:  # NaN: TWS never sends it; the caller decides what missing means
            return b""
        return repr(value).encode()
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def encode(*fields: object) -> bytes:
    """One framed message."""
    payload = b"".join(field(f) + b"\0" for f in fields)
    return _LEN.pack(len(payload)) + payload


def prefix(payload: bytes) -> bytes:
    """A length prefix around an already-joined payload (the handshake's version range)."""
    return _LEN.pack(len(payload)) + payload


class FrameReader:
    """Incremental decoder: feed bytes, get complete messages as lists of str fields."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[list[str]]:
        self._buf += data
        out: list[list[str]] = []
        pos = 0
        buf = self._buf
        while len(buf) - pos >= 4:
            (n,) = _LEN.unpack_from(buf, pos)
            end = pos + 4 + n
            if end > len(buf):
                break
            fields = bytes(buf[pos + 4 : end]).decode(errors="backslashreplace").split("\0")
            if fields and fields[-1] == "":
                fields.pop()
            out.append(fields)
            pos = end
        del buf[:pos]
        return out

    @property
    def pending(self) -> int:
        return len(self._buf)


def parse_version_range(payload: str) -> tuple[int, int]:
    """``v157..178`` (optionally followed by ``+PACEAPI`` style options) -> (157, 178)."""
    text = payload.strip().split(" ")[0]
    if not text.startswith("v") or ".." not in text:
        raise ValueError(f"bad API version range {payload!r}")
    lo, hi = text[1:].split("..", 1)
    return int(lo), int(hi)
