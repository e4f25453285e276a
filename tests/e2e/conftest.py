"""One headless Chromium per test module (Debian's /usr/bin/chromium; Playwright's own download does not work here)."""

from __future__ import annotations

import pytest
from e2e_support import CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
