"""Resource names and tags: one place, so every component names things the same way.

Globally unique names (storage, Key Vault, registry, function app, SignalR) carry a short suffix,
`spyglass:suffix` or, by default, a stable hash of org/project/stack, so re-running `pulumi up`
never renames anything.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pulumi

from spyglass_infra.config import StackConfig


@dataclass(frozen=True)
class Names:
    prefix: str
    env: str
    suffix: str

    @classmethod
    def of(cls, cfg: StackConfig) -> Names:
        suffix = cfg.suffix or _stable_suffix()
        return cls(_alnum(cfg.prefix), cfg.env, _alnum(suffix)[:6])

    def dashed(self, kind: str, unique: bool = False, limit: int = 60) -> str:
        parts = [kind, self.prefix, self.env] + ([self.suffix] if unique else [])
        return "-".join(parts)[:limit]

    def compact(self, kind: str, limit: int) -> str:
        """Alphanumeric only (storage accounts, registries): kind+prefix+env+suffix, cut to the limit."""
        return f"{kind}{self.prefix}{self.env}{self.suffix}"[:limit]


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _stable_suffix() -> str:
    key = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    return hashlib.sha256(key.encode()).hexdigest()[:6]


def tags(cfg: StackConfig) -> dict[str, str]:
    """The tags every taggable resource carries (cost reports group by `app` and `env`)."""
    return {"app": "spyglass", "env": cfg.env, "managed-by": "pulumi", "owner": cfg.owner}
