"""What the browser tests share: whether CI demands the browser, screenshots, page checks and the record
of a failure (the page as it was and the server's log, since a failure in a real browser is hard to replay)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import browser as bs
from vae.atlas import atlas_path
from vae.checkpoint import default_checkpoint_path

IN_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DEFAULT = default_checkpoint_path()
DEFAULT_ATLAS = atlas_path(DEFAULT)


def shot(page, name: str) -> None:
    bs.screenshot(page, ARTIFACTS / f"{name}.png")


def assert_no_exception(page) -> None:
    assert not bs.exceptions(page), bs.exceptions(page)


def needs_atlas() -> None:
    if not DEFAULT_ATLAS.is_file():
        pytest.skip(f"{DEFAULT_ATLAS} is not there yet: python -m vae atlas {DEFAULT}")


def needs_chromium() -> None:
    if not bs.CHROMIUM.is_file():
        reason = f"no Chromium at {bs.CHROMIUM}: apt-get install chromium fonts-dejavu-core"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: .ci/run installs it)", pytrace=False)
        pytest.skip(reason)


def keep_failure(page, server: bs.AppServer, name: str) -> None:
    try:
        bs.screenshot(page, ARTIFACTS / f"failed_{name}.png")
        state = page.get_by_test_id("stApp").get_attribute("data-test-script-state")
    except Exception as error:  # the page itself may be what broke
        state = f"(page unreadable: {error})"
    runs = bs.script_runs(page)
    print(
        f"script runs started {runs.started}, finished {runs.finished}, the page says {state}\n"
        f"server log:\n{server.log_tail()}"
    )


def watched_page(
    context: Any, server: bs.AppServer, request: pytest.FixtureRequest, opening: Callable[[Any], None] = lambda _: None
) -> Iterator:
    """A page of `context`, opened by `opening`, for one test: when the test fails, the page as it was and the
    server's log are kept (keep_failure); JavaScript errors on the page fail it; the context is closed."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        opening(page)
        yield page
        if getattr(request.node, "report_call", None) is not None and request.node.report_call.failed:
            keep_failure(page, server, request.node.name)
    except Exception:
        keep_failure(page, server, request.node.name)
        raise
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
