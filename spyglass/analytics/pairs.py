"""Call/put pairs at the same strike: parity, the forward and the straddle all need them."""

from __future__ import annotations

import numpy as np
from numba import njit

from spyglass.contract import Chain


@njit(cache=True)
def _merge(strike, is_call, ok):
    """Merge the calls and puts of a chain sorted calls-then-puts by strike (as ``Chain`` is)."""
    calls = np.flatnonzero(is_call & ok)
    puts = np.flatnonzero(~is_call & ok)
    m = min(calls.shape[0], puts.shape[0])
    k = np.empty(m)
    ci = np.empty(m, dtype=np.int64)
    pi = np.empty(m, dtype=np.int64)
    a = b = c = 0
    while a < calls.shape[0] and b < puts.shape[0]:
        kc, kp = strike[calls[a]], strike[puts[b]]
        if kc == kp:
            k[c], ci[c], pi[c] = kc, calls[a], puts[b]
            a += 1
            b += 1
            c += 1
        elif kc < kp:
            a += 1
        else:
            b += 1
    return k[:c], ci[:c], pi[:c]


def call_put_pairs(chain: Chain, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(strikes, call indices, put indices) where both legs pass ``ok``, by ascending strike."""
    return _merge(chain.strike, chain.is_call, ok)
