"""Call a user function the way the Python worker does, then flush its output bindings.

Sync functions run in a thread pool (the worker's PYTHON_THREADPOOL_THREAD_COUNT), async
ones on the host's event loop. Output bindings are written only after the function
returns; a failed write fails the invocation, so a queue-triggered message is retried.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

import azure.functions as func
import httpx

from . import signalr
from .config import ConfigError, Settings
from .index import Binding, FunctionSpec
from .storage import QueueClients, encode

log = logging.getLogger("devstack.host")
T = TypeVar("T")
_EXPRESSION = re.compile(r"\{([^{}]+)\}")


class Out(func.Out[T], Generic[T]):
    """The worker's `func.Out[...]` parameter: a box the function sets."""

    def __init__(self) -> None:
        self._value: T | None = None

    def set(self, val: T) -> None:
        self._value = val

    def get(self) -> T:
        return self._value  # type: ignore[return-value]


class Context(func.Context):
    """The optional `context` parameter."""

    def __init__(self, spec: FunctionSpec, invocation_id: str) -> None:
        self._spec = spec
        self._id = invocation_id
        self._tls = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._id

    @property
    def thread_local_storage(self) -> Any:
        return self._tls

    @property
    def function_name(self) -> str:
        return self._spec.name

    @property
    def function_directory(self) -> str:
        return str(self._spec.script_root)

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None


def resolve_expression(text: str, trigger_data: Mapping[str, Any]) -> str | None:
    """`{headers.x-user}`, `{query.id}`, `{id}` from the trigger's data; None if absent."""
    missing = False

    def lookup(match: re.Match[str]) -> str:
        nonlocal missing
        node: Any = trigger_data
        for part in match.group(1).split("."):
            if isinstance(node, Mapping):
                found = {str(k).lower(): v for k, v in node.items()}.get(part.lower())
            else:
                found = None
            if found is None:
                missing = True
                return ""
            node = found
        return str(node)

    value = _EXPRESSION.sub(lookup, text)
    return None if missing or value == "" else value


class Invoker:
    """Runs invocations and writes the non-HTTP outputs; returns the HTTP one."""

    def __init__(self, settings: Settings, queues: QueueClients, message_encoding: str) -> None:
        self.settings = settings
        self.queues = queues
        self.message_encoding = message_encoding
        workers = int(settings.get("PYTHON_THREADPOOL_THREAD_COUNT") or min(32, (os.cpu_count() or 1) + 4))
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="functions")
        self.http = httpx.Client(timeout=10.0)  # one pool for SignalR REST calls: a client per send costs ms

    async def invoke(
        self, spec: FunctionSpec, trigger_value: Any, trigger_data: Mapping[str, Any], reason: str
    ) -> dict[str, Any] | None:
        """Run once; {binding name: value} of the `http` outputs, or None if it failed.

        Any exception from user code or an output binding is a failed invocation (logged
        here with its reason); only cancellation propagates.
        """
        invocation_id = str(uuid.uuid4())
        log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", spec.name, reason, invocation_id)
        started = time.perf_counter()
        try:
            outputs = await self._run(spec, invocation_id, trigger_value, trigger_data)
        except Exception as exc:
            elapsed = (time.perf_counter() - started) * 1000
            log.exception(
                "Executed 'Functions.%s' (Failed, Id=%s, Duration=%.0fms): %s: %s",
                spec.name,
                invocation_id,
                elapsed,
                type(exc).__name__,
                exc,  # noqa: TRY401 - the reason belongs on the one-line summary too
            )
            return None
        elapsed = (time.perf_counter() - started) * 1000
        log.info("Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%.0fms)", spec.name, invocation_id, elapsed)
        return outputs

    async def _run(
        self, spec: FunctionSpec, invocation_id: str, trigger_value: Any, trigger_data: Mapping[str, Any]
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {spec.trigger.name: trigger_value}
        for binding in spec.inputs:
            kwargs[binding.name] = self._input(binding, trigger_data)
        boxes = {b.name: Out[Any]() for b in spec.outputs if b.name != "$return"}
        kwargs.update(boxes)
        if "context" in spec.parameters and "context" not in kwargs:
            kwargs["context"] = Context(spec, invocation_id)
        if spec.is_async:
            result = await spec.func(**kwargs)
        else:
            call = functools.partial(contextvars.copy_context().run, spec.func, **kwargs)
            result = await asyncio.get_running_loop().run_in_executor(self.executor, call)
        values = {name: box.get() for name, box in boxes.items()}
        values["$return"] = result
        http_outputs = {}
        for binding in spec.outputs:
            value = values[binding.name]
            if binding.type == "http":
                http_outputs[binding.name] = value
            elif value is not None:
                await self.queues.run(self._write_output, spec, binding, value)
        return http_outputs

    def check(self, spec: FunctionSpec) -> None:
        """Resolve every binding connection now: a missing setting fails startup, as in Azure."""
        for binding in (*spec.inputs, *spec.outputs):
            if binding.type == "queue":
                self.settings.connection(binding.get("connection"), f"function '{spec.name}'")
            elif binding.type in ("signalR", "signalRConnectionInfo"):
                try:
                    signalr.parse_connection_string(self._signalr_connection(binding))
                except ValueError as exc:
                    raise ConfigError(f"function '{spec.name}', binding '{binding.name}': {exc}") from None

    def _input(self, binding: Binding, trigger_data: Mapping[str, Any]) -> Any:
        if binding.type == "signalRConnectionInfo":
            conn = self._signalr_connection(binding)
            user = binding.get("userId")
            user_id = resolve_expression(user, trigger_data) if isinstance(user, str) else None
            return json.dumps(signalr.negotiate_info(conn, binding.get("hubName"), user_id))
        raise AssertionError(f"unhandled input binding {binding.type}")  # index.py rejects others

    def _write_output(self, spec: FunctionSpec, binding: Binding, value: Any) -> None:
        if binding.type == "queue":
            conn = self.settings.connection(binding.get("connection"), f"function '{spec.name}'")
            for item in _queue_items(value):
                self.queues.send(conn, binding.get("queueName"), encode(item, self.message_encoding))
        elif binding.type == "signalR":
            signalr.send_binding(self._signalr_connection(binding), binding.get("hubName"), value, client=self.http)
        else:
            raise AssertionError(f"unhandled output binding {binding.type}")

    def _signalr_connection(self, binding: Binding) -> str:
        setting = binding.get("connectionStringSetting", signalr.DEFAULT_CONNECTION_SETTING)
        return self.settings.connection(setting, f"binding '{binding.name}'", default=setting)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.http.close()


def _queue_items(value: Any) -> list[str | bytes]:
    """str, bytes, QueueMessage, a JSON-able dict, or a list of them -> message bodies."""
    items = value if isinstance(value, (list, tuple)) else [value]
    out: list[str | bytes] = []
    for item in items:
        if isinstance(item, (str, bytes)):
            out.append(item)
        elif isinstance(item, func.QueueMessage):
            out.append(item.get_body())
        elif isinstance(item, (dict, list)):
            out.append(json.dumps(item))
        else:
            raise TypeError(f"cannot write a {type(item).__name__} to a queue output binding")
    return out
