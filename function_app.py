"""The Spyglass Azure Functions app (Python v2 programming model): registers the blueprints, nothing else."""

import azure.functions as func

from functions.api import bp as api
from functions.housekeeping import bp as housekeeping
from functions.ingest import bp as ingest
from functions.openapi import bp as openapi
from functions.realtime import bp as realtime

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(api)
app.register_functions(housekeeping)
app.register_functions(ingest)
app.register_functions(openapi)
app.register_functions(realtime)
