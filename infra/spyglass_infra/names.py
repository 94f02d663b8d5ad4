"""The data-plane names the app reads (functions/settings.py, spyglass/wire/): one copy for the infra.

The tests check these against the app's own constants, so a rename on either side fails the suite.
"""

SNAPSHOT_QUEUE = "chain-snapshots"
POISON_QUEUE = f"{SNAPSHOT_QUEUE}-poison"  # the Functions host's convention: <queue>-poison
TABLES = {"ANOMALIES_TABLE": "anomalies", "CHAINSTATE_TABLE": "chainstate", "SIGNALS_TABLE": "signals",
          "FAILURES_TABLE": "failures"}
CLAIM_CHECK_CONTAINER = "claim-checks"
DEPLOYMENT_CONTAINER = "app-package"  # Flex Consumption reads the ingest app's zip package from here
API_DEPLOYMENT_CONTAINER = "app-package-api"  # ... and the API app's (the same package)
STORAGE_SETTING = "AzureWebJobsStorage"  # the connection name of the queue trigger and the app's storage
SIGNALR_SETTING = "AzureSignalRConnectionString"  # connection_string_setting of the SignalR bindings
SIGNALR_HUB = "spyglass"
QUEUE_LAG_METRIC = "spyglass.queue_lag_s"  # recorded once per ingested snapshot (functions/telemetry.py)
API_AUTH_SETTING = "API_AUTH_LEVEL"  # functions/auth.py: who may call the data routes
API_TOKEN_SETTING = "API_TOKEN_KEY"  # functions/tokens.py: the key that signs continuation tokens
APP_ROLE_SETTING = "SPYGLASS_APP_ROLE"  # functions/roles.py: which functions a Function App registers
# Each app's own settings (devstack/stack.py gives its hosts the same): ingest runs two invocations at a
# time per instance, since scoring holds the GIL and more threads only add storage requests in flight
ROLE_SETTINGS = {"api": {}, "ingest": {"PYTHON_THREADPOOL_THREAD_COUNT": "2"}}
