"""The ASP.NET Core SignalR JSON hub protocol: 0x1E-terminated JSON records.

Only what a serverless (listen-only) service needs: the handshake, server-to-client
invocations, pings and close messages, and parsing of whatever a client sends.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

RS = "\x1e"
"""Record separator that terminates every JSON hub protocol message."""

PROTOCOL = "json"
VERSION = 1
"""Protocol versions spoken: JSON v1 (v2 adds stateful reconnect, which is not offered)."""


class MessageType(IntEnum):
    """Hub message types (`type` field)."""

    INVOCATION = 1
    STREAM_ITEM = 2
    COMPLETION = 3
    STREAM_INVOCATION = 4
    CANCEL_INVOCATION = 5
    PING = 6
    CLOSE = 7
    ACK = 8
    SEQUENCE = 9


class ProtocolError(ValueError):
    """A record that is not valid JSON hub protocol."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    """Strict JSON: NaN/Infinity (which JS clients cannot parse) are rejected."""
    return json.loads(text, parse_constant=_reject_constant)


def encode(message: dict[str, Any]) -> str:
    """One message as a terminated record."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + RS


def invocation(target: str, arguments: list[Any]) -> str:
    """A non-blocking server-to-client invocation (no invocationId, as Azure sends it)."""
    return encode({"type": MessageType.INVOCATION, "target": target, "arguments": arguments})


PING = encode({"type": MessageType.PING})


def close(error: str | None = None, allow_reconnect: bool = False) -> str:
    """A close message; with `allow_reconnect` a client with automatic reconnect retries."""
    message: dict[str, Any] = {"type": MessageType.CLOSE}
    if error:
        message["error"] = error
    if allow_reconnect:
        message["allowReconnect"] = True
    return encode(message)


def handshake_response(error: str | None = None) -> str:
    """`{}` on success, `{"error": ...}` otherwise."""
    return encode({"error": error} if error else {})


def split_records(buffer: str) -> tuple[list[str], str]:
    """Complete records in `buffer` (separator removed) and the unterminated rest."""
    *records, rest = buffer.split(RS)
    return records, rest


def parse_handshake(record: str) -> str | None:
    """Validate a handshake request; returns the error to send back, or None if accepted."""
    try:
        request = loads(record)
    except ValueError:
        return "Handshake request is not valid JSON."
    if not isinstance(request, dict):
        return "Handshake request must be a JSON object."
    protocol, version = request.get("protocol"), request.get("version")
    if not isinstance(protocol, str) or not isinstance(version, int) or isinstance(version, bool):
        return "Handshake request must contain a string 'protocol' and an integer 'version'."
    if protocol != PROTOCOL:
        return f"The protocol '{protocol}' is not supported."
    if version != VERSION:
        return f"The server does not support version {version} of the '{protocol}' protocol."
    return None


def parse_message(record: str) -> dict[str, Any]:
    """A client message as a dict with an integer `type`; raises ProtocolError."""
    try:
        message = loads(record)
    except ValueError as exc:
        raise ProtocolError(f"Invalid JSON hub message: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), int):
        raise ProtocolError("A hub message must be a JSON object with an integer 'type'.")
    return message
