"""Cross-sectional baselines: what nearby strikes of the same right look like."""

from __future__ import annotations

import numpy as np
from numba import njit

from spyglass.contract import Chain


@njit(cache=True)
def window_median(v: np.ndarray, width: int, include_self: bool, min_count: int) -> np.ndarray:
    n = v.shape[0]
    out = np.full(n, np.nan)
    buf = np.empty(2 * width + 1)
    for i in range(n):
        m = 0
        for j in range(max(0, i - width), min(n, i + width + 1)):
            if (j != i or include_self) and v[j] == v[j]:
                buf[m] = v[j]
                m += 1
        if m >= min_count:
            s = np.sort(buf[:m])
            out[i] = s[m // 2] if m % 2 else 0.5 * (s[m // 2 - 1] + s[m // 2])
    return out


def neighbour_median(chain: Chain, values: np.ndarray, width: int, include_self: bool, min_count: int = 1
                     ) -> np.ndarray:
    """Median of ``values`` over the ``width`` strikes either side, same right; NaNs ignored.

    Strikes with fewer than ``min_count`` finite neighbours get NaN.
    """
    out = np.full(len(chain), np.nan)
    for call in (True, False):
        idx = np.flatnonzero(chain.is_call == call)
        if idx.size:
            out[idx] = window_median(np.ascontiguousarray(values[idx], dtype=np.float64), width, include_self,
                                      max(min_count, 1))
    return out
