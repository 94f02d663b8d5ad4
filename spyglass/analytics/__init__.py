"""Numerical kernels: Black-76 prices, implied vols, greeks, forwards, smile fits, exposure."""
