"""host.json and app settings, read the way the Functions runtime reads them.

App settings are environment variables in Azure; locally they come from explicit
overrides, then the environment, then `local.settings.json` `Values` (Core Tools'
order is the same: a variable already set in the shell wins over the file).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_STORAGE_SETTING = "AzureWebJobsStorage"
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$")
_SETTING_REF = re.compile(r"%([^%]+)%")


class ConfigError(ValueError):
    """host.json, local.settings.json or an app setting is missing or invalid."""


def parse_timespan(value: Any, what: str) -> float:
    """Seconds of a .NET TimeSpan string such as "00:00:30" or "1.00:00:00.5"."""
    match = _TIMESPAN.match(value) if isinstance(value, str) else None
    if not match:
        raise ConfigError(f'{what}: expected a TimeSpan like "00:00:30", got {value!r}')
    days, hours, minutes, seconds, fraction = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{fraction}") if fraction else 0.0)


@dataclass(frozen=True)
class QueueOptions:
    """`extensions.queues`. Defaults are the runtime's in development (local) mode."""

    batch_size: int = 16
    new_batch_threshold: int | None = None  # None: batch_size // 2 (one vCPU)
    max_polling_interval: float = 2.0  # Azure default is 60 s; the runtime uses 2 s locally
    visibility_timeout: float = 0.0
    max_dequeue_count: int = 5
    message_encoding: str = "base64"

    @property
    def threshold(self) -> int:
        return self.batch_size // 2 if self.new_batch_threshold is None else self.new_batch_threshold

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> QueueOptions:
        kw: dict[str, Any] = {}
        if "batchSize" in raw:
            kw["batch_size"] = int(raw["batchSize"])
            if not 1 <= kw["batch_size"] <= 32:
                raise ConfigError("extensions.queues.batchSize must be within 1..32")
        if "newBatchThreshold" in raw:
            kw["new_batch_threshold"] = int(raw["newBatchThreshold"])
        if "maxPollingInterval" in raw:
            kw["max_polling_interval"] = parse_timespan(raw["maxPollingInterval"], "maxPollingInterval")
            if kw["max_polling_interval"] < 0.1:
                raise ConfigError("extensions.queues.maxPollingInterval must be at least 00:00:00.1")
        if "visibilityTimeout" in raw:
            kw["visibility_timeout"] = parse_timespan(raw["visibilityTimeout"], "visibilityTimeout")
        if "maxDequeueCount" in raw:
            kw["max_dequeue_count"] = int(raw["maxDequeueCount"])
            if kw["max_dequeue_count"] < 1:
                raise ConfigError("extensions.queues.maxDequeueCount must be at least 1")
        if "messageEncoding" in raw:
            kw["message_encoding"] = str(raw["messageEncoding"]).lower()
            if kw["message_encoding"] not in ("base64", "none"):
                raise ConfigError("extensions.queues.messageEncoding must be base64 or none")
        unknown = set(raw) - {
            "batchSize",
            "newBatchThreshold",
            "maxPollingInterval",
            "visibilityTimeout",
            "maxDequeueCount",
            "messageEncoding",
        }
        if unknown:
            raise ConfigError(f"extensions.queues: unsupported settings {sorted(unknown)}")
        return cls(**kw)


@dataclass(frozen=True)
class HostConfig:
    """The parts of host.json the local host honours."""

    route_prefix: str = "api"
    queues: QueueOptions = field(default_factory=QueueOptions)
    functions: tuple[str, ...] | None = None  # host.json "functions": only these run

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> HostConfig:
        if str(raw.get("version", "2.0")) != "2.0":
            raise ConfigError(f'host.json version {raw.get("version")!r}: only "2.0" is supported')
        ext = raw.get("extensions") or {}
        http = ext.get("http") or {}
        prefix = str(http.get("routePrefix", "api")).strip("/")
        listed = raw.get("functions")
        return cls(
            route_prefix=prefix,
            queues=QueueOptions.from_json(ext.get("queues") or {}),
            functions=tuple(listed) if listed is not None else None,
        )

    @classmethod
    def load(cls, source: str | os.PathLike[str] | Mapping[str, Any] | None) -> HostConfig:
        """From a host.json path, an already-parsed dict, or defaults when None."""
        if source is None:
            return cls()
        if isinstance(source, Mapping):
            return cls.from_json(source)
        path = Path(source)
        try:
            return cls.from_json(json.loads(path.read_text()))
        except FileNotFoundError:
            return cls()
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None


class Settings(Mapping[str, str]):
    """App settings: `%Name%` references and binding `connection` names resolve here."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    @classmethod
    def load(
        cls,
        script_root: Path | None = None,
        overrides: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        values: dict[str, str] = {}
        local = script_root / "local.settings.json" if script_root else None
        if local is not None and local.exists():
            doc = json.loads(local.read_text())
            if doc.get("IsEncrypted"):
                raise ConfigError(f"{local}: encrypted settings are not supported")
            values.update({k: str(v) for k, v in (doc.get("Values") or {}).items()})
        values.update(os.environ if environ is None else environ)
        values.update(overrides or {})
        return cls(values)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def resolve(self, text: str, where: str) -> str:
        """Replace `%Name%` with the setting's value, as binding properties allow."""

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self._values:
                raise ConfigError(f"{where}: app setting {name!r} (from %{name}%) is not set")
            return self._values[name]

        return _SETTING_REF.sub(lookup, text)

    def connection(self, name: str | None, where: str, default: str = DEFAULT_STORAGE_SETTING) -> str:
        """The value of a binding's `connection` setting (also tried with `AzureWebJobs` prefix)."""
        name = name or default
        for candidate in (name, f"AzureWebJobs{name}"):
            value = self._values.get(candidate)
            if value:
                return value
        raise ConfigError(f"{where}: connection setting {name!r} is not set (environment or local.settings.json)")

    def is_disabled(self, function_name: str) -> bool:
        """`AzureWebJobs.<name>.Disabled` = true turns a function off, as in Azure."""
        flag = self._values.get(f"AzureWebJobs.{function_name}.Disabled", "")
        return flag.strip().lower() in ("true", "1")

    def export(self, names: Mapping[str, str] | None = None) -> Callable[[], None]:
        """Put settings into os.environ (functions read them there); returns an undo."""
        source = self._values if names is None else names
        changes = {k: v for k, v in source.items() if os.environ.get(k) != v}
        saved = {k: os.environ.get(k) for k in changes}
        os.environ.update(changes)

        def undo() -> None:
            for key, old in saved.items():
                if old is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = old

        return undo
