"""Fixtures the browser modules share."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.kit import launch


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module (each module runs on one xdist worker with its own stack)."""
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
