"""Test-wide settings: a private cache for exchange sessions, so tests never touch ~/.cache."""

import os
import tempfile

os.environ.setdefault("SPYGLASS_CACHE_DIR", tempfile.mkdtemp(prefix="spyglass-cache-"))
