"""Spyglass: a real-time, spread-aware, evaluated anomaly radar for 0DTE option chains.

The package is the domain core: it never imports Azure or IBKR code. Adapters
(the Functions app, the edge collector) call into it.
"""

__version__ = "0.1.0"

from spyglass import kernel_cache as _kernel_cache  # noqa: E402 - before any kernel module is imported

_kernel_cache.configure()
