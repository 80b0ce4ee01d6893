"""The browser tests' Chromium, app server and page: `streamlit run app.py` served on a free port, driven
by Playwright in Debian's Chromium (WebGL through SwiftShader). Skipped where Chromium or Playwright is
missing, except under CI=true (.ci/run installs both): there that fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness import browser as bs
from support.browser import ARTIFACTS, DEFAULT, IN_CI, needs_chromium, watched_page

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    if IN_CI:
        raise
    pytest.skip("Playwright is not installed (pip install -r requirements-dev.txt)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    needs_chromium()
    with sync_playwright() as playwright:
        chromium = bs.launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server() -> Iterator[bs.AppServer]:
    if not DEFAULT.is_file():
        pytest.skip(f"the shipped default checkpoint {DEFAULT} is not there yet (python -m vae train)")
    ARTIFACTS.mkdir(exist_ok=True)
    # No file watcher: nothing is edited during the test, and watching the repository only costs CPU.
    with bs.AppServer(ARTIFACTS / "server.log", ["--server.fileWatcherType", "none"]) as app:
        app.wait_healthy(90)
        yield app


@pytest.fixture
def page(browser, server: bs.AppServer, request: pytest.FixtureRequest) -> Iterator:
    """A fresh browser session (so a fresh Streamlit session) on the loaded default view. When the test
    fails, the page as it was, its script-run counts and the server log are kept in tests/artifacts/."""
    context = browser.new_context(viewport=bs.VIEWPORT)
    yield from watched_page(context, server, request, lambda page: bs.goto_app(page, server.url))
