"""NaN handling on the hot path (``np.nan_to_num`` costs ~20 µs a call; this ~1 µs)."""

from __future__ import annotations

import numpy as np


def nz(x: np.ndarray) -> np.ndarray:
    """``x`` with NaN (missing) replaced by 0."""
    return np.where(x == x, x, 0.0)
