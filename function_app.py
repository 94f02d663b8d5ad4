"""The Spyglass Azure Functions app (Python v2 programming model): registers the blueprints, nothing else.

``SPYGLASS_APP_ROLE`` (functions/roles.py) picks them: ``api``, ``ingest`` or ``all`` (the default).
"""

import importlib
import os

import azure.functions as func

from functions.roles import blueprint_modules, role_of

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for _module in blueprint_modules(role_of(os.environ)):
    app.register_functions(importlib.import_module(f"functions.{_module}").bp)
