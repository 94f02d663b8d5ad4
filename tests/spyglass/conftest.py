from __future__ import annotations

import pytest

from spyglass.sim import InjectionConfig

from tests.spyglass.simdays import busy_config, run


@pytest.fixture(scope="session")
def busy_window():
    """30 minutes at 1 s with ~18 injections of every type, and the same market without them."""
    cfg = busy_config()
    sim, snaps = run(cfg)
    _, base = run(busy_config(injection=InjectionConfig(enabled=False)))
    return sim, snaps, base
