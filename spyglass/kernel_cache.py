"""Where numba keeps the compiled kernels: a directory per version of the package's source.

numba's own cache (``cache=True``, next to each module in ``__pycache__``) notices a change in a kernel's
own file but not in a kernel it calls from another module (numba#1833): after a pull or a merge a warm
tree can run yesterday's compiled code with today's Python around it. So the cache lives in a directory
named by a hash of every source file of the package: any change gives a fresh directory, and an
unchanged tree (CI on the same machine, a restarted host) finds its kernels compiled. ``NUMBA_CACHE_DIR``
set by the operator wins; where no cache directory is writable numba keeps its default.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def source_key(root: Path = PACKAGE) -> str:
    """A short hash of every ``.py`` file under ``root``, names and contents."""
    h = hashlib.blake2b(digest_size=8)
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_dir(env: dict[str, str] | os._Environ = os.environ) -> Path:
    base = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "spyglass-numba" / source_key()


def configure() -> Path | None:
    """Point numba's cache at this source's directory, before any kernel is defined; the directory, or None
    when the operator chose another (``NUMBA_CACHE_DIR``) or none can be written here."""
    target = cache_dir()
    if os.environ.get("NUMBA_CACHE_DIR", str(target)) != str(target):
        return None
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(target, os.W_OK):
        return None
    if "numba" in sys.modules:  # imported already: its config is read when each kernel is defined
        sys.modules["numba"].config.CACHE_DIR = str(target)
    else:  # read when numba is first imported (not here: a process without kernels never pays for numba)
        os.environ["NUMBA_CACHE_DIR"] = str(target)
    return target
