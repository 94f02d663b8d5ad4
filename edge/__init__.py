"""The edge box: IBKR collector, durable publisher, recorder, ops endpoints and the paused bot.

Adapters only: IBKR (ib_async) and Azure Storage live here, never in ``spyglass``.
"""
