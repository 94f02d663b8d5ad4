"""Perform a Functions `signalR` output binding value through the REST API.

A binding value is what a function sets on its `signalR` output: a JSON string, a
mapping or a list of them. Each item is either a message
`{"target", "arguments", "userId"?, "groupName"?, "connectionId"?}` or a group action
`{"action": "add"|"remove"|"removeAll", "groupName", "userId"|"connectionId"}`.
Keys are matched case-insensitively, as the Functions extension does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from .connection import (
    SignalRConnection,
    group_action,
    group_action_async,
    send,
    send_async,
)

BindingValue = str | bytes | Mapping[str, Any] | list[Any]


def binding_items(value: BindingValue) -> list[dict[str, Any]]:
    """Normalize a binding value to a list of dicts with lower-cased keys."""
    if isinstance(value, (str, bytes)):
        value = orjson.loads(value)
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, (str, bytes)):
            item = orjson.loads(item)
        if not isinstance(item, Mapping):
            raise TypeError(f"SignalR binding item must be an object, got {type(item).__name__}")
        out.append({str(k).lower(): v for k, v in item.items()})
    return out


def _message_kwargs(item: dict[str, Any]) -> dict[str, Any]:
    target = item.get("target")
    if not isinstance(target, str) or not target:
        raise ValueError("SignalR message needs a non-empty 'target'")
    arguments = item.get("arguments") or []
    if not isinstance(arguments, list):
        raise TypeError("SignalR message 'arguments' must be a list")
    return {
        "target": target,
        "arguments": arguments,
        "user_id": item.get("userid") or None,
        "group": item.get("groupname") or None,
        "connection_id": item.get("connectionid") or None,
    }


def _group_kwargs(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "group": item.get("groupname") or None,
        "action": str(item["action"]),
        "connection_id": item.get("connectionid") or None,
        "user_id": item.get("userid") or None,
    }


def send_binding(conn: SignalRConnection | str, hub: str, value: BindingValue, *,
                 client: httpx.Client | None = None) -> int:
    """Deliver every item of an output binding value (sync); returns how many."""
    items = binding_items(value)
    for item in items:
        if "action" in item:
            kw = _group_kwargs(item)
            group_action(conn, hub, kw.pop("group"), kw.pop("action"), client=client, **kw)
        else:
            kw = _message_kwargs(item)
            send(conn, hub, kw.pop("target"), kw.pop("arguments"), client=client, **kw)
    return len(items)


async def send_binding_async(conn: SignalRConnection | str, hub: str, value: BindingValue, *,
                             client: httpx.AsyncClient | None = None) -> int:
    """Deliver every item of an output binding value (async); returns how many."""
    items = binding_items(value)
    for item in items:
        if "action" in item:
            kw = _group_kwargs(item)
            await group_action_async(conn, hub, kw.pop("group"), kw.pop("action"), client=client, **kw)
        else:
            kw = _message_kwargs(item)
            await send_async(conn, hub, kw.pop("target"), kw.pop("arguments"), client=client, **kw)
    return len(items)
