"""Auth policy of the HTTP routes: function keys, or the linked Static Web App as the gate."""

from __future__ import annotations

import os

API_AUTH_SETTING = "API_AUTH_LEVEL"
API_AUTH_LEVELS = ("function", "anonymous")


def api_auth_level() -> str:
    """Who may call the data routes: ``function`` (a key; the default) or ``anonymous``.

    ``anonymous`` is for a Function App linked as a Static Web App's backend: Azure then lets only
    the linked site reach the app, and its proxy cannot add a key, so the link (and the site's
    roles) is the gate. Read at import, when routes are declared; a bad value stops the app.
    """
    level = os.environ.get(API_AUTH_SETTING, "function").strip().lower()
    if level not in API_AUTH_LEVELS:
        raise RuntimeError(f"app setting {API_AUTH_SETTING}={level!r}: expected one of {', '.join(API_AUTH_LEVELS)}")
    return level
