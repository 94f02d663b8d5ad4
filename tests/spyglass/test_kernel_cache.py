"""Compiled kernels are cached per version of the source, so a change in any module gives fresh ones (numba's own
cache misses a change in a kernel called from another module: numba#1833)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from spyglass import kernel_cache

PROBE = ("import numpy as np, numba; from spyglass.analytics.black import black_price; one = np.ones(1); "
         "black_price(one * 600, one * 600, one * 0.001, one * 0.04, one * 0.15, np.ones(1, bool)); "
         "print(numba.config.CACHE_DIR)")


def test_any_change_in_the_source_is_a_new_key(tmp_path):
    tree = tmp_path / "pkg"
    shutil.copytree(kernel_cache.PACKAGE, tree, ignore=shutil.ignore_patterns("__pycache__"))
    before = kernel_cache.source_key(tree)
    assert kernel_cache.source_key(tree) == before  # stable
    callee = tree / "analytics" / "black.py"  # a kernel other modules' kernels call
    callee.write_text(callee.read_text() + "\n# changed\n")
    assert kernel_cache.source_key(tree) != before


def _probe(env: dict[str, str]) -> str:
    base = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**base, **env}, capture_output=True, text=True,
                         timeout=300, check=True)
    return out.stdout.strip()


def test_a_process_caches_its_kernels_under_the_sources_key(tmp_path):
    used = Path(_probe({"XDG_CACHE_HOME": str(tmp_path)}))
    assert used == tmp_path / "spyglass-numba" / kernel_cache.source_key()
    assert any(used.rglob("*.nbi"))  # the kernels it compiled are there


def test_the_operators_cache_directory_wins(tmp_path):
    chosen = tmp_path / "mine"
    assert _probe({"XDG_CACHE_HOME": str(tmp_path), "NUMBA_CACHE_DIR": str(chosen)}) == str(chosen)
