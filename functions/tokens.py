"""Continuation tokens: where a query stopped, signed, and bound to the query that issued them.

A token is ``<payload>.<mac>`` in URL-safe base64: the payload is JSON (for the anomalies list,
Table storage's next keys and the window), the MAC an HMAC-SHA256 over the payload and the
query's filters (not the page size). So a hand-made, altered or borrowed token (from another
query) is refused with 400, and what reaches Table storage as continuation is only what it sent.

The key is the app setting ``API_TOKEN_KEY`` (at least 32 characters; every instance must share it).
Without it each process makes its own, and a token is only good on the instance that issued it:
fine for one local host, not for a scaled-out app (docs/operations.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import orjson

KEY_SETTING = "API_TOKEN_KEY"
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,800}\.[A-Za-z0-9_-]{22}$"  # payload . 16-byte MAC; the OpenAPI says the same
MAX_TOKEN = 823
_TOKEN = re.compile(TOKEN_PATTERN)
log = logging.getLogger("spyglass.api")


class TokenError(ValueError):
    """Not a token this API issued for this query."""


@lru_cache(maxsize=1)
def signing_key() -> bytes:
    value = os.environ.get(KEY_SETTING, "")
    if len(value) >= 32:
        return value.encode()
    if value:
        raise RuntimeError(f"app setting {KEY_SETTING} must be at least 32 characters")
    log.warning("%s is not set: continuation tokens are signed with a per-process key", KEY_SETTING)
    return secrets.token_bytes(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: bytes, scope: str) -> bytes:
    return hmac.new(signing_key(), payload + b"\0" + scope.encode(), hashlib.sha256).digest()[:16]


def sign(state: Mapping[str, Any], scope: str) -> str:
    """A token carrying ``state`` for the query described by ``scope``."""
    payload = orjson.dumps(state)
    return f"{_b64(payload)}.{_b64(_mac(payload, scope))}"


def verify(token: str, scope: str) -> dict[str, Any]:
    """The state inside ``token``, if this API signed it for the same ``scope``; else TokenError."""
    if len(token) > MAX_TOKEN or not _TOKEN.match(token):
        raise TokenError("continuation is not a token this API issued")
    body, mac = token.split(".")
    try:
        payload, given = _unb64(body), _unb64(mac)
    except (binascii.Error, ValueError):
        raise TokenError("continuation is not a token this API issued") from None
    if not hmac.compare_digest(given, _mac(payload, scope)):
        raise TokenError("continuation was not issued for this query (or was altered)")
    return orjson.loads(payload)
