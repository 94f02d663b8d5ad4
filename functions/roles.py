"""Which functions one deployment of the app runs: the HTTP API, ingest, or both (``SPYGLASS_APP_ROLE``).

The same package is deployed as two Function Apps (infra/, docs/operations.md "The API apart from
ingest"): ``api`` serves the HTTP routes and SignalR negotiate, ``ingest`` the queue trigger and the
retention timer. Scoring is CPU-bound Python holding the GIL: in one worker process a backlog starves
the HTTP invocations of the GIL and of the shared thread pool. ``all`` (the default) is one app.
"""

from __future__ import annotations

from collections.abc import Mapping

ROLE_SETTING = "SPYGLASS_APP_ROLE"
ROLES = ("all", "api", "ingest")
# module names under functions/, each with a ``bp`` Blueprint
BLUEPRINTS: Mapping[str, tuple[str, ...]] = {
    "api": ("api", "openapi", "realtime"),
    "ingest": ("ingest", "housekeeping"),
}


def role_of(env: Mapping[str, str]) -> str:
    role = (env.get(ROLE_SETTING) or "all").strip().lower()
    if role not in ROLES:
        raise ValueError(f"{ROLE_SETTING}={env.get(ROLE_SETTING)!r}: expected one of {', '.join(ROLES)}")
    return role


def blueprint_modules(role: str) -> tuple[str, ...]:
    """The ``functions.<name>`` modules whose blueprints a deployment with this role registers."""
    return tuple(m for r, mods in BLUEPRINTS.items() if role in ("all", r) for m in mods)

