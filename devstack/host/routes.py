"""Function route templates (ASP.NET Core syntax, as the Functions host uses them).

Supports literal segments (case-insensitive), `{name}`, optional `{name?}`, defaults
`{name=value}`, catch-all `{*name}`, and the common constraints (int, long, bool, alpha,
guid, float, double, decimal, datetime, regex(...), min, max, range, length, minlength,
maxlength). More specific templates win over less specific ones, as in ASP.NET routing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .config import ConfigError

_PARAM = re.compile(r"\{([^{}]+)\}")
_TYPE_PATTERNS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "bool": r"(?:true|false)",
    "alpha": r"[a-z]+",
    "guid": r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}",
    "float": r"-?\d+(?:\.\d+)?",
    "double": r"-?\d+(?:\.\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?",
}


def _check(kind: str, args: list[str]) -> Callable[[str], bool]:
    nums = [float(a) for a in args if re.fullmatch(r"-?\d+(\.\d+)?", a)]
    if kind == "min":
        return lambda v: _num(v) is not None and _num(v) >= nums[0]  # type: ignore[operator]
    if kind == "max":
        return lambda v: _num(v) is not None and _num(v) <= nums[0]  # type: ignore[operator]
    if kind == "range":
        return lambda v: _num(v) is not None and nums[0] <= _num(v) <= nums[1]  # type: ignore[operator]
    if kind == "length":
        lo, hi = (nums[0], nums[0]) if len(nums) == 1 else (nums[0], nums[1])
        return lambda v: lo <= len(v) <= hi
    if kind == "minlength":
        return lambda v: len(v) >= nums[0]
    if kind == "maxlength":
        return lambda v: len(v) <= nums[0]
    if kind == "datetime":
        return _is_datetime
    raise ConfigError(f"unsupported route constraint {kind!r}")


def _num(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
        return True
    except ValueError:
        return False


@dataclass
class RouteTemplate:
    """A compiled template: `match(path)` gives route params or None."""

    template: str
    regex: re.Pattern[str] = field(init=False)
    checks: dict[str, list[Callable[[str], bool]]] = field(init=False, default_factory=dict)
    defaults: dict[str, str] = field(init=False, default_factory=dict)
    rank: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        parts, ranks = [], []
        segments = [s for s in self.template.strip("/").split("/") if s] if self.template.strip("/") else []
        for i, segment in enumerate(segments):
            whole = _PARAM.fullmatch(segment)
            if whole and whole.group(1).startswith("*"):
                if i != len(segments) - 1:
                    raise ConfigError(f"route {self.template!r}: a catch-all must be the last segment")
                name = whole.group(1).lstrip("*")
                parts.append(f"(?:/(?P<{name}>.*))?")
                ranks.append(5)
                continue
            optional = bool(whole) and (whole.group(1).endswith("?") or "=" in whole.group(1))
            pattern, rank = self._segment(segment)
            parts.append(f"(?:/{pattern})?" if optional else f"/{pattern}")
            ranks.append(4 if optional else rank)
        self.regex = re.compile("^" + "".join(parts) + "/?$", re.IGNORECASE)
        self.rank = tuple(ranks)

    def _segment(self, segment: str) -> tuple[str, int]:
        out, pos, rank = [], 0, 1
        for m in _PARAM.finditer(segment):
            out.append(re.escape(segment[pos : m.start()]))
            out.append(self._param(m.group(1)))
            rank = max(rank, 2 if ":" in m.group(1) else 3)
            pos = m.end()
        out.append(re.escape(segment[pos:]))
        return "".join(out), rank

    def _param(self, spec: str) -> str:
        spec = spec.rstrip("?")
        spec, _, default = spec.partition("=")
        name, *constraints = _split_constraints(spec)
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise ConfigError(f"route {self.template!r}: bad parameter name {name!r}")
        if default:
            self.defaults[name] = default
        pattern = "[^/]+"
        for c in constraints:
            kind, _, arg = c.partition("(")
            args = [a.strip() for a in arg.rstrip(")").split(",")] if arg else []
            if kind in _TYPE_PATTERNS:
                pattern = _TYPE_PATTERNS[kind]
            elif kind == "regex":
                pattern = f"(?:{arg[:-1]})"
            else:
                self.checks.setdefault(name, []).append(_check(kind, args))
        return f"(?P<{name}>{pattern})"

    def match(self, path: str) -> dict[str, str] | None:
        m = self.regex.match(path if path.startswith("/") or not path else "/" + path)
        if m is None:
            return None
        values = {k: v for k, v in m.groupdict().items() if v is not None}
        for name, checks in self.checks.items():
            if name in values and not all(check(values[name]) for check in checks):
                return None
        return {**self.defaults, **values}


def _split_constraints(spec: str) -> list[str]:
    """`id:int:min(1)` -> [id, int, min(1)], keeping ':' inside regex(...) intact."""
    parts, depth, current = [], 0, ""
    for ch in spec:
        if ch == ":" and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    parts.append(current)
    return parts


def route_sort_key(template: RouteTemplate) -> tuple[int, ...]:
    """Segment by segment: literal, constrained, plain, optional, catch-all."""
    return template.rank + (9,)
