"""A local Azure Functions host for the Python v2 programming model.

Azure Functions Core Tools cannot be installed here (its installer downloads the host),
so this runs an app's functions on the real `azure-functions` library: HTTP triggers on
uvicorn, queue triggers on Azurite with the runtime's retry/poison semantics, NCRONTAB
timers, and the SignalR bindings against the service's REST protocol.

    with BackgroundHost(FunctionsHost("function_app", port=0)) as host:
        ...  # host.api_url, host.function_key

or `python -m devstack.host --app function_app --port 7071`.
"""

from .config import ConfigError, HostConfig, QueueOptions, Settings
from .host import KEY_SETTING, BackgroundHost, FunctionsHost, FunctionUrl
from .index import FunctionSpec, UnsupportedBindingError, load_app

__all__ = [
    "KEY_SETTING",
    "BackgroundHost",
    "ConfigError",
    "FunctionSpec",
    "FunctionUrl",
    "FunctionsHost",
    "HostConfig",
    "QueueOptions",
    "Settings",
    "UnsupportedBindingError",
    "load_app",
]
