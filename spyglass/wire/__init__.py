"""The published language: what crosses a process boundary, read by both of its ends.

``queue`` is the snapshot message on ``chain-snapshots`` (the edge writes it, the Functions app
reads it); ``tables`` is the row schema of the tables the app writes and the API and the bot read;
``realtime`` is what the app pushes over SignalR. Only the core, the standard library, orjson and
pydantic are imported here: the I/O (SDK clients, blob fetches) stays with the adapters.
"""
