"""Access-key JWT validation, as Azure SignalR Service does it for REST and client calls.

A token is accepted when it is HS256-signed with the AccessKey (UTF-8 bytes), has an
`exp` in the future (no clock-skew leeway: stricter than Azure, never looser) and an
`aud` equal to the URL the request was sent to (REST: scheme://host:port/path, no query,
trailing slash ignored; client: `<endpoint>/client/?hub=<hub>`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

import jwt

USER_ID_CLAIMS = (
    "nameid",  # what the Functions extension and the REST docs use
    "asrs.s.uid",  # what the Management SDK uses
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
)


class AuthError(Exception):
    """The request carries no token, or one that does not validate."""


def bearer_token(headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> str | None:
    """The `Authorization: Bearer` token, else (clients only) the `access_token` query value."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if query is not None:
        return query.get("access_token") or None
    return None


def _normalize(url: str) -> str:
    return url.rstrip("/")


def verify(token: str | None, access_key: str, audiences: Iterable[str]) -> dict[str, Any]:
    """Claims of a valid token; raises AuthError naming what failed."""
    if not token:
        raise AuthError("missing bearer token")
    try:
        claims = jwt.decode(
            token,
            access_key.encode(),
            algorithms=["HS256"],
            options={"require": ["exp", "aud"], "verify_aud": False, "verify_iat": False},
            leeway=0,
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("token expired") from None
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"invalid token: {exc}") from None
    aud = claims["aud"]
    token_auds = [aud] if isinstance(aud, str) else [a for a in aud if isinstance(a, str)]
    wanted = {_normalize(a) for a in audiences}
    if not any(_normalize(a) in wanted for a in token_auds):
        raise AuthError(f"audience {aud!r} does not match {sorted(wanted)}")
    return claims


def user_id(claims: Mapping[str, Any]) -> str | None:
    """The user a client token was issued for, if any."""
    for name in USER_ID_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def request_base(scope: Mapping[str, Any]) -> str:
    """`scheme://host[:port]` of an ASGI request as the client addressed it (ws -> http)."""
    scheme = {"ws": "http", "wss": "https"}.get(scope["scheme"], scope["scheme"])
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
    if host is None:
        server_host, port = scope["server"]
        host = f"{server_host}:{port}"
    return f"{scheme}://{host}"


def request_urls(scope: Mapping[str, Any], bases: Iterable[str] = ()) -> set[str]:
    """Audiences a REST request accepts: its URL as sent (raw and decoded path), no query.

    `bases` adds configured public endpoints (e.g. the connection string's Endpoint) for
    a service reached through another host name.
    """
    raw = scope.get("raw_path") or scope["path"].encode()
    raw_path = raw.decode("latin-1").split("?", 1)[0]
    paths = {raw_path, unquote(raw_path)}
    return {base.rstrip("/") + path for base in {request_base(scope), *bases} for path in paths}
