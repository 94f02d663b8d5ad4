"""Load a Python v2 function app and index its functions into plain binding specs.

Indexing uses the app's own `get_functions()` (the metadata the real worker sends to the
host), so a decorator the local host does not implement is caught at startup instead of
being silently ignored.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import itertools
import json
import logging
import sys
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func

from .config import ConfigError, HostConfig, Settings

log = logging.getLogger("devstack.host")

TRIGGERS = ("queueTrigger", "httpTrigger", "timerTrigger")
SUPPORTED: Mapping[str, str] = {
    "queueTrigger": "in",
    "httpTrigger": "in",
    "timerTrigger": "in",
    "signalRConnectionInfo": "in",
    "http": "out",
    "queue": "out",
    "signalR": "out",
}
_CACHE: weakref.WeakKeyDictionary[func.FunctionApp, list[func.Function]] = weakref.WeakKeyDictionary()
_COUNTER = itertools.count(1)


class UnsupportedBindingError(ConfigError):
    """A function uses a trigger or binding the local host does not implement."""


@dataclass(frozen=True)
class Binding:
    """One binding of a function, as in function.json (camelCase properties)."""

    name: str
    type: str
    direction: str
    props: Mapping[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        value = self.props.get(key)
        return default if value is None else value


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    func: Callable[..., Any]
    trigger: Binding
    inputs: tuple[Binding, ...]
    outputs: tuple[Binding, ...]
    script_root: Path

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)

    @property
    def parameters(self) -> Mapping[str, inspect.Parameter]:
        return inspect.signature(self.func).parameters


@dataclass(frozen=True)
class LoadedApp:
    module: ModuleType
    app: func.FunctionApp
    script_root: Path


def load_app(target: str | ModuleType = "function_app") -> LoadedApp:
    """Import the app: a module name, a .py file, a directory holding function_app.py,
    a module object; append ":name" to pick a variable other than `app`."""
    variable = "app"
    if isinstance(target, ModuleType):
        module = target
    else:
        if ":" in target and not Path(target).exists():
            target, variable = target.rsplit(":", 1)
        path = Path(target)
        if path.is_dir():
            path = path / "function_app.py"
        if path.suffix == ".py":
            module = _import_file(path.resolve())
        else:
            module = importlib.import_module(target)
    app = getattr(module, variable, None)
    if not isinstance(app, func.FunctionApp):
        raise ConfigError(f"{module.__name__}.{variable} is not an azure.functions.FunctionApp")
    root = Path(module.__file__ or ".").resolve().parent
    return LoadedApp(module=module, app=app, script_root=root)


def locate_app(target: str | ModuleType = "function_app") -> Path:
    """The script root (where host.json and local.settings.json live), without importing."""
    if isinstance(target, ModuleType):
        return Path(target.__file__ or ".").resolve().parent
    if ":" in target and not Path(target).exists():
        target = target.rsplit(":", 1)[0]
    path = Path(target)
    if path.is_dir():
        return path.resolve()
    if path.suffix == ".py":
        return path.resolve().parent
    spec = importlib.util.find_spec(target)
    if spec is None or spec.origin is None:
        raise ConfigError(f"function app module {target!r} not found (is the app directory on sys.path?)")
    return Path(spec.origin).resolve().parent


def _import_file(path: Path) -> ModuleType:
    """Import a file under a private name so several hosts can load fresh copies."""
    if not path.exists():
        raise ConfigError(f"function app {path} not found")
    root = str(path.parent)
    if root not in sys.path:  # like the worker, the script root is importable; appended, so that
        sys.path.append(root)  # a test app's `function_app.py` never shadows the repo's
    name = f"_devstack_app_{next(_COUNTER)}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def app_functions(app: func.FunctionApp) -> list[func.Function]:
    """`get_functions()` works once per app object (names are registered); cache it."""
    if app not in _CACHE:
        _CACHE[app] = app.get_functions()
    return _CACHE[app]


def index_app(loaded: LoadedApp, settings: Settings, config: HostConfig) -> list[FunctionSpec]:
    """Specs of the functions to run; raises on anything the local host cannot honour."""
    specs = []
    for function in app_functions(loaded.app):
        name = function.get_function_name() or function.get_user_function().__name__
        if config.functions is not None and name not in config.functions:
            continue
        if settings.is_disabled(name):
            log.info("Function '%s' is disabled (AzureWebJobs.%s.Disabled)", name, name)
            continue
        raw = json.loads(function.get_function_json())["bindings"]
        bindings = [_binding(b, settings, f"function '{name}'") for b in raw]
        specs.append(_spec(name, function.get_user_function(), bindings, loaded.script_root))
    return specs


def _binding(raw: Mapping[str, Any], settings: Settings, where: str) -> Binding:
    props: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("name", "type", "direction"):
            continue
        props[key] = settings.resolve(value, f"{where}, {key}") if isinstance(value, str) else value
    if isinstance(props.get("authLevel"), str):
        props["authLevel"] = props["authLevel"].lower()
    if props.get("methods"):
        props["methods"] = [str(m).upper() for m in props["methods"]]
    return Binding(name=raw["name"], type=raw["type"], direction=str(raw["direction"]).lower(), props=props)


def _spec(name: str, fn: Callable[..., Any], bindings: list[Binding], root: Path) -> FunctionSpec:
    for b in bindings:
        if SUPPORTED.get(b.type) != b.direction:
            supported = ", ".join(f"{t} ({d})" for t, d in SUPPORTED.items())
            raise UnsupportedBindingError(
                f"function '{name}': binding '{b.name}' of type '{b.type}' ({b.direction}) is not "
                f"supported by the local Functions host; supported: {supported}"
            )
    triggers = [b for b in bindings if b.type in TRIGGERS]
    if len(triggers) != 1:
        raise ConfigError(f"function '{name}' must have exactly one trigger, has {len(triggers)}")
    params = inspect.signature(fn).parameters
    for b in bindings:
        if b.name != "$return" and b.name not in params:
            raise ConfigError(f"function '{name}': binding '{b.name}' has no matching parameter")
    return FunctionSpec(
        name=name,
        func=fn,
        trigger=triggers[0],
        inputs=tuple(b for b in bindings if b.direction == "in" and b is not triggers[0]),
        outputs=tuple(b for b in bindings if b.direction == "out"),
        script_root=root,
    )
